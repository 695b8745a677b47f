//! `python -m gstpipe`: the `gstpipe launch` command itself, run from Python, so both print
//! through one formatter, parse the same options and exit with the same statuses.

use pyo3::prelude::*;
use std::ffi::OsString;

/// Runs `gstpipe launch` with `args` (the options after `python -m gstpipe`, e.g.
/// `["-p", "videotestsrc num-buffers=3 ! appsink", "--json"]`) and returns its exit status:
/// 0 at end of stream (also after Ctrl-C, SIGTERM or SIGHUP, which end the stream
/// gracefully), 1 when the pipeline fails, 2 for usage errors, bad descriptions and unknown
/// elements. It prints to the process's stdout and stderr, with the GIL released; it takes
/// over SIGINT, SIGTERM and SIGHUP for the rest of the process, as the command does.
#[pyfunction]
#[pyo3(name = "_launch", signature = (args, prog = String::from("python -m gstpipe")))]
pub(crate) fn launch(py: Python<'_>, args: Vec<OsString>, prog: String) -> u8 {
    let argv = std::iter::once(OsString::from(&prog)).chain(args);
    py.detach(move || {
        // No panic may reach Python: report it as the command reports its errors.
        std::panic::catch_unwind(|| gstpipe_cli::launch(&prog, argv)).unwrap_or_else(|panic| {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            eprintln!("gstpipe: error: internal error (please report it): {message}");
            1
        })
    })
}
