//! Integration tests for gstpipe-media: one binary, one module per area.

mod util;

mod access;
mod batches;
mod errors;
mod ffmpeg;
mod seek;
