//! Live sources that survive: a supervisor that owns a launch description, rebuilds the
//! pipeline with backoff whenever it fails, ends or stalls, and keeps one stream of frames and
//! health events going across the rebuilds.
//!
//! ```
//! use gstpipe_live::{Backoff, HealthEvent, LiveItem, LiveSource};
//! use std::time::Duration;
//!
//! // A "camera" that ends after 3 frames: each end is an outage, and the pipeline is rebuilt.
//! let source = LiveSource::builder(
//!     "videotestsrc num-buffers=3 ! video/x-raw,format=GRAY8,width=8,height=4 ! appsink",
//! )
//! .backoff(Backoff::new(Duration::from_millis(10)).jitter(0.0))
//! .stall_timeout(Duration::from_secs(10))
//! .build()?;
//!
//! let mut events = Vec::new();
//! let mut indices = Vec::new();
//! for item in &source {
//!     match item {
//!         LiveItem::Frame(frame) => {
//!             assert_eq!(frame.view::<u8>()?.shape(), &[4, 8, 1]);
//!             indices.push(frame.index()); // keeps counting across rebuilds
//!             if frame.generation() == 3 && indices.len() == 9 {
//!                 break; // three generations of three frames
//!             }
//!         }
//!         LiveItem::Event(event) => events.push(event.name()),
//!         _ => {}
//!     }
//! }
//! source.stop();
//! assert_eq!(indices, (0..9).collect::<Vec<u64>>());
//! assert_eq!(
//!     events,
//!     [
//!         "connected",
//!         "disconnected", "reconnecting", "reconnected",
//!         "disconnected", "reconnecting", "reconnected",
//!     ]
//! );
//! assert_eq!(source.stats().reconnects, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it does
//!
//! - **Rebuild, never re-play.** Each generation is a new pipeline parsed from the
//!   description (a decodebin links its dynamic pads once; replaying it fails). The old one
//!   is set to Null first, waiting at most the teardown timeout.
//! - **Why a generation ends:** an element error ([`LiveError::Pipeline`]), end of stream
//!   ([`LiveError::Eos`]), or the watchdog ([`LiveError::Stalled`]): no frame for the stall
//!   timeout, counted from the pipeline's start and then from its last frame. A frozen camera
//!   or server posts no error at all; only the watchdog notices it.
//! - **Backoff:** [`Backoff`] (initial delay, factor, maximum, jitter, attempt limit). The
//!   delay is a wait that [`LiveSource::stop`] interrupts. The attempt count restarts once a
//!   frame arrives.
//! - **One stream:** [`LiveItem::Frame`]s carry their [`index`](LiveFrame::index) (counting
//!   across generations), [`generation`](LiveFrame::generation),
//!   [`after_gap`](LiveFrame::after_gap) and capture time; [`LiveItem::Event`]s carry the
//!   [`HealthEvent`]s in order. [`LiveSource::subscribe`] gets the events as callbacks too.
//! - **Latest frame:** at most `capacity` frames wait for the consumer; by default the oldest
//!   is dropped ([`LiveStats::dropped`]).
//! - **Capture time:** [`LiveFrame::wall_time`] is the sender's NTP time when the buffer
//!   carries an NTP reference timestamp (rtspsrc after an RTCP sender report; gstpipe sets
//!   rtspsrc's `add-reference-timestamp-meta=true` unless the description sets it), else the
//!   pipeline clock at the frame's running time mapped to the system clock
//!   ([`TimeSource`] says which).
//!
//! Health events as seen for an RTSP camera that is unplugged for a while:
//!
//! ```text
//! Connected { generation: 1 }
//! Disconnected { generation: 1, error: rtspsrc0 failed: Could not read from resource. }
//! Reconnecting { attempt: 1, delay: 0.5 s }
//! Disconnected { generation: 2, error: rtspsrc1 failed: Could not open resource ... }
//! Reconnecting { attempt: 2, delay: 1 s }
//! Reconnected { generation: 3, gap: 2.1 s }
//! ```
//!
//! A subscription for monitoring, next to the frame loop:
//!
//! ```no_run
//! use gstpipe_live::{HealthEvent, LiveSource};
//!
//! let source = LiveSource::builder(
//!     "rtspsrc location=rtsp://camera.local/stream latency=100 ! rtph264depay ! h264parse \
//!      ! avdec_h264 ! videoconvert ! video/x-raw,format=RGB ! appsink",
//! )
//! .on_event(|event| {
//!     if let HealthEvent::Disconnected { error, .. } = event {
//!         eprintln!("camera lost: {error}");
//!     }
//! })
//! .build()?;
//! for frame in source.iter().filter_map(|item| item.frame().map(|f| f.wall_ns())) {
//!     println!("frame captured at {frame} ns");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod backoff;
mod builder;
mod error;
mod event;
mod live_source;
mod queue;
mod supervisor;

pub use crate::backoff::{Backoff, DEFAULT_INITIAL_DELAY, DEFAULT_MAX_DELAY};
pub use crate::builder::{
    DEFAULT_CAPACITY, DEFAULT_STALL_TIMEOUT, DEFAULT_TEARDOWN_TIMEOUT, LiveSourceBuilder,
};
pub use crate::error::LiveError;
pub use crate::event::{HealthEvent, LiveFrame, LiveItem, LiveStats, TimeSource};
pub use crate::live_source::{Iter, LiveSource, TimedOut};

/// The frame type, from gstpipe-frame.
pub use gstpipe_frame::Frame;
/// The queue policy type, from gstpipe-sinks.
pub use gstpipe_sinks::Policy;

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn crosses_threads() {
        send_sync::<LiveSource>();
        send_sync::<LiveItem>();
        send_sync::<HealthEvent>();
        send_sync::<LiveError>();
    }
}
