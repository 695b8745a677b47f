//! Integration tests for gstpipe-core: one binary, one module per area.

mod util;

mod fuzz;
mod guard;
mod launch;
mod lifecycle;
mod lookup;
