//! Test helpers: clips encoded by GStreamer's own encoders, and an independent reference
//! decode (`filesrc ! decodebin ! videoconvert ! appsink`, every frame in order).

use gst::prelude::*;
use gstpipe_core::{Pipeline, gst};
use gstpipe_frame::Frame;
use gstpipe_media::VideoReader;
use ndarray::Array3;
use std::path::{Path, PathBuf};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

/// Runs `f` on its own thread; panics if it does not finish within `secs` seconds.
pub fn bounded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the closure returned without sending"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {secs} s"),
    }
}

/// How many critical warnings GLib and GStreamer logged in this test process (a handler
/// counting them is installed by the first call).
pub fn criticals() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        for domain in ["GStreamer", "GLib", "GLib-GObject"] {
            gst::glib::log_set_handler(
                Some(domain),
                gst::glib::LogLevels::LEVEL_CRITICAL,
                false,
                false,
                |domain, _, message| {
                    eprintln!("{domain:?} critical: {message}");
                    COUNT.fetch_add(1, Ordering::Relaxed);
                },
            );
        }
    });
    COUNT.load(Ordering::Relaxed)
}

/// The directory every clip of this test run lives in.
pub fn dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("gstpipe-media-tests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    })
}

/// Runs `description` (with `{out}` replaced by the file's path) to EOS and returns the file.
pub fn encode(name: &str, description: &str) -> PathBuf {
    let path = dir().join(name);
    let description = description.replace("{out}", &path.display().to_string());
    let pipeline = Pipeline::launch(&description).expect("encoding pipeline");
    pipeline.play().expect("play the encoder");
    pipeline
        .wait_timeout(Duration::from_secs(90))
        .unwrap_or_else(|e| panic!("encoding {name} failed: {e}"));
    path
}

/// `videotestsrc` frames that differ everywhere from one frame to the next (a moving ball on
/// a moving pattern), `n` of them at `w`x`h`, 30 fps.
pub fn test_source(n: usize, w: u32, h: u32) -> String {
    format!(
        "videotestsrc num-buffers={n} pattern=ball animation-mode=frames background-color=0xff203040 ! \
         video/x-raw,format=I420,width={w},height={h},framerate=30/1"
    )
}

/// A clip of the test suite: its file and how many frames were encoded.
#[derive(Debug, Clone)]
pub struct Clip {
    pub path: PathBuf,
    pub frames: usize,
}

impl Clip {
    pub fn path(&self) -> &str {
        self.path.to_str().expect("utf-8 temp path")
    }
}

/// Encodes (once per test run) and returns clip `name`.
pub fn clip(name: &'static str) -> Clip {
    static CLIPS: OnceLock<std::sync::Mutex<std::collections::HashMap<&'static str, Clip>>> =
        OnceLock::new();
    let clips = CLIPS.get_or_init(Default::default);
    // Encoding holds the lock: the machine is small, one encoder at a time is enough.
    let mut clips = clips.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(clip) = clips.get(name) {
        return clip.clone();
    }
    let made = make_clip(name);
    clips.insert(name, made.clone());
    made
}

fn make_clip(name: &str) -> Clip {
    let (frames, path) = match name {
        "h264.mp4" => (
            72,
            encode(
                name,
                &format!(
                    "{} ! x264enc bframes=2 b-adapt=false key-int-max=24 speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location={{out}}",
                    test_source(72, 160, 120)
                ),
            ),
        ),
        "h264.mkv" => (
            64,
            encode(
                name,
                &format!(
                    "{} ! x264enc bframes=3 key-int-max=20 ! h264parse ! matroskamux ! filesink location={{out}}",
                    test_source(64, 160, 120)
                ),
            ),
        ),
        "h264-odd.mp4" => (
            48,
            encode(
                name,
                // x264 needs even sizes in 4:2:0: odd sizes go through 4:4:4.
                &format!(
                    "{} ! videoconvert ! video/x-raw,format=Y444 ! x264enc bframes=2 key-int-max=16 speed-preset=ultrafast ! h264parse ! mp4mux ! filesink location={{out}}",
                    test_source(48, 321, 241)
                ),
            ),
        ),
        "h265.mkv" => (
            48,
            encode(
                name,
                &format!(
                    "{} ! x265enc speed-preset=ultrafast key-int-max=16 option-string=bframes=2 ! h265parse ! matroskamux ! filesink location={{out}}",
                    test_source(48, 160, 120)
                ),
            ),
        ),
        "vp8.webm" => (
            64,
            encode(
                name,
                &format!(
                    "{} ! vp8enc deadline=1 keyframe-max-dist=20 ! webmmux ! filesink location={{out}}",
                    test_source(64, 160, 120)
                ),
            ),
        ),
        "vp9.webm" => (
            48,
            encode(
                name,
                &format!(
                    "{} ! vp9enc deadline=1 cpu-used=8 keyframe-max-dist=16 ! webmmux ! filesink location={{out}}",
                    test_source(48, 321, 241)
                ),
            ),
        ),
        "mjpeg.avi" => (
            40,
            encode(
                name,
                &format!(
                    "{} ! jpegenc ! avimux ! filesink location={{out}}",
                    test_source(40, 321, 241)
                ),
            ),
        ),
        "long.mkv" => (
            240,
            encode(
                name,
                &format!(
                    "{} ! x264enc bframes=2 key-int-max=60 speed-preset=ultrafast ! h264parse ! matroskamux ! filesink location={{out}}",
                    test_source(240, 96, 64)
                ),
            ),
        ),
        "h265.mp4" => (
            40,
            encode(
                name,
                &format!(
                    "{} ! x265enc speed-preset=ultrafast key-int-max=12 option-string=bframes=3 ! h265parse ! mp4mux ! filesink location={{out}}",
                    test_source(40, 160, 120)
                ),
            ),
        ),
        "vfr.mkv" => (60, encode_vfr(name, 60, "matroskamux")),
        "vfr.mp4" => (60, encode_vfr(name, 60, "mp4mux")),
        other => panic!("no clip {other}"),
    };
    Clip { path, frames }
}

/// Irregular frame intervals (in ms): a variable-frame-rate clip.
pub fn vfr_interval(i: usize) -> u64 {
    [20, 45, 33, 70, 25, 40][i % 6]
}

/// H.264 (B-frames) with irregular timestamps, pushed through an appsrc, into `mux`.
fn encode_vfr(name: &str, n: usize, mux: &str) -> PathBuf {
    gstpipe_core::init().expect("GStreamer");
    let path = dir().join(name);
    let (w, h) = (128usize, 96usize);
    let pipeline = gst::parse::launch(&format!(
        "appsrc name=src format=time caps=video/x-raw,format=I420,width={w},height={h},framerate=0/1 ! \
         x264enc bframes=2 key-int-max=15 speed-preset=ultrafast ! h264parse ! {mux} ! filesink location={}",
        path.display()
    ))
    .expect("vfr pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    let src = pipeline
        .by_name("src")
        .unwrap()
        .downcast::<gst_app::AppSrc>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut pts = 0u64;
    for i in 0..n {
        let mut data = vec![0u8; w * h * 3 / 2];
        for (k, byte) in data.iter_mut().enumerate().take(w * h) {
            let (x, y) = (k % w, k / w);
            *byte = ((x + 3 * i) % 200 + (y + i) % 50) as u8;
        }
        for byte in &mut data[w * h..] {
            *byte = (100 + i) as u8;
        }
        let mut buffer = gst::Buffer::from_mut_slice(data);
        {
            let buffer = buffer.get_mut().unwrap();
            buffer.set_pts(gst::ClockTime::from_mseconds(pts));
            buffer.set_duration(gst::ClockTime::from_mseconds(vfr_interval(i)));
        }
        src.push_buffer(buffer).expect("push");
        pts += vfr_interval(i);
    }
    src.end_of_stream().expect("eos");
    let bus = pipeline.bus().unwrap();
    let msg = bus
        .timed_pop_filtered(
            gst::ClockTime::from_seconds(60),
            &[gst::MessageType::Eos, gst::MessageType::Error],
        )
        .expect("the vfr encoder ends");
    assert_eq!(msg.type_(), gst::MessageType::Eos, "{msg:?}");
    pipeline.set_state(gst::State::Null).unwrap();
    path
}

/// A decoded frame of the reference decode: its pts and every plane's samples.
#[derive(Debug, Clone, PartialEq)]
pub struct RefFrame {
    pub pts: Option<gst::ClockTime>,
    pub planes: Vec<Array3<u8>>,
}

/// The planes of a frame as owned arrays (visible samples only, row padding excluded).
pub fn planes(frame: &Frame) -> Vec<Array3<u8>> {
    frame.planes_to_arrays::<u8>().expect("8-bit planes")
}

/// Every frame of a plain sequential decode of `path`, in order: `filesrc ! decodebin !
/// videoconvert ! appsink`, with `caps` before the appsink when given, and `jpegdec` set to
/// its accurate IDCT as the reader sets it.
///
/// Caps asking for an RGB format that gstpipe-frame's `YuvToRgb` makes from the decoder's
/// frames (8-bit 4:2:0) get, as from the reader, the decoder's frames converted by it (it
/// is checked against the equations and `videoconvert` in gstpipe-frame's tests): what is
/// compared here is which frame comes at which index.
pub fn reference(path: &Path, caps: Option<&str>) -> Vec<RefFrame> {
    gstpipe_core::init().expect("GStreamer");
    let target = caps
        .and_then(|c| c.parse::<gst::Caps>().ok())
        .and_then(|c| c.structure(0)?.get::<String>("format").ok())
        .map(|f| gst_video::VideoFormat::from_string(&f));
    if let Some(target) = target {
        let mut conversion = None;
        let converted = decode(path, None, |frame| {
            let conversion = conversion
                .get_or_insert_with(|| gstpipe_frame::YuvToRgb::new(frame.info(), target))
                .as_ref()?;
            Some(conversion.convert(&frame).expect("a conversion"))
        });
        if let Some(frames) = converted.into_iter().collect::<Option<Vec<_>>>() {
            return frames;
        }
    }
    decode(path, caps, Some)
        .into_iter()
        .map(|f| f.expect("a frame"))
        .collect()
}

/// The frames of `filesrc ! decodebin ! videoconvert ! [caps !] appsink`, each through `map`.
fn decode(
    path: &Path,
    caps: Option<&str>,
    mut map: impl FnMut(Frame) -> Option<Frame>,
) -> Vec<Option<RefFrame>> {
    let caps = caps.map(|c| format!("{c} ! ")).unwrap_or_default();
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={} ! decodebin ! videoconvert ! {caps}appsink name=sink sync=false",
        path.display()
    ))
    .expect("reference pipeline")
    .downcast::<gst::Pipeline>()
    .expect("a pipeline");
    pipeline.connect_deep_element_added(|_, _, element| {
        if element.factory().is_some_and(|f| f.name() == "jpegdec") {
            element.set_property_from_str("idct-method", "islow");
        }
    });
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut frames = Vec::new();
    loop {
        match sink.try_pull_sample(gst::ClockTime::from_seconds(20)) {
            Some(sample) => {
                let frame = Frame::from_sample(&sample).expect("a frame");
                frames.push(map(frame).map(|frame| RefFrame {
                    pts: frame.pts(),
                    planes: planes(&frame),
                }));
            }
            None => {
                assert!(
                    sink.is_eos(),
                    "the reference decode of {} stalled",
                    path.display()
                );
                break;
            }
        }
    }
    let bus = pipeline.bus().unwrap();
    if let Some(msg) = bus.pop_filtered(&[gst::MessageType::Error]) {
        panic!("reference decode of {} failed: {msg:?}", path.display());
    }
    pipeline.set_state(gst::State::Null).unwrap();
    frames
}

/// A small deterministic generator (xorshift) for shuffles and random indices.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i + 1));
        }
    }
}

/// Asserts that `frame` is frame `i` of the reference decode, bit for bit.
#[track_caller]
pub fn assert_frame(reference: &[RefFrame], i: usize, frame: &Frame, what: &str) {
    let expected = &reference[i];
    assert_eq!(frame.pts(), expected.pts, "{what}: pts of frame {i}");
    let got = planes(frame);
    assert!(
        got == expected.planes,
        "{what}: pixels of frame {i} differ from the sequential decode"
    );
}

/// Opens `clip` with the reader, with frames in `format` when given.
pub fn open(clip: &Clip, format: Option<gst_video::VideoFormat>) -> VideoReader {
    criticals();
    let mut builder = VideoReader::builder();
    if let Some(format) = format {
        builder = builder.format(format);
    }
    builder
        .open(clip.path())
        .unwrap_or_else(|e| panic!("open {}: {e}", clip.path()))
}
