//! `streams`: how many 30 fps 1080p H.264 streams this machine decodes and batches, and how
//! the cost grows from 1 to 16 streams.
//!
//! ```text
//! cargo run --profile bench -p gstpipe-benches --bin streams -- [--counts 1,2,4,8,16] [--frames 150]
//! ```
//!
//! A clip is encoded once with `x264enc` (1920x1080, 30 fps, 4 Mbit/s, no B-frames, as a camera
//! sends) into `target/bench-media/`. Then, for each stream count N, N pipelines `filesrc !
//! qtdemux ! h264parse ! avdec_h264 ! videoscale ! videoconvert !
//! video/x-raw,format=RGB,width=640,height=360 ! appsink` feed one `Batcher`, and every batch
//! is converted into a reused `(N, 3, 360, 640)` f32 array with ImageNet normalisation:
//!
//! - `decode only`: one stream into `fakesink`, for the decoder's share of the cost;
//! - `flat out`: the files read as fast as possible, every frame batched (`QueuePolicy::block(2)`):
//!   total decoded frames per second, CPU time per frame, and the real-time capacity (total
//!   fps / 30, and 2 cores' worth of CPU time / CPU time per frame / 30);
//! - `paced`: the same streams at their real rate (`appsink sync=true`), 30 fps each, a
//!   stream that is ahead keeping its newest frame (`QueuePolicy::keep_newest()`): CPU load of the
//!   machine, delivered fps per stream, and the worst lag of a frame behind its real-time due
//!   date, which grows without bound once the machine cannot keep up.
//!
//! Prints one JSON object per run, then Markdown tables for docs/performance.md.

use gstpipe_batch::{Batcher, Normalize, QueuePolicy};
use gstpipe_core::Pipeline;
use gstpipe_sinks::FrameSink;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WIDTH: usize = 640;
const HEIGHT: usize = 360;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut counts = vec![1usize, 2, 4, 8, 16];
    let mut frames = 150u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--counts" => {
                counts = args
                    .next()
                    .ok_or("--counts needs a list")?
                    .split(',')
                    .map(str::parse)
                    .collect::<Result<_, _>>()?;
            }
            "--frames" => frames = args.next().ok_or("--frames needs a number")?.parse()?,
            other => return Err(format!("unknown argument {other:?}").into()),
        }
    }
    gstpipe_core::init()?;
    let clip = clip(frames)?;
    eprintln!("streams: clip {}", clip.display());
    let decode = decode_only(&clip)?;
    println!(
        "{}",
        json!({"mode": "decode_only", "cpu_ms_per_frame": decode.as_secs_f64() * 1e3})
    );
    let mut flat_out = Vec::new();
    let mut paced = Vec::new();
    for &n in &counts {
        let run = run(&clip, n, false)?;
        println!("{}", run.to_json("flat_out"));
        flat_out.push(run);
    }
    for &n in &counts {
        let run = run(&clip, n, true)?;
        println!("{}", run.to_json("paced"));
        paced.push(run);
    }
    println!();
    println!("{}", tables(decode, &flat_out, &paced));
    Ok(())
}

/// The H.264 clip, encoded once.
fn clip(frames: u32) -> Result<PathBuf, Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let dir = root.join("target/bench-media");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("camera-1080p30-{frames}.mp4"));
    if path.exists() {
        return Ok(path);
    }
    eprintln!("streams: encoding {frames} frames of 1080p H.264 with x264enc");
    let partial = dir.join(format!("camera-1080p30-{frames}.partial.mp4"));
    let pipeline = Pipeline::launch(&format!(
        "videotestsrc num-buffers={frames} pattern=smpte horizontal-speed=6 ! \
         video/x-raw,format=I420,width=1920,height=1080,framerate=30/1 ! \
         x264enc bitrate=4000 bframes=0 key-int-max=60 speed-preset=superfast ! \
         h264parse ! mp4mux ! filesink location={}",
        partial.display()
    ))?;
    pipeline.play()?;
    pipeline.wait_timeout(Duration::from_secs(600))?;
    pipeline.stop()?;
    std::fs::rename(&partial, &path)?;
    Ok(path)
}

/// What one run measured.
struct Run {
    streams: usize,
    wall: Duration,
    cpu: Duration,
    received: u64,
    batched: u64,
    dropped: u64,
    batches: u64,
    complete: u64,
    convert: Duration,
    max_lag: Duration,
}

impl Run {
    fn fps(&self) -> f64 {
        self.received as f64 / self.wall.as_secs_f64()
    }

    fn cpu_ms_per_frame(&self) -> f64 {
        self.cpu.as_secs_f64() * 1e3 / self.received as f64
    }

    fn load(&self) -> f64 {
        self.cpu.as_secs_f64() / self.wall.as_secs_f64() / cores() as f64
    }

    fn to_json(&self, mode: &str) -> serde_json::Value {
        json!({
            "mode": mode,
            "streams": self.streams,
            "seconds": self.wall.as_secs_f64(),
            "frames": self.received,
            "fps": self.fps(),
            "fps_per_stream": self.fps() / self.streams as f64,
            "realtime_streams": self.fps() / 30.0,
            "cpu_ms_per_frame": self.cpu_ms_per_frame(),
            "machine_load": self.load(),
            "batched": self.batched,
            "dropped": self.dropped,
            "batches": self.batches,
            "complete_batches": self.complete,
            "convert_ms_per_batch": self.convert.as_secs_f64() * 1e3 / self.batches.max(1) as f64,
            "max_lag_ms": self.max_lag.as_secs_f64() * 1e3,
        })
    }
}

/// Decodes `n` copies of the clip into one batcher, converting every batch.
fn run(clip: &Path, n: usize, paced: bool) -> Result<Run, Box<dyn std::error::Error>> {
    let description = format!(
        "filesrc location={} ! qtdemux ! h264parse ! avdec_h264 ! videoscale ! videoconvert ! \
         video/x-raw,format=RGB,width={WIDTH},height={HEIGHT} ! appsink",
        clip.display()
    );
    // Flat out, every decoded frame is batched (the decoders wait for the batcher); paced,
    // as with cameras, a stream that is ahead keeps its newest frame.
    let ahead = if paced {
        QueuePolicy::keep_newest()
    } else {
        QueuePolicy::block(2)
    };
    let mut batcher = Batcher::builder()
        .timeout(Duration::from_millis(40))
        .ahead(ahead)
        .build();
    let mut pipelines = Vec::with_capacity(n);
    for _ in 0..n {
        let pipeline = Pipeline::launch(&description)?;
        batcher.add(FrameSink::builder(&pipeline).sync(paced).build()?)?;
        pipelines.push(pipeline);
    }
    let normalize = Normalize::imagenet();
    let mut input = ndarray::Array4::<f32>::zeros((n, 3, HEIGHT, WIDTH));
    let cpu_start = cpu_time();
    let start = Instant::now();
    for pipeline in &pipelines {
        pipeline.play()?;
    }
    let mut batches = 0;
    let mut complete = 0;
    let mut convert = Duration::ZERO;
    let mut max_lag = Duration::ZERO;
    while let Some(batch) = batcher.next_batch()? {
        let converting = Instant::now();
        batch.nchw_into(&mut input, &normalize)?;
        convert += converting.elapsed();
        batches += 1;
        complete += u64::from(batch.formed == gstpipe_batch::Formed::Complete);
        for slot in batch.slots.iter().flatten() {
            // How late the frame reached the batcher after its real-time due date.
            let due = start + Duration::from_nanos(slot.pts.map_or(0, |p| p.nseconds()));
            max_lag = max_lag.max(slot.received.saturating_duration_since(due));
        }
    }
    let wall = start.elapsed();
    let cpu = cpu_time().saturating_sub(cpu_start);
    let streams = batcher.streams();
    if let Some(failed) = streams
        .iter()
        .find_map(|s| s.end.as_ref().and_then(|e| e.error()))
    {
        return Err(format!("a stream failed: {failed}").into());
    }
    Ok(Run {
        streams: n,
        wall,
        cpu,
        received: streams.iter().map(|s| s.received).sum(),
        batched: streams.iter().map(|s| s.batched).sum(),
        dropped: streams.iter().map(|s| s.dropped).sum(),
        batches,
        complete,
        convert,
        max_lag,
    })
}

/// CPU time per frame of decoding the clip alone (`avdec_h264 ! fakesink`).
fn decode_only(clip: &Path) -> Result<Duration, Box<dyn std::error::Error>> {
    let pipeline = Pipeline::launch(&format!(
        "filesrc location={} ! qtdemux ! h264parse ! avdec_h264 ! \
         fakesink sync=false signal-handoffs=false name=sink",
        clip.display()
    ))?;
    let cpu_start = cpu_time();
    pipeline.play()?;
    pipeline.wait_timeout(Duration::from_secs(600))?;
    let cpu = cpu_time().saturating_sub(cpu_start);
    let sink = pipeline.by_name("sink").ok_or("no fakesink")?;
    // The clip's frame count, from the file itself.
    let frames = {
        use gst::prelude::*;
        sink.query_position::<gst::ClockTime>()
            .map_or(0, |p| (p.nseconds() * 30).div_ceil(1_000_000_000))
    };
    pipeline.stop()?;
    Ok(cpu / u32::try_from(frames.max(1)).unwrap_or(u32::MAX))
}

/// User + system CPU time of this process (Linux: `/proc/self/stat`, in clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<u64> = after
        .split_whitespace()
        .skip(11) // state .. cmajflt: fields 3 to 13
        .take(2) // utime, stime
        .filter_map(|f| f.parse().ok())
        .collect();
    Duration::from_millis(fields.iter().sum::<u64>() * 10)
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn tables(decode: Duration, flat_out: &[Run], paced: &[Run]) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "Decoding alone (`avdec_h264 ! fakesink`): {:.2} CPU ms per 1080p frame.\n\n",
        decode.as_secs_f64() * 1e3
    ));
    s.push_str("Flat out (files decoded as fast as possible):\n\n");
    s.push_str(
        "| streams | decoded fps (total) | fps per stream | 30 fps streams at this fps | \
         CPU ms per frame | 30 fps streams by CPU time | convert ms per batch | complete batches |\n",
    );
    s.push_str("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in flat_out {
        s.push_str(&format!(
            "| {} | {:.0} | {:.1} | {:.1} | {:.2} | {:.1} | {:.2} | {}/{} |\n",
            r.streams,
            r.fps(),
            r.fps() / r.streams as f64,
            r.fps() / 30.0,
            r.cpu_ms_per_frame(),
            cores() as f64 * 1e3 / r.cpu_ms_per_frame() / 30.0,
            r.convert.as_secs_f64() * 1e3 / r.batches.max(1) as f64,
            r.complete,
            r.batches,
        ));
    }
    s.push_str("\nPaced (each stream at 30 fps, `appsink sync=true`):\n\n");
    s.push_str(
        "| streams | machine load | fps per stream | worst lag | dropped | complete batches |\n",
    );
    s.push_str("| ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in paced {
        s.push_str(&format!(
            "| {} | {:.0}% | {:.1} | {:.0} ms | {} | {}/{} |\n",
            r.streams,
            r.load() * 100.0,
            r.fps() / r.streams as f64,
            r.max_lag.as_secs_f64() * 1e3,
            r.dropped,
            r.complete,
            r.batches,
        ));
    }
    s
}
