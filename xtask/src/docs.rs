//! `cargo xtask docs`: regenerate `docs/formats.md` from the format table (via the CLI).

use crate::util::{Result, cargo};

/// Writes `docs/formats.md` from `gstpipe formats --markdown`.
pub fn run() -> Result {
    crate::setup::run()?;
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
    let path = crate::util::root().join("docs").join("formats.md");
    std::fs::write(&path, &out.stdout)?;
    eprintln!("xtask: docs: wrote {}", path.display());
    Ok(())
}
