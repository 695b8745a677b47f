//! Reads criterion's results (`target/criterion`) and writes `docs/performance.md`: a table per
//! benchmark group with time, throughput and the ratios against the same run's baselines.
//!
//! Run by `cargo xtask bench` after `cargo bench`; `report [CRITERION_DIR] [OUTPUT]`.

use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Everything from this line on in `docs/performance.md` is kept when the report is rewritten.
const NOTES_MARKER: &str = "<!-- notes below are kept by the report -->";

/// One measured benchmark: mean time per iteration and its throughput unit.
#[derive(Debug, Clone)]
struct Measured {
    function: String,
    mean_ns: f64,
    bytes: Option<f64>,
    elements: Option<f64>,
}

impl Measured {
    fn per_second(&self) -> Option<f64> {
        self.elements.map(|e| e / (self.mean_ns * 1e-9))
    }
    fn gbytes_per_second(&self, frame_bytes: Option<f64>) -> Option<f64> {
        let bytes = self.bytes.or_else(|| Some(self.elements? * frame_bytes?))?;
        Some(bytes / self.mean_ns)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/criterion"));
    let out = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("docs/performance.md"));

    let mut groups: BTreeMap<String, Vec<Measured>> = BTreeMap::new();
    collect(&dir, &mut groups)?;
    if groups.is_empty() {
        return Err(format!(
            "no criterion results under {}: run `cargo bench -p gstpipe-benches` first",
            dir.display()
        )
        .into());
    }
    let mut text = render(&groups);
    // The hand-written reading of the numbers below the marker survives regeneration.
    let previous = std::fs::read_to_string(&out).unwrap_or_default();
    match previous.find(NOTES_MARKER) {
        Some(i) => text.push_str(&previous[i..]),
        None => {
            text.push_str(NOTES_MARKER);
            text.push_str("\n\n## Reading the numbers\n\n(Write the reading of this run here.)\n");
        }
    }
    std::fs::write(&out, text)?;
    eprintln!("report: wrote {}", out.display());
    Ok(())
}

fn collect(
    dir: &Path,
    groups: &mut BTreeMap<String, Vec<Measured>>,
) -> Result<(), Box<dyn std::error::Error>> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "new") {
                let bench: Value =
                    serde_json::from_str(&std::fs::read_to_string(path.join("benchmark.json"))?)?;
                let estimates: Value =
                    serde_json::from_str(&std::fs::read_to_string(path.join("estimates.json"))?)?;
                let group = bench["group_id"].as_str().unwrap_or_default().to_string();
                let measured = Measured {
                    function: bench["function_id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    mean_ns: estimates["mean"]["point_estimate"]
                        .as_f64()
                        .unwrap_or(f64::NAN),
                    bytes: bench["throughput"]["Bytes"].as_f64(),
                    elements: bench["throughput"]["Elements"].as_f64(),
                };
                groups.entry(group).or_default().push(measured);
            } else {
                collect(&path, groups)?;
            }
        }
    }
    Ok(())
}

/// Bytes of one RGB frame at the resolution named at the end of a group id.
fn frame_bytes(group: &str) -> Option<f64> {
    let (w, h) = match group.rsplit('/').next()? {
        "640x480" => (640.0, 480.0),
        "1080p" => (1920.0, 1080.0),
        "4k" => (3840.0, 2160.0),
        _ => return None,
    };
    Some(w * h * 3.0)
}

/// Ratios reported per group: (label, numerator function, denominator function, target).
const RATIOS: &[(&str, &str, &str, f64)] = &[
    ("view / raw map (fps)", "gstpipe_view", "raw_view", 0.97),
    ("copy / raw copy (fps)", "gstpipe_copy", "raw_copy", 0.95),
    (
        "fakesink ceiling / raw map (fps)",
        "fakesink",
        "raw_view",
        f64::NAN,
    ),
    (
        "view+read / raw map+read",
        "view_read",
        "raw_map_read",
        0.97,
    ),
    ("to_array / memcpy (bandwidth)", "to_array", "memcpy", 0.8),
    (
        "from_frames / memcpy into new memory",
        "batch",
        "memcpy_alloc",
        0.8,
    ),
    (
        "stack_into / memcpy into reused memory",
        "stack_into",
        "memcpy",
        0.8,
    ),
    (
        "VideoReader / decodebin ! fakesink (fps)",
        "reader_sequential",
        "decodebin_fakesink",
        0.95,
    ),
    (
        "nhwc_u8 / memcpy of the input (bandwidth)",
        "nhwc_u8",
        "memcpy_in",
        0.8,
    ),
    (
        "nchw_f32 / memcpy of the output (bandwidth)",
        "nchw_f32",
        "memcpy_out",
        0.8,
    ),
];

fn render(groups: &BTreeMap<String, Vec<Measured>>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Performance\n");
    let _ = writeln!(
        s,
        "Generated by `cargo xtask bench` from criterion's results; every ratio compares two \
         figures measured in the same run on the same machine.\n"
    );
    let _ = writeln!(s, "Machine: {} ({} cores visible).\n", cpu_model(), cores());
    for (group, items) in groups {
        let fb = frame_bytes(group);
        let _ = writeln!(s, "## {group}\n");
        let _ = writeln!(s, "| variant | mean per iteration | frames/s | GB/s |");
        let _ = writeln!(s, "| --- | ---: | ---: | ---: |");
        let mut sorted = items.clone();
        sorted.sort_by(|a, b| a.function.cmp(&b.function));
        for m in &sorted {
            let fps = m.per_second().map_or("-".into(), |v| format!("{v:.1}"));
            let gbs = m
                .gbytes_per_second(fb)
                .map_or("-".into(), |v| format!("{v:.2}"));
            let _ = writeln!(
                s,
                "| {} | {} | {fps} | {gbs} |",
                m.function,
                human(m.mean_ns)
            );
        }
        let find = |name: &str| sorted.iter().find(|m| m.function == name);
        let mut ratio_lines = Vec::new();
        for &(label, num, den, target) in RATIOS {
            if let (Some(n), Some(d)) = (find(num), find(den)) {
                // Same throughput unit in both: the ratio of rates is the inverse ratio of times.
                let ratio = d.mean_ns / n.mean_ns;
                let verdict = if target.is_nan() {
                    String::new()
                } else if ratio >= target {
                    format!(" (target ≥ {target}: met)")
                } else {
                    format!(" (target ≥ {target}: **missed**)")
                };
                ratio_lines.push(format!("- {label}: **{ratio:.3}**{verdict}"));
            }
        }
        if !ratio_lines.is_empty() {
            let _ = writeln!(s, "\n{}", ratio_lines.join("\n"));
        }
        let _ = writeln!(s);
    }
    s
}

fn human(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}
