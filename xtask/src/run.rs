//! `cargo xtask run [-- ARGS]`: set up, then `gstpipe launch` (default pipeline unless ARGS say).

use crate::util::{Result, cargo, run_checked};

/// Builds and runs the CLI's `launch` command; `args` (after an optional `--`) go to it.
pub fn run(args: &[String]) -> Result {
    crate::setup::run()?;
    let args = match args.first() {
        Some(a) if a == "--" => &args[1..],
        _ => args,
    };
    let mut cmd = cargo();
    cmd.args([
        "run",
        "--release",
        "--package",
        "gstpipe-cli",
        "--bin",
        "gstpipe",
        "--",
    ]);
    // Bare options (or nothing) mean `launch`; an explicit subcommand is passed through.
    let explicit = args.first().is_some_and(|a| !a.starts_with('-'));
    if !explicit {
        cmd.arg("launch");
    }
    cmd.args(args);
    run_checked(cmd, "gstpipe")
}
