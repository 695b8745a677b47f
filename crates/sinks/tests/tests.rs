//! Integration tests for gstpipe-sinks: one binary, one module per area.

mod util;

mod batches;
mod callback;
mod channel;
mod detections;
mod errors;
mod events;
mod faults;
mod iter;
mod lookup;
mod soak;
mod source;
#[cfg(feature = "stream")]
mod stream;
