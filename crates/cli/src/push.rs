//! `gstpipe push`: generate frames in the application and push them through an appsrc.

use crate::error::usage;
use crate::interrupt;
use crate::pattern::{Level, Pattern, Range, generate};
use anyhow::{Context as _, Result};
use gst_video::VideoFormat;
use gstpipe_core::{Outcome, Pipeline};
use gstpipe_frame::{Input, SampleType, SampleValue};
use gstpipe_sinks::FrameSource;
use std::time::Instant;

/// Options of `gstpipe push`.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// The pipeline, with an appsrc (e.g. "appsrc ! videoconvert ! pngenc ! multifilesink").
    #[arg(short, long, value_name = "PIPELINE")]
    pub pipeline: String,
    /// The appsrc to push into, when the pipeline has several.
    #[arg(long, value_name = "NAME")]
    pub src: Option<String>,
    /// How many frames to push (0: until Ctrl-C).
    #[arg(short = 'n', long, value_name = "N", default_value_t = 100)]
    pub frames: u64,
    /// Frame width in pixels.
    #[arg(long, value_name = "W", default_value_t = 640,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub width: u32,
    /// Frame height in pixels.
    #[arg(long, value_name = "H", default_value_t = 480,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub height: u32,
    /// Raw video format (see `gstpipe formats`).
    #[arg(long, value_name = "F", default_value = "RGB", value_parser = parse_format)]
    pub format: VideoFormat,
    /// Frames per second, as N or N/D (e.g. 30000/1001).
    #[arg(long, value_name = "R", default_value = "30", value_parser = parse_framerate)]
    pub framerate: gst::Fraction,
    /// What the frames show.
    #[arg(long, value_enum, default_value_t = Pattern::Gradient)]
    pub pattern: Pattern,
    /// Print nothing on success.
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_format(s: &str) -> Result<VideoFormat, String> {
    gstpipe_frame::parse_format(s).map_err(|e| e.to_string())
}

fn parse_framerate(s: &str) -> Result<gst::Fraction, String> {
    let bad = || format!("{s:?} is not a frame rate (N or N/D, e.g. 30 or 30000/1001)");
    let (n, d) = match s.split_once('/') {
        Some((n, d)) => (n.trim().parse::<i32>(), d.trim().parse::<i32>()),
        None => (s.trim().parse::<i32>(), Ok(1)),
    };
    match (n, d) {
        (Ok(n), Ok(d)) if n > 0 && d > 0 => Ok(gst::Fraction::new(n, d)),
        _ => Err(bad()),
    }
}

/// Runs `gstpipe push`.
pub fn run(args: PushArgs) -> Result<()> {
    let pipeline = Pipeline::launch(&args.pipeline)?;
    let format_info = gstpipe_frame::format_info(args.format)
        .map_err(|e| usage(format!("cannot push {}: {e}", args.format.to_str())))?;
    let gst_info = gst_video::VideoFormatInfo::from_format(args.format);
    let range = Range {
        depth: gst_info.depth()[0],
        shift: gst_info.shift()[0],
    };
    if format_info.sample_type() == SampleType::None {
        return Err(usage(format!(
            "cannot generate {} frames: its samples are not whole bytes; pick another --format",
            args.format.to_str()
        )));
    }
    let info = gst_video::VideoInfo::builder(args.format, args.width, args.height)
        .fps(args.framerate)
        .build()
        .map_err(|e| {
            usage(format!(
                "{}x{} {} is not a valid video format: {e}",
                args.width,
                args.height,
                args.format.to_str()
            ))
        })?;

    let mut builder = FrameSource::builder(&pipeline).info(info);
    if let Some(name) = &args.src {
        builder = builder.name(name);
    }
    let src = builder.build()?;
    let start = Instant::now();
    // FrameSource makes the appsrc live: play() does not wait for a preroll.
    crate::start::play(&pipeline)?;

    let shapes = src.shapes();
    let mut count: u64 = 0;
    for index in 0.. {
        if args.frames != 0 && index >= args.frames {
            break;
        }
        if interrupt::interrupted() {
            tracing::info!("interrupted: finishing the stream after {index} frames");
            break;
        }
        let pushed = match format_info.sample_type() {
            SampleType::U16 => push_one::<u16>(&src, &args, index, &shapes, range),
            _ => push_one::<u8>(&src, &args, index, &shapes, range),
        };
        pushed
            .map_err(|e| pipeline_error(&pipeline).unwrap_or(e))
            .with_context(|| format!("cannot push frame {index}"))?;
        count += 1;
    }
    src.finish()
        .map_err(|e| pipeline_error(&pipeline).unwrap_or(e.into()))
        .context("cannot finish the stream")?;
    pipeline.stop()?;
    let seconds = start.elapsed().as_secs_f64();
    if !args.quiet {
        let fps = if seconds > 0.0 {
            count as f64 / seconds
        } else {
            0.0
        };
        println!(
            "pushed {count} frames ({}x{} {}, {}/{} fps, {} pattern) in {seconds:.3} s: {fps:.1} fps",
            args.width,
            args.height,
            args.format.to_str(),
            args.framerate.numer(),
            args.framerate.denom(),
            args.pattern.name(),
        );
    }
    Ok(())
}

fn push_one<T: SampleValue + Level>(
    src: &FrameSource,
    args: &PushArgs,
    index: u64,
    shapes: &[[usize; 3]],
    range: Range,
) -> Result<()> {
    let (w, h) = (args.width as usize, args.height as usize);
    let mut planes = generate::<T>(args.pattern, index, w, h, shapes, range);
    if planes.len() == 1 {
        src.push(Input::array(planes.remove(0)))?;
    } else {
        src.push(Input::planes(planes.iter().map(|p| p.view())))?;
    }
    Ok(())
}

/// The element error the pipeline ended with, if it did.
fn pipeline_error(pipeline: &Pipeline) -> Option<anyhow::Error> {
    match pipeline.outcome() {
        Some(Outcome::Error(e)) => Some(gstpipe_core::Error::Element(e).into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framerates() {
        assert_eq!(parse_framerate("30"), Ok(gst::Fraction::new(30, 1)));
        assert_eq!(
            parse_framerate("30000/1001"),
            Ok(gst::Fraction::new(30000, 1001))
        );
        assert!(parse_framerate("0").is_err());
        assert!(parse_framerate("fast").is_err());
        assert!(parse_framerate("30/0").is_err());
    }

    #[test]
    fn formats_parse_by_gstreamer_name() {
        assert_eq!(parse_format("I420"), Ok(VideoFormat::I420));
        assert_eq!(parse_format("GRAY16_LE"), Ok(VideoFormat::Gray16Le));
        assert!(parse_format("NOPE").is_err());
    }
}
