//! The Python package's suite: a venv in cargo's target directory (`target/python-venv`, or
//! under `CARGO_TARGET_DIR`), the package built by pip
//! (maturin, PEP 517) against the system GStreamer, then pytest on `crates/python/tests`.

use crate::util::{Result, cargo, root, run_with_timeout, target_dir};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

/// What the tests need from PyPI besides the package (maturin comes through the package's
/// own build requirements; it is listed so a warm venv does not fetch it again).
/// PyAV (`av`) is the independent decoder the reader's corpus and the clip-sampler tests
/// compare with; Ray (the
/// `gstpipe[ray]` extra) runs the local-cluster tests of `gstpipe.ray`.
const PYPI: &[&str] = &[
    "maturin>=1.9.4,<2",
    "pytest",
    "numpy",
    "pillow",
    "av",
    "ray[data]",
];

/// The interpreter the venv is made from: Debian's (`python3-venv` and `python3-dev` are in
/// the set-up packages), or the first `python3` on `PATH` elsewhere.
pub fn system_python() -> PathBuf {
    let debian = PathBuf::from("/usr/bin/python3");
    if debian.exists() {
        debian
    } else {
        PathBuf::from("python3")
    }
}

/// The venv's interpreter: the venv in cargo's target directory (`python-venv`, following
/// `CARGO_TARGET_DIR`) is created once and the test requirements (with maturin) are installed
/// or upgraded in it. The package itself is installed by [`install_package`].
pub fn venv() -> Result<PathBuf> {
    let venv = target_dir()?.join("python-venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        let mut create = Command::new(system_python());
        create.arg("-m").arg("venv").arg(&venv);
        run_with_timeout(create, "python venv", Duration::from_secs(120))?;
    }
    let mut deps = Command::new(&python);
    deps.args(["-m", "pip", "install", "--quiet", "--upgrade"])
        .args(PYPI);
    run_with_timeout(
        deps,
        "pip install test requirements",
        Duration::from_secs(10 * 60),
    )?;
    Ok(python)
}

/// The test requirements from PyPI (for a venv made elsewhere, such as the wheel's).
pub fn test_requirements() -> &'static [&'static str] {
    PYPI
}

/// Builds the package from source (pip, i.e. maturin) into the venv of `python`.
pub fn install_package(python: &std::path::Path) -> Result {
    let mut package = Command::new(python);
    package
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--force-reinstall",
            "--no-deps",
        ])
        .arg(root().join("crates").join("python"));
    run_with_timeout(
        package,
        "pip install ./crates/python",
        Duration::from_secs(30 * 60),
    )
}

/// Creates the venv ([`venv`]), installs the package and runs pytest on its tests with a time
/// limit. Any non-zero pytest status fails, including 5 (no tests ran).
pub fn test() -> Result {
    let root = root();
    let target = target_dir()?;
    let python = venv()?;
    install_package(&python)?;

    // The launcher test compares `python -m gstpipe` with the CLI.
    let mut cli = cargo();
    cli.args(["build", "--package", "gstpipe-cli", "--bin", "gstpipe"]);
    run_with_timeout(cli, "build the CLI", Duration::from_secs(20 * 60))?;

    let mut pytest = Command::new(&python);
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .arg(root.join("crates").join("python").join("tests"))
        .current_dir(&root)
        .env("GSTPIPE_CLI", target.join("debug").join("gstpipe"));
    // The Ray tests start a three-node cluster (about 1.5 min on a quiet machine).
    run_with_timeout(
        pytest,
        "python tests (pytest)",
        Duration::from_secs(10 * 60),
    )
}
