//! `cargo xtask bench`: run the criterion benches and write `docs/performance.md`.

use crate::util::{Result, cargo, run_checked};

/// Runs `cargo bench` for the benches crate; extra args go to criterion (after `--`).
pub fn run(extra: &[String]) -> Result {
    crate::setup::run()?;
    let mut cmd = cargo();
    cmd.args(["bench", "--package", "gstpipe-benches"]);
    if !extra.is_empty() {
        cmd.arg("--").args(extra);
    }
    run_checked(cmd, "cargo bench")
}
