//! `video_reader`: decoding a file through [`VideoReader`] against GStreamer alone.
//!
//! - `sequential/h264-1080p`: every frame of a 1080p H.264 clip (B-frames) through
//!   `VideoReader::frames`, against `filesrc ! decodebin ! fakesink` on the same file, in the
//!   same process (what `gst-launch-1.0` runs), and a raw `decodebin ! appsink` pull loop.
//! - `random/h264-1080p-60s`: 10 frames at random indices of a one-minute 1080p H.264 clip,
//!   in the order given (`get` per frame) and as one batch (`get_batch`), and opening the file
//!   (the parse-only index scan, uncached).
//!
//! The clips are encoded once into `target/bench-media/` with x264 (2 B-frames, a keyframe
//! every 2 s, 6 Mbit/s). `benches/scripts/random_access.py` times OpenCV and decord on the
//! same one-minute file and indices.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gst::prelude::*;
use gstpipe_core::Pipeline;
use gstpipe_media::VideoReader;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(300);

/// The clips' sizes: 1080p, 150 frames (5 s) and 1800 frames (one minute) when benchmarking;
/// small ones when `cargo test --benches` runs each benchmark once (no `--bench` argument),
/// so that the test suite does not encode a minute of 1080p.
struct Clips {
    width: u32,
    height: u32,
    sequential: usize,
    minute: usize,
    label: &'static str,
}

fn clips() -> Clips {
    if std::env::args().any(|a| a == "--bench") {
        Clips {
            width: 1920,
            height: 1080,
            sequential: 150,
            minute: 1800,
            label: "1080p",
        }
    } else {
        Clips {
            width: 160,
            height: 120,
            sequential: 30,
            minute: 1800,
            label: "test",
        }
    }
}

/// The 10 frame indices read from the one-minute clip (fixed, so that every tool reads the
/// same ones; `benches/scripts/random_access.py` uses the same list).
pub const RANDOM_INDICES: [usize; 10] = [1234, 77, 1799, 903, 450, 1501, 12, 1020, 666, 1350];

/// `target/bench-media/NAME`, encoded on first use: H.264 in MP4, `frames` frames.
fn clip(name: &str, frames: usize, c: &Clips) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/bench-media");
    std::fs::create_dir_all(&dir).expect("bench media dir");
    let name = format!("{}-{name}", c.label);
    let path = dir.join(&name);
    if path.exists() {
        return path;
    }
    let partial = dir.join(format!("{name}.part"));
    eprintln!("encoding {} ({frames} frames of H.264)...", path.display());
    let pipeline = Pipeline::launch(&format!(
        "videotestsrc num-buffers={frames} pattern=smpte horizontal-speed=5 ! \
         video/x-raw,format=I420,width={},height={},framerate=30/1 ! \
         x264enc speed-preset=superfast bframes=2 key-int-max=60 bitrate=6000 ! h264parse ! \
         mp4mux ! filesink location={}",
        c.width,
        c.height,
        partial.display()
    ))
    .expect("encoder pipeline");
    pipeline.play().expect("encoder plays");
    pipeline
        .wait_timeout(Duration::from_secs(1800))
        .expect("encoder ends");
    drop(pipeline);
    std::fs::rename(&partial, &path).expect("rename the clip");
    path
}

/// `filesrc ! decodebin ! fakesink`: what `gst-launch-1.0` does with the file.
fn decodebin_fakesink(path: &str) {
    let pipeline = Pipeline::launch(&format!(
        "filesrc location={path} ! decodebin ! fakesink sync=false"
    ))
    .unwrap();
    pipeline.play().unwrap();
    pipeline.wait_timeout(LIMIT).unwrap();
}

/// `filesrc ! decodebin ! appsink` pulled by hand: the raw gstreamer-rs baseline.
fn decodebin_appsink(path: &str) -> usize {
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={path} ! decodebin ! appsink name=sink sync=false max-buffers=4 \
         enable-last-sample=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut n = 0;
    while let Ok(sample) = sink.pull_sample() {
        black_box(sample.buffer().map(|b| b.size()));
        n += 1;
    }
    pipeline.set_state(gst::State::Null).unwrap();
    n
}

fn reader_sequential(path: &str) -> usize {
    let mut reader = VideoReader::open(path).unwrap();
    let mut n = 0;
    for frame in reader.frames() {
        black_box(frame.unwrap().width());
        n += 1;
    }
    n
}

/// Makes the reader's index cache miss: the key holds the file's modification time.
fn touch(path: &str) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(std::time::SystemTime::now()).unwrap();
}

fn sequential(criterion: &mut Criterion) {
    gstpipe_core::init().unwrap();
    let c = clips();
    let frames = c.sequential;
    let path = clip("h264-5s.mp4", frames, &c);
    let path = path.to_str().unwrap().to_string();
    assert_eq!(reader_sequential(&path), frames);
    let mut group = criterion.benchmark_group(format!("video_reader/sequential/h264-{}", c.label));
    group.sample_size(10);
    group.throughput(Throughput::Elements(frames as u64));
    group.bench_function(BenchmarkId::new("decodebin_fakesink", "5s"), |b| {
        b.iter(|| decodebin_fakesink(&path))
    });
    group.bench_function(BenchmarkId::new("decodebin_appsink", "5s"), |b| {
        b.iter(|| assert_eq!(decodebin_appsink(&path), frames))
    });
    group.bench_function(BenchmarkId::new("reader_sequential", "5s"), |b| {
        b.iter(|| assert_eq!(reader_sequential(&path), frames))
    });
    group.finish();
}

fn random(criterion: &mut Criterion) {
    gstpipe_core::init().unwrap();
    let c = clips();
    let path = clip("h264-60s.mp4", c.minute, &c);
    let path = path.to_str().unwrap().to_string();
    let mut reader = VideoReader::open(&path).unwrap();
    assert_eq!(reader.len(), c.minute);
    let mut group = criterion.benchmark_group(format!("video_reader/random/h264-{}-60s", c.label));
    group.sample_size(10);
    group.throughput(Throughput::Elements(RANDOM_INDICES.len() as u64));
    group.bench_function(BenchmarkId::new("reader_get_in_order_given", "10"), |b| {
        b.iter(|| {
            for &i in &RANDOM_INDICES {
                black_box(reader.get(i).unwrap().width());
            }
        })
    });
    group.bench_function(BenchmarkId::new("reader_get_batch", "10"), |b| {
        b.iter(|| black_box(reader.get_batch(&RANDOM_INDICES).unwrap().len()))
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("open_with_index_scan", "1"), |b| {
        b.iter(|| {
            touch(&path);
            black_box(VideoReader::open(&path).unwrap().len())
        })
    });
    group.finish();
}

criterion_group!(benches, sequential, random);
criterion_main!(benches);
