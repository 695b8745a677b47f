//! `gstpipe frames FILE --index 0,17,99`: exact frames of a video file by index, reported and
//! optionally saved as PNG.

use crate::error::usage;
use crate::save::Saver;
use anyhow::{Context as _, Result};
use gstpipe_media::VideoReader;
use serde_json::json;
use std::io::Write as _;
use std::path::PathBuf;

/// Options of `gstpipe frames`.
#[derive(Debug, clap::Args)]
pub struct FramesArgs {
    /// The video file (a path, or a URI such as file:///...).
    #[arg(value_name = "FILE")]
    pub file: String,
    /// Frame indices, comma-separated, in any order (repeats allowed): frame i is the i-th
    /// frame of a sequential decode.
    #[arg(
        long,
        short,
        value_name = "I,J,...",
        value_delimiter = ',',
        required = true
    )]
    pub index: Vec<usize>,
    /// Write each frame as DIR/frame-<index:06>.png (in RGB).
    #[arg(long, value_name = "DIR")]
    pub save: Option<PathBuf>,
    /// The raw format to read frames in (e.g. RGB, GRAY8, I420). Default: RGB with --save,
    /// the decoder's own format otherwise.
    #[arg(long, value_name = "FORMAT")]
    pub format: Option<String>,
    /// Print NDJSON: one object per frame (`index`, `pts` in seconds, `format`, `width`,
    /// `height`, `path` when saved).
    #[arg(long)]
    pub json: bool,
}

/// Runs `gstpipe frames`.
pub fn run(args: FramesArgs) -> Result<()> {
    let format = match (&args.format, &args.save) {
        (Some(name), _) => {
            Some(gstpipe_frame::parse_format(name).map_err(|e| usage(e.to_string()))?)
        }
        (None, Some(_)) => Some(gst_video::VideoFormat::Rgb),
        (None, None) => None,
    };
    let mut builder = VideoReader::builder();
    if let Some(format) = format {
        builder = builder.format(format);
    }
    let mut reader = crate::info::open(&args.file, builder)?;
    if let Some(&index) = args.index.iter().find(|&&i| i >= reader.len()) {
        return Err(usage(format!(
            "frame index {index} is out of range: {} has {} frames (indices 0 to {})",
            args.file,
            reader.len(),
            reader.len().saturating_sub(1)
        )));
    }
    let saver = args.save.map(|dir| Saver::new(dir, 1)).transpose()?;
    let frames = reader
        .get_batch(&args.index)
        .with_context(|| format!("cannot read frames of {}", args.file))?;
    let mut out = std::io::stdout().lock();
    for (&index, frame) in args.index.iter().zip(&frames) {
        let path = match &saver {
            Some(saver) => saver.save(frame, index as u64)?,
            None => None,
        };
        let pts = frame.pts().map(|p| p.seconds_f64());
        let line = if args.json {
            json!({
                "index": index,
                "pts": pts,
                "format": frame.format().to_str().as_str(),
                "width": frame.width(),
                "height": frame.height(),
                "path": path.as_ref().map(|p| p.display().to_string()),
            })
            .to_string()
        } else {
            let mut line = format!(
                "frame {index:>6}  pts {:>10.6}  {} {}x{}",
                pts.unwrap_or(f64::NAN),
                frame.format().to_str(),
                frame.width(),
                frame.height()
            );
            if let Some(path) = &path {
                line.push_str(&format!("  -> {}", path.display()));
            }
            line
        };
        writeln!(out, "{line}").context("cannot write to stdout")?;
    }
    out.flush().context("cannot write to stdout")
}
