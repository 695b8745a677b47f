//! Frames out of GStreamer pipelines and arrays back in: adapters over `appsink`
//! ([`FrameSink`]) and `appsrc` ([`FrameSource`]).
//!
//! ```
//! use gstpipe_core::Pipeline;
//! use gstpipe_sinks::FrameSink;
//!
//! // The seed's pipeline: frames as (height, width, channels) arrays.
//! let pipeline = Pipeline::launch(
//!     "videotestsrc num-buffers=10 ! capsfilter caps=video/x-raw,format=RGB,width=640,height=480 \
//!      ! appsink emit-signals=True",
//! )?;
//! let sink = FrameSink::new(&pipeline)?; // the only appsink, configured
//! pipeline.play()?;
//! let mut last_pts = None;
//! for frame in &sink {
//!     let frame = frame?; // the pipeline's error, if it fails, comes here
//!     let pixels = frame.view::<u8>()?; // zero copy, row padding honoured
//!     assert_eq!(pixels.shape(), &[480, 640, 3]);
//!     assert!(frame.pts() > last_pts);
//!     last_pts = frame.pts();
//! }
//! assert_eq!(sink.pulled(), 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Adapters
//!
//! | adapter | for | on a slow consumer |
//! |---|---|---|
//! | [`FrameSink::pull`], [`FrameSink::iter`] | a blocking loop | backpressure (`max-buffers`) |
//! | [`FrameSink::on_frame`] | the `new-sample` callback on the streaming thread | the pipeline waits for the callback |
//! | [`FrameSink::channel`] | another thread | [`Policy::Block`] or [`Policy::DropOldest`] (latest frame) |
//! | [`FrameSink::batches`] | models: `(N, H, W, C)` arrays | backpressure |
//! | `FrameSink::stream` (feature `stream`, default) | async code (tokio, ...) | backpressure |
//!
//! Every adapter ends at end of stream, reports the pipeline's error (element and message)
//! instead of ending cleanly, and never hangs or polls: waits sleep until the appsink's
//! `new-sample`/`eos` or the pipeline's watch wakes them, and give up with
//! [`SinkError::Timeout`] when no frame came for the sink's timeout (10 s by default,
//! [`FrameSinkBuilder::timeout`]).
//!
//! What the launch description wrote on the appsink (`max-buffers`, `drop`, `sync`,
//! `wait-on-eos`, `caps`, `emit-signals`) is kept; gstpipe's defaults (`max-buffers=2`,
//! `sync=false`, `enable-last-sample=false`) fill only what it left unsaid, and builder calls
//! override both. `appsink max-buffers=1 drop=true` is the latest-frame setting for live
//! cameras.
//!
//! A pipeline with several appsinks (a `tee`) gets one `FrameSink` per appsink, by name;
//! read them from different threads, since each branch waits for the others.
//!
//! # Into pipelines
//!
//! [`FrameSource`] pushes arrays into an `appsrc`, checked against a `VideoInfo` and stamped
//! from its framerate; [`FrameSource::finish`] sends EOS and waits so muxers finalise files.
//! [`FrameSource::push`] takes a view, an owned array, planes or a buffer ([`Input`]);
//! [`FrameSource::frame`] adds timestamps and object [`Detection`]s, attached as standard
//! region-of-interest metas that [`Frame::detections`] reads back downstream.
//!
//! The user guide, `docs/guide.md`, walks through all of this step by step.
//!
//! ```
//! use gst_video::{VideoFormat, VideoInfo};
//! use gstpipe_core::Pipeline;
//! use gstpipe_sinks::{FrameSink, FrameSource};
//! use ndarray::Array3;
//!
//! let pipeline = Pipeline::launch("appsrc ! videoconvert ! video/x-raw,format=BGR ! appsink")?;
//! let info = VideoInfo::builder(VideoFormat::Rgb, 4, 2).fps(gst::Fraction::new(10, 1)).build()?;
//! let source = FrameSource::new(&pipeline, info)?;
//! let sink = FrameSink::new(&pipeline)?;
//! pipeline.play()?;
//! let rgb = Array3::<u8>::from_shape_fn((2, 4, 3), |(y, x, c)| (y * 40 + x * 10 + c) as u8);
//! source.push(rgb.view())?; // a view is copied once; an owned array is not copied
//! let frame = sink.pull().expect("a frame")?;
//! let bgr = frame.view::<u8>()?;
//! assert_eq!(bgr[[1, 3, 0]], rgb[[1, 3, 2]]); // videoconvert swapped the channels
//! assert_eq!(frame.pts(), Some(gst::ClockTime::ZERO));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod appsrc;
mod batch;
mod callback;
mod channel;
mod delivery;
mod error;
mod queue;
mod sink;
#[cfg(feature = "stream")]
mod stream;

pub use crate::appsrc::{
    DEFAULT_MAX_QUEUED, FrameSource, FrameSourceBuilder, PushFrame, frame_pts,
};
pub use crate::batch::{Batches, FrameBatch};
pub use crate::callback::CallbackHandle;
pub use crate::channel::FrameReceiver;
pub use crate::delivery::{Consumer, Delivery, End, Refusal, wake_on_samples};
pub use crate::error::SinkError;
pub use crate::queue::{BoundedQueue, Policy, Pushed, QueuePolicy};
pub use crate::sink::{
    DEFAULT_MAX_BUFFERS, DEFAULT_PULL_TIMEOUT, FrameSink, FrameSinkBuilder, Frames, IntoFrames,
};
#[cfg(feature = "stream")]
pub use crate::stream::{DEFAULT_STREAM_CAPACITY, FrameStream};

/// The frame type the sinks yield and the detections a [`FrameSource`] attaches, re-exported
/// from gstpipe-frame.
pub use gstpipe_frame::{Detection, Frame, FrameError, FrameLayout, Input, SampleValue};

/// The crates whose types appear in gstpipe-sinks' API, re-exported so users need no
/// version match: `gstpipe_sinks::gst`, `gst_app`, `gst_video`, `ndarray`.
pub use {gst, gst_app, gst_video, ndarray};

#[cfg(test)]
mod tests {
    use super::*;

    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn adapters_cross_threads() {
        send_sync::<FrameSink>();
        send_sync::<FrameReceiver>();
        send_sync::<CallbackHandle>();
        send_sync::<FrameSource>();
        send_sync::<SinkError>();
        send_sync::<FrameBatch<u16>>();
        #[cfg(feature = "stream")]
        send_sync::<FrameStream>();
    }
}
