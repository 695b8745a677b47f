//! [`VideoReader`]: exact random access to a video file's frames.

use crate::error::MediaError;
use crate::index::{Index, IndexMode, IndexOrigin, IndexSource};
use crate::location::{
    BusLog, Location, StreamEntry, Streams, link_streams, make, pipeline_error, skip_non_video,
};
use crate::rgb::RgbStage;
use gst::prelude::*;
use gstpipe_core::Pipeline;
use gstpipe_core::sync::Unpoisoned as _;
use gstpipe_frame::Frame;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a pull or a scan waits without progress before [`MediaError::Timeout`], unless
/// [`VideoReaderBuilder::timeout`] says otherwise.
pub const DEFAULT_READ_TIMEOUT: Duration = gstpipe_sinks::DEFAULT_PULL_TIMEOUT;

/// The decoder's appsink queue: small, since frames decoded ahead are wasted by a seek.
const QUEUE: u32 = 4;

/// What a seek costs, counted in frames decoded: flushing, restarting the demuxer and the
/// decoder's reordering delay. Reading forward is preferred while it costs less than seeking.
const SEEK_COST: usize = 8;

/// How far a reader reads forward instead of seeking when it does not know the keyframes.
const FORWARD_UNKNOWN_GOP: usize = 16;

/// Where [`VideoReader::seek_time`] lands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeekMode {
    /// On the frame showing at that time: the last frame whose pts is at or before it.
    Exact,
    /// On the last keyframe at or before that frame: cheaper to reach.
    Keyframe,
}

/// Configures a [`VideoReader`]; from [`VideoReader::builder`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until open() is called"]
pub struct VideoReaderBuilder {
    format: Option<gst_video::VideoFormat>,
    timeout: Duration,
    max_forward: Option<usize>,
    index_mode: IndexMode,
    /// `None`: the default directory; `Some(None)`: no saved indexes.
    index_cache: Option<Option<PathBuf>>,
    video_stream: usize,
    upright: bool,
    deinterlace: bool,
    size: Option<(u32, u32)>,
}

impl Default for VideoReaderBuilder {
    fn default() -> Self {
        VideoReaderBuilder {
            format: None,
            timeout: DEFAULT_READ_TIMEOUT,
            max_forward: None,
            index_mode: IndexMode::Auto,
            index_cache: None,
            video_stream: 0,
            upright: true,
            deinterlace: false,
            size: None,
        }
    }
}

impl VideoReaderBuilder {
    /// Frames in this raw format, e.g. `VideoFormat::Rgb` for `(height, width, 3)` arrays.
    /// Default: the decoder's own format (often `I420`), without conversion.
    ///
    /// `RGB`, `BGR`, `RGBA`, `BGRA`, `RGBx` and `BGRx` from progressive 8-bit 4:2:0 video at
    /// the decoded size are converted by gstpipe-frame's [`YuvToRgb`](gstpipe_frame::YuvToRgb)
    /// (the stream's matrix and range, each chroma sample for its 2x2 pixels, as ffmpeg's
    /// swscale does by default; a tenth of `videoconvert`'s CPU); everything else by
    /// `videoconvert`.
    pub fn format(mut self, format: gst_video::VideoFormat) -> Self {
        self.format = Some(format);
        self
    }

    /// How long a pull (or the index scan) waits without progress before
    /// [`MediaError::Timeout`]. Default [`DEFAULT_READ_TIMEOUT`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Reads forward (decoding the frames in between) instead of seeking whenever the wanted
    /// frame is at most `frames` ahead of the decoder. Default: decided per frame from the
    /// keyframes: read forward while that decodes fewer frames than a seek would.
    pub fn max_forward(mut self, frames: usize) -> Self {
        self.max_forward = Some(frames);
        self
    }

    /// How the frame index is built. Default [`IndexMode::Auto`].
    pub fn index_mode(mut self, mode: IndexMode) -> Self {
        self.index_mode = mode;
        self
    }

    /// Where frame indexes are saved, so that a file is scanned once and later readers (in
    /// any process) load its index instead; `None`: nowhere. Default
    /// [`default_index_cache_dir`](crate::default_index_cache_dir): `$GSTPIPE_INDEX_CACHE`
    /// (`off` for none), else `$XDG_CACHE_HOME/gstpipe/index`, else
    /// `~/.cache/gstpipe/index`. A saved index is used only for the same file version (URI,
    /// size, modification time and a digest of its first and last 64 KiB).
    pub fn index_cache(mut self, dir: Option<PathBuf>) -> Self {
        self.index_cache = Some(dir);
        self
    }

    /// Which video stream to read when the file has several: 0 (the default) is the first,
    /// in the container's order (audio and other streams are not counted).
    /// [`VideoReader::streams`] lists them all.
    pub fn stream(mut self, video_stream: usize) -> Self {
        self.video_stream = video_stream;
        self
    }

    /// Whether frames are turned upright, as players show them, when the container gives a
    /// display rotation (phones' MP4/MOV files: [`StreamInfo::rotation`]). Default `true`:
    /// frames come as a viewer sees them, `width` and `height` those of the upright frame.
    /// `false`: frames as stored (as PyAV's and decord's arrays are). Turning is lossless
    /// (`videoflip`: pixels moved, not resampled).
    pub fn upright(mut self, upright: bool) -> Self {
        self.upright = upright;
        self
    }

    /// Deinterlaces interlaced video ([`StreamInfo::interlace_mode`]) with GStreamer's
    /// `deinterlace` (`method=linear fields=top`: one progressive frame per frame, made from
    /// its top field, without history so that frames after a seek equal a sequential
    /// decode's). Default `false`: frames as decoded, both fields woven.
    pub fn deinterlace(mut self, deinterlace: bool) -> Self {
        self.deinterlace = deinterlace;
        self
    }

    /// Frames scaled to `width` x `height` (`videoscale`, bilinear, after any turning
    /// upright), e.g. `(256, 256)` for a model's input. Default: the stream's own size.
    pub fn size(mut self, width: u32, height: u32) -> Self {
        self.size = Some((width, height));
        self
    }

    fn index_cache_dir(&self) -> Option<PathBuf> {
        match &self.index_cache {
            Some(dir) => dir.clone(),
            None => crate::saved::default_dir(),
        }
    }

    /// Opens `path_or_uri` (a path, or a URI such as `file:///...` or `http://...`): indexes
    /// its frames (cached per file for the process) and prerolls a decoder.
    ///
    /// # Errors
    /// [`MediaError::Open`] for a missing path, [`MediaError::Uri`] for an unsupported URI,
    /// [`MediaError::NoVideo`], [`MediaError::Element`] when the file cannot be demuxed or
    /// decoded (truncated, not a media file, missing plugin), [`MediaError::Unindexable`],
    /// [`MediaError::Timeout`].
    pub fn open(self, path_or_uri: &str) -> Result<VideoReader, MediaError> {
        let mut location = Location::resolve(path_or_uri)?;
        location.video_stream = self.video_stream;
        let warnings = Arc::new(AtomicU64::new(0));
        let saved = self.index_cache_dir();
        let (index, index_origin) = crate::index::index(
            &location,
            self.index_mode,
            &warnings,
            self.timeout,
            saved.as_deref(),
        )?;
        if index.pts.is_empty() {
            return Err(MediaError::NoVideo {
                uri: location.uri.clone(),
            });
        }
        let mut rgb = RgbStage::new(self.format, self.size.is_some());
        let decoder = Decoder::start(&location, &index, &self, &warnings, rgb.as_ref())?;
        let caps = decoder
            .appsink
            .static_pad("sink")
            .and_then(|p| p.current_caps())
            .ok_or_else(|| MediaError::NoVideo {
                uri: location.uri.clone(),
            })?;
        let caps = match &mut rgb {
            Some(rgb) => rgb.output_caps(&caps)?,
            None => caps,
        };
        let info = gst_video::VideoInfo::from_caps(&caps).map_err(|_| {
            MediaError::Frame(gstpipe_frame::FrameError::NotVideoCaps { caps: caps.clone() })
        })?;
        let codec_caps = decoder.codec_caps();
        let duration = decoder
            .pipeline
            .gst()
            .query_duration::<gst::ClockTime>()
            .filter(|d| !d.is_zero());
        let fps = info.fps();
        let nominal_fps = (fps.numer() > 0 && fps.denom() > 0).then_some(fps);
        let mut stream = StreamInfo::new(&index, &info, codec_caps, nominal_fps, duration);
        stream.upright =
            self.upright && index.orientation.as_deref().and_then(flip_method).is_some();
        if let Some((mode, order)) = decoder.interlacing() {
            stream.interlace_mode = mode;
            stream.field_order = order;
        }
        stream.deinterlaced = self.deinterlace;
        // The container's duration when it covers every frame's pts; else the end of the last
        // frame (mp4 files with B-frames and no edit list show their last frame past it).
        let end = duration
            .filter(|d| index.pts.last().is_some_and(|last| d > last))
            .unwrap_or_else(|| {
                end_of(
                    &index.pts,
                    nominal_fps.map(|f| f.numer() as f64 / f.denom() as f64),
                )
            });
        tracing::debug!(uri = %location.uri, ?stream, "opened");
        Ok(VideoReader {
            location,
            options: self,
            index,
            stream,
            decoder: Some(decoder),
            rgb,
            warnings,
            cursor: 0,
            end: Duration::from_nanos(end.nseconds()),
            pending: None,
            seeks: 0,
            decoded: 0,
            index_origin,
            seeks_unreliable: false,
            start_seek_unreliable: false,
            seeked_since_start: false,
            lost: Default::default(),
        })
    }
}

/// What [`VideoReader::info`] says about the video stream.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// Exact number of frames.
    pub frames: usize,
    /// Frames per second: the nominal rate for constant-rate video, the average otherwise.
    pub fps: f64,
    /// The rate the stream declares (`framerate` in its caps), when it declares one.
    pub nominal_fps: Option<gst::Fraction>,
    /// Whether the frames are not evenly spaced.
    pub variable_rate: bool,
    /// The duration the container reports, or the end of the last frame.
    pub duration: Duration,
    /// Frame width in pixels.
    pub width: u32,
    /// Frame height in pixels.
    pub height: u32,
    /// The raw format frames come in.
    pub format: gst_video::VideoFormat,
    /// Short codec name: `h264`, `h265`, `vp8`, `vp9`, `av1`, `mjpeg`, `raw`, ... (the caps
    /// name for others).
    pub codec: String,
    /// The compressed stream's caps as the decoder received them, when there is a decoder.
    pub codec_caps: Option<String>,
    /// Degrees (0, 90, 180, 270) the stored frames are turned clockwise to show them upright,
    /// from the container's display matrix (phones' MP4/MOV files).
    pub rotation: u32,
    /// Whether the container says the frames are shown mirrored (a `flip-` orientation).
    pub mirrored: bool,
    /// Whether the reader turns frames upright ([`VideoReaderBuilder::upright`] and a
    /// rotation or mirroring to undo); `width` and `height` are then the upright frame's.
    pub upright: bool,
    /// How the decoder's frames are interlaced: `progressive`, `interleaved` (every frame
    /// two woven fields), `mixed` (some frames), ... (GStreamer's `interlace-mode`).
    pub interlace_mode: String,
    /// Which field comes first in time, for interlaced video: `top-field-first` or
    /// `bottom-field-first` (from the decoder's caps, or the first frame's flags).
    pub field_order: Option<String>,
    /// Whether the reader deinterlaces ([`VideoReaderBuilder::deinterlace`]).
    pub deinterlaced: bool,
}

/// The end of the last frame: its pts plus the mean frame interval (or the nominal one).
fn end_of(pts: &[gst::ClockTime], nominal: Option<f64>) -> gst::ClockTime {
    let (Some(&first), Some(&last)) = (pts.first(), pts.last()) else {
        return gst::ClockTime::ZERO;
    };
    let interval = if pts.len() > 1 {
        (last - first).nseconds() / (pts.len() as u64 - 1)
    } else {
        match nominal {
            Some(n) if n > 0.0 => (1.0e9 / n) as u64,
            _ => 0,
        }
    };
    last + gst::ClockTime::from_nseconds(interval)
}

impl StreamInfo {
    fn new(
        index: &Index,
        info: &gst_video::VideoInfo,
        codec_caps: Option<gst::Caps>,
        nominal_fps: Option<gst::Fraction>,
        duration: Option<gst::ClockTime>,
    ) -> StreamInfo {
        let pts = &index.pts;
        let frames = pts.len();
        let span = pts.last().copied().unwrap_or_default() - pts[0];
        let mean_interval = (frames > 1).then(|| span.nseconds() as f64 / (frames - 1) as f64);
        let variable_rate = match mean_interval {
            Some(mean) => {
                // Containers round timestamps (Matroska to 1 ms by default): allow that much
                // jitter, or a tenth of a frame, around an even spacing.
                let tolerance = (mean / 10.0).max(1.0e6 + 1.0);
                pts.iter().enumerate().any(|(k, p)| {
                    let expected = pts[0].nseconds() as f64 + k as f64 * mean;
                    (p.nseconds() as f64 - expected).abs() > tolerance
                })
            }
            None => false,
        };
        let average = mean_interval.map(|m| 1.0e9 / m);
        let nominal = nominal_fps.map(|f| f.numer() as f64 / f.denom() as f64);
        let fps = match (variable_rate, nominal, average) {
            (false, Some(n), _) => n,
            (_, _, Some(a)) => a,
            (_, Some(n), None) => n,
            (_, None, None) => 0.0,
        };
        let end = end_of(pts, nominal);
        let codec_name_of = codec_caps
            .as_ref()
            .map(|c| StreamEntry::of(Some(c)).codec)
            .unwrap_or_else(|| "raw".into());
        StreamInfo {
            frames,
            fps,
            nominal_fps,
            variable_rate,
            duration: Duration::from_nanos(duration.unwrap_or(end).nseconds()),
            width: info.width(),
            height: info.height(),
            format: info.format(),
            codec: codec_name_of,
            codec_caps: codec_caps.map(|c| c.to_string()),
            rotation: rotation_of(index.orientation.as_deref()),
            mirrored: index
                .orientation
                .as_deref()
                .is_some_and(|o| o.starts_with("flip-")),
            upright: false,
            interlace_mode: "progressive".into(),
            field_order: None,
            deinterlaced: false,
        }
    }
}

/// One decoding pipeline: `uridecodebin ! videoconvert ! appsink`.
struct Decoder {
    pipeline: Pipeline,
    appsink: gst_app::AppSink,
    log: Arc<BusLog>,
    /// The index of the frame the next pull returns, when known.
    next: Option<usize>,
    skip: Arc<Skipper>,
    /// Frames the skipper dropped, in order, not yet checked against the index.
    passed: VecDeque<gst::ClockTime>,
    /// A pulled sample waiting behind passed frames that come before it.
    held: Option<gst::Sample>,
}

/// Drops the frames the reader passes over on its way to a wanted frame before they are
/// converted (`videoconvert` into RGB costs about as much as decoding), and remembers their
/// pts so that the reader still checks every frame against the index.
#[derive(Debug, Default)]
struct Skipper {
    state: Mutex<SkipState>,
}

#[derive(Debug, Default)]
struct SkipState {
    /// Frames with a pts below this are dropped.
    below: Option<gst::ClockTime>,
    dropped: Vec<gst::ClockTime>,
    /// The first decoded frame's raw buffer flags (its field order, in mixed interlaced
    /// video).
    first_flags: Option<u32>,
}

impl Skipper {
    fn lock(&self) -> std::sync::MutexGuard<'_, SkipState> {
        self.state.lock_unpoisoned()
    }

    /// Installs the skipper on `pad` (the converter's sink pad).
    fn install(self: &Arc<Self>, pad: &gst::Pad) {
        let skip = Arc::clone(self);
        pad.add_probe(
            gst::PadProbeType::BUFFER | gst::PadProbeType::EVENT_FLUSH,
            move |_, info| match &info.data {
                Some(gst::PadProbeData::Buffer(buffer)) => {
                    let mut state = skip.lock();
                    // The raw flags: `BufferRef::flags()` drops the video ones (interlacing).
                    // SAFETY: `buffer` is a valid buffer for the duration of the probe; its
                    // mini-object header is plain data read here, not written.
                    let raw = unsafe { (*buffer.as_ptr()).mini_object.flags };
                    state.first_flags.get_or_insert(raw);
                    match (state.below, buffer.pts()) {
                        (Some(below), Some(pts)) if pts < below => {
                            state.dropped.push(pts);
                            // `Handled` consumes the buffer (gstreamer-rs unrefs it). `Drop`
                            // would leave GStreamer 1.22 unreffing a null buffer (a critical
                            // warning per frame).
                            gst::PadProbeReturn::Handled
                        }
                        _ => gst::PadProbeReturn::Ok,
                    }
                }
                Some(gst::PadProbeData::Event(event)) => {
                    // In stream order: what was dropped before a flush belongs to the past.
                    if event.type_() == gst::EventType::FlushStop {
                        skip.lock().dropped.clear();
                    }
                    gst::PadProbeReturn::Ok
                }
                _ => gst::PadProbeReturn::Ok,
            },
        );
    }
}

/// What the decoder produced next, in stream order.
enum Item {
    /// A frame dropped on the way (its pts).
    Passed(gst::ClockTime),
    /// A frame pulled from the appsink.
    Frame(gst::Sample),
    /// End of stream.
    End,
}

impl Decoder {
    fn start(
        location: &Location,
        index: &Arc<Index>,
        options: &VideoReaderBuilder,
        warnings: &Arc<AtomicU64>,
        rgb: Option<&RgbStage>,
    ) -> Result<Decoder, MediaError> {
        let (format, upright, timeout) = (options.format, options.upright, options.timeout);
        let uri = &location.uri;
        let pipeline = gst::Pipeline::new();
        let decodebin = make("uridecodebin")?;
        decodebin.set_property("uri", uri);
        skip_non_video(&decodebin);
        let convert = make("videoconvert")?;
        // Conversion (to RGB: about as costly as decoding) on every core.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        convert.set_property("n-threads", u32::try_from(cores).unwrap_or(1));
        let appsink = gst_app::AppSink::builder()
            .sync(false)
            .max_buffers(QUEUE)
            .drop(false)
            .enable_last_sample(false)
            .wait_on_eos(true)
            .build();
        if format.is_some() || options.size.is_some() {
            let mut caps = gst_video::VideoCapsBuilder::new();
            if let Some(format) = format {
                caps = caps.format(format);
            }
            if let Some((width, height)) = options.size {
                let dim = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
                caps = caps.width(dim(width)).height(dim(height));
            }
            appsink.set_caps(Some(&caps.build()));
        }
        let build_error = |e: gst::glib::BoolError| MediaError::Uri {
            input: uri.clone(),
            reason: format!("cannot build the decoding pipeline: {e}"),
        };
        pipeline
            .add_many([&decodebin, &convert, appsink.upcast_ref()])
            .map_err(build_error)?;
        // convert ! [videoflip: upright] ! [videoscale: size] ! appsink
        let mut chain = vec![convert.clone()];
        if let Some(method) = index
            .orientation
            .as_deref()
            .and_then(flip_method)
            .filter(|_| upright)
        {
            let flip = make("videoflip")?;
            flip.set_property_from_str("video-direction", method);
            chain.push(flip);
        }
        if options.size.is_some() {
            let scale = make("videoscale")?;
            scale.set_property("n-threads", u32::try_from(cores).unwrap_or(1));
            chain.push(scale);
        }
        for element in &chain[1..] {
            pipeline.add(element).map_err(build_error)?;
        }
        if let Some(rgb) = rgb {
            rgb.install(&convert, &appsink);
        }
        chain.push(appsink.clone().upcast());
        gst::Element::link_many(&chain).map_err(build_error)?;
        // Deinterlacing on request, spatially within each frame (`linear`, one frame per
        // frame): no field history, so a frame after a seek is the frame a sequential decode
        // gives.
        let head = if options.deinterlace {
            let deinterlace = gst::ElementFactory::make("deinterlace")
                .property_from_str("method", "linear")
                .property_from_str("fields", "top")
                .build()
                .map_err(|_| {
                    MediaError::Pipeline(gstpipe_core::Error::MissingElement {
                        factory: "deinterlace".into(),
                        description: "the reader's pipeline needs deinterlace".into(),
                    })
                })?;
            pipeline.add(&deinterlace).map_err(build_error)?;
            deinterlace.link(&convert).map_err(build_error)?;
            deinterlace
        } else {
            convert.clone()
        };
        link_streams(&decodebin, &head, Streams::wanting(location.video_stream));
        let skip = Arc::new(Skipper::default());
        if let Some(pad) = head.static_pad("sink") {
            skip.install(&pad);
        }
        configure_decoder(&pipeline, index);
        let mut pipeline = Pipeline::from_pipeline(pipeline);
        pipeline.set_state_timeout(timeout);
        let log = BusLog::new(Arc::clone(warnings));
        log.attach(&pipeline);
        // The delivery core's wake-up: the appsink's new-sample and eos wake the pull.
        let wake = Arc::clone(&log.wake);
        gstpipe_sinks::wake_on_samples(&appsink, move || wake.notify());
        pipeline.play().map_err(|e| pipeline_error(uri, e))?;
        Ok(Decoder {
            pipeline,
            appsink,
            log,
            next: Some(0),
            skip,
            passed: VecDeque::new(),
            held: None,
        })
    }

    /// The caps of the compressed stream entering the decoder, if there is one.
    fn codec_caps(&self) -> Option<gst::Caps> {
        self.decoder_element()?.static_pad("sink")?.current_caps()
    }

    /// The decoder's interlace mode and field order (from its caps; for mixed video without
    /// a field order there, from the first frame's flags).
    fn interlacing(&self) -> Option<(String, Option<String>)> {
        let caps = self.decoder_element()?.static_pad("src")?.current_caps()?;
        let info = gst_video::VideoInfo::from_caps(&caps).ok()?;
        let mode = info.interlace_mode();
        let mut order = match info.field_order() {
            gst_video::VideoFieldOrder::TopFieldFirst => Some("top-field-first".to_string()),
            gst_video::VideoFieldOrder::BottomFieldFirst => Some("bottom-field-first".to_string()),
            _ => None,
        };
        if order.is_none() && mode != gst_video::VideoInterlaceMode::Progressive {
            let flags =
                gst_video::VideoBufferFlags::from_bits_truncate(self.skip.lock().first_flags?);
            if flags.contains(gst_video::VideoBufferFlags::INTERLACED) {
                order = Some(if flags.contains(gst_video::VideoBufferFlags::TFF) {
                    "top-field-first".into()
                } else {
                    "bottom-field-first".into()
                });
            }
        }
        Some((mode.to_str().to_string(), order))
    }

    /// The video decoder feeding this pipeline's converter: found by walking upstream from
    /// it (through ghost pads and queues), since other video streams of the file have
    /// decoders of their own.
    fn decoder_element(&self) -> Option<gst::Element> {
        let mut pad = self
            .appsink
            .static_pad("sink")?
            .peer()?
            .parent_element()?
            .static_pad("sink")?
            .peer()?;
        for _ in 0..64 {
            if let Some(target) = pad.downcast_ref::<gst::GhostPad>().and_then(|g| g.target()) {
                pad = target;
                continue;
            }
            let element = pad.parent_element()?;
            if is_video_decoder(&element) {
                return Some(element);
            }
            pad = pad
                .iterate_internal_links()
                .into_iter()
                .flatten()
                .next()?
                .peer()?;
        }
        None
    }

    /// The next decoded sample, `None` at end of stream. Bounded by `timeout` without a frame.
    /// Sleeps until the appsink has a sample or its end, or the bus an error (each wakes
    /// [`BusLog::wake`]), not in slices.
    fn pull(&self, uri: &str, timeout: Duration) -> Result<Option<gst::Sample>, MediaError> {
        let started = Instant::now();
        let element_error = |error| MediaError::Element {
            uri: uri.into(),
            error: Box::new(error),
        };
        loop {
            let generation = self.log.wake.generation();
            if let Some(error) = self.log.error() {
                return Err(element_error(error));
            }
            if let Some(sample) = self.appsink.try_pull_sample(gst::ClockTime::ZERO) {
                return Ok(Some(sample));
            }
            if self.appsink.is_eos() {
                // An error may have ended the stream: it wins over a clean end.
                return match self.log.error() {
                    Some(error) => Err(element_error(error)),
                    None => Ok(None),
                };
            }
            if !self.log.wake.wait_past(generation, started + timeout) {
                return Err(MediaError::Timeout {
                    uri: uri.into(),
                    operation: "decoding a frame",
                    waited: started.elapsed(),
                });
            }
        }
    }

    /// Frames below `pts` are dropped before conversion from now on (`None`: none is).
    fn skip_below(&self, pts: Option<gst::ClockTime>) {
        self.skip.lock().below = pts;
    }

    /// The next frame in stream order: one the skipper dropped, or one pulled.
    fn next_item(&mut self, uri: &str, timeout: Duration) -> Result<Item, MediaError> {
        loop {
            self.passed.extend(self.skip.lock().dropped.drain(..));
            if let Some(held) = &self.held {
                let pts = held.buffer().and_then(|b| b.pts());
                if let Some(&first) = self.passed.front()
                    && pts.is_none_or(|p| first < p)
                {
                    self.passed.pop_front();
                    return Ok(Item::Passed(first));
                }
                return Ok(Item::Frame(self.held.take().expect("held")));
            }
            match self.pull(uri, timeout)? {
                // Frames dropped before this one were recorded before it was queued.
                Some(sample) => self.held = Some(sample),
                None => {
                    self.passed.extend(self.skip.lock().dropped.drain(..));
                    return Ok(self.passed.pop_front().map_or(Item::End, Item::Passed));
                }
            }
        }
    }

    /// A flushing keyframe seek (`FLUSH | KEY_UNIT | SNAP_BEFORE`): the demuxer restarts at the
    /// last keyframe at or before `pts`, and timestamps frames from there as a sequential
    /// decode does. (An accurate seek between keyframes is not reliable: qtdemux in 1.22 then
    /// stamps the first frame it lets through with a later frame's pts when B-frames shift
    /// the stream.)
    fn seek(&mut self, uri: &str, pts: gst::ClockTime) -> Result<(), MediaError> {
        self.next = None;
        self.passed.clear();
        self.held = None;
        self.pipeline
            .gst()
            .seek_simple(
                gst::SeekFlags::FLUSH | gst::SeekFlags::KEY_UNIT | gst::SeekFlags::SNAP_BEFORE,
                pts,
            )
            .map_err(|_| MediaError::Seek {
                uri: uri.into(),
                pts: Duration::from_nanos(pts.nseconds()),
            })
    }
}

/// The `videoflip` direction that turns frames with this `image-orientation` upright.
fn flip_method(orientation: &str) -> Option<&'static str> {
    Some(match orientation {
        "rotate-90" => "90r",
        "rotate-180" => "180",
        "rotate-270" => "90l",
        "flip-rotate-0" => "horiz",
        "flip-rotate-90" => "ul-lr",
        "flip-rotate-180" => "vert",
        "flip-rotate-270" => "ur-ll",
        _ => return None,
    })
}

/// Degrees clockwise an `image-orientation` turns the stored frame to show it.
fn rotation_of(orientation: Option<&str>) -> u32 {
    orientation
        .and_then(|o| o.strip_prefix("flip-").unwrap_or(o).strip_prefix("rotate-"))
        .and_then(|d| d.parse().ok())
        .unwrap_or(0)
}

/// Whether `element` decodes video or images.
fn is_video_decoder(element: &gst::Element) -> bool {
    element.factory().is_some_and(|f| {
        let klass = f.metadata(gst::ELEMENT_METADATA_KLASS).unwrap_or_default();
        klass.contains("Decoder") && (klass.contains("Video") || klass.contains("Image"))
    })
}

/// Sets up the video decoder `uridecodebin` picks, when it picks it:
/// - libav decoders use frame threading;
/// - `jpegdec` uses its accurate IDCT (`islow`, libjpeg's default) rather than GStreamer's
///   default `ifast`, whose frames differ from other decoders' by up to 3 levels;
/// - for containers that time frames in decode order only, every access unit entering the
///   decoder is stamped with its presentation timestamp from the index (by its decode
///   timestamp): the decoder then outputs each frame with its own pts, as for an MP4 file.
fn configure_decoder(pipeline: &gst::Pipeline, index: &Arc<Index>) {
    let index = Arc::clone(index);
    pipeline.connect_deep_element_added(move |_, _, element| {
        if !is_video_decoder(element) {
            return;
        }
        let name = element
            .factory()
            .map(|f| f.name().to_string())
            .unwrap_or_default();
        // Frame threading: measured faster than libav's default on files (1080p H.264:
        // about 8%), and the latency it adds does not matter to a file.
        if name.starts_with("avdec_") && element.has_property("thread-type") {
            element.set_property_from_str("thread-type", "frame");
        }
        if name == "jpegdec" {
            element.set_property_from_str("idct-method", "islow");
        }
        let Some(pad) = index
            .restamp
            .is_some()
            .then(|| element.static_pad("sink"))
            .flatten()
        else {
            return;
        };
        let index = Arc::clone(&index);
        pad.add_probe(gst::PadProbeType::BUFFER, move |_, info| {
            if let Some(gst::PadProbeData::Buffer(buffer)) = &mut info.data
                && let Some(pts) = buffer.dts().and_then(|dts| index.restamped(dts))
            {
                buffer.make_mut().set_pts(pts);
            }
            gst::PadProbeReturn::Ok
        });
    });
}

/// Why locating a frame failed: an error to report, or a decoded frame the index does not list.
enum Miss {
    Error(MediaError),
    Unlisted(Option<gst::ClockTime>),
}

impl From<MediaError> for Miss {
    fn from(e: MediaError) -> Self {
        Miss::Error(e)
    }
}

/// Exact random access to the frames of a video file.
///
/// Frame `i` is the `i`-th frame a plain sequential decode (`uridecodebin ! videoconvert !
/// appsink`, or the decoder's frames through the same [`YuvToRgb`](gstpipe_frame::YuvToRgb)
/// for RGB) of the file produces, bit for bit, whatever the codec (B-frames included), the
/// container or the frame rate (variable rates too). The reader knows every frame's
/// presentation timestamp (pts) from an index built when the file is opened; it finds frame
/// `i` by seeking to its pts (a flushing, accurate seek) and checks that the frame it lands on
/// carries exactly that pts, decoding forward until it does. It never computes a time from
/// `i / fps`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let dir = std::env::temp_dir().join(format!("gstpipe-media-reader-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let path = dir.join("clip.mkv");
/// # let p = gstpipe_core::Pipeline::launch(&format!(
/// #     "videotestsrc num-buffers=30 ! video/x-raw,width=64,height=48,framerate=30/1 ! \
/// #      jpegenc ! matroskamux ! filesink location={}", path.display()))?;
/// # p.play()?; p.wait_timeout(std::time::Duration::from_secs(20))?;
/// use gst_video::VideoFormat;
/// use gstpipe_media::VideoReader;
///
/// let mut reader = VideoReader::builder().format(VideoFormat::Rgb).open(path.to_str().unwrap())?;
/// assert_eq!(reader.len(), 30);
/// let frame = reader.get(17)?;
/// assert_eq!(frame.view::<u8>()?.shape(), &[48, 64, 3]);
/// assert_eq!(frame.pts(), Some(reader.pts()[17]));
/// for frame in reader.get_batch(&[29, 3, 3])? {
///     assert_eq!(frame.width(), 64);
/// }
/// assert!(reader.get(30).is_err()); // "frame index 30 is out of range: the video has 30 frames"
/// # Ok(()) }
/// ```
///
/// Reading forward is preferred over seeking when it decodes fewer frames (see
/// [`VideoReaderBuilder::max_forward`]); [`get_batch`](VideoReader::get_batch) sorts its
/// indices and decodes each frame once. Every pull is bounded by the reader's timeout.
///
/// Frames from a damaged file: frames that decode are returned; one the decoder skipped
/// gives [`MediaError::NotDecoded`], a failing element [`MediaError::Element`] (the next call
/// starts a fresh decoder), and [`warnings`](VideoReader::warnings) counts what GStreamer
/// warned about.
pub struct VideoReader {
    location: Location,
    options: VideoReaderBuilder,
    index: Arc<Index>,
    stream: StreamInfo,
    decoder: Option<Decoder>,
    /// RGB made in Rust from the decoder's frames, when it is.
    rgb: Option<RgbStage>,
    warnings: Arc<AtomicU64>,
    cursor: usize,
    /// Where the video ends in pts time: the container's duration, or the end of the last
    /// frame when that is later.
    end: Duration,
    /// A frame decoded ahead by `seek_time`, returned by the next read of that index.
    pending: Option<(usize, gst::Sample)>,
    seeks: u64,
    decoded: u64,
    index_origin: IndexOrigin,
    /// A seek in this file has landed elsewhere than asked or failed: frames behind the
    /// decoder are reached by reading from the start.
    seeks_unreliable: bool,
    /// A seek to the first frame has landed elsewhere: a fresh decoder reads from the start.
    start_seek_unreliable: bool,
    /// The decoder has been seeked since it started.
    seeked_since_start: bool,
    /// Frames a decode from a keyframe before them skipped (damaged data), ascending.
    lost: std::collections::BTreeSet<usize>,
}

impl std::fmt::Debug for VideoReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoReader")
            .field("uri", &self.location.uri)
            .field("stream", &self.stream)
            .field("cursor", &self.cursor)
            .field("seeks", &self.seeks)
            .field("decoded", &self.decoded)
            .finish()
    }
}

impl VideoReader {
    /// Opens a file by path or URI with the defaults: frames in the decoder's own format.
    ///
    /// # Errors
    /// As [`VideoReaderBuilder::open`].
    pub fn open(path_or_uri: &str) -> Result<VideoReader, MediaError> {
        VideoReaderBuilder::default().open(path_or_uri)
    }

    /// A builder to choose the output format, timeout, forward-reading distance and index mode.
    pub fn builder() -> VideoReaderBuilder {
        VideoReaderBuilder::default()
    }

    /// The URI being read.
    pub fn uri(&self) -> &str {
        &self.location.uri
    }

    /// What the stream is: frame count, rate, size, format, codec.
    pub fn info(&self) -> &StreamInfo {
        &self.stream
    }

    /// The exact number of frames.
    pub fn len(&self) -> usize {
        self.index.pts.len()
    }

    /// Whether the video has no frames (never true for an opened reader).
    pub fn is_empty(&self) -> bool {
        self.index.pts.is_empty()
    }

    /// Frames per second: nominal for constant-rate video, the average for variable-rate.
    pub fn fps(&self) -> f64 {
        self.stream.fps
    }

    /// Whether the frames are not evenly spaced in time.
    pub fn is_variable_rate(&self) -> bool {
        self.stream.variable_rate
    }

    /// The video's duration.
    pub fn duration(&self) -> Duration {
        self.stream.duration
    }

    /// Every frame's presentation timestamp, frame `i` at `pts()[i]`, ascending. The first is
    /// not necessarily zero (B-frame reordering delays it).
    pub fn pts(&self) -> &[gst::ClockTime] {
        &self.index.pts
    }

    /// The indices of the keyframes (empty when the index does not know them).
    pub fn keyframes(&self) -> &[usize] {
        &self.index.keyframes
    }

    /// How the frame index was built.
    pub fn index_source(&self) -> IndexSource {
        self.index.source
    }

    /// Every stream of the file (video, audio, subtitles, ...), in the order GStreamer exposes
    /// them (video streams first, each kind in the container's order); the reader reads the
    /// [`VideoReaderBuilder::stream`]-th video stream.
    pub fn streams(&self) -> &[StreamEntry] {
        &self.index.streams
    }

    /// Which video stream is read (0: the first).
    pub fn video_stream(&self) -> usize {
        self.location.video_stream
    }

    /// Where the frame index came from: a scan at open, an earlier reader in this process,
    /// or an index saved on disk (see [`VideoReaderBuilder::index_cache`]).
    pub fn index_origin(&self) -> IndexOrigin {
        self.index_origin
    }

    /// How many warnings GStreamer posted while indexing and decoding this file (damaged data,
    /// decoding errors the decoder recovered from).
    pub fn warnings(&self) -> u64 {
        self.warnings.load(Ordering::Relaxed)
    }

    /// How many seeks the reader has made.
    pub fn seeks(&self) -> u64 {
        self.seeks
    }

    /// How many frames the reader has pulled from its decoder (those it returned and those it
    /// decoded on the way).
    pub fn frames_decoded(&self) -> u64 {
        self.decoded
    }

    /// The frames found not to decode so far (damaged data: a decode from a keyframe before
    /// them skipped them), ascending. Reading them gives [`MediaError::NotDecoded`] at once.
    /// [`verify`](VideoReader::verify) finds them all.
    pub fn lost_frames(&self) -> Vec<usize> {
        self.lost.iter().copied().collect()
    }

    /// Decodes every frame once, in order, and returns the frames that did not decode
    /// (damaged data), ascending: as [`lost_frames`](VideoReader::lost_frames) then says.
    /// Costs a full decode of the file.
    ///
    /// # Errors
    /// What [`get`](VideoReader::get) returns other than [`MediaError::NotDecoded`].
    pub fn verify(&mut self) -> Result<Vec<usize>, MediaError> {
        for i in 0..self.len() {
            match self.sample(i) {
                Ok(_) | Err(MediaError::NotDecoded { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        self.cursor = 0;
        Ok(self.lost_frames())
    }

    /// The index of the frame [`read`](VideoReader::read) returns next.
    pub fn position(&self) -> usize {
        self.cursor
    }

    /// Frame `i`, exactly. Afterwards [`position`](VideoReader::position) is `i + 1`.
    ///
    /// # Errors
    /// [`MediaError::OutOfRange`] (naming the frame count) for `i >= len()`;
    /// [`MediaError::NotDecoded`] when the decoder skipped the frame (damaged data);
    /// [`MediaError::Element`], [`MediaError::Timeout`].
    pub fn get(&mut self, i: usize) -> Result<Frame, MediaError> {
        let sample = self.sample(i)?;
        Ok(Frame::from_sample(&sample)?)
    }

    /// Frames at `indices`, in the order given (repeats allowed). The indices are read in
    /// ascending order, each decoded once, reading forward rather than seeking when that is
    /// cheaper. The frames are copies, so holding many does not stall the decoder.
    ///
    /// # Errors
    /// [`MediaError::OutOfRange`] for the first index past the end, before anything is
    /// decoded; otherwise the first error [`get`](VideoReader::get) would give.
    pub fn get_batch(&mut self, indices: &[usize]) -> Result<Vec<Frame>, MediaError> {
        if let Some(&index) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(self.out_of_range(index));
        }
        let mut wanted: Vec<usize> = indices.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut samples = Vec::with_capacity(wanted.len());
        for &i in &wanted {
            samples.push(self.private_sample(i)?);
        }
        indices
            .iter()
            .map(|i| {
                let at = wanted.binary_search(i).expect("every index was decoded");
                Ok(Frame::from_sample(&samples[at])?)
            })
            .collect()
    }

    /// Frames at `indices` (any order, repeats allowed) stacked into one
    /// `(N, height, width, channels)` array, as models and numpy want them (their timestamps
    /// are `pts()[i]`). Each frame is decoded once and copied straight into the array, so no
    /// frame is held meanwhile. Needs a packed format (e.g. [`VideoFormat::Rgb`] from
    /// [`VideoReaderBuilder::format`]; planar formats such as `I420` have no single array).
    ///
    /// [`VideoFormat::Rgb`]: gst_video::VideoFormat::Rgb
    ///
    /// # Errors
    /// As [`get_batch`](VideoReader::get_batch); [`MediaError::Frame`] for a format that is
    /// not packed or whose samples are not `T`; [`MediaError::Batch`] if the frame size
    /// changes within the file.
    pub fn get_batch_array<T: gstpipe_frame::SampleValue>(
        &mut self,
        indices: &[usize],
    ) -> Result<ndarray::Array4<T>, MediaError> {
        if let Some(&index) = indices.iter().find(|&&i| i >= self.len()) {
            return Err(self.out_of_range(index));
        }
        let mut wanted: Vec<usize> = indices.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        let mut array: Option<ndarray::Array4<T>> = None;
        for &i in &wanted {
            let frame = Frame::from_sample(&self.sample(i)?)?;
            let out = match &mut array {
                Some(out) => out,
                None => {
                    let (h, w, c) = frame.view::<T>()?.dim();
                    array.insert(ndarray::Array4::from_elem(
                        (indices.len(), h, w, c),
                        T::default(),
                    ))
                }
            };
            for (at, _) in indices.iter().enumerate().filter(|&(_, &k)| k == i) {
                let slot = out.slice_mut(ndarray::s![at..at + 1, .., .., ..]);
                gstpipe_sinks::FrameBatch::stack_into(std::slice::from_ref(&frame), slot)?;
            }
        }
        match array {
            Some(array) => Ok(array),
            // No index: an empty batch of the frames' shape.
            None => {
                let info = gstpipe_frame::format_info(self.stream.format)?;
                let channels = info
                    .channels()
                    .ok_or(gstpipe_frame::FrameError::NotPacked {
                        format: self.stream.format,
                        layout: info.layout(),
                        n_planes: info.n_planes(),
                    })?;
                let (h, w) = (self.stream.height as usize, self.stream.width as usize);
                Ok(ndarray::Array4::from_elem(
                    (0, h, w, channels),
                    T::default(),
                ))
            }
        }
    }

    /// The frame at [`position`](VideoReader::position), then the next: `None` after the last.
    pub fn read(&mut self) -> Option<Result<Frame, MediaError>> {
        if self.cursor >= self.len() {
            return None;
        }
        let i = self.cursor;
        let frame = self.get(i);
        // A frame that did not decode is reported once; reading goes on after it.
        self.cursor = i + 1;
        Some(frame)
    }

    /// Iterates over frames `start..len()` (each `Result`, so a damaged frame does not end
    /// the iteration), decoding sequentially after one seek.
    pub fn iter_from(&mut self, start: usize) -> Frames<'_> {
        self.cursor = start;
        Frames { reader: self }
    }

    /// Iterates over every frame from the first.
    pub fn frames(&mut self) -> Frames<'_> {
        self.iter_from(0)
    }

    /// Moves to time `t` (in the stream's pts time): on the frame showing then
    /// ([`SeekMode::Exact`]) or on the keyframe before it ([`SeekMode::Keyframe`]). Decodes
    /// that frame, which the next [`read`](VideoReader::read) returns, and returns its index.
    ///
    /// # Errors
    /// [`MediaError::TimeOutOfRange`] for a time at or past [`duration`](VideoReader::duration),
    /// and what [`get`](VideoReader::get) returns.
    pub fn seek_time(&mut self, t: Duration, mode: SeekMode) -> Result<usize, MediaError> {
        if t >= self.end {
            return Err(MediaError::TimeOutOfRange {
                time: t,
                end: self.end,
            });
        }
        let exact = self
            .index
            .at_time(gst::ClockTime::from_nseconds(t.as_nanos() as u64));
        let i = match mode {
            SeekMode::Exact => exact,
            SeekMode::Keyframe => self.index.keyframe_before(exact).unwrap_or(exact),
        };
        let sample = self.sample(i)?;
        self.pending = Some((i, sample));
        self.cursor = i;
        Ok(i)
    }

    fn out_of_range(&self, index: usize) -> MediaError {
        MediaError::OutOfRange {
            index,
            frames: self.len(),
        }
    }

    /// Frame `i` as a sample, exactly; rebuilds the index by decoding once if the decoder
    /// produces a frame a parse scan did not list.
    fn sample(&mut self, i: usize) -> Result<gst::Sample, MediaError> {
        Ok(self.output_sample(i)?.0)
    }

    /// Frame `i` as a sample that holds none of the decoder's buffers: a copy, or the frame
    /// converted into a buffer of its own.
    fn private_sample(&mut self, i: usize) -> Result<gst::Sample, MediaError> {
        let (sample, own) = self.output_sample(i)?;
        Ok(if own { sample } else { deep_copy(&sample) })
    }

    /// Frame `i` as the reader hands it out, and whether it is in a buffer of its own.
    fn output_sample(&mut self, i: usize) -> Result<(gst::Sample, bool), MediaError> {
        let sample = self.decoded_sample(i)?;
        match &mut self.rgb {
            Some(rgb) => rgb.output(sample),
            None => Ok((sample, false)),
        }
    }

    /// Frame `i` as the pipeline gives it (see [`RgbStage`]).
    fn decoded_sample(&mut self, i: usize) -> Result<gst::Sample, MediaError> {
        if i >= self.len() {
            return Err(self.out_of_range(i));
        }
        if self.lost.contains(&i) {
            self.cursor = i + 1;
            return Err(self.not_decoded(i));
        }
        if let Some((at, sample)) = self.pending.take()
            && at == i
        {
            self.cursor = i + 1;
            return Ok(sample);
        }
        let mut reindexed = false;
        loop {
            match self.locate(i) {
                Ok(sample) => {
                    self.cursor = i + 1;
                    return Ok(sample);
                }
                Err(Miss::Error(e)) => {
                    if let MediaError::NotDecoded { index, .. } = e {
                        self.lost.insert(index);
                    }
                    return Err(e);
                }
                Err(Miss::Unlisted(pts)) => {
                    if reindexed
                        || self.index.source == IndexSource::Decode
                        || self.options.index_mode == IndexMode::Parse
                    {
                        return Err(MediaError::Unindexable {
                            uri: self.location.uri.clone(),
                            reason: format!(
                                "the decoder produced a frame with pts {} that the index does not list",
                                pts.map_or("none".into(), |p| p.to_string())
                            ),
                        });
                    }
                    tracing::warn!(uri = %self.location.uri, ?pts, "the decoder produced a frame the parse scan did not list: indexing by decoding");
                    let index = crate::index::decode_index(
                        &self.location,
                        &self.warnings,
                        self.options.timeout,
                        self.options.index_cache_dir().as_deref(),
                    )?;
                    self.index_origin = IndexOrigin::Scanned;
                    self.index = index;
                    self.stream.frames = self.index.pts.len();
                    self.decoder = None;
                    reindexed = true;
                    if i >= self.len() {
                        return Err(self.out_of_range(i));
                    }
                }
            }
        }
    }

    /// How many frames the reader may decode forward to reach `i` instead of seeking.
    fn forward_budget(&self, i: usize) -> usize {
        if let Some(n) = self.options.max_forward {
            return n;
        }
        match self.index.keyframe_before(i) {
            Some(k) => i - k + SEEK_COST,
            None => FORWARD_UNKNOWN_GOP,
        }
    }

    /// Frame `i`: read forward when the decoder is a little before it, else seek to the
    /// keyframe before it and read forward from there, checking every frame on the way: the
    /// first after a seek must be a keyframe at or before the one asked for (frames the
    /// decoder shows before that keyframe, an open GOP's leading frames, are passed over), and
    /// each next one the next frame of the index. Anything else (a demuxer that landed
    /// elsewhere, as fragmented MP4 and MPEG program streams do, or failed after a seek)
    /// falls back to an earlier keyframe, then to a fresh decoder reading from the start; once
    /// a seek has landed wrong the reader no longer trusts seeks in this file.
    fn locate(&mut self, i: usize) -> Result<gst::Sample, Miss> {
        if self.index.source == IndexSource::DecodeOrder {
            return self.locate_by_order(i);
        }
        let uri = self.location.uri.clone();
        let index = Arc::clone(&self.index);
        let target = index.pts[i];
        let budget = self.forward_budget(i);
        if self.decoder.is_none() {
            self.decoder = Some(self.start_decoder()?);
        }
        let next = self.decoder.as_ref().and_then(|d| d.next);
        let ahead = next.is_some_and(|n| n <= i && i - n <= budget);
        // How to get before frame `i`, last first: a fresh decoder, the first keyframe, the
        // keyframe before frame `i`.
        let mut plan = vec![Start::Fresh];
        if !self.seeks_unreliable {
            if !self.start_seek_unreliable {
                plan.push(Start::Seek(0));
            }
            if !ahead && let Some(k) = index.keyframe_before(i).filter(|&k| k > 0) {
                plan.push(Start::Seek(k));
            }
        }
        // The frame the next pull must be; `Err(k)` right after a seek to keyframe `k`.
        let mut expected: Result<usize, usize> = Ok(next.unwrap_or(0));
        // Frames before the wanted one are only checked, not converted.
        let below = target.saturating_sub(gst::ClockTime::from_nseconds(index.tolerance));
        if ahead {
            self.decoder_mut().skip_below(Some(below));
        } else {
            expected = self.restart(&mut plan, i, target, "", below)?;
        }
        loop {
            let timeout = self.options.timeout;
            let item = self.decoder_mut().next_item(&uri, timeout);
            let (pts, sample) = match item {
                Ok(Item::Frame(sample)) => (sample.buffer().and_then(|b| b.pts()), Some(sample)),
                Ok(Item::Passed(pts)) => (Some(pts), None),
                Ok(Item::End) => {
                    self.decoder_mut().next = Some(index.pts.len());
                    if let Ok(e) = expected
                        && e <= i
                    {
                        // A decode running since a keyframe before them ended without them.
                        self.lose(e..index.pts.len());
                        return Err(Miss::Error(self.not_decoded(i)));
                    }
                    expected =
                        self.restart(&mut plan, i, target, "the stream ended before it", below)?;
                    continue;
                }
                Err(e) if expected.is_err() || self.seeked_since_start => {
                    // A demuxer or decoder that fails after a seek (MPEG program streams) may
                    // still read the file from its start.
                    self.seeks_unreliable = true;
                    self.decoder = None;
                    expected =
                        self.restart(&mut plan, i, target, &format!("after a seek: {e}"), below)?;
                    continue;
                }
                Err(e) => {
                    // The pipeline is broken: the next call starts a fresh one.
                    self.decoder = None;
                    return Err(Miss::Error(e));
                }
            };
            self.decoded += 1;
            let Some(j) = pts.and_then(|p| index.find(p)) else {
                self.decoder_mut().next = None;
                return Err(Miss::Unlisted(pts));
            };
            let wrong = match expected {
                // An open GOP's leading frames, shown before the keyframe they follow.
                Err(k) if j < k && index.keyframes.binary_search(&j).is_err() => continue,
                Err(k) if j > k || index.keyframes.binary_search(&j).is_err() => {
                    // Fragmented MP4: qtdemux lands past the first keyframe, though not past
                    // the others.
                    if k == 0 {
                        self.start_seek_unreliable = true;
                    } else {
                        self.seeks_unreliable = true;
                    }
                    Some(format!("a seek to keyframe {k} landed on frame {j}"))
                }
                Ok(e) if j < e => Some(format!("frame {j} came after frame {}", e - 1)),
                _ => None,
            };
            if let Some(why) = wrong {
                expected = self.restart(&mut plan, i, target, &why, below)?;
                continue;
            }
            self.decoder_mut().next = Some(j + 1);
            if let Ok(e) = expected
                && j > e
            {
                // A decode running since a keyframe before them skipped them: damaged data.
                self.lose(e..j);
                if (e..j).contains(&i) {
                    if let Some(sample) = sample {
                        self.pending = Some((j, restamp(sample, index.pts[j])));
                    }
                    return Err(Miss::Error(self.not_decoded(i)));
                }
            }
            expected = Ok(j + 1);
            if j == i
                && let Some(sample) = sample
            {
                return Ok(restamp(sample, target));
            }
            if j > i {
                expected = self.restart(
                    &mut plan,
                    i,
                    target,
                    &format!("frame {j} came instead of it"),
                    below,
                )?;
            }
        }
    }

    /// Frame `i` of an index known by decode order ([`IndexSource::DecodeOrder`]): the
    /// `i`-th frame a decode from the start gives, reading forward from where the decoder is,
    /// or from a fresh decoder when it is past `i`. Timestamps are not checked: they repeat.
    fn locate_by_order(&mut self, i: usize) -> Result<gst::Sample, Miss> {
        let uri = self.location.uri.clone();
        let behind = self
            .decoder
            .as_ref()
            .and_then(|d| d.next)
            .is_none_or(|n| n > i);
        if behind {
            self.decoder = None;
            self.decoder = Some(self.start_decoder()?);
        }
        let timeout = self.options.timeout;
        loop {
            let decoder = self.decoder_mut();
            let j = decoder.next.unwrap_or(0);
            match decoder.next_item(&uri, timeout) {
                Ok(Item::Frame(sample)) => {
                    decoder.next = Some(j + 1);
                    self.decoded += 1;
                    if j == i {
                        return Ok(restamp(sample, self.index.pts[i]));
                    }
                }
                Ok(Item::Passed(_)) => {
                    decoder.next = Some(j + 1);
                    self.decoded += 1;
                }
                Ok(Item::End) => {
                    self.lose(j..self.len());
                    return Err(Miss::Error(self.not_decoded(i)));
                }
                Err(e) => {
                    self.decoder = None;
                    return Err(Miss::Error(e));
                }
            }
        }
    }

    /// Records frames the decoder skipped.
    fn lose(&mut self, frames: std::ops::Range<usize>) {
        tracing::warn!(uri = %self.location.uri, ?frames, "frames did not decode (damaged data?)");
        self.lost.extend(frames);
    }

    /// The error for a frame known not to decode, naming the run of lost frames around it.
    fn not_decoded(&self, i: usize) -> MediaError {
        let first = (0..=i)
            .rev()
            .take_while(|k| self.lost.contains(k))
            .last()
            .unwrap_or(i);
        let last = (i..self.len())
            .take_while(|k| self.lost.contains(k))
            .last()
            .unwrap_or(i);
        MediaError::NotDecoded {
            index: i,
            pts: Duration::from_nanos(self.index.pts[i].nseconds()),
            reason: format!(
                "the decoder skipped frames {first} to {last} ({} frames; damaged data?)",
                last - first + 1
            ),
        }
    }

    fn start_decoder(&self) -> Result<Decoder, MediaError> {
        Decoder::start(
            &self.location,
            &self.index,
            &self.options,
            &self.warnings,
            self.rgb.as_ref(),
        )
    }

    fn decoder_mut(&mut self) -> &mut Decoder {
        self.decoder
            .as_mut()
            .expect("the decoder is started before it is used")
    }

    /// Takes the next step of `plan` to get before frame `i` (pts `target`): a seek to a
    /// keyframe, or a fresh decoder. Returns what the next frame must be; `why` says why the
    /// previous step failed (empty for the first).
    fn restart(
        &mut self,
        plan: &mut Vec<Start>,
        i: usize,
        target: gst::ClockTime,
        why: &str,
        below: gst::ClockTime,
    ) -> Result<Result<usize, usize>, Miss> {
        let uri = self.location.uri.clone();
        let Some(step) = plan.pop() else {
            return Err(Miss::Error(MediaError::NotDecoded {
                index: i,
                pts: Duration::from_nanos(target.nseconds()),
                reason: why.to_string(),
            }));
        };
        if !why.is_empty() {
            tracing::debug!(%uri, index = i, ?step, "{why}: reading from earlier");
        }
        match step {
            Start::Fresh => {
                self.decoder = None;
                self.decoder = Some(self.start_decoder()?);
                self.seeked_since_start = false;
                self.decoder_mut().skip_below(Some(below));
                Ok(Ok(0))
            }
            Start::Seek(k) => {
                if self.decoder.is_none() {
                    self.decoder = Some(self.start_decoder()?);
                }
                self.seeks += 1;
                self.seeked_since_start = true;
                // Just after the keyframe's pts, so that rounding cannot snap to the one before.
                let at =
                    self.index.pts[k] + gst::ClockTime::from_nseconds(self.index.tolerance / 2);
                let decoder = self.decoder_mut();
                // Not before the seek: frames still flowing then would be dropped instead of
                // waiting in the full appsink queue, and the decoder would race ahead until the
                // flush reaches it.
                decoder.skip_below(None);
                decoder.seek(&uri, at).map_err(Miss::Error)?;
                decoder.skip_below(Some(below));
                Ok(Err(k))
            }
        }
    }
}

/// A way to get before a wanted frame.
#[derive(Debug, Clone, Copy)]
enum Start {
    /// A new decoder, reading from the first frame.
    Fresh,
    /// A seek to this keyframe.
    Seek(usize),
}

/// The sample with its buffer's pts set to `pts` when it differs (by a demuxer's rounding
/// after a seek): a shallow buffer copy, the pixels are shared.
fn restamp(sample: gst::Sample, pts: gst::ClockTime) -> gst::Sample {
    let Some(buffer) = sample.buffer() else {
        return sample;
    };
    if buffer.pts() == Some(pts) {
        return sample;
    }
    let mut copy = buffer.copy();
    copy.make_mut().set_pts(pts);
    let caps = sample.caps_owned();
    let builder = gst::Sample::builder().buffer(&copy);
    match &caps {
        Some(caps) => builder.caps(caps).build(),
        None => builder.build(),
    }
}

/// A sample whose buffer is a deep copy: holding it does not hold a decoder's buffer pool.
fn deep_copy(sample: &gst::Sample) -> gst::Sample {
    let Some(buffer) = sample.buffer() else {
        return sample.clone();
    };
    let Ok(copy) = buffer.copy_deep() else {
        return sample.clone();
    };
    let caps = sample.caps_owned();
    let builder = gst::Sample::builder().buffer(&copy);
    match &caps {
        Some(caps) => builder.caps(caps).build(),
        None => builder.build(),
    }
}

/// Frames from [`VideoReader::iter_from`]: each a `Result`; ends after the last frame.
#[derive(Debug)]
pub struct Frames<'a> {
    reader: &'a mut VideoReader,
}

impl Iterator for Frames<'_> {
    type Item = Result<Frame, MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.reader.read()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.reader.len().saturating_sub(self.reader.cursor);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Frames<'_> {}
impl std::iter::FusedIterator for Frames<'_> {}
