//! What `launch` prints: one line (or NDJSON object) per frame and a summary.

use anyhow::{Context as _, Result};
use gstpipe_frame::Detection;
use serde_json::{Value, json};
use std::io::{IsTerminal as _, Write};
use std::time::Duration;

/// How a frame's samples are laid out as arrays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shape {
    /// One array `(height, width, channels)` (packed formats, including gray).
    Packed([usize; 3]),
    /// One array per plane, each `(rows, columns, samples)` (planar and semi-planar formats).
    Planes(Vec<[usize; 3]>),
    /// Not representable as samples (sub-byte packed formats): bytes per plane.
    Bytes(Vec<usize>),
}

/// What is reported about one frame.
#[derive(Debug, Clone)]
pub struct FrameReport {
    /// Index of the frame in the stream, from 0.
    pub index: u64,
    /// Presentation timestamp.
    pub pts: Option<gst::ClockTime>,
    /// Format name (e.g. `RGB`, `I420`).
    pub format: &'static str,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The arrays' shapes.
    pub shape: Shape,
    /// Sample type: `u8`, `u16` or `none`.
    pub dtype: &'static str,
    /// Size of the frame in bytes (all planes, with padding).
    pub bytes: usize,
    /// The object detections on the frame's buffer (region-of-interest metas).
    pub detections: Vec<Detection>,
}

impl FrameReport {
    /// The NDJSON object: `index`, `pts_ns`, `format`, `width`, `height`, `shape` (packed) or
    /// `planes` (planar), `dtype`, `bytes`; sub-byte formats have `shape: null` and
    /// `plane_bytes`; `detections` only when the frame has some.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "index": self.index,
            "pts_ns": self.pts.map(gst::ClockTime::nseconds),
            "format": self.format,
            "width": self.width,
            "height": self.height,
        });
        let obj = v.as_object_mut().expect("a JSON object");
        match &self.shape {
            Shape::Packed(s) => {
                obj.insert("shape".into(), json!(s));
            }
            Shape::Planes(p) => {
                obj.insert("planes".into(), json!(p));
            }
            Shape::Bytes(b) => {
                obj.insert("shape".into(), Value::Null);
                obj.insert("plane_bytes".into(), json!(b));
            }
        }
        obj.insert("dtype".into(), json!(self.dtype));
        obj.insert("bytes".into(), json!(self.bytes));
        if !self.detections.is_empty() {
            let detections: Vec<Value> = self.detections.iter().map(detection_json).collect();
            obj.insert("detections".into(), Value::Array(detections));
        }
        v
    }

    /// The text line: `frame 0  pts 0:00:00.000000000  RGB  [480, 640, 3]  u8`, then
    /// `  2 detections` when the frame has some.
    pub fn to_line(&self) -> String {
        let pts = match self.pts {
            Some(pts) => pts.to_string(),
            None => "none".into(),
        };
        let shape = match &self.shape {
            Shape::Packed(s) => fmt_shape(s),
            Shape::Planes(p) => {
                let planes: Vec<String> = p.iter().map(fmt_shape).collect();
                format!("[{}]", planes.join(", "))
            }
            Shape::Bytes(b) => format!("plane bytes {b:?}"),
        };
        let mut line = format!(
            "frame {}  pts {}  {}  {}  {}",
            self.index, pts, self.format, shape, self.dtype
        );
        match self.detections.len() {
            0 => {}
            1 => line.push_str("  1 detection"),
            n => line.push_str(&format!("  {n} detections")),
        }
        line
    }
}

/// One detection as JSON: `x`, `y`, `w`, `h`, `confidence` (number or null), `class_name`,
/// `track_id` (integer or null).
pub fn detection_json(d: &Detection) -> Value {
    json!({
        "x": d.x,
        "y": d.y,
        "w": d.w,
        "h": d.h,
        "confidence": d.confidence,
        "class_name": d.class_name,
        "track_id": d.track_id,
    })
}

fn fmt_shape(s: &[usize; 3]) -> String {
    format!("[{}, {}, {}]", s[0], s[1], s[2])
}

/// Totals for the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    /// Frames received.
    pub frames: u64,
    /// Bytes received (frame sizes summed).
    pub bytes: u64,
}

impl Stats {
    /// The summary object: `frames`, `seconds`, `fps`, `bytes`, `mb_per_s`.
    pub fn to_json(self, elapsed: Duration) -> Value {
        let seconds = elapsed.as_secs_f64();
        json!({
            "frames": self.frames,
            "seconds": seconds,
            "fps": rate(self.frames as f64, seconds),
            "bytes": self.bytes,
            "mb_per_s": rate(self.bytes as f64 / 1e6, seconds),
        })
    }

    /// `100 frames in 0.512 s: 195.3 fps, 179.9 MB/s`.
    pub fn to_line(self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        format!(
            "{} frames in {:.3} s: {:.1} fps, {:.1} MB/s",
            self.frames,
            seconds,
            rate(self.frames as f64, seconds),
            rate(self.bytes as f64 / 1e6, seconds)
        )
    }
}

fn rate(amount: f64, seconds: f64) -> f64 {
    if seconds > 0.0 { amount / seconds } else { 0.0 }
}

/// stdout, flushed at every end of line (even into a pipe or a file): a reader of NDJSON sees
/// each frame as it comes, and a write error (a full disk, a closed pipe) surfaces at once.
pub fn stdout() -> std::io::StdoutLock<'static> {
    // Rust's stdout is line-buffered whatever it is connected to; only a `BufWriter` around
    // it would make it block-buffered.
    std::io::stdout().lock()
}

/// Writes `line` and a newline to `out` (which, from [`stdout`], flushes it), saying what
/// failed when it cannot.
pub fn print_line(out: &mut impl Write, line: impl std::fmt::Display) -> Result<()> {
    writeln!(out, "{line}").context("cannot write to stdout")
}

/// Where per-frame lines and the summary go: stdout, as text or NDJSON.
pub struct Output {
    json: bool,
    quiet: bool,
    out: Box<dyn Write>,
    /// Whether stdout is a terminal (lines then have to step around a progress bar).
    pub terminal: bool,
}

impl Output {
    /// Text or NDJSON on stdout; `quiet` keeps only the summary.
    pub fn stdout(json: bool, quiet: bool) -> Self {
        Output {
            json,
            quiet,
            out: Box::new(stdout()),
            terminal: std::io::stdout().is_terminal(),
        }
    }

    /// Whether per-frame lines are printed.
    pub fn per_frame(&self) -> bool {
        !self.quiet
    }

    /// Prints one frame's line or object (nothing when quiet).
    pub fn frame(&mut self, report: &FrameReport) -> Result<()> {
        if self.quiet {
            return Ok(());
        }
        let line = if self.json {
            report.to_json().to_string()
        } else {
            report.to_line()
        };
        print_line(&mut self.out, line)
    }

    /// Prints the summary and flushes.
    pub fn summary(&mut self, stats: Stats, elapsed: Duration) -> Result<()> {
        let line = if self.json {
            stats.to_json(elapsed).to_string()
        } else {
            stats.to_line(elapsed)
        };
        print_line(&mut self.out, line)?;
        self.out.flush().context("cannot write to stdout")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(shape: Shape) -> FrameReport {
        FrameReport {
            index: 3,
            pts: Some(gst::ClockTime::from_mseconds(100)),
            format: "I420",
            width: 641,
            height: 481,
            shape,
            dtype: "u8",
            bytes: 463_203,
            detections: Vec::new(),
        }
    }

    #[test]
    fn detections_only_when_present() {
        let mut r = report(Shape::Packed([481, 641, 3]));
        assert!(r.to_json().get("detections").is_none());
        assert!(!r.to_line().contains("detection"));
        r.detections = vec![
            Detection::new("piéton 🚶", (1, 2, 30, 40), 0.875).with_track_id(u64::MAX),
            Detection {
                confidence: None,
                ..Detection::new("行人", (0, 0, 641, 481), 0.0)
            },
        ];
        let v = r.to_json();
        assert_eq!(
            v["detections"],
            json!([
                {"x": 1, "y": 2, "w": 30, "h": 40, "confidence": 0.875,
                 "class_name": "piéton 🚶", "track_id": u64::MAX},
                {"x": 0, "y": 0, "w": 641, "h": 481, "confidence": null,
                 "class_name": "行人", "track_id": null},
            ])
        );
        // Field order: detections come after the fields that were there before.
        let keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        assert_eq!(keys.last().unwrap().as_str(), "detections");
        // NDJSON: one line, non-ASCII kept as UTF-8, and it parses back.
        let line = v.to_string();
        assert!(!line.contains('\n') && line.contains("piéton 🚶"), "{line}");
        assert_eq!(serde_json::from_str::<Value>(&line).unwrap(), v);
        assert!(r.to_line().ends_with("u8  2 detections"), "{}", r.to_line());
        r.detections.truncate(1);
        assert!(r.to_line().ends_with("u8  1 detection"), "{}", r.to_line());
    }

    #[test]
    fn planar_json_has_planes_not_shape() {
        let v = report(Shape::Planes(vec![
            [481, 641, 1],
            [241, 321, 1],
            [241, 321, 1],
        ]))
        .to_json();
        assert_eq!(v["index"], 3);
        assert_eq!(v["pts_ns"], 100_000_000u64);
        assert_eq!(
            v["planes"],
            json!([[481, 641, 1], [241, 321, 1], [241, 321, 1]])
        );
        assert!(v.get("shape").is_none());
        assert_eq!(v["dtype"], "u8");
    }

    #[test]
    fn packed_line_and_json() {
        let r = report(Shape::Packed([481, 641, 3]));
        assert_eq!(r.to_json()["shape"], json!([481, 641, 3]));
        assert_eq!(
            r.to_line(),
            "frame 3  pts 0:00:00.100000000  I420  [481, 641, 3]  u8"
        );
    }

    #[test]
    fn summary_rates() {
        let s = Stats {
            frames: 100,
            bytes: 100_000_000,
        };
        let v = s.to_json(Duration::from_secs(2));
        assert_eq!(v["frames"], 100);
        assert_eq!(v["fps"], 50.0);
        assert_eq!(v["mb_per_s"], 50.0);
        assert_eq!(
            s.to_line(Duration::from_secs(2)),
            "100 frames in 2.000 s: 50.0 fps, 50.0 MB/s"
        );
        assert_eq!(Stats::default().to_json(Duration::ZERO)["fps"], 0.0);
    }
}
