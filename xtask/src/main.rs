//! Project automation for gstpipe: `cargo xtask <command>`.
//!
//! This crate deliberately depends on nothing but `std`, so it builds on a fresh machine
//! before GStreamer (or anything else) is installed.

mod bench;
mod ci;
mod docs;
mod fuzz;
mod memcheck;
mod package;
mod python;
mod run;
mod setup;
mod soak;
mod test;
mod util;
mod wheel;

use std::process::ExitCode;

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  setup           install the system packages gstpipe needs (apt, as root or with sudo)
  run [-- ARGS]   set up, build and run `gstpipe launch` on the default pipeline;
                  ARGS after `--` go to the CLI (e.g. `cargo xtask run -- -p \"...\"`)
  test            set up, then run every suite: unit, integration, doc, examples, CLI end to end
  bench           set up, run the criterion benches and write docs/performance.md
  bench --process [--reps N] [--scale F] [--no-write]
                  only the whole-process comparison (gstpipe launch vs a raw loop)
  docs [--check]  regenerate docs/formats.md from the format table (--check: fail if stale)
  ci              what CI runs: fmt --check, clippy -D warnings, test, rustdoc -D warnings,
                  package
  wheel [--test]  build the Python package's abi3 wheel (maturin) and print its path;
                  --test installs it in a fresh venv without Rust and runs pytest on it
  package         cargo package --workspace, then each packaged crate's own tests and doc
                  tests, built from the .crate files alone
  soak [--cycles N] [--frames N]
                  long soak in release (default 1000 lifecycles, 100000 frames per adapter):
                  threads, fds and resident memory, printed as a table
  fuzz [--cases N] [--sequences N] [--suite rust|python]
                  property tests (frame props, core fuzz) in release, PROPTEST_CASES=N (2000),
                  and random Python API sequences, GSTPIPE_FUZZ_SEQUENCES=N (10000)
  memcheck [--suite PACKAGE]
                  frame and sinks integration suites under valgrind memcheck: fails on memory
                  errors and definite leaks through gstpipe code; reports in target/memcheck/
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((cmd, rest)) = args.split_first() else {
        eprint!("{USAGE}");
        return ExitCode::from(2);
    };
    let result = match cmd.as_str() {
        "setup" => setup::run(),
        "run" => run::run(rest),
        "test" => test::run(rest),
        "bench" => bench::run(rest),
        "docs" => docs::run(rest),
        "ci" => ci::run(),
        "soak" => soak::run(rest),
        "fuzz" => fuzz::run(rest),
        "memcheck" => memcheck::run(rest),
        "package" => package::run(),
        "wheel" => wheel::run(rest),
        "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("xtask: unknown command `{other}`\n");
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e}");
            ExitCode::FAILURE
        }
    }
}
