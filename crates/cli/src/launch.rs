//! `gstpipe launch`: run a pipeline and report every frame its appsink receives.

use crate::error::usage;
use crate::interrupt::EosOnInterrupt;
use crate::output::{FrameReport, Output, Shape, Stats};
use crate::progress::Progress;
use crate::save::Saver;
use anyhow::{Context as _, Result};
use gstpipe_core::{Error as CoreError, Pipeline};
use gstpipe_frame::{Frame, SampleType, SampleValue};
use gstpipe_sinks::{FrameSink, SinkError};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The pipeline `launch` runs without `-p` (the Python original's default).
pub const DEFAULT_PIPELINE: &str = "videotestsrc num-buffers=100 ! capsfilter \
     caps=video/x-raw,format=RGB,width=640,height=480 ! appsink emit-signals=True";

/// Options of `gstpipe launch`.
#[derive(Debug, clap::Args)]
pub struct LaunchArgs {
    /// The pipeline, in gst-launch-1.0 syntax.
    #[arg(short, long, value_name = "PIPELINE", default_value = DEFAULT_PIPELINE)]
    pub pipeline: String,
    /// The appsink to pull frames from, when the pipeline has several (the others' frames
    /// are dropped).
    #[arg(long, value_name = "NAME")]
    pub sink: Option<String>,
    /// Print only the summary, no line per frame.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print NDJSON: one object per frame, then a summary object.
    #[arg(long)]
    pub json: bool,
    /// Take an owned copy of each frame (default: a zero-copy view).
    #[arg(long)]
    pub copy: bool,
    /// Write frames as DIR/frame-000000.png (8 or 16 bits as the format holds).
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// With --save, save only every K-th frame.
    #[arg(long, value_name = "K", default_value_t = 1, requires = "save",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub every: u64,
    /// Stop gracefully (end of stream) after N frames.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_frames: Option<u64>,
    /// Pace frames to the pipeline clock (appsink sync=true) instead of reading as fast as
    /// possible.
    #[arg(long)]
    pub sync: bool,
    /// Fail when no frame arrives for SECS seconds (default 10).
    #[arg(long, value_name = "SECS", value_parser = parse_seconds)]
    pub timeout: Option<Duration>,
    /// Keep a live source going: rebuild the pipeline after an error, end of stream or stall
    /// (with backoff) and print health events between the frames.
    #[arg(long)]
    pub reconnect: bool,
    /// With --reconnect, the first delay before rebuilding (doubling up to 30 s; default 0.5).
    #[arg(long, value_name = "SECS", requires = "reconnect", value_parser = parse_seconds)]
    pub reconnect_delay: Option<Duration>,
    /// With --reconnect, give up (exit 1) after N attempts in a row without a frame.
    #[arg(long, value_name = "N", requires = "reconnect",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_reconnects: Option<u32>,
    /// With --reconnect, rebuild when no frame arrives for SECS seconds (default 5).
    #[arg(long, value_name = "SECS", requires = "reconnect", value_parser = parse_seconds)]
    pub stall: Option<Duration>,
}

/// A positive, finite number of seconds (`0.5`, `10`, `1e3`); the message says which of these
/// `s` is not.
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let secs: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds (e.g. 0.5 or 10)"))?;
    if secs.is_nan() || secs <= 0.0 {
        return Err(format!("{s:?}: give a number of seconds above 0"));
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{s:?}: give a finite number of seconds, at most about 5.8e11"))
}

/// Runs `gstpipe launch`.
pub fn run(args: LaunchArgs) -> Result<()> {
    if args.reconnect {
        return crate::live::run(&args);
    }
    let pipeline = Pipeline::launch(&args.pipeline)?;
    let mut output = Output::stdout(args.json, args.quiet);
    let has_appsink = args.sink.is_some() || !pipeline.elements::<gst_app::AppSink>().is_empty();
    if !has_appsink {
        if args.save.is_some() || args.max_frames.is_some() {
            return Err(usage(
                "--save and --max-frames need an appsink in the pipeline (e.g. `... ! appsink`)",
            ));
        }
        return run_to_eos(&pipeline, &mut output);
    }

    let mut builder = FrameSink::builder(&pipeline);
    if let Some(name) = &args.sink {
        builder = builder.name(name);
    }
    if args.sync {
        builder = builder.sync(true);
    }
    if let Some(timeout) = args.timeout {
        builder = builder.timeout(timeout);
    }
    let sink = builder.build().map_err(|e| match e {
        SinkError::Pipeline(CoreError::Ambiguous { .. }) => {
            anyhow::Error::from(e).context("choose the appsink to read with --sink NAME")
        }
        e => e.into(),
    })?;
    release_unread(&pipeline, &sink);
    let saver = args
        .save
        .clone()
        .map(|dir| Saver::new(dir, args.every))
        .transpose()?;

    let start = Instant::now();
    let _interrupt = EosOnInterrupt::new(pipeline.watch());
    crate::start::play(&pipeline)?;
    let progress = Progress::new(
        !args.json && !args.quiet,
        match (pipeline.expected_frames(None), args.max_frames) {
            (Some(n), Some(m)) => Some(n.min(m)),
            (n, m) => n.or(m),
        },
        output.terminal,
    );
    let mut stats = Stats::default();
    let mut stopped_early = false;
    for (index, frame) in sink.iter().enumerate() {
        let frame = frame.map_err(|e| match e {
            SinkError::Timeout { waited, .. } => anyhow::Error::from(e).context(format!(
                "timed out: no frame for {:.1} s (--timeout)",
                waited.as_secs_f64()
            )),
            e => e.into(),
        })?;
        let index = index as u64;
        if index == 0
            && progress.is_shown()
            && let Some(total) = pipeline.expected_frames(Some(frame.info().fps()))
        {
            progress.set_total(args.max_frames.map_or(total, |m| m.min(total)));
        }
        let report = inspect(&frame, index, args.copy)?;
        if let Some(saver) = &saver {
            saver.save(&frame, index)?;
        }
        if output.per_frame() {
            progress.around(|| output.frame(&report))?;
        }
        stats.frames += 1;
        stats.bytes += report.bytes as u64;
        progress.inc();
        if args.max_frames == Some(stats.frames) {
            stopped_early = true;
            break;
        }
    }
    // stop() makes the sink let go of its appsink, so the EOS it sends travels through at
    // once even with frames still queued.
    if stopped_early {
        pipeline
            .stop()
            .context("cannot stop the pipeline after --max-frames")?;
    } else {
        pipeline.stop()?;
    }
    let elapsed = start.elapsed();
    drop(progress);
    output.summary(stats, elapsed)
}

/// Lets the appsinks nobody reads drop their frames and let end of stream through
/// ([`FrameSink::discard_other_appsinks`]), and stop them pacing the pipeline: an appsink
/// that syncs to the clock holds its branch, and so a `tee`'s other branches, to real time
/// even while it drops everything. A `sync` the description wrote is the user's and is kept.
fn release_unread(pipeline: &Pipeline, sink: &FrameSink) {
    sink.discard_other_appsinks(pipeline);
    for other in pipeline.elements::<gst_app::AppSink>() {
        if &other != sink.appsink() && !pipeline.is_user_set(&other, "sync") {
            other.set_sync(false);
        }
    }
}

/// A pipeline without appsink: run it to end of stream, like gst-launch-1.0.
fn run_to_eos(pipeline: &Pipeline, output: &mut Output) -> Result<()> {
    let start = Instant::now();
    let _interrupt = EosOnInterrupt::new(pipeline.watch());
    crate::start::play(pipeline)?;
    pipeline.wait()?;
    pipeline.stop()?;
    output.summary(Stats::default(), start.elapsed())
}

/// Looks at the frame as arrays (views, or copies with `copy`) and reports their shapes.
pub fn inspect(frame: &Frame, index: u64, copy: bool) -> Result<FrameReport> {
    let info = frame.format_info();
    let packed = info.is_packed();
    let (shape, dtype) = match info.sample_type() {
        SampleType::U8 => (shapes::<u8>(frame, packed, copy)?, "u8"),
        SampleType::U16 => (shapes::<u16>(frame, packed, copy)?, "u16"),
        SampleType::None => (
            Shape::Bytes(
                (0..info.n_planes())
                    .map(|p| frame.plane_bytes(p).map(|b| b.len()).unwrap_or(0))
                    .collect(),
            ),
            "none",
        ),
    };
    Ok(FrameReport {
        index,
        pts: frame.pts(),
        format: frame.format().to_str().as_str(),
        width: frame.width(),
        height: frame.height(),
        shape,
        dtype,
        bytes: frame.info().size(),
        detections: frame.detections(),
    })
}

fn dims(shape: &[usize]) -> [usize; 3] {
    [shape[0], shape[1], shape[2]]
}

fn shapes<T: SampleValue>(frame: &Frame, packed: bool, copy: bool) -> Result<Shape> {
    if packed {
        let shape = if copy {
            dims(frame.to_array::<T>()?.shape())
        } else {
            match frame.view::<T>() {
                Ok(view) => dims(view.shape()),
                Err(e) => {
                    // e.g. big-endian 16-bit samples have no zero-copy view: copy instead.
                    tracing::debug!("no view of the {} frame ({e}), copying", frame.format());
                    dims(frame.to_array::<T>()?.shape())
                }
            }
        };
        Ok(Shape::Packed(shape))
    } else {
        let shapes = if copy {
            frame
                .planes_to_arrays::<T>()?
                .iter()
                .map(|a| dims(a.shape()))
                .collect()
        } else {
            match frame.planes::<T>() {
                Ok(views) => views.iter().map(|v| dims(v.shape())).collect(),
                Err(e) => {
                    tracing::debug!("no view of the {} frame ({e}), copying", frame.format());
                    frame
                        .planes_to_arrays::<T>()?
                        .iter()
                        .map(|a| dims(a.shape()))
                        .collect()
                }
            }
        };
        Ok(Shape::Planes(shapes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `inspect` reads a frame's detections into its report, and the report's JSON has them.
    #[test]
    fn inspect_reports_detections() {
        use gst_video::{VideoFormat, VideoInfo};
        use gstpipe_frame::{Detection, add_detections};

        gst::init().unwrap();
        let info = VideoInfo::builder(VideoFormat::Rgb, 8, 6).build().unwrap();
        let plain =
            Frame::from_buffer(gst::Buffer::with_size(info.size()).unwrap(), &info).unwrap();
        let report = inspect(&plain, 0, false).unwrap();
        assert!(report.detections.is_empty());
        assert!(report.to_json().get("detections").is_none());

        let detections = [
            Detection::new("chat 🐈", (1, 1, 4, 3), 0.5).with_track_id(3),
            Detection::new("犬", (0, 0, 8, 6), 0.25),
        ];
        let mut buffer = gst::Buffer::with_size(info.size()).unwrap();
        add_detections(buffer.get_mut().unwrap(), &detections);
        let frame = Frame::from_buffer(buffer, &info).unwrap();
        let report = inspect(&frame, 7, true).unwrap();
        assert_eq!(report.detections, detections);
        let json = report.to_json();
        assert_eq!(json["detections"][0]["class_name"], "chat 🐈");
        assert_eq!(json["detections"][0]["track_id"], 3);
        assert_eq!(json["detections"][1]["confidence"], 0.25);
        assert!(json["detections"][1]["track_id"].is_null());
        assert!(
            report.to_line().ends_with("  2 detections"),
            "{}",
            report.to_line()
        );
    }

    #[test]
    fn seconds_parse() {
        assert_eq!(parse_seconds("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_seconds("1e3"), Ok(Duration::from_secs(1000)));
        for (bad, says) in [
            ("0", "above 0"),
            ("-1", "above 0"),
            ("NaN", "above 0"),
            ("inf", "finite"),
            ("1e300", "finite"),
            ("soon", "not a number"),
        ] {
            let message = parse_seconds(bad).unwrap_err();
            assert!(message.contains(says), "{bad}: {message}");
        }
    }
}
