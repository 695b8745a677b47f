//! `gstpipe frames FILE --index 0,17,99`: exact frames of a video file by index, reported and
//! optionally saved as PNG.

use crate::error::usage;
use crate::save::Saver;
use anyhow::{Context as _, Result};
use gstpipe_media::VideoReader;
use serde_json::json;
use std::ffi::OsString;
use std::io::Write as _;
use std::path::PathBuf;

/// Options of `gstpipe frames`.
#[derive(Debug, clap::Args)]
pub struct FramesArgs {
    /// The video file (a path, any bytes the file system allows, or a URI such as
    /// file:///...).
    #[arg(value_name = "FILE")]
    pub file: OsString,
    /// Frame indices, comma-separated, in any order (repeats allowed): frame i is the i-th
    /// frame of a sequential decode; a negative index counts from the end (-1 is the last
    /// frame).
    #[arg(
        long,
        short,
        value_name = "I,J,...",
        value_delimiter = ',',
        required = true,
        allow_hyphen_values = true,
        value_parser = parse_index
    )]
    pub index: Vec<i64>,
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

fn parse_index(s: &str) -> Result<i64, String> {
    s.trim().parse().map_err(|_| {
        format!(
            "{s:?} is not a frame index: give a whole number, 0 for the first frame, \
             negative to count from the end (-1 is the last frame)"
        )
    })
}

/// The frame `index` stands for in a video of `len` frames (negative: from the end).
fn resolve(index: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let resolved = if index < 0 {
        len.checked_add(index)?
    } else {
        index
    };
    usize::try_from(resolved).ok().filter(|_| resolved < len)
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
    let file = crate::info::shown(&args.file);
    let len = reader.len();
    let indices = args
        .index
        .iter()
        .map(|&i| {
            resolve(i, len).ok_or_else(|| {
                usage(format!(
                    "frame index {i} is out of range: {file} has {len} frames (indices 0 to {}, \
                     or -{len} to -1 from the end)",
                    len.saturating_sub(1)
                ))
            })
        })
        .collect::<Result<Vec<usize>>>()?;
    let saver = args.save.map(|dir| Saver::new(dir, 1)).transpose()?;
    let frames = reader
        .get_batch(&indices)
        .with_context(|| format!("cannot read frames of {file}"))?;
    let mut out = crate::output::stdout();
    for (&index, frame) in indices.iter().zip(&frames) {
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
        crate::output::print_line(&mut out, line)?;
    }
    out.flush().context("cannot write to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_indices_count_from_the_end() {
        assert_eq!(resolve(0, 45), Some(0));
        assert_eq!(resolve(44, 45), Some(44));
        assert_eq!(resolve(-1, 45), Some(44));
        assert_eq!(resolve(-45, 45), Some(0));
        assert_eq!(resolve(45, 45), None);
        assert_eq!(resolve(-46, 45), None);
        assert_eq!(resolve(i64::MIN, 45), None);
        assert_eq!(resolve(i64::MAX, 45), None);
        assert_eq!(parse_index(" -3"), Ok(-3));
        let message = parse_index("1.5").unwrap_err();
        assert!(message.contains("not a frame index"), "{message}");
    }
}
