//! Integration tests for gstpipe-batch: one binary, one module per area.

mod util;

mod convert;
mod ends;
mod feeds;
mod live;
mod rates;
mod semantics;
