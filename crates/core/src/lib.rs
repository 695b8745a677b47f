//! GStreamer pipelines with typed errors, EOS and error as distinct outcomes, and a graceful
//! shutdown.
//!
//! ```
//! use gstpipe_core::{Error, Pipeline};
//! use std::time::Duration;
//!
//! // A pipeline that ends cleanly.
//! let pipeline = Pipeline::launch("videotestsrc num-buffers=10 ! fakesink")?;
//! pipeline.play()?;
//! pipeline.wait_timeout(Duration::from_secs(10))?;
//!
//! // One that fails: the error names the element and says why.
//! let broken = Pipeline::launch("filesrc location=/nonexistent ! fakesink")?;
//! let err = broken.play().unwrap_err();
//! let Error::Element(e) = err else { panic!("expected an element error, got {err}") };
//! assert_eq!(e.element, "filesrc0");
//! assert!(e.to_string().contains("/nonexistent")); // "... (No such file \"/nonexistent\")"
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! gstpipe never needs a GLib main loop; [`Context`] runs one for elements that do.

mod context;
mod description;
mod error;
mod launch;
mod lexer;
mod pipeline;
mod redact;
pub mod sync;
mod watch;

pub use context::{Context, init};
pub use error::{ElementError, Error, Result};
pub use pipeline::{DEFAULT_STATE_TIMEOUT, DEFAULT_STOP_TIMEOUT, Pipeline, release_appsink};
pub use redact::{ECHO_CHARS, MASK, echo, redact};
pub use watch::{BusEvent, Event, Outcome, Subscription, Watch};

/// The gstreamer crate gstpipe is built on, re-exported so users need no version match.
pub use gst;
