//! `cargo xtask bench`: run the criterion benches and write `docs/performance.md`.

use crate::util::{Result, cargo, run_checked};

/// Runs `cargo bench` for the benches crate (extra args go to criterion, e.g. a filter), then
/// the report that turns criterion's results into `docs/performance.md`.
pub fn run(extra: &[String]) -> Result {
    crate::setup::run()?;
    let mut bench = cargo();
    bench
        .args(["bench", "--package", "gstpipe-benches", "--benches", "--"])
        .args(["--warm-up-time", "2", "--measurement-time", "6"])
        .args(extra);
    run_checked(bench, "cargo bench")?;
    let mut report = cargo();
    report.args([
        "run",
        "--release",
        "--quiet",
        "--package",
        "gstpipe-benches",
        "--bin",
        "report",
    ]);
    run_checked(report, "performance report")
}
