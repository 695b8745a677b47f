//! `gstpipe info FILE`: what a video file holds, exactly: frame count, rate, duration, size,
//! format, codec.

use crate::error::usage;
use anyhow::{Context as _, Result};
use gstpipe_media::{MediaError, VideoReader};
use serde_json::{Value, json};
use std::ffi::{OsStr, OsString};
use std::io::Write as _;
use std::path::Path;

/// Options of `gstpipe info`.
#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// The video file (a path, any bytes the file system allows, or a URI such as
    /// file:///...).
    #[arg(value_name = "FILE")]
    pub file: OsString,
    /// Print one JSON object: `file`, `frames`, `fps`, `variable_rate`, `duration` (seconds),
    /// `width`, `height`, `format`, `codec`, `first_pts` (seconds), `keyframes`, `index`.
    #[arg(long)]
    pub json: bool,
}

/// Opens `file`, turning the errors that are the caller's to fix (no such file, not a URI
/// GStreamer reads) into usage errors. A path that is not UTF-8 is opened through its
/// `file://` URI, which escapes its bytes.
pub fn open(file: &OsStr, reader: gstpipe_media::VideoReaderBuilder) -> Result<VideoReader> {
    let location = match file.to_str() {
        Some(text) => text.to_owned(),
        None => file_uri(Path::new(file))?,
    };
    reader.open(&location).map_err(|e| match e {
        MediaError::Open { .. } | MediaError::Uri { .. } => usage(e.to_string()),
        other => anyhow::Error::from(other).context(format!("cannot read {}", shown(file))),
    })
}

/// The `file://` URI of a path, whatever bytes it holds.
fn file_uri(path: &Path) -> Result<String> {
    let absolute =
        std::path::absolute(path).with_context(|| format!("cannot read {}", path.display()))?;
    gstpipe_core::init()?;
    let uri = gst::glib::filename_to_uri(&absolute, None)
        .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    Ok(uri.into())
}

/// A file as messages show it: invalid UTF-8 replaced, passwords of URIs masked.
pub fn shown(file: &OsStr) -> String {
    gstpipe_core::redact(&file.to_string_lossy()).into_owned()
}

/// Runs `gstpipe info`.
pub fn run(args: InfoArgs) -> Result<()> {
    let reader = open(&args.file, VideoReader::builder())?;
    let value = to_json(&args.file, &reader);
    let text = if args.json {
        format!("{value}\n")
    } else {
        to_text(&value)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("cannot write to stdout")
}

fn to_json(file: &OsStr, reader: &VideoReader) -> Value {
    let info = reader.info();
    json!({
        "file": shown(file),
        "frames": info.frames,
        "fps": info.fps,
        "variable_rate": info.variable_rate,
        "duration": info.duration.as_secs_f64(),
        "width": info.width,
        "height": info.height,
        "format": info.format.to_str().as_str(),
        "codec": info.codec,
        "first_pts": reader.pts().first().map(|p| p.seconds_f64()),
        "keyframes": reader.keyframes().len(),
        "index": format!("{:?}", reader.index_source()).to_lowercase(),
    })
}

fn to_text(value: &Value) -> String {
    let rate = if value["variable_rate"].as_bool() == Some(true) {
        "variable, average"
    } else {
        "constant"
    };
    format!(
        "file:      {}\nframes:    {}\nfps:       {:.3} ({rate})\nduration:  {:.3} s\n\
         size:      {}x{}\nformat:    {}\ncodec:     {}\nfirst pts: {:.6} s\nkeyframes: {}\n",
        value["file"].as_str().unwrap_or_default(),
        value["frames"],
        value["fps"].as_f64().unwrap_or_default(),
        value["duration"].as_f64().unwrap_or_default(),
        value["width"],
        value["height"],
        value["format"].as_str().unwrap_or_default(),
        value["codec"].as_str().unwrap_or_default(),
        value["first_pts"].as_f64().unwrap_or_default(),
        value["keyframes"],
    )
}
