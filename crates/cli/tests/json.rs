//! `launch --json`: one object per frame and a summary, for packed, 16-bit and planar formats.

use crate::util::gstpipe;
use serde_json::{Value, json};

/// Runs 3 frames of `format` at 641x481 (odd sizes: padded rows, rounded-up chroma) and checks
/// every object against `layout` (`("shape", ...)` or `("planes", ...)`) and `dtype`.
fn check(format: &str, layout: (&str, Value), dtype: &str) {
    let pipeline = format!(
        "videotestsrc num-buffers=3 ! video/x-raw,format={format},width=641,height=481,framerate=30/1 ! appsink sync=false"
    );
    let run = gstpipe(&["launch", "--json", "-p", &pipeline]).success();
    let values = run.json_lines();
    assert_eq!(values.len(), 4, "3 frames and a summary: {}", run.stdout);
    for (i, v) in values[..3].iter().enumerate() {
        assert_eq!(v["index"], i, "{v}");
        assert_eq!(v["pts_ns"], i as u64 * 1_000_000_000 / 30, "{v}");
        assert_eq!(v["format"], format, "{v}");
        assert_eq!(v["width"], 641, "{v}");
        assert_eq!(v["height"], 481, "{v}");
        assert_eq!(v[layout.0], layout.1, "{v}");
        let other = if layout.0 == "shape" {
            "planes"
        } else {
            "shape"
        };
        assert!(v.get(other).is_none(), "{v}");
        assert_eq!(v["dtype"], dtype, "{v}");
        // videotestsrc attaches no region-of-interest metas: the field is left out.
        assert!(v.get("detections").is_none(), "{v}");
    }
    let summary = &values[3];
    assert_eq!(summary["frames"], 3, "{summary}");
    assert!(summary["seconds"].as_f64().unwrap() > 0.0, "{summary}");
    assert!(summary["fps"].as_f64().unwrap() > 0.0, "{summary}");
    assert!(summary.get("index").is_none(), "{summary}");
}

#[test]
fn rgb() {
    check("RGB", ("shape", json!([481, 641, 3])), "u8");
}

#[test]
fn gray16_le() {
    check("GRAY16_LE", ("shape", json!([481, 641, 1])), "u16");
}

#[test]
fn i420() {
    check(
        "I420",
        (
            "planes",
            json!([[481, 641, 1], [241, 321, 1], [241, 321, 1]]),
        ),
        "u8",
    );
}

#[test]
fn nv12() {
    check(
        "NV12",
        ("planes", json!([[481, 641, 1], [241, 321, 2]])),
        "u8",
    );
}
