//! `cargo xtask bench`: run the criterion benches and the whole-process comparison, and write
//! `docs/performance.md`.
//!
//! `cargo xtask bench [--process] [ARGS]`: without `--process`, the criterion benches (ARGS go
//! to criterion, e.g. a filter), their report, then the whole-process comparison with its
//! defaults; with `--process`, only the whole-process comparison (ARGS go to it:
//! `--reps N`, `--scale F`, `--no-write`).

use crate::util::{Result, cargo, run_checked};

/// Runs the benches (see the module docs) and writes their results into
/// `docs/performance.md`.
pub fn run(extra: &[String]) -> Result {
    crate::setup::run()?;
    if let Some(rest) = extra.strip_prefix(&["--process".to_string()]) {
        return process(rest);
    }
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
    run_checked(report, "performance report")?;
    process(&[])
}

/// The whole-process comparison: builds the release `gstpipe` and `raw_pull`, then runs
/// `benches/src/bin/process.rs`, which times both (and the fakesink ceiling) as whole
/// processes, interleaved, and writes its section of `docs/performance.md`.
fn process(extra: &[String]) -> Result {
    let mut build = cargo();
    build.args([
        "build",
        "--release",
        "--package",
        "gstpipe-cli",
        "--bin",
        "gstpipe",
        "--package",
        "gstpipe-benches",
        "--bin",
        "raw_pull",
        "--bin",
        "process",
    ]);
    run_checked(build, "release build of gstpipe and raw_pull")?;
    let mut run = cargo();
    run.args([
        "run",
        "--release",
        "--quiet",
        "--package",
        "gstpipe-benches",
        "--bin",
        "process",
        "--",
    ])
    .args(extra);
    run_checked(run, "whole-process comparison")
}
