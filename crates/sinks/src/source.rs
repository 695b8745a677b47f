//! [`FrameSource`]: arrays into a pipeline's `appsrc`, checked against its `VideoInfo` and
//! timestamped from its framerate.

use crate::error::SinkError;
use crate::sink::DEFAULT_TIMEOUT;
use gst::prelude::*;
use gst_video::VideoInfo;
use gstpipe_core::{Outcome, Pipeline, Watch};
use gstpipe_frame::{
    Detection, FormatInfo, SampleValue, add_detections, array_to_buffer, format_info,
    planes_to_buffer, view_to_buffer,
};
use ndarray::{Array3, ArrayView3};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

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
/// Sets the appsrc's caps from a `VideoInfo` (format, size, framerate), `format=time`,
/// `is-live=true` (so [`Pipeline::play`] returns without waiting for a preroll only pushes
/// could complete), `block=false` with its own bounded wait for room instead (so a push never
/// hangs on a failed pipeline). Every array is checked against the `VideoInfo` before anything
/// is pushed (shape, channels, sample type: [`SinkError::Mismatch`] names expected and found),
/// and stamped with `pts = index * 1e9 * den / num` and the matching duration, from 0.
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
///     source.push_array(Array3::from_elem((48, 64, 3), i * 20))?; // no copy
/// }
/// // A wrong shape is refused before anything is pushed.
/// let err = source.push_array(Array3::<u8>::zeros((48, 63, 3))).unwrap_err();
/// assert!(err.to_string().contains("expected 64"), "{err}");
/// source.finish()?; // EOS, and the pipeline ended
/// assert_eq!(source.pushed(), 10);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct FrameSource {
    appsrc: gst_app::AppSrc,
    info: VideoInfo,
    format: FormatInfo,
    watch: Watch,
    name: String,
    timeout: Duration,
    max_queued: u64,
    /// Serialises stamping and pushing, so indices follow push order.
    push_lock: Mutex<()>,
    pushed: AtomicU64,
    finished: AtomicBool,
}

impl std::fmt::Debug for FrameSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameSource")
            .field("appsrc", &self.name)
            .field("format", &self.info.format())
            .field("width", &self.info.width())
            .field("height", &self.info.height())
            .field("fps", &self.info.fps())
            .field("pushed", &self.pushed())
            .field("finished", &self.is_finished())
            .finish()
    }
}

/// Configures a [`FrameSource`]; from [`FrameSource::builder`].
#[derive(Debug)]
#[must_use = "a builder does nothing until build() is called"]
pub struct FrameSourceBuilder<'a> {
    pipeline: &'a Pipeline,
    name: Option<String>,
    info: Option<VideoInfo>,
    live: bool,
    max_queued: u64,
    timeout: Duration,
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

    /// Whether the appsrc is a live source (`is-live`). Default `true`: [`Pipeline::play`]
    /// returns at once and frames flow as they are pushed. With `false`, the pipeline
    /// prerolls on the first frame, so push one before `play` (which waits for preroll).
    pub fn live(mut self, live: bool) -> Self {
        self.live = live;
        self
    }

    /// How many buffers the appsrc may hold before a push waits for downstream (0 is
    /// unlimited). Default [`DEFAULT_MAX_QUEUED`].
    pub fn max_queued(mut self, max_queued: u64) -> Self {
        self.max_queued = max_queued;
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
    /// [`SinkError::Frame`] for a format that is not arrays of samples.
    pub fn build(self) -> Result<FrameSource, SinkError> {
        let appsrc: gst_app::AppSrc = self.pipeline.find(self.name.as_deref())?;
        let name = appsrc.name().to_string();
        let info = match self.info {
            Some(info) => info,
            None => appsrc
                .caps()
                .and_then(|caps| VideoInfo::from_caps(&caps).ok())
                .ok_or_else(|| SinkError::NoVideoInfo {
                    element: name.clone(),
                })?,
        };
        let format = format_info(info.format())?;
        let caps = info.to_caps().map_err(|_| SinkError::NoVideoInfo {
            element: name.clone(),
        })?;
        appsrc.set_caps(Some(&caps));
        appsrc.set_format(gst::Format::Time);
        appsrc.set_is_live(self.live);
        appsrc.set_block(false);
        appsrc.set_max_bytes(0);
        appsrc.set_do_timestamp(false);
        appsrc.set_stream_type(gst_app::AppStreamType::Stream);
        tracing::debug!(appsrc = %name, %caps, live = self.live, "frame source configured");
        Ok(FrameSource {
            appsrc,
            info,
            format,
            watch: self.pipeline.watch(),
            name,
            timeout: self.timeout,
            max_queued: self.max_queued,
            push_lock: Mutex::new(()),
            pushed: AtomicU64::new(0),
            finished: AtomicBool::new(false),
        })
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
            live: true,
            max_queued: DEFAULT_MAX_QUEUED,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// The underlying appsrc.
    pub fn appsrc(&self) -> &gst_app::AppSrc {
        &self.appsrc
    }

    /// The frames' format, size and framerate.
    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The array shapes `(height, width, channels)` a push takes, one per plane.
    pub fn shapes(&self) -> Vec<[usize; 3]> {
        self.format
            .plane_shapes(self.info.width(), self.info.height())
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
        frame_pts(index, self.info.fps())
    }

    /// Copies a `(height, width, channels)` view of a packed format (any strides) into a
    /// buffer and pushes it, stamped as the next frame.
    ///
    /// # Errors
    /// [`SinkError::Mismatch`] when the shape or sample type is not the `VideoInfo`'s (nothing
    /// is pushed); [`SinkError::Flow`] when the appsrc refuses the buffer (`Flushing` when the
    /// pipeline is stopped, `Eos` after [`finish`](FrameSource::finish)); the pipeline's error
    /// once it has failed (e.g. `not-negotiated` downstream, see [`SinkError::flow`]);
    /// [`SinkError::Timeout`] when the appsrc stays full.
    pub fn push<T: SampleValue>(&self, view: ArrayView3<'_, T>) -> Result<(), SinkError> {
        self.check_packed::<T>(view.dim())?;
        let buffer = view_to_buffer(view, &self.info)?;
        self.push_stamped(buffer, None)
    }

    /// Like [`push`](FrameSource::push) with the caller's timestamps.
    ///
    /// # Errors
    /// As [`push`](FrameSource::push).
    pub fn push_at<T: SampleValue>(
        &self,
        view: ArrayView3<'_, T>,
        pts: Option<gst::ClockTime>,
        duration: Option<gst::ClockTime>,
    ) -> Result<(), SinkError> {
        self.check_packed::<T>(view.dim())?;
        let buffer = view_to_buffer(view, &self.info)?;
        self.push_stamped(buffer, Some((pts, duration)))
    }

    /// Pushes an owned array: a contiguous one whose rows need no padding for the format
    /// becomes the buffer's memory without a copy; others are copied into the format's
    /// strides.
    ///
    /// # Errors
    /// As [`push`](FrameSource::push).
    pub fn push_array<T: SampleValue>(&self, array: Array3<T>) -> Result<(), SinkError> {
        self.check_packed::<T>(array.dim())?;
        let buffer = array_to_buffer(array, &self.info)?;
        self.push_stamped(buffer, None)
    }

    /// Like [`push`](FrameSource::push), with `detections` attached to the frame's buffer as
    /// standard region-of-interest metas (see [`Detection`]): downstream elements read them as
    /// `GstVideoRegionOfInterestMeta`, and a [`FrameSink`](crate::FrameSink)'s
    /// [`Frame::detections`](crate::Frame::detections) gives them back. The pixels are copied
    /// once, as by `push`; the detections are not checked against the frame size.
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
    /// let pixels = Array3::<u8>::zeros((24, 32, 1));
    /// let person = Detection::new("person", (4, 2, 10, 20), 0.9).with_track_id(1);
    /// source.push_with_detections(pixels.view(), &[person.clone()])?;
    /// assert_eq!(sink.pull().expect("a frame")?.detections(), [person]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`push`](FrameSource::push).
    pub fn push_with_detections<T: SampleValue>(
        &self,
        view: ArrayView3<'_, T>,
        detections: &[Detection],
    ) -> Result<(), SinkError> {
        self.check_packed::<T>(view.dim())?;
        let buffer = view_to_buffer(view, &self.info)?;
        self.push_detected(buffer, detections)
    }

    /// Like [`push_array`](FrameSource::push_array) (no copy of a contiguous array), with
    /// `detections` attached as in [`push_with_detections`](FrameSource::push_with_detections).
    ///
    /// Planar frames and ready buffers take their detections through
    /// [`add_detections`](gstpipe_frame::add_detections) on the buffer before
    /// [`push_buffer`](FrameSource::push_buffer).
    ///
    /// # Errors
    /// As [`push`](FrameSource::push).
    pub fn push_array_with_detections<T: SampleValue>(
        &self,
        array: Array3<T>,
        detections: &[Detection],
    ) -> Result<(), SinkError> {
        self.check_packed::<T>(array.dim())?;
        let buffer = array_to_buffer(array, &self.info)?;
        self.push_detected(buffer, detections)
    }

    /// Pushes one array per memory plane (`I420`: Y `(h, w, 1)`, U and V
    /// `(h/2, w/2, 1)`; `NV12`: Y and interleaved UV `(h/2, w/2, 2)`; see
    /// [`shapes`](FrameSource::shapes)), copied into one buffer.
    ///
    /// # Errors
    /// As [`push`](FrameSource::push); [`SinkError::Mismatch`] (`planes`) for a wrong number
    /// of arrays.
    pub fn push_planes<T: SampleValue>(
        &self,
        planes: &[ArrayView3<'_, T>],
    ) -> Result<(), SinkError> {
        let expected = self.format.n_planes();
        if planes.len() != expected {
            return Err(self.mismatch(
                "planes",
                format!("{expected} arrays for {}", self.describe()),
                planes.len().to_string(),
            ));
        }
        for (plane, view) in planes.iter().enumerate() {
            self.check_plane::<T>(plane, view.dim())?;
        }
        let buffer = planes_to_buffer(planes, &self.info)?;
        self.push_stamped(buffer, None)
    }

    /// Pushes a ready buffer, stamped as the next frame. Its size is checked against the
    /// `VideoInfo` unless it carries a `VideoMeta` with its own layout.
    ///
    /// # Errors
    /// As [`push`](FrameSource::push); [`SinkError::Mismatch`] (`buffer size`) for a buffer
    /// smaller than a frame.
    pub fn push_buffer(&self, buffer: gst::Buffer) -> Result<(), SinkError> {
        self.check_buffer(&buffer)?;
        self.push_stamped(buffer, None)
    }

    /// Pushes a ready buffer with the caller's timestamps (`None` leaves it unstamped).
    ///
    /// # Errors
    /// As [`push_buffer`](FrameSource::push_buffer).
    pub fn push_buffer_at(
        &self,
        buffer: gst::Buffer,
        pts: Option<gst::ClockTime>,
        duration: Option<gst::ClockTime>,
    ) -> Result<(), SinkError> {
        self.check_buffer(&buffer)?;
        self.push_stamped(buffer, Some((pts, duration)))
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
            let _guard = self.push_lock.lock().unwrap_or_else(|p| p.into_inner());
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

    fn describe(&self) -> String {
        format!(
            "{} {}x{}",
            self.format.name(),
            self.info.width(),
            self.info.height()
        )
    }

    fn mismatch(&self, what: &'static str, expected: String, found: String) -> SinkError {
        SinkError::Mismatch {
            element: self.name.clone(),
            what,
            expected,
            found,
        }
    }

    fn check_packed<T: SampleValue>(&self, dim: (usize, usize, usize)) -> Result<(), SinkError> {
        let planes = self.format.n_planes();
        if planes != 1 && self.format.is_representable() {
            return Err(self.mismatch(
                "planes",
                format!("{planes} arrays for {} (use push_planes)", self.describe()),
                "1 array".into(),
            ));
        }
        self.check_plane::<T>(0, dim)
    }

    /// Checks sample type, then height, width and channels of plane `plane`.
    fn check_plane<T: SampleValue>(
        &self,
        plane: usize,
        (h, w, c): (usize, usize, usize),
    ) -> Result<(), SinkError> {
        let expected_type = self.format.sample_type();
        if T::TYPE != expected_type {
            return Err(self.mismatch(
                "sample type",
                format!(
                    "{expected_type} ({} holds {expected_type} samples)",
                    self.describe()
                ),
                T::TYPE.to_string(),
            ));
        }
        // Formats that are not arrays of samples: the conversion reports them.
        let Some(expected) = self
            .format
            .plane_shape(plane, self.info.width(), self.info.height())
        else {
            return Ok(());
        };
        let found = [h, w, c];
        let axes = [("height", 0), ("width", 1), ("channels", 2)];
        for (what, axis) in axes {
            if expected[axis] != found[axis] {
                let plane_name = if self.format.n_planes() > 1 {
                    format!(", plane {plane}")
                } else {
                    String::new()
                };
                return Err(self.mismatch(
                    what,
                    format!(
                        "{} (shape {expected:?} for {}{plane_name})",
                        expected[axis],
                        self.describe()
                    ),
                    format!("{} (shape {found:?})", found[axis]),
                ));
            }
        }
        Ok(())
    }

    fn check_buffer(&self, buffer: &gst::Buffer) -> Result<(), SinkError> {
        if buffer.meta::<gst_video::VideoMeta>().is_none() && buffer.size() < self.info.size() {
            return Err(self.mismatch(
                "buffer size",
                format!("{} bytes for {}", self.info.size(), self.describe()),
                format!("{} bytes", buffer.size()),
            ));
        }
        Ok(())
    }

    fn pipeline_error(&self) -> Option<SinkError> {
        match self.watch.outcome() {
            Some(Outcome::Error(e)) => Some(SinkError::Pipeline(gstpipe_core::Error::Element(e))),
            _ => None,
        }
    }

    /// Waits (bounded) until the appsrc has room; reports a failed pipeline.
    fn wait_for_room(&self) -> Result<(), SinkError> {
        let started = Instant::now();
        loop {
            match self.watch.outcome() {
                Some(Outcome::Error(e)) => {
                    return Err(SinkError::Pipeline(gstpipe_core::Error::Element(e)));
                }
                // Ended or stopped: the push itself reports the flow (eos, flushing).
                Some(_) => return Ok(()),
                None => {}
            }
            if self.max_queued == 0 || self.appsrc.current_level_buffers() < self.max_queued {
                return Ok(());
            }
            let waited = started.elapsed();
            if waited >= self.timeout {
                return Err(SinkError::Timeout {
                    element: self.name.clone(),
                    operation: "room in the appsrc queue",
                    waited,
                });
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Attaches `detections` to a buffer made for this push, then pushes it as the next frame.
    fn push_detected(
        &self,
        mut buffer: gst::Buffer,
        detections: &[Detection],
    ) -> Result<(), SinkError> {
        // The buffer was just made (one reference): make_mut does not copy it.
        add_detections(buffer.make_mut(), detections);
        self.push_stamped(buffer, None)
    }

    fn push_stamped(&self, mut buffer: gst::Buffer, at: Stamp) -> Result<(), SinkError> {
        let _guard = self.push_lock.lock().unwrap_or_else(|p| p.into_inner());
        if self.is_finished() {
            return Err(SinkError::Flow {
                element: self.name.clone(),
                flow: gst::FlowError::Eos,
            });
        }
        self.wait_for_room()?;
        let index = self.pushed();
        let (pts, duration) = match at {
            Some(stamp) => stamp,
            None => (
                frame_pts(index, self.info.fps()),
                frame_duration(index, self.info.fps()),
            ),
        };
        {
            let buffer = buffer.make_mut();
            buffer.set_pts(pts);
            buffer.set_duration(duration);
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

/// Caller-given `(pts, duration)`, or `None` for the framerate's.
type Stamp = Option<(Option<gst::ClockTime>, Option<gst::ClockTime>)>;

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
