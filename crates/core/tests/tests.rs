//! Integration tests for gstpipe-core: one binary, one module per area.

mod util;

mod fuzz;
mod launch;
mod lifecycle;
mod lookup;
