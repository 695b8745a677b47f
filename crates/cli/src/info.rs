//! `gstpipe info FILE`: what a video file holds, exactly: frame count, rate, duration, size,
//! format, codec.

use crate::error::usage;
use anyhow::{Context as _, Result};
use gstpipe_media::{IndexOrigin, MediaError, VideoReader};
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
    /// `width`, `height`, `format`, `codec`, `first_pts` (seconds), `keyframes`, `index`
    /// (`parse` or `decode`), `index_origin` (`scanned`, or `saved`: loaded from the index
    /// an earlier run saved; see `GSTPIPE_INDEX_CACHE`), `stream` (the video stream
    /// described), `streams` (every stream: `kind`, `codec`), `interlace_mode`
    /// (`progressive`, `interleaved`, `mixed`, ...), `field_order` (`top-field-first`,
    /// `bottom-field-first` or null), `deinterlaced`, `rotation` (degrees clockwise
    /// the stored frames are turned to show them; `width`/`height` are the upright frame's),
    /// `mirrored`, `upright`, and `lost`, `lost_frames` with `--check`.
    #[arg(long)]
    pub json: bool,
    /// Decode every frame and report the frames that did not decode (damaged data): `lost`
    /// (their count) and `lost_frames` (their indices) in JSON.
    #[arg(long)]
    pub check: bool,
    /// Which video stream to describe when the file has several (0: the first; audio and
    /// other streams are not counted).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub stream: usize,
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
    let mut reader = open(&args.file, VideoReader::builder().stream(args.stream))?;
    let lost = if args.check {
        Some(
            reader
                .verify()
                .with_context(|| format!("cannot decode {}", shown(&args.file)))?,
        )
    } else {
        None
    };
    let mut value = to_json(&args.file, &reader);
    if let Some(lost) = lost {
        value["lost"] = json!(lost.len());
        value["lost_frames"] = json!(lost);
    }
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
        "index_origin": origin(reader.index_origin()),
        "interlace_mode": info.interlace_mode,
        "field_order": info.field_order,
        "deinterlaced": info.deinterlaced,
        "rotation": info.rotation,
        "mirrored": info.mirrored,
        "upright": info.upright,
        "stream": reader.video_stream(),
        "streams": reader
            .streams()
            .iter()
            .map(|s| json!({"kind": s.kind, "codec": s.codec}))
            .collect::<Vec<_>>(),
    })
}

/// Where the index came from, as `info` says it.
fn origin(origin: IndexOrigin) -> &'static str {
    match origin {
        IndexOrigin::Saved => "saved",
        IndexOrigin::Process => "process",
        _ => "scanned",
    }
}

fn to_text(value: &Value) -> String {
    let rate = if value["variable_rate"].as_bool() == Some(true) {
        "variable, average"
    } else {
        "constant"
    };
    let lost = match value["lost_frames"].as_array() {
        Some(frames) if frames.is_empty() => "lost:      0 (every frame decodes)\n".to_string(),
        Some(frames) => format!("lost:      {} (frames {})\n", frames.len(), ranges(frames)),
        None => String::new(),
    };
    let text = format!(
        "file:      {}\nframes:    {}\nfps:       {:.3} ({rate})\nduration:  {:.3} s\n\
         size:      {}x{}\nformat:    {}\ncodec:     {}\nfirst pts: {:.6} s\nkeyframes: {}\n\
         index:     {} scan, {}\n",
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
        value["index"].as_str().unwrap_or_default(),
        match value["index_origin"].as_str() {
            Some("saved") => "loaded from the saved index (not scanned again)",
            Some("process") => "from an earlier reader in this process",
            _ => "scanned now",
        },
    );
    let streams = value["streams"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut video = 0;
    let listed: Vec<String> = streams
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let kind = s["kind"].as_str().unwrap_or_default();
            let codec = s["codec"].as_str().unwrap_or_default();
            let mut item = format!("#{k} {kind} {codec}");
            if kind == "video" {
                if value["stream"].as_u64() == Some(video) {
                    item.push_str(" (read)");
                }
                video += 1;
            }
            item
        })
        .collect();
    let streams = if listed.is_empty() {
        String::new()
    } else {
        format!("streams:   {}\n", listed.join(", "))
    };
    let rotation = match value["rotation"].as_u64() {
        Some(0) | None if value["mirrored"].as_bool() != Some(true) => String::new(),
        Some(degrees) => format!(
            "rotation:  {degrees} degrees clockwise{} (frames are turned upright; size is the \
             upright frame's)\n",
            if value["mirrored"].as_bool() == Some(true) {
                ", mirrored"
            } else {
                ""
            }
        ),
        None => String::new(),
    };
    let interlace = match value["interlace_mode"].as_str() {
        Some("progressive") | None => String::new(),
        Some(mode) => format!(
            "interlace: {mode}, {} (frames as decoded: fields woven)\n",
            value["field_order"]
                .as_str()
                .unwrap_or("field order unknown")
        ),
    };
    text + &interlace + &rotation + &streams + &lost
}

/// Ascending indices as runs: `3-8, 12`.
fn ranges(frames: &[Value]) -> String {
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for i in frames.iter().filter_map(Value::as_u64) {
        match runs.last_mut() {
            Some((_, last)) if *last + 1 == i => *last = i,
            _ => runs.push((i, i)),
        }
    }
    runs.iter()
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}
