//! `cargo xtask package`: the crates as they would be published.
//!
//! 1. `cargo package --workspace --allow-dirty`: packs every crate of the workspace into a
//!    `.crate` file and verifies it by building it from that file alone (dependencies on
//!    other crates of the workspace come from the freshly made packages, not the sources).
//! 2. Each published crate's `.crate` is unpacked outside the workspace and its own test
//!    suites and doc tests run there (`cargo test`), with the other gstpipe crates also taken
//!    from their unpacked packages (`patch.crates-io`) and the workspace's `Cargo.lock`, so a
//!    test or doc that reads a file outside its package fails here.
//!
//! Slow (a separate build of everything, in `target/packaged`): part of `cargo xtask ci`, not
//! of `cargo xtask test`.

use crate::util::{Result, cargo, root, run_with_timeout};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The crates that are published, dependencies first.
const PUBLISHED: &[&str] = &[
    "gstpipe-core",
    "gstpipe-frame",
    "gstpipe-sinks",
    "gstpipe-live",
    "gstpipe-media",
    "gstpipe-batch",
    "gstpipe-cli",
];

/// Packs, verifies, unpacks and tests every published crate.
pub fn run() -> Result {
    crate::setup::run()?;
    let root = root();
    let version = workspace_version(&root)?;
    // One target directory for the packages, their verification and their tests, apart from
    // the workspace's.
    let target = root.join("target").join("packaged");
    forget_earlier_packages(&version, &target)?;

    let mut package = cargo();
    package
        .args(["package", "--workspace", "--allow-dirty", "--target-dir"])
        .arg(&target);
    run_with_timeout(package, "cargo package", Duration::from_secs(30 * 60))?;

    // Outside the workspace, or cargo would take the unpacked crates for unlisted members.
    let unpacked = std::env::temp_dir().join(format!("gstpipe-packages-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&unpacked);
    std::fs::create_dir_all(&unpacked)?;
    let result = test_packages(&root, &target, &version, &unpacked);
    let _ = std::fs::remove_dir_all(&unpacked);
    result?;
    eprintln!(
        "xtask: package: {} packaged, verified, and tested from their packages",
        PUBLISHED.join(", ")
    );
    Ok(())
}

/// Unpacks the published crates into `unpacked` and runs `cargo test` in each.
fn test_packages(root: &Path, target: &Path, version: &str, unpacked: &Path) -> Result {
    let mut dirs: Vec<(&str, PathBuf)> = Vec::new();
    for name in PUBLISHED {
        let file = target
            .join("package")
            .join(format!("{name}-{version}.crate"));
        if !file.is_file() {
            return Err(format!("{} was not made", file.display()).into());
        }
        let mut tar = Command::new("tar");
        tar.arg("-xzf").arg(&file).arg("-C").arg(unpacked);
        run_with_timeout(tar, &format!("unpack {name}"), Duration::from_secs(60))?;
        let dir = unpacked.join(format!("{name}-{version}"));
        // The same dependency versions as the workspace's tests.
        std::fs::copy(root.join("Cargo.lock"), dir.join("Cargo.lock"))?;
        dirs.push((name, dir));
    }
    let patches: Vec<String> = dirs
        .iter()
        .filter(|(name, _)| *name != "gstpipe-cli")
        .map(|(name, dir)| {
            format!(
                "patch.crates-io.{name}.path={:?}",
                dir.display().to_string()
            )
        })
        .collect();
    for (name, dir) in &dirs {
        let mut test = cargo();
        test.current_dir(dir)
            .arg("test")
            .arg("--manifest-path")
            .arg(dir.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target)
            .env("RUST_BACKTRACE", "1");
        for patch in &patches {
            test.arg("--config").arg(patch);
        }
        run_with_timeout(
            test,
            &format!("tests of the packaged {name}"),
            Duration::from_secs(30 * 60),
        )?;
    }
    Ok(())
}

/// Forgets what an earlier run made of these crates. To verify a crate against the packages
/// of its workspace dependencies, cargo serves them from a temporary local registry; but it
/// takes registry crates for immutable: it does not unpack one again when
/// `$CARGO_HOME/registry/src/<registry>/<name>-<version>` exists, nor rebuild one it has
/// built, so a second run with the same version would build against the first run's code.
/// This removes those unpacked copies (crates.io's own cache, `index.crates.io-*`, is left
/// alone) and the build fingerprints of these crates in `target`, which makes cargo rebuild
/// them.
fn forget_earlier_packages(version: &str, target: &Path) -> Result {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let registries = std::fs::read_dir(home.join("registry").join("src"));
    for registry in registries.into_iter().flatten().flatten() {
        if registry
            .file_name()
            .to_string_lossy()
            .starts_with("index.crates.io-")
        {
            continue;
        }
        for name in PUBLISHED {
            let dir = registry.path().join(format!("{name}-{version}"));
            if dir.is_dir() {
                std::fs::remove_dir_all(&dir)
                    .map_err(|e| format!("cannot remove the stale {}: {e}", dir.display()))?;
            }
        }
    }
    let fingerprints = std::fs::read_dir(target.join("debug").join(".fingerprint"));
    for entry in fingerprints.into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if PUBLISHED.iter().any(|p| name.starts_with(&format!("{p}-"))) {
            std::fs::remove_dir_all(entry.path())
                .map_err(|e| format!("cannot remove {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

/// `version` of `[workspace.package]` in the root manifest.
fn workspace_version(root: &Path) -> Result<String> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml"))?;
    let section = manifest
        .split("[workspace.package]")
        .nth(1)
        .ok_or("no [workspace.package] in Cargo.toml")?;
    section
        .lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "version").then(|| value.trim().trim_matches('"').to_owned())
        })
        .ok_or_else(|| "no version in [workspace.package]".into())
}
