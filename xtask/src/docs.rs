//! `cargo xtask docs`: regenerate `docs/formats.md` from the format table (via the CLI);
//! `cargo xtask docs --check` (run by `cargo xtask test`) fails when it is out of date. The
//! check lives here rather than in a crate's tests: a published crate's tests cannot read
//! files outside its package.

use crate::util::{Result, cargo};

/// Writes `docs/formats.md` from `gstpipe formats --markdown`, or with `--check` only
/// compares them.
pub fn run(args: &[String]) -> Result {
    crate::setup::run()?;
    match args {
        [] => write(),
        [flag] if flag == "--check" => check(),
        _ => Err(format!("docs: unexpected arguments {args:?} (only --check)").into()),
    }
}

fn write() -> Result {
    let markdown = generate()?;
    let path = crate::util::root().join("docs").join("formats.md");
    std::fs::write(&path, markdown)?;
    eprintln!("xtask: docs: wrote {}", path.display());
    Ok(())
}

/// Fails when `docs/formats.md` differs from `gstpipe formats --markdown`.
pub fn check() -> Result {
    let markdown = generate()?;
    let path = crate::util::root().join("docs").join("formats.md");
    let docs = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    if docs != markdown {
        return Err(
            "docs/formats.md differs from `gstpipe formats --markdown`; \
                    run `cargo xtask docs`"
                .into(),
        );
    }
    eprintln!("xtask: docs: docs/formats.md is up to date");
    Ok(())
}

/// The output of `gstpipe formats --markdown`.
fn generate() -> Result<Vec<u8>> {
    let out = cargo()
        .args([
            "run",
            "--quiet",
            "--package",
            "gstpipe-cli",
            "--bin",
            "gstpipe",
            "--",
            "formats",
            "--markdown",
        ])
        .output()?;
    if !out.status.success() {
        return Err(format!(
            "gstpipe formats --markdown failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(out.stdout)
}
