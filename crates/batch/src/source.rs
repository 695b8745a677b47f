//! Where a stream's frames come from: [`BatchSource`], implemented for `FrameSink` (appsink
//! callbacks) and [`FrameIter`] (a producer thread over any iterator of frames).

use crate::batcher::{Attachment, Feed};
use crate::error::BatchError;
use gst::prelude::*;
use gstpipe_core::{Event, Outcome};
use gstpipe_frame::{Frame, FrameError};
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

/// The appsink's `new-sample` callback delivers each frame to the feed, on the streaming
/// thread: no extra thread, no queue besides the batcher's. The stream ends at the appsink's
/// end of stream, or when the pipeline ends (a subscription to its [`Watch`](gstpipe_core::Watch)):
/// failed with the pipeline's error when an element fails, even when nothing reaches the
/// appsink after it. The sink is kept until the batcher is dropped, which releases the
/// appsink (it then drops frames and lets end of stream through).
///
/// A stream that ended stays ended: a pipeline played again after its end does not feed the
/// batcher again (add a new sink to a new batcher).
impl BatchSource for FrameSink {
    fn name(&self) -> String {
        FrameSink::name(self).to_string()
    }

    fn attach(self, feed: Feed) -> Result<Attachment, BatchError> {
        let watch = self.watch().clone();
        let subscription = {
            let feed = feed.clone();
            watch.subscribe(move |event| match event {
                Event::Ended(Outcome::Error(e)) => {
                    feed.fail(gstpipe_core::Error::Element(e.clone()));
                }
                Event::Ended(_) => feed.end(),
                // A stream waiting for room (Ahead::Block) must not hold the stop back.
                Event::Stopping => feed.release(),
                _ => {}
            })
        };
        // Taking a sample and delivering it is one step under this lock, so the catch-up
        // below and the streaming thread keep frames in order. It also holds the caps last
        // parsed: a frame's caps are parsed only when they change.
        let mapper = Arc::new(Mutex::new(Mapper::default()));
        let on_sample = feed.clone();
        let on_eos = feed.clone();
        let streaming = Arc::clone(&mapper);
        let eos_watch = watch.clone();
        let callbacks = gst_app::AppSinkCallbacks::builder()
            .new_sample(move |appsink| {
                let mut mapper = streaming.lock().unwrap_or_else(|p| p.into_inner());
                match appsink.try_pull_sample(gst::ClockTime::ZERO) {
                    Some(sample) => mapper.deliver(&on_sample, &sample, true),
                    None => Ok(gst::FlowSuccess::Ok),
                }
            })
            .eos(move |_| {
                // An error posted before this end of stream has already failed the stream
                // (the subscription runs as it is posted); this only ends a healthy one.
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
            let mut mapper = mapper.lock().unwrap_or_else(|p| p.into_inner());
            let Some(sample) = appsink.try_pull_sample(gst::ClockTime::ZERO) else {
                break;
            };
            if mapper.deliver(&feed, &sample, false).is_err() {
                break;
            }
        }
        // An end of stream that came before the callbacks did.
        if appsink.current_state() >= gst::State::Paused && appsink.is_eos() {
            feed.end();
        }
        Ok(Box::new((self, subscription)))
    }
}

/// Samples into frames, with the caps parsed once per change.
#[derive(Default)]
struct Mapper {
    caps: Option<gst::Caps>,
    info: Option<gst_video::VideoInfo>,
}

impl Mapper {
    fn frame(&mut self, sample: &gst::Sample) -> Result<Frame, FrameError> {
        let caps = sample.caps().ok_or(FrameError::NoCaps)?;
        let known = self.caps.as_ref().is_some_and(|c| c.as_ref() == caps);
        let info = match (&self.info, known) {
            (Some(info), true) => info,
            _ => {
                let info = gst_video::VideoInfo::from_caps(caps).map_err(|_| {
                    FrameError::NotVideoCaps {
                        caps: caps.to_owned(),
                    }
                })?;
                self.caps = Some(caps.to_owned());
                self.info.insert(info)
            }
        };
        let buffer = sample.buffer_owned().ok_or(FrameError::NoBuffer)?;
        Frame::from_buffer(buffer, info)
    }

    /// Maps a sample and pushes it; a frame that cannot be mapped fails the stream.
    /// With `wait`, an [`Ahead::Block`](crate::Ahead::Block) stream waits for room here, on
    /// the streaming thread.
    fn deliver(
        &mut self,
        feed: &Feed,
        sample: &gst::Sample,
        wait: bool,
    ) -> Result<gst::FlowSuccess, gst::FlowError> {
        match self.frame(sample) {
            Ok(frame) => {
                // A closed batcher discards it: the appsink was released and drops frames.
                if wait {
                    feed.push(frame);
                } else {
                    feed.push_now(frame);
                }
                Ok(gst::FlowSuccess::Ok)
            }
            Err(e) => {
                feed.fail(e);
                Err(gst::FlowError::Error)
            }
        }
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
