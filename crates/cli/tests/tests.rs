//! End-to-end tests of the `gstpipe` binary: each runs the built executable with a time limit.

mod batch;
mod errors;
mod formats;
mod hostile;
mod interrupt;
mod json;
mod launch;
mod media;
mod push;
mod reconnect;
mod save;
mod util;
