//! `launch --save`: PNG files equal, pixel for pixel, to what GStreamer's `pngenc` writes.

use crate::util::{gstpipe, run_reference, scratch};
use std::path::Path;

fn decode(path: &Path) -> image::DynamicImage {
    image::open(path).unwrap_or_else(|e| panic!("cannot decode {}: {e}", path.display()))
}

#[track_caller]
fn assert_same_image(ours: &Path, reference: &Path) {
    let (a, b) = (decode(ours), decode(reference));
    assert_eq!(
        a.color(),
        b.color(),
        "{} vs {}",
        ours.display(),
        reference.display()
    );
    assert_eq!((a.width(), a.height()), (b.width(), b.height()));
    assert!(
        a.as_bytes() == b.as_bytes(),
        "{} differs from {}",
        ours.display(),
        reference.display()
    );
}

/// Saves 3 frames of `source` (which ends in caps) through `to_appsink` with gstpipe, writes
/// the same frames with `to_pngenc ! pngenc ! multifilesink`, and compares them.
fn compare(name: &str, source: &str, to_appsink: &str, to_pngenc: &str) {
    let dir = scratch(name);
    let ours = dir.join("ours");
    let reference = dir.join("reference");
    std::fs::create_dir_all(&reference).unwrap();
    let pipeline = format!("{source} {to_appsink} ! appsink sync=false");
    gstpipe(&[
        "launch",
        "--quiet",
        "--save",
        ours.to_str().unwrap(),
        "-p",
        &pipeline,
    ])
    .success();
    run_reference(&format!(
        "{source} {to_pngenc} ! pngenc ! multifilesink location={}/ref-%06d.png",
        reference.display()
    ));
    for i in 0..3 {
        assert_same_image(
            &ours.join(format!("frame-{i:06}.png")),
            &reference.join(format!("ref-{i:06}.png")),
        );
    }
    assert!(!ours.join("frame-000003.png").exists());
}

#[test]
fn rgb_at_odd_size_equals_pngenc() {
    compare(
        "save-rgb",
        "videotestsrc num-buffers=3 pattern=ball ! video/x-raw,format=RGB,width=641,height=481",
        "",
        "",
    );
}

#[test]
fn bgr_is_swapped_to_rgb() {
    compare(
        "save-bgr",
        "videotestsrc num-buffers=3 pattern=smpte ! video/x-raw,format=RGB,width=641,height=481",
        "! videoconvert ! video/x-raw,format=BGR",
        "",
    );
}

#[test]
fn gray16_is_saved_with_16_bits() {
    compare(
        "save-gray16",
        "videotestsrc num-buffers=3 pattern=ball ! video/x-raw,format=GRAY16_LE,width=641,height=481",
        "",
        "! videoconvert ! video/x-raw,format=GRAY16_BE",
    );
    let png = decode(&scratch_path("save-gray16").join("ours/frame-000000.png"));
    assert_eq!(png.color(), image::ColorType::L16);
}

fn scratch_path(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("gstpipe-cli")
        .join(name)
}

#[test]
fn every_k_saves_every_kth_frame() {
    let dir = scratch("save-every");
    let pipeline = "videotestsrc num-buffers=5 ! video/x-raw,format=GRAY8,width=16,height=8 ! appsink sync=false";
    gstpipe(&[
        "launch",
        "--quiet",
        "--save",
        dir.to_str().unwrap(),
        "--every",
        "2",
        "-p",
        pipeline,
    ])
    .success();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["frame-000000.png", "frame-000002.png", "frame-000004.png"]
    );
}

#[test]
fn format_png_cannot_hold_is_a_clear_error() {
    let dir = scratch("save-i420");
    let pipeline = "videotestsrc num-buffers=2 ! video/x-raw,format=I420,width=16,height=8 ! appsink sync=false";
    let run = gstpipe(&["launch", "--save", dir.to_str().unwrap(), "-p", pipeline])
        .code(2)
        .no_panic();
    assert!(run.stderr.contains("I420"), "{}", run.stderr);
    assert!(
        run.stderr.contains("videoconvert ! video/x-raw,format=RGB"),
        "{}",
        run.stderr
    );
}
