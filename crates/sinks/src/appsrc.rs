//! [`FrameSource`]: arrays into a pipeline's `appsrc`, checked against its `VideoInfo` and
//! timestamped from its framerate.

use crate::error::SinkError;
use crate::sink::DEFAULT_PULL_TIMEOUT;
use gst::prelude::*;
use gst_video::VideoInfo;
use gstpipe_core::sync::{Unpoisoned as _, UnpoisonedWait as _};
use gstpipe_core::{Outcome, Pipeline, Subscription, Watch};
use gstpipe_frame::{Detection, FrameError, FrameLayout, Input, InputKind, add_detections};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Every appsrc a live [`FrameSource`] feeds, with the caps it set: a second source asking
/// for other caps is refused ([`SinkError::SourceInUse`]). Entries die with their source.
static ATTACHED: Mutex<Vec<Attached>> = Mutex::new(Vec::new());

struct Attached {
    appsrc: gst::glib::WeakRef<gst_app::AppSrc>,
    /// Alive as long as the frame source.
    alive: std::sync::Weak<()>,
    caps: gst::Caps,
}

/// How many buffers a [`FrameSource`] lets the appsrc queue before a push waits, unless
/// [`FrameSourceBuilder::max_queued`] says otherwise.
pub const DEFAULT_MAX_QUEUED: u64 = 4;

/// The presentation time of frame `index` at `framerate`: `index * 1e9 * den / num`
/// nanoseconds, in integer arithmetic (rounded down, no accumulated drift). `None` for a
/// variable framerate (`0/1`) or an out-of-range result.
///
/// ```
/// use gstpipe_sinks::frame_pts;
/// let ntsc = gst::Fraction::new(30000, 1001);
/// assert_eq!(frame_pts(0, ntsc), Some(gst::ClockTime::ZERO));
/// assert_eq!(frame_pts(3, ntsc).unwrap().nseconds(), 100_100_000);
/// assert_eq!(frame_pts(10_000, ntsc).unwrap().nseconds(), 333_666_666_666);
/// assert_eq!(frame_pts(1, gst::Fraction::new(0, 1)), None);
/// ```
pub fn frame_pts(index: u64, framerate: gst::Fraction) -> Option<gst::ClockTime> {
    let (num, den) = (framerate.numer(), framerate.denom());
    if num <= 0 || den <= 0 {
        return None;
    }
    let ns = u128::from(index) * 1_000_000_000 * den as u128 / num as u128;
    u64::try_from(ns).ok().map(gst::ClockTime::from_nseconds)
}

/// The duration of frame `index`: the distance to the next frame's pts, so durations add up
/// exactly to the timestamps.
fn frame_duration(index: u64, framerate: gst::Fraction) -> Option<gst::ClockTime> {
    let next = frame_pts(index.checked_add(1)?, framerate)?;
    Some(next - frame_pts(index, framerate)?)
}

/// Arrays (or buffers) into a pipeline's `appsrc`.
///
/// Sets the appsrc's caps from a `VideoInfo` (format, size, framerate), `format=time` (frames
/// are stamped with times) and `block=false` (a push waits for room itself, bounded, instead
/// of blocking inside GStreamer). What the launch description wrote on the appsrc is kept
/// (`is-live`, `max-buffers`, `max-bytes`, `max-time`, `leaky-type`, `do-timestamp`,
/// `stream-type`, and `caps` when no `VideoInfo` is given); where it said nothing, gstpipe's
/// defaults apply: `is-live=true` (so [`Pipeline::play`] returns without waiting for a preroll
/// only pushes could complete), `max-buffers` [`DEFAULT_MAX_QUEUED`], no byte or time limit,
/// `leaky-type=none` (no frame is dropped), `do-timestamp=false`. Builder calls
/// ([`live`](FrameSourceBuilder::live), [`max_queued`](FrameSourceBuilder::max_queued)) win
/// over both.
///
/// One method pushes everything: [`push`](FrameSource::push) takes anything that converts
/// into an [`Input`] (a view, an owned array, one array per plane, a ready buffer), checks it
/// against the source's [`FrameLayout`] before anything is pushed (shape, channels, sample
/// type, planes: [`SinkError::Mismatch`] names expected and found), and stamps it with
/// `pts = index * 1e9 * den / num` and the matching duration, from 0.
/// [`frame`](FrameSource::frame) does the same with the caller's timestamps or detections.
///
/// Backpressure follows the appsrc's own signals: when a push finds the queue at its limit
/// (`max-buffers`, and `max-bytes` / `max-time` when set) the appsrc calls `enough-data`
/// (that push's buffer is still queued), and later pushes wait (on a condition variable, at
/// most the timeout) for its `need-data`, which it calls once the streaming thread has taken
/// every queued buffer. A pipeline that fails, ends or is stopped wakes the wait at once.
///
/// ```
/// use gst_video::{VideoFormat, VideoInfo};
/// use gstpipe_core::Pipeline;
/// use gstpipe_sinks::FrameSource;
/// use ndarray::Array3;
///
/// let pipeline = Pipeline::launch("appsrc ! videoconvert ! fakesink")?;
/// let info = VideoInfo::builder(VideoFormat::Rgb, 64, 48).fps(gst::Fraction::new(25, 1)).build()?;
/// let source = FrameSource::new(&pipeline, info)?;
/// pipeline.play()?;
/// for i in 0..10u8 {
///     source.push(Array3::from_elem((48, 64, 3), i * 20))?; // owned: no copy
/// }
/// // A wrong shape is refused before anything is pushed.
/// let err = source.push(&Array3::<u8>::zeros((48, 63, 3))).unwrap_err();
/// assert!(err.to_string().contains("expected 64"), "{err}");
/// source.finish()?; // EOS, and the pipeline ended
/// assert_eq!(source.pushed(), 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FrameSource {
    appsrc: gst_app::AppSrc,
    info: VideoInfo,
    /// The framerate frames are stamped with (the info's, or the default for caps without
    /// one).
    fps: gst::Fraction,
    /// Held while this source lives: its entry in `ATTACHED` dies with it.
    _alive: Arc<()>,
    layout: FrameLayout,
    watch: Watch,
    name: String,
    timeout: Duration,
    limits: Limits,
    room: Arc<Room>,
    /// Wakes waiting pushes when the pipeline ends or is being stopped.
    _subscription: Subscription,
    /// Serialises stamping and pushing, so indices follow push order.
    push_lock: Mutex<()>,
    pushed: AtomicU64,
    finished: AtomicBool,
}

impl std::fmt::Debug for FrameSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSource")
            .field("appsrc", &self.name)
            .field("layout", &self.layout.to_string())
            .field("fps", &self.fps)
            .field("pushed", &self.pushed())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// The appsrc's queue limits, as configured.
#[derive(Debug, Clone, Copy)]
struct Limits {
    buffers: u64,
    bytes: u64,
    time: gst::ClockTime,
}

/// The appsrc's queue state as its `need-data` / `enough-data` callbacks report it, and a
/// counter of events (callbacks, pipeline messages) that waiting pushes wake on.
#[derive(Debug, Default)]
struct Room {
    state: Mutex<RoomState>,
    changed: Condvar,
}

#[derive(Debug, Default, Clone, Copy)]
struct RoomState {
    /// `enough-data` came and no `need-data` since.
    full: bool,
    /// Bumped on every event; a waiter that saw an older value re-checks instead of waiting.
    events: u64,
}

impl Room {
    fn lock(&self) -> MutexGuard<'_, RoomState> {
        // Two plain fields: a panic elsewhere cannot leave them half-written.
        self.state.lock_unpoisoned()
    }

    /// Records an event (`full` when the queue state changed) and wakes every waiter.
    fn signal(&self, full: Option<bool>) {
        let mut state = self.lock();
        if let Some(full) = full {
            state.full = full;
        }
        state.events = state.events.wrapping_add(1);
        self.changed.notify_all();
    }
}

/// Configures a [`FrameSource`]; from [`FrameSource::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct FrameSourceBuilder<'a> {
    pipeline: &'a Pipeline,
    name: Option<String>,
    info: Option<VideoInfo>,
    live: Option<bool>,
    max_queued: Option<u64>,
    timeout: Duration,
    default_fps: Option<gst::Fraction>,
}

impl<'a> FrameSourceBuilder<'a> {
    /// Uses the appsrc called `name` instead of the pipeline's only appsrc.
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }

    /// The frames' format, size and framerate. Without it, the appsrc's `caps` from the
    /// description are used.
    pub fn info(mut self, info: VideoInfo) -> Self {
        self.info = Some(info);
        self
    }

    /// The framerate frames are stamped with when the appsrc's caps from the description
    /// have no `framerate` field (without it such frames get pts 0, then none). The caps
    /// themselves are left as written.
    pub fn default_fps(mut self, fps: gst::Fraction) -> Self {
        self.default_fps = Some(fps);
        self
    }

    /// Whether the appsrc is a live source (`is-live`). Default: what the description wrote,
    /// else `true`: [`Pipeline::play`] returns at once and frames flow as they are pushed.
    /// With `false`, the pipeline prerolls on the first frame, so push one before `play`
    /// (which waits for preroll).
    pub fn live(mut self, live: bool) -> Self {
        self.live = Some(live);
        self
    }

    /// How many buffers the appsrc may hold before pushes wait for downstream (its
    /// `max-buffers`; 0 is unlimited). Default: the description's `max-buffers`, else
    /// [`DEFAULT_MAX_QUEUED`].
    pub fn max_queued(mut self, max_queued: u64) -> Self {
        self.max_queued = Some(max_queued);
        self
    }

    /// How long a push waits for room, and [`FrameSource::finish`] for the pipeline to end,
    /// before [`SinkError::Timeout`]. Default 10 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Finds and configures the appsrc.
    ///
    /// # Errors
    /// [`SinkError::Pipeline`] when the appsrc is not found (none, several without a name,
    /// wrong name); [`SinkError::NoVideoInfo`] without `info` or raw video caps;
    /// [`SinkError::Frame`] for an unknown format; [`SinkError::SourceInUse`] when another
    /// frame source, still alive, feeds the appsrc with other caps.
    pub fn build(self) -> Result<FrameSource, SinkError> {
        let appsrc: gst_app::AppSrc = self.pipeline.find(self.name.as_deref())?;
        let name = appsrc.name().to_string();
        let no_info = || SinkError::NoVideoInfo {
            element: name.clone(),
        };
        // Caps the description wrote are the user's: used as they are, not set again.
        let (info, caps, fps, from_description) = match self.info {
            Some(info) => {
                let caps = info.to_caps().map_err(|_| no_info())?;
                (info.clone(), caps, info.fps(), false)
            }
            None => {
                // Not fixed (a range, a list): VideoInfo cannot describe them.
                let caps = appsrc
                    .caps()
                    .filter(|caps| caps.is_fixed())
                    .ok_or_else(no_info)?;
                let info = VideoInfo::from_caps(&caps).map_err(|_| no_info())?;
                let written = caps.structure(0).is_some_and(|s| s.has_field("framerate"));
                let fps = match self.default_fps {
                    Some(fps) if !written => fps,
                    _ => info.fps(),
                };
                (info, caps, fps, true)
            }
        };
        let layout = FrameLayout::new(&info)?;
        // What the description (or code before us) set is the user's; read it before
        // touching anything.
        let pipeline = self.pipeline;
        let user_set = |property: &str| pipeline.is_user_set(&appsrc, property);
        let live = self
            .live
            .unwrap_or_else(|| !user_set("is-live") || appsrc.is_live());
        let max_queued = self.max_queued.unwrap_or_else(|| {
            if user_set("max-buffers") {
                appsrc.max_buffers()
            } else {
                DEFAULT_MAX_QUEUED
            }
        });
        let keep_bytes = user_set("max-bytes");
        let keep_time = user_set("max-time");
        let keep_leaky = user_set("leaky-type");
        let keep_timestamp = user_set("do-timestamp");
        let keep_stream_type = user_set("stream-type");
        let room = Arc::new(Room::default());
        let alive = Arc::new(());
        {
            let mut attached = ATTACHED.lock_unpoisoned();
            attached.retain(|a| a.alive.strong_count() > 0 && a.appsrc.upgrade().is_some());
            if let Some(other) = attached
                .iter()
                .find(|a| a.appsrc.upgrade().as_ref() == Some(&appsrc) && a.caps != caps)
            {
                return Err(SinkError::SourceInUse {
                    element: name,
                    current: other.caps.to_string(),
                    requested: caps.to_string(),
                });
            }
            attached.push(Attached {
                appsrc: appsrc.downgrade(),
                alive: Arc::downgrade(&alive),
                caps: caps.clone(),
            });
        }
        if !from_description {
            appsrc.set_caps(Some(&caps));
        }
        appsrc.set_format(gst::Format::Time);
        appsrc.set_block(false);
        appsrc.set_is_live(live);
        appsrc.set_max_buffers(max_queued);
        if !keep_bytes {
            appsrc.set_max_bytes(0);
        }
        if !keep_time {
            appsrc.set_max_time(gst::ClockTime::ZERO);
        }
        if !keep_leaky {
            appsrc.set_leaky_type(gst_app::AppLeakyType::None);
        }
        if !keep_timestamp {
            appsrc.set_do_timestamp(false);
        }
        if !keep_stream_type {
            appsrc.set_stream_type(gst_app::AppStreamType::Stream);
        }
        let limits = Limits {
            buffers: appsrc.max_buffers(),
            bytes: appsrc.max_bytes(),
            time: appsrc.max_time(),
        };

        let (need, enough, ended) = (Arc::clone(&room), Arc::clone(&room), Arc::clone(&room));
        appsrc.set_callbacks(
            gst_app::AppSrcCallbacks::builder()
                .need_data(move |_, _| need.signal(Some(false)))
                .enough_data(move |_| enough.signal(Some(true)))
                .build(),
        );
        // A pipeline that fails, ends or is being stopped wakes waiting pushes at once.
        let watch = pipeline.watch();
        let subscription = watch.subscribe(move |_| ended.signal(None));
        tracing::debug!(appsrc = %name, %caps, live, ?limits, "frame source configured");
        Ok(FrameSource {
            appsrc,
            info,
            fps,
            _alive: alive,
            layout,
            watch,
            name,
            timeout: self.timeout,
            limits,
            room,
            _subscription: subscription,
            push_lock: Mutex::new(()),
            pushed: AtomicU64::new(0),
            finished: AtomicBool::new(false),
        })
    }
}

/// One frame on its way into a [`FrameSource`], with optional timestamps and detections;
/// from [`FrameSource::frame`], sent by [`push`](PushFrame::push).
///
/// ```
/// use gst_video::{VideoFormat, VideoInfo};
/// use gstpipe_core::Pipeline;
/// use gstpipe_sinks::{Detection, FrameSink, FrameSource};
/// use ndarray::Array3;
///
/// let pipeline = Pipeline::launch("appsrc ! queue ! appsink")?;
/// let info = VideoInfo::builder(VideoFormat::Gray8, 32, 24).fps(gst::Fraction::new(30, 1)).build()?;
/// let source = FrameSource::new(&pipeline, info)?;
/// let sink = FrameSink::new(&pipeline)?;
/// pipeline.play()?;
/// let person = Detection::new("person", (4, 2, 10, 20), 0.9).with_track_id(1);
/// let at = gst::ClockTime::from_seconds(2);
/// source
///     .frame(Array3::<u8>::zeros((24, 32, 1)))
///     .pts(at)
///     .detections(&[person.clone()])
///     .push()?;
/// let frame = sink.pull().expect("a frame")?;
/// assert_eq!(frame.pts(), Some(at));
/// assert_eq!(frame.detections(), [person]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
#[must_use = "a frame is pushed by push()"]
pub struct PushFrame<'s, 'a> {
    source: &'s FrameSource,
    input: Input<'a>,
    pts: Option<Option<gst::ClockTime>>,
    duration: Option<Option<gst::ClockTime>>,
    detections: &'a [Detection],
}

impl<'a> PushFrame<'_, 'a> {
    /// The frame's presentation time instead of the framerate's (`None`: no pts).
    pub fn pts(mut self, pts: impl Into<Option<gst::ClockTime>>) -> Self {
        self.pts = Some(pts.into());
        self
    }

    /// The frame's duration instead of the framerate's (`None`: no duration).
    pub fn duration(mut self, duration: impl Into<Option<gst::ClockTime>>) -> Self {
        self.duration = Some(duration.into());
        self
    }

    /// Object detections to attach to the frame's buffer as standard region-of-interest metas
    /// (see [`Detection`]): downstream elements read them as `GstVideoRegionOfInterestMeta`,
    /// and a [`FrameSink`](crate::FrameSink)'s [`Frame::detections`](crate::Frame::detections)
    /// gives them back. They are not checked against the frame size.
    pub fn detections(mut self, detections: &'a [Detection]) -> Self {
        self.detections = detections;
        self
    }

    /// Checks, converts and pushes the frame (see [`FrameSource::push`]).
    ///
    /// # Errors
    /// As [`FrameSource::push`].
    pub fn push(self) -> Result<(), SinkError> {
        let source = self.source;
        let kind = self.input.kind();
        let mut buffer = self
            .input
            .into_buffer(&source.info)
            .map_err(|e| source.refusal(kind, e))?;
        if !self.detections.is_empty() {
            // Arrays were just made into a buffer of one reference: make_mut does not copy
            // it. A shared ready buffer gets a copy of its metadata (the memory is shared).
            add_detections(buffer.make_mut(), self.detections);
        }
        source.push_stamped(buffer, self.pts, self.duration)
    }
}

impl FrameSource {
    /// The pipeline's only appsrc, for frames described by `info`.
    ///
    /// # Errors
    /// As [`FrameSourceBuilder::build`].
    pub fn new(pipeline: &Pipeline, info: VideoInfo) -> Result<FrameSource, SinkError> {
        Self::builder(pipeline).info(info).build()
    }

    /// A builder to choose the appsrc by name and configure it.
    pub fn builder(pipeline: &Pipeline) -> FrameSourceBuilder<'_> {
        FrameSourceBuilder {
            pipeline,
            name: None,
            info: None,
            live: None,
            max_queued: None,
            timeout: DEFAULT_PULL_TIMEOUT,
            default_fps: None,
        }
    }

    /// The underlying appsrc.
    pub fn appsrc(&self) -> &gst_app::AppSrc {
        &self.appsrc
    }

    /// The framerate frames are stamped with: the info's, or
    /// [`FrameSourceBuilder::default_fps`] for caps from the description without one.
    pub fn fps(&self) -> gst::Fraction {
        self.fps
    }

    /// The frames' format, size and framerate.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The arrays a push takes: per plane `(rows, cols, channels)` and sample type.
    pub fn layout(&self) -> &FrameLayout {
        &self.layout
    }

    /// The array shapes `(rows, cols, channels)` a push takes, one per plane (rows of one
    /// field for `interlace-mode=alternate`).
    pub fn shapes(&self) -> Vec<[usize; 3]> {
        self.layout.shapes()
    }

    /// How many frames have been pushed.
    pub fn pushed(&self) -> u64 {
        self.pushed.load(Ordering::Relaxed)
    }

    /// Whether [`finish`](FrameSource::finish) was called.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    /// The pts the `index`-th frame gets (see [`frame_pts`]).
    pub fn pts_of(&self, index: u64) -> Option<gst::ClockTime> {
        frame_pts(index, self.fps)
    }

    /// Pushes one frame, stamped as the next one from the framerate: a
    /// `(rows, cols, channels)` view (copied once into the format's strides, any strides
    /// accepted), an owned array (its memory becomes the buffer's when it is contiguous and
    /// rows need no padding), one array per plane for planar formats (`I420`: Y `(h, w, 1)`,
    /// U and V `(ceil(h/2), ceil(w/2), 1)`; `NV12`: Y and interleaved UV; see
    /// [`shapes`](FrameSource::shapes)), or a ready `gst::Buffer`. See [`Input`].
    ///
    /// Waits (at most the timeout) while the appsrc is full.
    ///
    /// # Errors
    /// [`SinkError::Mismatch`] when the arrays are not what the `VideoInfo` needs (`height`,
    /// `width`, `channels`, `sample type`, `planes`, `buffer size`; nothing is pushed);
    /// [`SinkError::Flow`] when the appsrc refuses the buffer (`Flushing` when the pipeline is
    /// stopped, `Eos` after [`finish`](FrameSource::finish)); the pipeline's error once it
    /// has failed (e.g. `not-negotiated` downstream, see [`SinkError::flow`]);
    /// [`SinkError::Timeout`] when the appsrc stays full; [`SinkError::Frame`] for a format
    /// that is not arrays of samples.
    pub fn push<'a>(&self, input: impl Into<Input<'a>>) -> Result<(), SinkError> {
        self.frame(input).push()
    }

    /// A frame to push with the caller's timestamps or detections:
    /// `source.frame(array).pts(t).detections(&found).push()`. See [`PushFrame`].
    pub fn frame<'a>(&self, input: impl Into<Input<'a>>) -> PushFrame<'_, 'a> {
        PushFrame {
            source: self,
            input: input.into(),
            pts: None,
            duration: None,
            detections: &[],
        }
    }

    /// Ends the stream: sends EOS and waits (at most the timeout) for the pipeline to end, so
    /// encoders and muxers finalise their output. Later pushes fail with
    /// [`SinkError::Flow`] `Eos`. Calling it again waits again.
    ///
    /// Every appsink downstream must be drained (by another thread) for the pipeline to end.
    ///
    /// # Errors
    /// The pipeline's error; [`SinkError::Timeout`] when it did not end in time;
    /// `Pipeline(Stopped)` when it was stopped first.
    pub fn finish(&self) -> Result<(), SinkError> {
        {
            let _guard = self.push_lock.lock_unpoisoned();
            if !self.finished.swap(true, Ordering::AcqRel) {
                tracing::debug!(appsrc = %self.name, frames = self.pushed(), "end of stream");
                if let Err(flow) = self.appsrc.end_of_stream() {
                    return Err(self.pipeline_error().unwrap_or(SinkError::Flow {
                        element: self.name.clone(),
                        flow,
                    }));
                }
            }
        }
        match self.watch.wait_timeout(self.timeout) {
            Ok(()) => Ok(()),
            Err(gstpipe_core::Error::Timeout { after, .. }) => Err(SinkError::Timeout {
                element: self.name.clone(),
                operation: "the pipeline to end after end of stream",
                waited: after,
            }),
            Err(e) => Err(e.into()),
        }
    }

    fn mismatch(&self, what: &'static str, expected: String, found: String) -> SinkError {
        SinkError::Mismatch {
            element: self.name.clone(),
            what,
            expected,
            found,
        }
    }

    /// Turns the frame crate's refusal of an input into the error a push reports: what does
    /// not fit the `VideoInfo` becomes [`SinkError::Mismatch`], the rest stays
    /// [`SinkError::Frame`].
    fn refusal(&self, kind: InputKind, err: FrameError) -> SinkError {
        let layout = &self.layout;
        match err {
            FrameError::WrongSampleType {
                expected,
                requested,
                ..
            } => self.mismatch(
                "sample type",
                format!("{expected} ({layout} holds {expected} samples)"),
                requested.to_string(),
            ),
            FrameError::NotPacked { n_planes, .. } => self.mismatch(
                "planes",
                format!("{n_planes} arrays for {layout} (push one array per plane)"),
                "1 array".into(),
            ),
            FrameError::PlaneCountMismatch {
                expected, found, ..
            } => self.mismatch(
                "planes",
                format!("{expected} arrays for {layout}"),
                found.to_string(),
            ),
            FrameError::ShapeMismatch {
                plane,
                expected,
                found,
                ..
            } => {
                let axes = [("height", 0), ("width", 1), ("channels", 2)];
                let (what, axis) = axes
                    .into_iter()
                    .find(|&(_, a)| expected[a] != found[a])
                    .unwrap_or(("shape", 0));
                let plane_name = if layout.n_planes() > 1 {
                    format!(", plane {plane}")
                } else {
                    String::new()
                };
                self.mismatch(
                    what,
                    format!(
                        "{} (shape {expected:?} for {layout}{plane_name})",
                        expected[axis]
                    ),
                    format!("{} (shape {found:?})", found[axis]),
                )
            }
            FrameError::BufferTooSmall {
                expected, found, ..
            } if kind == InputKind::Buffer => self.mismatch(
                "buffer size",
                format!("{expected} bytes for {layout}"),
                format!("{found} bytes"),
            ),
            other => SinkError::Frame(other),
        }
    }

    fn pipeline_error(&self) -> Option<SinkError> {
        match self.watch.outcome() {
            Some(Outcome::Error(e)) => Some(SinkError::Pipeline(gstpipe_core::Error::Element(e))),
            _ => None,
        }
    }

    /// Whether a push may go ahead: the appsrc has room (no `enough-data` since the last
    /// `need-data`, or its queue below its limits again), or the push itself will report why
    /// not (the pipeline ended or stopped, the appsrc is flushing).
    fn may_push(&self, full: bool) -> Result<bool, SinkError> {
        match self.watch.outcome() {
            Some(Outcome::Error(e)) => {
                return Err(SinkError::Pipeline(gstpipe_core::Error::Element(e)));
            }
            // Ended or stopped: the push itself reports the flow (eos, flushing).
            Some(_) => return Ok(true),
            None => {}
        }
        Ok(!full || self.appsrc.current_state() < gst::State::Paused || !self.over_limits())
    }

    /// Whether the appsrc's queue is at one of its limits (0 is no limit).
    fn over_limits(&self) -> bool {
        let Limits {
            buffers,
            bytes,
            time,
        } = self.limits;
        (buffers > 0 && self.appsrc.current_level_buffers() >= buffers)
            || (bytes > 0 && self.appsrc.current_level_bytes() >= bytes)
            || (time > gst::ClockTime::ZERO && self.appsrc.current_level_time() >= time)
    }

    /// Waits (bounded by the timeout) until the appsrc has room; reports a failed pipeline.
    /// Woken by `need-data` and by the pipeline's end or stop (a `Watch` subscription);
    /// GStreamer is never called with the room's lock held.
    fn wait_for_room(&self) -> Result<(), SinkError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let seen = *self.room.lock();
            if self.may_push(seen.full)? {
                return Ok(());
            }
            let mut state = self.room.lock();
            if state.events == seen.events {
                // Under the room's lock: every later event wakes this wait.
                tracing::trace!(appsrc = %self.name, "waiting for room in the appsrc queue");
            }
            while state.events == seen.events {
                let now = Instant::now();
                if now >= deadline {
                    return Err(SinkError::Timeout {
                        element: self.name.clone(),
                        operation: "room in the appsrc queue",
                        waited: self.timeout,
                    });
                }
                state = self
                    .room
                    .changed
                    .wait_timeout_unpoisoned(state, deadline - now);
            }
        }
    }

    /// Stamps `buffer` as the next frame (the caller's `pts` / `duration` where given) and
    /// pushes it.
    fn push_stamped(
        &self,
        mut buffer: gst::Buffer,
        pts: Option<Option<gst::ClockTime>>,
        duration: Option<Option<gst::ClockTime>>,
    ) -> Result<(), SinkError> {
        let _guard = self.push_lock.lock_unpoisoned();
        if self.is_finished() {
            return Err(SinkError::Flow {
                element: self.name.clone(),
                flow: gst::FlowError::Eos,
            });
        }
        self.wait_for_room()?;
        let index = self.pushed();
        let fps = self.fps;
        {
            let buffer = buffer.make_mut();
            buffer.set_pts(pts.unwrap_or_else(|| frame_pts(index, fps)));
            buffer.set_duration(duration.unwrap_or_else(|| frame_duration(index, fps)));
            buffer.set_offset(index);
        }
        match self.appsrc.push_buffer(buffer) {
            Ok(_) => {
                self.pushed.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(flow) => Err(self.pipeline_error().unwrap_or(SinkError::Flow {
                element: self.name.clone(),
                flow,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{frame_duration, frame_pts};

    #[test]
    fn pts_is_exact_integer_math() {
        let ntsc = gst::Fraction::new(30000, 1001);
        // 10,000 frames of 29.97 fps: exact value by hand, 10000 * 1001 / 30000 s.
        assert_eq!(frame_pts(10_000, ntsc).unwrap().nseconds(), 333_666_666_666);
        // Summing durations gives the timestamps back exactly: no drift.
        let mut sum = 0;
        for i in 0..10_000 {
            assert_eq!(frame_pts(i, ntsc).unwrap().nseconds(), sum, "frame {i}");
            sum += frame_duration(i, ntsc).unwrap().nseconds();
        }
        assert_eq!(sum, 333_666_666_666);
        // 30/1: durations alternate 33,333,333 and 33,333,334 ns.
        let thirty = gst::Fraction::new(30, 1);
        assert_eq!(frame_duration(0, thirty).unwrap().nseconds(), 33_333_333);
        assert_eq!(frame_duration(2, thirty).unwrap().nseconds(), 33_333_334);
        assert_eq!(frame_pts(30, thirty).unwrap().nseconds(), 1_000_000_000);
    }

    #[test]
    fn variable_or_invalid_framerates_give_no_timestamps() {
        assert_eq!(frame_pts(5, gst::Fraction::new(0, 1)), None);
        assert_eq!(frame_duration(5, gst::Fraction::new(0, 1)), None);
        assert_eq!(frame_pts(5, gst::Fraction::new(-1, 1)), None);
        assert_eq!(frame_pts(u64::MAX, gst::Fraction::new(1, 1)), None);
    }
}
