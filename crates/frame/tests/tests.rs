//! Integration tests of gstpipe-frame, one module per area. Every pipeline is bounded by
//! timeouts (`util::TIMEOUT`) so a stalled pipeline fails instead of hanging.

mod all_formats;
mod convert;
mod copy_into;
mod errors;
#[cfg(feature = "image")]
mod images;
mod known_values;
mod lifetimes;
#[cfg(feature = "image")]
mod png_reference;
mod props;
mod round_trip;
mod util;
mod video_meta;
