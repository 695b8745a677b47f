//! [`FrameSink`]: an appsink, configured, with a pull that never hangs, and its blocking
//! iterators.

use crate::error::SinkError;
use gst::prelude::*;
use gstpipe_core::{Outcome, Pipeline, Watch};
use gstpipe_frame::Frame;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a pull waits without a frame before it reports [`SinkError::Timeout`], unless
/// [`FrameSinkBuilder::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The appsink's queue length (`max-buffers`) unless [`FrameSinkBuilder::max_buffers`] says
/// otherwise: enough to keep the streaming thread busy, few enough to bound memory.
pub const DEFAULT_MAX_BUFFERS: u32 = 8;
/// How often a waiting pull looks at the pipeline's outcome: the longest delay between an
/// error (or a stop) and the pull reporting it.
pub(crate) const POLL: Duration = Duration::from_millis(20);

/// Frames out of a pipeline's `appsink`.
///
/// Found by name or as the pipeline's only appsink, and configured explicitly (see
/// [`FrameSinkBuilder`]): `sync=false` (process files as fast as possible),
/// `max-buffers=8`, `drop=false` (backpressure, nothing lost), `enable-last-sample=false`,
/// `wait-on-eos=true`. It works whether or not the description set `emit-signals`.
///
/// Pull-based adapters borrow it: [`pull`](FrameSink::pull), [`iter`](FrameSink::iter) (also
/// `for frame in &sink`), [`batches`](FrameSink::batches). Push-based adapters take it over:
/// [`on_frame`](FrameSink::on_frame) (callback on the streaming thread),
/// [`channel`](FrameSink::channel) (bounded queue with a policy) and, with the `stream`
/// feature, [`stream`](FrameSink::stream).
///
/// None of them hangs: a pull waits in short slices, watching the pipeline for an error and
/// giving up with [`SinkError::Timeout`] when no frame came for the configured time.
///
/// ```
/// use gstpipe_core::Pipeline;
/// use gstpipe_sinks::FrameSink;
///
/// let pipeline = Pipeline::launch(
///     "videotestsrc num-buffers=5 ! video/x-raw,format=GRAY8,width=8,height=4 ! appsink",
/// )?;
/// let sink = FrameSink::new(&pipeline)?;
/// pipeline.play()?;
/// let mut count = 0;
/// for frame in &sink {
///     let frame = frame?;
///     assert_eq!(frame.view::<u8>()?.shape(), &[4, 8, 1]);
///     count += 1;
/// }
/// assert_eq!(count, 5);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Stopping early
///
/// An appsink nobody reads holds the pipeline back: its queue fills, upstream blocks, and EOS
/// cannot pass (`wait-on-eos`). Dropping the `FrameSink` (or the adapter that took it over)
/// releases the appsink: it then drops frames (`max-buffers=1 drop=true`) and lets EOS through
/// (`wait-on-eos=false`), so [`Pipeline::stop`] finishes at once. Drop the sink before
/// stopping a pipeline you stopped reading; dropping the pipeline needs nothing.
///
/// Frames you hold do not go back to upstream buffer pools: holding many frames from a camera
/// or a decoder can stall it; copy them ([`Frame::to_array`]) when you keep them.
pub struct FrameSink {
    pub(crate) appsink: gst_app::AppSink,
    pub(crate) watch: Watch,
    pub(crate) name: String,
    pub(crate) timeout: Duration,
    /// Set once the end (EOS, stop, error) has been reported by `pull`.
    ended: AtomicBool,
    pulled: AtomicU64,
}

impl std::fmt::Debug for FrameSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSink")
            .field("appsink", &self.name)
            .field("timeout", &self.timeout)
            .field("pulled", &self.pulled())
            .field("ended", &self.ended.load(Ordering::Relaxed))
            .finish()
    }
}

/// Configures a [`FrameSink`] before it takes over its appsink; from [`FrameSink::builder`].
///
/// The values given here (or their defaults) replace what the launch description set on the
/// appsink, except `caps`, which is only set when given.
#[derive(Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct FrameSinkBuilder<'a> {
    pipeline: &'a Pipeline,
    name: Option<String>,
    caps: Option<gst::Caps>,
    max_buffers: u32,
    drop: bool,
    sync: bool,
    timeout: Duration,
}

impl<'a> FrameSinkBuilder<'a> {
    /// Uses the appsink called `name` instead of the pipeline's only appsink.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Restricts what the appsink accepts (e.g. `video/x-raw,format=RGB`): upstream converters
    /// negotiate to it. Not set by default: the description's caps (if any) stay.
    pub fn caps(mut self, caps: gst::Caps) -> Self {
        self.caps = Some(caps);
        self
    }

    /// The appsink's queue length (`max-buffers`; 0 is unlimited). Default
    /// [`DEFAULT_MAX_BUFFERS`].
    pub fn max_buffers(mut self, max_buffers: u32) -> Self {
        self.max_buffers = max_buffers;
        self
    }

    /// Whether the appsink drops its oldest frame when its queue is full (`drop`), instead of
    /// blocking upstream. Default `false`: nothing is lost.
    pub fn drop(mut self, drop: bool) -> Self {
        self.drop = drop;
        self
    }

    /// Whether the appsink paces frames to the clock (`sync`). Default `false`: files are
    /// processed as fast as possible; live sources pace themselves.
    pub fn sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// How long a pull waits for a frame before reporting [`SinkError::Timeout`] when the
    /// pipeline neither ends nor fails. Default [`DEFAULT_TIMEOUT`] (10 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Finds and configures the appsink.
    ///
    /// # Errors
    /// [`SinkError::Pipeline`] with `NoSuchElement` / `WrongElementType` for a bad name,
    /// `NoElementOfType` when the pipeline has no appsink, `Ambiguous` when it has several and
    /// no name was given.
    pub fn build(self) -> Result<FrameSink, SinkError> {
        let appsink: gst_app::AppSink = self.pipeline.find(self.name.as_deref())?;
        appsink.set_enable_last_sample(false);
        appsink.set_sync(self.sync);
        appsink.set_max_buffers(self.max_buffers);
        appsink.set_drop(self.drop);
        appsink.set_wait_on_eos(true);
        if let Some(caps) = &self.caps {
            appsink.set_caps(Some(caps));
        }
        let name = appsink.name().to_string();
        tracing::debug!(
            appsink = %name,
            max_buffers = self.max_buffers,
            drop = self.drop,
            sync = self.sync,
            timeout = ?self.timeout,
            caps = ?self.caps,
            "frame sink configured"
        );
        Ok(FrameSink {
            appsink,
            watch: self.pipeline.watch(),
            name,
            timeout: self.timeout,
            ended: AtomicBool::new(false),
            pulled: AtomicU64::new(0),
        })
    }
}

impl FrameSink {
    /// The pipeline's only appsink, with the default configuration.
    ///
    /// # Errors
    /// As [`FrameSinkBuilder::build`].
    pub fn new(pipeline: &Pipeline) -> Result<FrameSink, SinkError> {
        Self::builder(pipeline).build()
    }

    /// A builder to choose the appsink by name and configure it.
    pub fn builder(pipeline: &Pipeline) -> FrameSinkBuilder<'_> {
        FrameSinkBuilder {
            pipeline,
            name: None,
            caps: None,
            max_buffers: DEFAULT_MAX_BUFFERS,
            drop: false,
            sync: false,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The underlying appsink, for anything gstpipe does not wrap.
    pub fn appsink(&self) -> &gst_app::AppSink {
        &self.appsink
    }

    /// The appsink's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The [`Watch`] of the sink's pipeline: its outcome (EOS, error, stopped), for adapters
    /// built on top of the sink.
    pub fn watch(&self) -> &Watch {
        &self.watch
    }

    /// The stall timeout pulls use.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many frames [`pull`](FrameSink::pull) has returned so far.
    pub fn pulled(&self) -> u64 {
        self.pulled.load(Ordering::Relaxed)
    }

    /// Whether `pull` has reported the end (EOS, stop or the pipeline's error).
    pub fn is_ended(&self) -> bool {
        self.ended.load(Ordering::Relaxed)
    }

    /// The next frame: `Some(Ok(frame))`; `None` at end of stream (this appsink's EOS) or when
    /// the pipeline was stopped; `Some(Err(..))` with the pipeline's error (element and
    /// message) when it failed, after which it returns `None`.
    ///
    /// Waits at most the configured timeout for a frame, then returns
    /// [`SinkError::Timeout`]; calling again waits again. Before the pipeline plays, it waits
    /// (bounded the same way) for it to start.
    pub fn pull(&self) -> Option<Result<Frame, SinkError>> {
        self.pull_with(self.timeout)
    }

    /// Like [`pull`](FrameSink::pull) with another stall timeout for this call.
    pub fn pull_timeout(&self, timeout: Duration) -> Option<Result<Frame, SinkError>> {
        self.pull_with(timeout)
    }

    fn pull_with(&self, timeout: Duration) -> Option<Result<Frame, SinkError>> {
        if self.ended.load(Ordering::Acquire) {
            return None;
        }
        let started = Instant::now();
        loop {
            // An error ends the stream at once, even when frames are still queued: the
            // pipeline produces nothing reliable after it.
            if let Some(Outcome::Error(e)) = self.watch.outcome() {
                return self.end_with_error(e);
            }
            let slice_start = Instant::now();
            let slice = POLL.min(timeout.saturating_sub(started.elapsed()));
            if let Some(sample) = self.appsink.try_pull_sample(clock_time(slice)) {
                // The error may have come while this pull waited: it wins over the frame.
                if let Some(Outcome::Error(e)) = self.watch.outcome() {
                    return self.end_with_error(e);
                }
                self.pulled.fetch_add(1, Ordering::Relaxed);
                return Some(Frame::from_sample(&sample).map_err(SinkError::from));
            }
            let running = self.appsink.current_state() >= gst::State::Paused;
            match self.watch.outcome() {
                Some(Outcome::Error(e)) => return self.end_with_error(e),
                Some(Outcome::Stopped) => return self.end(),
                // Ended, then set to Null: whatever was queued was flushed.
                Some(Outcome::Eos) if !running => return self.end(),
                _ => {}
            }
            // `is_eos` is also true for an appsink that has not started (below Paused), which
            // is not the end: the pipeline may be about to play.
            if running && self.appsink.is_eos() {
                return self.end();
            }
            if started.elapsed() >= timeout {
                tracing::debug!(appsink = %self.name, ?timeout, "no frame: timeout");
                return Some(Err(SinkError::Timeout {
                    element: self.name.clone(),
                    operation: "a frame",
                    waited: started.elapsed(),
                }));
            }
            // try_pull_sample returns at once when the appsink is not started or flushing.
            if slice_start.elapsed() < POLL / 2 {
                std::thread::sleep(POLL / 4);
            }
        }
    }

    fn end(&self) -> Option<Result<Frame, SinkError>> {
        self.ended.store(true, Ordering::Release);
        tracing::debug!(appsink = %self.name, frames = self.pulled(), "end of frames");
        None
    }

    fn end_with_error(&self, e: gstpipe_core::ElementError) -> Option<Result<Frame, SinkError>> {
        if self.ended.swap(true, Ordering::AcqRel) {
            return None;
        }
        Some(Err(SinkError::Pipeline(gstpipe_core::Error::Element(e))))
    }

    /// A blocking iterator of frames: ends at EOS or when the pipeline is stopped; yields the
    /// pipeline's error, or a [`SinkError::Timeout`] when it stalls, and then ends.
    pub fn iter(&self) -> Frames<'_> {
        Frames {
            sink: self,
            done: false,
        }
    }

    /// Lets the appsink drop frames and pass EOS without being read (see "Stopping early").
    pub(crate) fn release(&self) {
        self.appsink.set_wait_on_eos(false);
        self.appsink.set_max_buffers(1);
        self.appsink.set_drop(true);
    }
}

impl Drop for FrameSink {
    fn drop(&mut self) {
        self.release();
    }
}

/// `gst::ClockTime` from a `Duration`, saturating.
pub(crate) fn clock_time(d: Duration) -> gst::ClockTime {
    gst::ClockTime::from_nseconds(d.as_nanos().try_into().unwrap_or(u64::MAX))
}

/// The blocking iterator of [`FrameSink::iter`]: `Result<Frame, SinkError>` until EOS; after
/// an error (the pipeline's, or a timeout) it ends.
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct Frames<'a> {
    sink: &'a FrameSink,
    done: bool,
}

impl Iterator for Frames<'_> {
    type Item = Result<Frame, SinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.sink.pull();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

impl std::iter::FusedIterator for Frames<'_> {}

impl<'a> IntoIterator for &'a FrameSink {
    type Item = Result<Frame, SinkError>;
    type IntoIter = Frames<'a>;

    fn into_iter(self) -> Frames<'a> {
        self.iter()
    }
}

/// The owning blocking iterator of `FrameSink::into_iter`, as [`Frames`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct IntoFrames {
    sink: FrameSink,
    done: bool,
}

impl IntoFrames {
    /// The sink being iterated.
    pub fn sink(&self) -> &FrameSink {
        &self.sink
    }
}

impl Iterator for IntoFrames {
    type Item = Result<Frame, SinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.sink.pull();
        self.done = !matches!(item, Some(Ok(_)));
        item
    }
}

impl std::iter::FusedIterator for IntoFrames {}

impl IntoIterator for FrameSink {
    type Item = Result<Frame, SinkError>;
    type IntoIter = IntoFrames;

    fn into_iter(self) -> IntoFrames {
        IntoFrames {
            sink: self,
            done: false,
        }
    }
}
