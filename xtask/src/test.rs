//! `cargo xtask test`: set up, then every suite of the workspace, each under a time limit.

use crate::util::{Result, cargo, run_with_timeout};
use std::time::Duration;

/// Runs unit, integration, example, CLI end-to-end and doc tests; extra args go to each
/// `cargo test` before `--` (e.g. `--release`).
pub fn run(extra: &[String]) -> Result {
    crate::setup::run()?;
    // One build, then the suites. Everything is bounded: a hung pipeline fails the run.
    let mut build = cargo();
    build
        .args(["test", "--workspace", "--no-run", "--all-targets"])
        .args(extra);
    run_with_timeout(build, "build tests", Duration::from_secs(30 * 60))?;

    let mut tests = cargo();
    tests
        .args([
            "test",
            "--workspace",
            "--lib",
            "--bins",
            "--tests",
            "--examples",
        ])
        .args(extra)
        .env("RUST_BACKTRACE", "1");
    run_with_timeout(
        tests,
        "unit, integration and CLI tests",
        Duration::from_secs(15 * 60),
    )?;

    let mut doc = cargo();
    doc.args(["test", "--workspace", "--doc"]).args(extra);
    run_with_timeout(doc, "doc tests", Duration::from_secs(10 * 60))?;

    // The benches compile and run once each in test mode, so they cannot rot.
    let mut benches = cargo();
    benches
        .args(["test", "--package", "gstpipe-benches", "--benches"])
        .args(extra);
    run_with_timeout(benches, "benches (test mode)", Duration::from_secs(10 * 60))?;

    examples(extra)?;
    crate::docs::check()?;
    crate::python::test()?;
    eprintln!("xtask: test: all suites passed");
    Ok(())
}

/// Runs every example of every crate (each must end on its own, on a bounded pipeline).
fn examples(extra: &[String]) -> Result {
    let root = crate::util::root();
    let mut crates: Vec<String> = std::fs::read_dir(root.join("crates"))?
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("examples").is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    for krate in &crates {
        let dir = root.join("crates").join(krate).join("examples");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let p = e.path();
                if p.extension()? != "rs" {
                    return None;
                }
                Some(p.file_stem()?.to_string_lossy().into_owned())
            })
            .collect();
        names.sort();
        for name in names {
            let mut cmd = cargo();
            cmd.args([
                "run",
                "--quiet",
                "--package",
                &format!("gstpipe-{krate}"),
                "--example",
                &name,
            ])
            .args(extra);
            run_with_timeout(
                cmd,
                &format!("example {krate}/{name}"),
                Duration::from_secs(5 * 60),
            )?;
        }
    }
    Ok(())
}
