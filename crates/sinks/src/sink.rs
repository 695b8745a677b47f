//! [`FrameSink`]: an appsink configured around what the description wrote, with a pull that
//! wakes on the appsink's own events and never hangs, and its blocking iterators.

use crate::delivery::{Claim, InfoCache, wake_on_samples};
use crate::error::SinkError;
use gst::prelude::*;
use gstpipe_core::sync::{Signal, Unpoisoned as _};
use gstpipe_core::{Event, Outcome, Pipeline, Subscription, Watch};
use gstpipe_frame::Frame;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a pull waits without a frame before it reports [`SinkError::Timeout`], unless
/// [`FrameSinkBuilder::timeout`] says otherwise.
pub const DEFAULT_PULL_TIMEOUT: Duration = Duration::from_secs(10);
/// The appsink's queue length (`max-buffers`) when neither the description nor
/// [`FrameSinkBuilder::max_buffers`] sets one. Measured (docs/performance.md, "Queue depth"):
/// 2 and 8 give the same throughput within noise, so the shallower queue wins on what it
/// bounds: memory (2 x 24.9 MB at 4K RGB instead of 8 x) and how far a consumer can fall
/// behind a live source (2 frames instead of 8), while still letting the producer work on the
/// next frame as the consumer reads one.
pub const DEFAULT_MAX_BUFFERS: u32 = 2;

/// Wakes pulls waiting for a frame: the appsink's `new-sample` and `eos` callbacks and the
/// pipeline's watch notify its [`Signal`] (which takes a lock only when a pull waits).
#[derive(Default)]
pub(crate) struct Wake {
    signal: Signal,
    /// What the watch said last: 0 while running, then [`FAILED`] or [`STOPPED`].
    state: AtomicU8,
    /// Set once the end (EOS, stop, error) has been reported by `pull`; cleared when the
    /// pipeline is played again.
    ended: AtomicBool,
    /// The pipeline's error, as the watch told it (before `wait` returns to anyone).
    error: Mutex<Option<gstpipe_core::ElementError>>,
}

const FAILED: u8 = 1;
const STOPPED: u8 = 2;

impl Wake {
    pub(crate) fn notify(&self) {
        self.signal.notify();
    }
}

/// Frames out of a pipeline's `appsink`.
///
/// Found by name or as the pipeline's only appsink. **The description wins**: properties
/// written on the appsink in the launch description (`max-buffers`, `drop`, `sync`,
/// `wait-on-eos`, `caps`, `emit-signals`, `enable-last-sample`) are kept; gstpipe's defaults
/// fill only what it left unsaid (`max-buffers=2`, `sync=false`,
/// `enable-last-sample=false`; GStreamer's own `drop=false` and `wait-on-eos=true` stay);
/// [`FrameSinkBuilder`] calls override both. So `appsink max-buffers=1 drop=true` is the
/// latest-frame setting for a live camera, and `appsink sync=true` paces a file to real time.
///
/// Pull-based adapters borrow it: [`pull`](FrameSink::pull), [`iter`](FrameSink::iter) (also
/// `for frame in &sink`), [`batches`](FrameSink::batches). Push-based adapters take it over:
/// [`on_frame`](FrameSink::on_frame) (callback on the streaming thread),
/// [`channel`](FrameSink::channel) (bounded queue with a policy) and, with the `stream`
/// feature, [`stream`](FrameSink::stream).
///
/// Nothing polls: a pull that finds no frame queued sleeps until the appsink's `new-sample`
/// or `eos`, or the pipeline's error or stop, wakes it, and gives up with
/// [`SinkError::Timeout`] when no frame came for the configured time.
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
/// cannot pass (`wait-on-eos`). [`Pipeline::stop`] tells every `FrameSink` of the pipeline to
/// let go (it drops what is queued and lets EOS through), so breaking out of a loop and
/// stopping just works, with the sink alive or not. Dropping the `FrameSink` (or the adapter
/// that took it over) does the same.
///
/// Frames you hold do not go back to upstream buffer pools: holding many frames from a camera
/// or a decoder can stall it; copy them ([`Frame::to_array`]) when you keep them.
pub struct FrameSink {
    pub(crate) appsink: gst_app::AppSink,
    pub(crate) watch: Watch,
    pub(crate) name: String,
    pub(crate) timeout: Duration,
    pub(crate) wake: Arc<Wake>,
    /// Makes this sink the appsink's only consumer.
    pub(crate) claim: Claim,
    /// Keeps the watch telling `wake` about the pipeline's end and stop.
    _subscription: Subscription,
    pulled: AtomicU64,
    cache: Mutex<InfoCache>,
}

impl std::fmt::Debug for FrameSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSink")
            .field("appsink", &self.name)
            .field("timeout", &self.timeout)
            .field("pulled", &self.pulled())
            .field("ended", &self.wake.ended.load(Ordering::Relaxed))
            .finish()
    }
}

/// Configures a [`FrameSink`] before it takes over its appsink; from [`FrameSink::builder`].
///
/// What is set here overrides the description; what is not set here keeps the description's
/// value, or gets gstpipe's default when the description said nothing either.
#[derive(Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct FrameSinkBuilder<'a> {
    pipeline: &'a Pipeline,
    name: Option<String>,
    caps: Option<gst::Caps>,
    max_buffers: Option<u32>,
    drop: Option<bool>,
    sync: Option<bool>,
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

    /// The appsink's queue length (`max-buffers`; 0 is unlimited). Default: the
    /// description's, else [`DEFAULT_MAX_BUFFERS`].
    pub fn max_buffers(mut self, max_buffers: u32) -> Self {
        self.max_buffers = Some(max_buffers);
        self
    }

    /// Whether the appsink drops its oldest frame when its queue is full (`drop`), instead of
    /// blocking upstream. Default: the description's, else `false` (nothing is lost).
    pub fn drop(mut self, drop: bool) -> Self {
        self.drop = Some(drop);
        self
    }

    /// Whether the appsink paces frames to the clock (`sync`). Default: the description's,
    /// else `false` (files are processed as fast as possible; live sources pace themselves).
    pub fn sync(mut self, sync: bool) -> Self {
        self.sync = Some(sync);
        self
    }

    /// How long a pull waits for a frame before reporting [`SinkError::Timeout`] when the
    /// pipeline neither ends nor fails. Default [`DEFAULT_PULL_TIMEOUT`] (10 s).
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
    /// [`SinkError::Busy`] when the appsink already has a consumer (another `FrameSink`, or
    /// an adapter one was turned into) that is still alive.
    pub fn build(self) -> Result<FrameSink, SinkError> {
        let appsink: gst_app::AppSink = self.pipeline.find(self.name.as_deref())?;
        // Before anything is changed: a refused second consumer leaves the first's settings.
        let claim = Claim::take(&appsink, "frames")?;
        let user = |property: &str| self.pipeline.is_user_set(&appsink, property);
        // Builder calls win; then the description; then gstpipe's defaults.
        let max_buffers = self
            .max_buffers
            .or_else(|| (!user("max-buffers")).then_some(DEFAULT_MAX_BUFFERS));
        let sync = self.sync.or_else(|| (!user("sync")).then_some(false));
        let last_sample = (!user("enable-last-sample")).then_some(false);
        if let Some(max_buffers) = max_buffers {
            appsink.set_max_buffers(max_buffers);
        }
        if let Some(sync) = sync {
            appsink.set_sync(sync);
        }
        if let Some(drop) = self.drop {
            appsink.set_drop(drop);
        }
        if let Some(enable) = last_sample {
            appsink.set_enable_last_sample(enable);
        }
        if let Some(caps) = &self.caps {
            appsink.set_caps(Some(caps));
        }
        let name = appsink.name().to_string();
        tracing::debug!(
            appsink = %name,
            max_buffers = appsink.max_buffers(),
            drop = appsink.is_drop(),
            sync = appsink.is_sync(),
            wait_on_eos = appsink.is_wait_on_eos(),
            timeout = ?self.timeout,
            "frame sink configured"
        );
        let wake = Arc::new(Wake::default());
        {
            let wake = Arc::clone(&wake);
            wake_on_samples(&appsink, move || wake.notify());
        }
        let watch = self.pipeline.watch();
        // What a stop changes (see `release`) and a new run puts back.
        let configured = (
            appsink.max_buffers(),
            appsink.is_drop(),
            appsink.is_wait_on_eos(),
            appsink.is_sync(),
        );
        let subscription = {
            let wake = Arc::clone(&wake);
            let appsink = appsink.clone();
            watch.subscribe(move |event| {
                match event {
                    Event::Stopping => {
                        wake.state.store(STOPPED, Ordering::SeqCst);
                        release(&appsink);
                    }
                    Event::Restarted => {
                        let (max_buffers, drop, wait_on_eos, sync) = configured;
                        appsink.set_max_buffers(max_buffers);
                        appsink.set_drop(drop);
                        appsink.set_wait_on_eos(wait_on_eos);
                        appsink.set_sync(sync);
                        *wake.error.lock_unpoisoned() = None;
                        wake.state.store(0, Ordering::SeqCst);
                        wake.ended.store(false, Ordering::SeqCst);
                    }
                    Event::Ended(Outcome::Error(e)) => {
                        *wake.error.lock_unpoisoned() = Some(e.clone());
                        wake.state.store(FAILED, Ordering::SeqCst);
                    }
                    Event::Ended(Outcome::Stopped) => wake.state.store(STOPPED, Ordering::SeqCst),
                    _ => {}
                }
                wake.notify();
            })
        };
        Ok(FrameSink {
            appsink,
            watch,
            name,
            timeout: self.timeout,
            wake,
            claim,
            _subscription: subscription,
            pulled: AtomicU64::new(0),
            cache: Mutex::new(InfoCache::default()),
        })
    }
}

/// Lets the appsink drop frames and pass EOS without being read (see "Stopping early").
pub(crate) fn release(appsink: &gst_app::AppSink) {
    gstpipe_core::release_appsink(appsink.upcast_ref());
}

impl FrameSink {
    /// The pipeline's only appsink, configured around what the description wrote.
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
            max_buffers: None,
            drop: None,
            sync: None,
            timeout: DEFAULT_PULL_TIMEOUT,
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
        self.wake.ended.load(Ordering::Relaxed)
    }

    /// The next frame: `Some(Ok(frame))`; `None` at end of stream (this appsink's EOS) or when
    /// the pipeline was stopped; `Some(Err(..))` with the pipeline's error (element and
    /// message) when it failed, after which it returns `None`.
    ///
    /// Waits at most the configured timeout for a frame, then returns
    /// [`SinkError::Timeout`]; calling again waits again. Before the pipeline plays, it waits
    /// (bounded the same way) for it to start.
    pub fn pull(&self) -> Option<Result<Frame, SinkError>> {
        self.pull_timeout(self.timeout)
    }

    /// Like [`pull`](FrameSink::pull) with another stall timeout for this call.
    pub fn pull_timeout(&self, timeout: Duration) -> Option<Result<Frame, SinkError>> {
        let sample = self.pull_sample(timeout)?;
        let mut cache = self.cache.lock_unpoisoned();
        Some(sample.and_then(|s| Ok(cache.frame(&s)?)))
    }

    /// Like [`pull`](FrameSink::pull), with a caps cache the caller owns (iterators keep
    /// one, so their frames take no lock but the appsink's).
    pub(crate) fn pull_cached(&self, cache: &mut InfoCache) -> Option<Result<Frame, SinkError>> {
        let sample = self.pull_sample(self.timeout)?;
        Some(sample.and_then(|s| Ok(cache.frame(&s)?)))
    }

    /// The next sample, waking on the appsink's events and the watch: see `pull`.
    pub(crate) fn pull_sample(&self, timeout: Duration) -> Option<Result<gst::Sample, SinkError>> {
        if self.wake.ended.load(Ordering::Acquire) {
            return None;
        }
        let deadline = Instant::now().checked_add(timeout);
        loop {
            // Read before looking: a sample queued after the look wakes the wait below.
            let seen = self.wake.signal.generation();
            // An error ends the stream at once, even when frames are still queued: the
            // pipeline produces nothing reliable after it.
            match self.wake.state.load(Ordering::SeqCst) {
                FAILED => return self.end_with_error(),
                STOPPED => return self.end(),
                _ => {}
            }
            if let Some(sample) = self.appsink.try_pull_sample(gst::ClockTime::ZERO) {
                self.pulled.fetch_add(1, Ordering::Relaxed);
                return Some(Ok(sample));
            }
            let running = self.appsink.current_state() >= gst::State::Paused;
            // `is_eos` is also true for an appsink that has not started (below Paused), which
            // is not the end: the pipeline may be about to play.
            if running && self.appsink.is_eos() {
                return self.end();
            }
            if let Some(Outcome::Eos) = self.watch.outcome()
                && !running
            {
                // Ended, then set to Null: whatever was queued was flushed.
                return self.end();
            }
            let now = Instant::now();
            let until = match deadline {
                Some(deadline) if now >= deadline => {
                    tracing::debug!(appsink = %self.name, ?timeout, "no frame: timeout");
                    return Some(Err(SinkError::Timeout {
                        element: self.name.clone(),
                        operation: "a frame",
                        waited: timeout,
                    }));
                }
                Some(deadline) => deadline,
                None => now + Duration::from_secs(3600),
            };
            // Before Paused the appsink has no events to send: the watch (play, error, stop)
            // or the deadline wakes the wait.
            self.wake.signal.wait_past(seen, until);
        }
    }

    fn end<T>(&self) -> Option<Result<T, SinkError>> {
        self.wake.ended.store(true, Ordering::Release);
        tracing::debug!(appsink = %self.name, frames = self.pulled(), "end of frames");
        None
    }

    fn end_with_error<T>(&self) -> Option<Result<T, SinkError>> {
        if self.wake.ended.swap(true, Ordering::AcqRel) {
            return None;
        }
        let error = self.wake.error.lock_unpoisoned().clone();
        error.map(|e| Err(SinkError::Pipeline(gstpipe_core::Error::Element(e))))
    }

    /// Makes every other appsink of `pipeline` drop its frames and let end of stream through,
    /// so branches nobody reads (a `tee` into several appsinks) neither block the pipeline nor
    /// keep it from ending. Returns how many appsinks it released.
    pub fn discard_other_appsinks(&self, pipeline: &Pipeline) -> usize {
        let others: Vec<_> = pipeline
            .elements::<gst_app::AppSink>()
            .into_iter()
            .filter(|a| a != &self.appsink)
            .collect();
        for appsink in &others {
            tracing::debug!(appsink = %appsink.name(), "not read: its frames are dropped");
            release(appsink);
        }
        others.len()
    }

    /// A blocking iterator of frames: ends at EOS or when the pipeline is stopped; yields the
    /// pipeline's error, or a [`SinkError::Timeout`] when it stalls, and then ends.
    pub fn iter(&self) -> Frames<'_> {
        Frames {
            sink: self,
            done: false,
            cache: InfoCache::default(),
        }
    }
}

impl Drop for FrameSink {
    fn drop(&mut self) {
        release(&self.appsink);
    }
}

/// The blocking iterator of [`FrameSink::iter`]: `Result<Frame, SinkError>` until EOS; after
/// an error (the pipeline's, or a timeout) it ends.
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct Frames<'a> {
    sink: &'a FrameSink,
    done: bool,
    cache: InfoCache,
}

impl Iterator for Frames<'_> {
    type Item = Result<Frame, SinkError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.sink.pull_cached(&mut self.cache);
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
    cache: InfoCache,
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
        let item = self.sink.pull_cached(&mut self.cache);
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
            cache: InfoCache::default(),
        }
    }
}
