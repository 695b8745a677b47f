//! `cargo xtask ci`: the checks the CI workflow runs, in the same order.

use crate::util::{Result, cargo, run_checked};

/// fmt --check, clippy with warnings denied, the test suites, rustdoc with warnings denied,
/// the wheel and the Python suite on it, the packages and their own tests.
pub fn run() -> Result {
    crate::setup::run()?;
    let mut fmt = cargo();
    fmt.args(["fmt", "--all", "--", "--check"]);
    run_checked(fmt, "rustfmt")?;
    let mut clippy = cargo();
    clippy.args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]);
    run_checked(clippy, "clippy")?;
    crate::test::run(&[])?;
    // The abi3 wheel, installed without Rust, passes the Python suite.
    crate::wheel::run(&["--test".to_owned()])?;
    let mut doc = cargo();
    doc.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings");
    run_checked(doc, "rustdoc")?;
    crate::package::run()
}
