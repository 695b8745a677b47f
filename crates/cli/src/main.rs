//! The `gstpipe` command (see the `gstpipe_cli` library for what it does).

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(gstpipe_cli::run(std::env::args_os()))
}
