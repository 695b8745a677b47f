//! One batch across many streams: frames from N GStreamer pipelines (cameras, files) gathered
//! into batches with one slot per stream, as a model serving many cameras takes them.
//!
//! ```
//! use gstpipe_batch::{Batcher, Normalize, QueuePolicy};
//! use gstpipe_core::Pipeline;
//! use gstpipe_sinks::FrameSink;
//! use std::time::Duration;
//!
//! let mut batcher = Batcher::builder()
//!     .timeout(Duration::from_millis(40))
//!     .ahead(QueuePolicy::keep_newest()) // a camera that is ahead keeps only its newest frame
//!     .build();
//! let mut pipelines = Vec::new();
//! for pattern in ["ball", "smpte"] {
//!     let pipeline = Pipeline::launch(&format!(
//!         "videotestsrc is-live=true num-buffers=30 pattern={pattern} ! videoscale ! videoconvert \
//!          ! video/x-raw,format=RGB,width=320,height=240,framerate=30/1 ! appsink"
//!     ))?;
//!     batcher.add(FrameSink::new(&pipeline)?)?; // slot 0, 1, ... in the order added
//!     pipelines.push(pipeline);
//! }
//! for pipeline in &pipelines {
//!     pipeline.play()?;
//! }
//! let mut input = ndarray::Array4::<f32>::zeros((0, 0, 0, 0)); // kept across batches
//! while let Some(batch) = batcher.next_into(&mut input, &Normalize::imagenet())? {
//!     assert_eq!(input.shape(), &[2, 3, 240, 320]); // (N, C, H, W), normalised, contiguous
//!     for slot in batch.slots.iter().flatten() {
//!         println!("camera {} frame {} pts {:?}", slot.stream, slot.index, slot.pts);
//!     }
//!     for (stream, end) in &batch.ended {
//!         println!("camera {stream}: {end}"); // end of stream, or the pipeline's error
//!     }
//! }
//! for status in batcher.streams() {
//!     println!("{}: {} batched, {} dropped", status.name, status.batched, status.dropped);
//!     // Every frame went into a batch or was replaced by a newer one.
//!     assert_eq!(status.batched + status.dropped, 30);
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Forming batches
//!
//! A batch is formed as soon as every running stream has a frame, or when the
//! [timeout](BatcherBuilder::timeout) since the batch opened (its first frame; a newer frame
//! replacing it does not reopen it) expires; the slots of the streams that had nothing are
//! then empty ([`Batch::slots`] holds `None`). Each filled
//! [`Slot`] says which stream and which of its frames it holds, its pts and when it arrived.
//!
//! - A stream that is **ahead** (a faster camera, a file read at full speed) is bounded by its
//!   queue, the delivery core's one [`QueuePolicy`]: [`QueuePolicy::keep_newest`] replaces its
//!   waiting frame and counts the drop; [`QueuePolicy::drop_oldest`] keeps up to `K` frames
//!   for the next batches; [`QueuePolicy::block`] makes it wait beyond `K` (backpressure, for
//!   files).
//! - A stream that **ends or fails**, at start or later, keeps an empty slot and never holds
//!   the others back; the next batch reports it in [`Batch::ended`] and [`Batcher::streams`]
//!   keeps the record. The batcher fails ([`BatchError::AllFailed`]) only when every stream
//!   has failed.
//! - Streams **come and go** while batches are formed: [`BatcherHandle::add`] and
//!   [`BatcherHandle::remove`] from any thread; slot numbers never change ([`Batch::streams`]
//!   maps the batch's entries to them).
//! - A stream that **never starts** costs each batch at most the timeout.
//!
//! Frames arrive event-driven: a `FrameSink`'s appsink delivers from its `new-sample`
//! callback on the streaming thread, a [`FrameIter`] from a producer thread, anything else
//! through a [`Feed`] (implement [`BatchSource`] to plug in another source). The batcher waits
//! on a condvar, bounded by the batch's deadline.
//!
//! # Model input
//!
//! [`Batch::nhwc_into`] copies a batch into `(N, H, W, C)` `u8`; [`Batch::nchw_into`] (and
//! [`Batcher::next_into`]) converts it into `(N, C, H, W)` `f32` with scale, mean and std
//! ([`Normalize`]) applied in the same pass, into an array you keep across batches. Every
//! stream must deliver frames of one shape: put `videoscale ! videoconvert !
//! video/x-raw,format=RGB,width=W,height=H` before each appsink; a frame of another shape is
//! refused with [`BatchError::Shape`], naming the stream and both shapes.

mod batcher;
mod convert;
mod error;
mod slots;

pub use crate::batcher::{
    Attachment, Batch, Batcher, BatcherBuilder, BatcherHandle, DEFAULT_BATCH_TIMEOUT,
    DEFAULT_STALL, Feed, Formed, Slot, StreamStatus, Waited,
};
pub use crate::convert::Normalize;
pub use crate::error::{BatchError, StreamEnd};
pub use crate::slots::{BatchSource, FrameIter, Named};
/// The queue bound of each stream ([`BatcherBuilder::ahead`]), from the delivery core.
pub use gstpipe_sinks::{Policy, QueuePolicy};

/// The frame type slots hold, re-exported from gstpipe-frame.
pub use gstpipe_frame::Frame;
/// The array type batches are written into, re-exported.
pub use ndarray;

#[cfg(test)]
mod tests {
    use super::*;

    fn send<T: Send>() {}
    fn send_sync<T: Send + Sync>() {}

    #[test]
    fn types_cross_threads() {
        send::<Batcher>();
        send_sync::<Feed>();
        send_sync::<Batch>();
        send_sync::<BatchError>();
        send_sync::<StreamEnd>();
    }
}
