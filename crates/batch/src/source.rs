//! Where a stream's frames come from: [`BatchSource`], implemented for `FrameSink` (appsink
//! callbacks) and [`FrameIter`] (a producer thread over any iterator of frames).

use crate::batcher::{Attachment, Feed};
use crate::error::{BatchError, StreamEnd};
use gst::prelude::*;
use gstpipe_core::{Outcome, Watch};
use gstpipe_frame::Frame;
use gstpipe_sinks::FrameSink;
use std::sync::{Arc, Mutex};

/// A source of frames for one stream of a [`Batcher`](crate::Batcher).
///
/// [`attach`](BatchSource::attach) starts delivering frames to the [`Feed`] it is given (from
/// a callback, a thread, a supervisor's loop) and returns what must be kept alive meanwhile.
/// The feed is push-style: [`Feed::push`] for each frame, then [`Feed::end`] or
/// [`Feed::fail`]; dropping every clone of it ends the stream too.
///
/// ```
/// use gstpipe_batch::{Attachment, BatchError, BatchSource, Batcher, Feed};
///
/// /// A source that never delivers anything and ends at once.
/// struct Nothing;
///
/// impl BatchSource for Nothing {
///     fn name(&self) -> String {
///         "nothing".into()
///     }
///     fn attach(self, feed: Feed) -> Result<Attachment, BatchError> {
///         feed.end();
///         Ok(Box::new(()))
///     }
/// }
///
/// let mut batcher = Batcher::new();
/// batcher.add(Nothing)?;
/// assert!(batcher.next_batch()?.is_none()); // every stream ended: no batch
/// # Ok::<(), BatchError>(())
/// ```
pub trait BatchSource: Send + 'static {
    /// The stream's name, used in reports and errors.
    fn name(&self) -> String;

    /// Starts delivering frames to `feed`.
    ///
    /// # Errors
    /// [`BatchError::Attach`] when the source cannot start.
    fn attach(self, feed: Feed) -> Result<Attachment, BatchError>;
}

/// How a stream whose pipeline has this outcome ended.
fn end_of(outcome: Outcome) -> StreamEnd {
    match outcome {
        Outcome::Error(e) => StreamEnd::Failed(Arc::new(gstpipe_core::Error::Element(e))),
        _ => StreamEnd::Eos,
    }
}

/// The outcome of the watched pipeline, as a stream end.
fn check(watch: &Watch) -> Option<StreamEnd> {
    watch.outcome().map(end_of)
}

/// The appsink's `new-sample` callback delivers each frame to the feed, on the streaming
/// thread: no extra thread, no queue besides the batcher's. The appsink's `eos` callback ends
/// the stream, with the pipeline's error when there is one; the pipeline's outcome is also
/// checked each time the batcher wakes up (for errors that never reach the appsink as an end
/// of stream). The sink is kept until the batcher is dropped, which releases the appsink.
impl BatchSource for FrameSink {
    fn name(&self) -> String {
        FrameSink::name(self).to_string()
    }

    fn attach(self, feed: Feed) -> Result<Attachment, BatchError> {
        let watch = self.watch().clone();
        {
            let watch = watch.clone();
            feed.set_check(move || check(&watch));
        }
        // Taking a sample and delivering it is one step under this lock, so the catch-up
        // below and the streaming thread keep frames in order.
        let order = Arc::new(Mutex::new(()));
        let on_sample = feed.clone();
        let on_eos = feed.clone();
        let streaming = Arc::clone(&order);
        let eos_watch = watch.clone();
        let callbacks = gst_app::AppSinkCallbacks::builder()
            .new_sample(move |appsink| {
                let _order = streaming.lock().unwrap_or_else(|p| p.into_inner());
                match appsink.try_pull_sample(gst::ClockTime::ZERO) {
                    Some(sample) => deliver(&on_sample, &sample),
                    None => Ok(gst::FlowSuccess::Ok),
                }
            })
            .eos(move |_| {
                // Errors are recorded by the bus's sync handler as they are posted, before the
                // end of stream that follows them reaches the appsink.
                match eos_watch.outcome() {
                    Some(Outcome::Error(e)) => on_eos.fail(gstpipe_core::Error::Element(e)),
                    _ => on_eos.end(),
                }
            })
            .build();
        let appsink = self.appsink();
        appsink.set_callbacks(callbacks);
        // Added after play, the appsink may already hold frames, signalled before the
        // callbacks existed: deliver them now, oldest first.
        loop {
            let _order = order.lock().unwrap_or_else(|p| p.into_inner());
            let Some(sample) = appsink.try_pull_sample(gst::ClockTime::ZERO) else {
                break;
            };
            if deliver(&feed, &sample).is_err() {
                break;
            }
        }
        // An end of stream that came before the callbacks did.
        if appsink.current_state() >= gst::State::Paused && appsink.is_eos() {
            match check(&watch) {
                Some(end @ StreamEnd::Failed(_)) => feed.fail(FailedAgain(end)),
                _ => feed.end(),
            }
        }
        Ok(Box::new(self))
    }
}

/// A stream end carried as an error (to re-report a failure found by a check).
#[derive(Debug)]
struct FailedAgain(StreamEnd);

impl std::fmt::Display for FailedAgain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.error() {
            Some(e) => std::fmt::Display::fmt(e, f),
            None => std::fmt::Display::fmt(&self.0, f),
        }
    }
}

impl std::error::Error for FailedAgain {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.error().and_then(|e| e.source())
    }
}

/// Maps a sample and pushes it; a frame that cannot be mapped fails the stream.
fn deliver(feed: &Feed, sample: &gst::Sample) -> Result<gst::FlowSuccess, gst::FlowError> {
    match Frame::from_sample(sample) {
        Ok(frame) => {
            // A closed batcher discards it: the appsink was released and drops frames.
            feed.push(frame);
            Ok(gst::FlowSuccess::Ok)
        }
        Err(e) => {
            feed.fail(e);
            Err(gst::FlowError::Error)
        }
    }
}

/// Frames from any iterator (`FrameSink::into_iter()`, a `FrameReceiver`, a supervisor's
/// frames), pulled on a producer thread of its own and pushed to the stream's [`Feed`].
///
/// The iterator's end ends the stream; an `Err` fails it (and stops the thread). The thread
/// stops when the batcher is dropped, after the iterator's current `next` returns.
///
/// ```
/// use gstpipe_batch::{Ahead, Batcher, FrameIter};
/// use gstpipe_core::Pipeline;
/// use gstpipe_sinks::FrameSink;
///
/// let pipeline = Pipeline::launch(
///     "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=8,height=8 ! appsink",
/// )?;
/// // Queued: the thread may push the 3 frames before the first batch is taken.
/// let mut batcher = Batcher::builder().ahead(Ahead::Queue(4)).build();
/// batcher.add(FrameIter::new("pulled", FrameSink::new(&pipeline)?.into_iter()))?;
/// pipeline.play()?;
/// let mut frames = 0;
/// while let Some(batch) = batcher.next_batch()? {
///     frames += batch.filled_count();
/// }
/// assert_eq!(frames, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FrameIter<I> {
    name: String,
    frames: I,
}

impl<I> FrameIter<I> {
    /// A source named `name` pulling from `frames`.
    pub fn new(name: &str, frames: I) -> Self {
        FrameIter {
            name: name.to_string(),
            frames,
        }
    }
}

impl<I, E> BatchSource for FrameIter<I>
where
    I: Iterator<Item = Result<Frame, E>> + Send + 'static,
    E: std::error::Error + Send + Sync + 'static,
{
    fn name(&self) -> String {
        self.name.clone()
    }

    fn attach(self, feed: Feed) -> Result<Attachment, BatchError> {
        let stream = feed.stream();
        let FrameIter { name, frames } = self;
        std::thread::Builder::new()
            .name(format!("gstpipe-batch-{stream}"))
            .spawn(move || {
                for item in frames {
                    match item {
                        Ok(frame) => {
                            if !feed.push(frame) {
                                return;
                            }
                        }
                        Err(e) => return feed.fail(e),
                    }
                }
                feed.end();
            })
            .map_err(|e| BatchError::Attach {
                stream,
                name,
                message: format!("cannot start its producer thread: {e}"),
            })?;
        Ok(Box::new(()))
    }
}
