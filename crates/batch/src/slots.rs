//! Where a stream's frames come from: [`BatchSource`], implemented for `FrameSink` (appsink
//! callbacks), a reconnecting `LiveSource` and [`FrameIter`] (a producer thread over any iterator of frames).

use crate::batcher::{Attachment, Feed};
use crate::error::BatchError;
use gstpipe_frame::Frame;
use gstpipe_live::{HealthEvent, LiveItem, LiveSource};
use gstpipe_sinks::{Consumer, End, FrameSink, Refusal};
use std::sync::Arc;

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

/// The delivery core gives each frame to the feed, on the streaming thread: no extra thread,
/// no queue besides the stream's own. The stream ends at the appsink's end of stream, or when
/// the pipeline ends (the delivery core learns it from the pipeline's
/// [`Watch`](gstpipe_core::Watch)): failed with the pipeline's error when an element fails,
/// even when nothing reaches the appsink after it. The sink is kept until the stream is
/// removed or the batcher dropped, which releases the appsink (it then drops frames and lets
/// end of stream through).
///
/// A stream that ended stays ended: a pipeline played again after its end does not feed the
/// batcher again (add a new sink).
impl BatchSource for FrameSink {
    fn name(&self) -> String {
        FrameSink::name(self).to_string()
    }

    fn attach(self, feed: Feed) -> Result<Attachment, BatchError> {
        Ok(Box::new(self.deliver(SlotConsumer { feed })))
    }
}

/// A batcher slot as a consumer of the delivery core.
struct SlotConsumer {
    feed: Feed,
}

impl Consumer for SlotConsumer {
    fn label(&self) -> &'static str {
        "batch slot"
    }

    fn wait_for_room(&self) {
        self.feed.wait_for_room();
    }

    fn frame(&self, frame: Frame, _sample: &gst::Sample, _backlog: bool) -> Result<(), Refusal> {
        // A frame the stream no longer takes (removed, ended, batcher gone) is dropped and
        // the pipeline keeps flowing.
        self.feed.push_now(frame);
        Ok(())
    }

    fn release(&self) {
        self.feed.release();
    }

    fn end(&self, end: End) {
        match end {
            // The pipeline's own error keeps its type (`gstpipe_core::Error`).
            End::Failed(gstpipe_sinks::SinkError::Pipeline(e)) => self.feed.fail(e),
            End::Failed(e) => self.feed.fail(e),
            _ => self.feed.end(),
        }
    }
}

/// A reconnecting live source fills a slot: its frames in order across reconnections, its
/// health events skipped (subscribe to them on the source), and the stream failed with the
/// last error when the source gives up. A thread of the batcher's reads the source; removing
/// the stream (or dropping the batcher) stops the source.
impl BatchSource for Arc<LiveSource> {
    /// `live` (the description may hold credentials; name it with [`Named`]).
    fn name(&self) -> String {
        "live".to_string()
    }

    fn attach(self, feed: Feed) -> Result<Attachment, BatchError> {
        let stream = feed.stream();
        let source = Arc::clone(&self);
        std::thread::Builder::new()
            .name(format!("gstpipe-batch-live-{stream}"))
            .spawn(move || {
                while let Some(item) = source.next() {
                    let taken = match item {
                        LiveItem::Frame(frame) => feed.push(frame.into_frame()),
                        LiveItem::Event(HealthEvent::GaveUp { last_error, .. }) => {
                            return feed.fail(last_error);
                        }
                        _ => true,
                    };
                    if !taken {
                        // The stream was removed or the batcher is gone.
                        source.request_stop();
                        return;
                    }
                }
                feed.end();
            })
            .map_err(|e| BatchError::Attach {
                stream,
                name: "live".to_string(),
                message: format!("cannot start its reader thread: {e}"),
            })?;
        Ok(Box::new(StopOnDrop(self)))
    }
}

/// Any source under a name of the caller's choosing (e.g. `cam-3`), for reports and errors.
///
/// ```
/// use gstpipe_batch::{Batcher, FrameIter, Named};
///
/// let batcher = Batcher::new();
/// let frames = std::iter::empty::<Result<gstpipe_batch::Frame, std::io::Error>>();
/// batcher.add(Named("cam-3".into(), FrameIter::new("unnamed", frames)))?;
/// assert_eq!(batcher.streams()[0].name, "cam-3");
/// # Ok::<(), gstpipe_batch::BatchError>(())
/// ```
#[derive(Debug)]
pub struct Named<S>(pub String, pub S);

impl<S: BatchSource> BatchSource for Named<S> {
    fn name(&self) -> String {
        self.0.clone()
    }

    fn attach(self, feed: Feed) -> Result<Attachment, BatchError> {
        self.1.attach(feed)
    }
}

/// Stops a live source taken over by a batcher when its stream goes, and waits (bounded by
/// its teardown timeout) until its pipeline is down.
struct StopOnDrop(Arc<LiveSource>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// Frames from any iterator (`FrameSink::into_iter()`, a `FrameReceiver`, the frames of a
/// reconnecting `gstpipe_live::LiveSource` mapped out of its items), pulled on a producer
/// thread of its own and pushed to the stream's [`Feed`].
///
/// The iterator's end ends the stream; an `Err` fails it (and stops the thread). The thread
/// stops when the batcher is dropped, after the iterator's current `next` returns.
///
/// ```
/// use gstpipe_batch::{QueuePolicy, Batcher, FrameIter};
/// use gstpipe_core::Pipeline;
/// use gstpipe_sinks::FrameSink;
///
/// let pipeline = Pipeline::launch(
///     "videotestsrc num-buffers=3 ! video/x-raw,format=RGB,width=8,height=8 ! appsink",
/// )?;
/// // Queued: the thread may push the 3 frames before the first batch is taken.
/// let mut batcher = Batcher::builder().ahead(QueuePolicy::drop_oldest(4)).build();
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
