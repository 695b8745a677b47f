//! `gstpipe info` and `gstpipe frames` on clips encoded here, against GStreamer's own
//! sequential decode of the same files.

use crate::util::{count_buffers, gstpipe, run_reference, scratch};
use gst::prelude::*;
use std::path::Path;

/// H.264 with B-frames in MP4, 160x120 at 30 fps, `frames` frames.
pub(crate) fn h264_clip(dir: &Path, frames: usize) -> String {
    let path = dir.join("clip.mp4");
    run_reference(&format!(
        "videotestsrc num-buffers={frames} pattern=ball animation-mode=frames ! \
         video/x-raw,format=I420,width=160,height=120,framerate=30/1 ! \
         x264enc bframes=2 key-int-max=20 speed-preset=ultrafast ! h264parse ! mp4mux ! \
         filesink location={}",
        path.display()
    ));
    path.display().to_string()
}

/// Every frame of `filesrc ! decodebin ! videoconvert ! RGB ! appsink`, as (pts, pixels).
fn reference_rgb(path: &str) -> Vec<(u64, Vec<u8>)> {
    // The reader makes RGB from 8-bit 4:2:0 video with gstpipe-frame's YuvToRgb (checked
    // against the matrix equations and videoconvert in its own tests): the decoder's frames
    // through it, in decoding order, are the frames the CLI must save.
    let pipeline = gst::parse::launch(&format!(
        "filesrc location={path} ! decodebin ! video/x-raw,format=I420 ! \
         appsink name=sink sync=false"
    ))
    .unwrap()
    .downcast::<gst::Pipeline>()
    .unwrap();
    let sink = pipeline
        .by_name("sink")
        .unwrap()
        .downcast::<gst_app::AppSink>()
        .unwrap();
    pipeline.set_state(gst::State::Playing).unwrap();
    let mut frames = Vec::new();
    while let Some(sample) = sink.try_pull_sample(gst::ClockTime::from_seconds(20)) {
        let decoded = gstpipe_frame::Frame::from_sample(&sample).unwrap();
        let rgb = gstpipe_frame::YuvToRgb::new(decoded.info(), gst_video::VideoFormat::Rgb)
            .expect("8-bit 4:2:0")
            .convert(&decoded)
            .unwrap();
        let pixels = rgb.to_array::<u8>().unwrap().iter().copied().collect();
        frames.push((rgb.pts().unwrap().nseconds(), pixels));
    }
    assert!(sink.is_eos(), "the reference decode stalled");
    pipeline.set_state(gst::State::Null).unwrap();
    frames
}

#[test]
fn info_reports_the_exact_frame_count_and_stream() {
    let dir = scratch("media-info");
    let file = h264_clip(&dir, 45);
    let decoded = count_buffers(
        &format!("filesrc location={file} ! decodebin ! fakesink name=sink"),
        "sink",
    );
    let run = gstpipe(&["info", &file, "--json"]).success().no_panic();
    let info = &run.json_lines()[0];
    assert_eq!(info["frames"].as_u64(), Some(decoded), "{info}");
    assert_eq!(decoded, 45);
    assert_eq!(info["fps"].as_f64(), Some(30.0));
    assert_eq!(info["variable_rate"].as_bool(), Some(false));
    assert!(
        (info["duration"].as_f64().unwrap() - 1.5).abs() < 0.05,
        "{info}"
    );
    assert_eq!(info["width"].as_u64(), Some(160));
    assert_eq!(info["height"].as_u64(), Some(120));
    assert_eq!(info["format"].as_str(), Some("I420"));
    assert_eq!(info["codec"].as_str(), Some("h264"));
    // Plain text too.
    let text = gstpipe(&["info", &file]).success().stdout;
    assert!(text.contains("frames:    45"), "{text}");
}

#[test]
fn frames_saves_the_exact_frames_as_png() {
    let dir = scratch("media-frames");
    let file = h264_clip(&dir, 40);
    let reference = reference_rgb(&file);
    assert_eq!(reference.len(), 40);
    let out = dir.join("out");
    let out_arg = out.display().to_string();
    let run = gstpipe(&[
        "frames",
        &file,
        "--index",
        "39,0,17,17",
        "--save",
        &out_arg,
        "--json",
    ])
    .success()
    .no_panic();
    let lines = run.json_lines();
    assert_eq!(lines.len(), 4);
    for (line, index) in lines.iter().zip([39usize, 0, 17, 17]) {
        assert_eq!(line["index"].as_u64(), Some(index as u64));
        let pts = (line["pts"].as_f64().unwrap() * 1e9).round() as u64;
        assert!(pts.abs_diff(reference[index].0) <= 1, "{line}");
        let path = out.join(format!("frame-{index:06}.png"));
        assert_eq!(line["path"].as_str(), Some(path.to_str().unwrap()));
        let png = image::open(&path).unwrap().to_rgb8();
        assert_eq!(png.dimensions(), (160, 120));
        assert!(
            png.as_raw() == &reference[index].1,
            "frame {index} differs from the decode"
        );
        // And it is not its neighbour's picture.
        let other = if index == 0 { 1 } else { index - 1 };
        assert!(png.as_raw() != &reference[other].1);
    }
}

#[test]
fn an_index_past_the_end_is_a_usage_error_naming_the_frame_count() {
    let dir = scratch("media-range");
    let file = h264_clip(&dir, 12);
    let run = gstpipe(&["frames", &file, "--index", "3,12"])
        .code(2)
        .no_panic();
    assert!(run.stderr.contains("frame index 12"), "{}", run.stderr);
    assert!(run.stderr.contains("12 frames"), "{}", run.stderr);
    let run = gstpipe(&["info", dir.join("missing.mp4").to_str().unwrap()]).code(2);
    assert!(run.stderr.contains("missing.mp4"), "{}", run.stderr);
    // Text output, no --save: the decoder's own format.
    let run = gstpipe(&["frames", &file, "-i", "11"]).success();
    assert!(run.stdout.contains("frame     11"), "{}", run.stdout);
    assert!(run.stdout.contains("I420 160x120"), "{}", run.stdout);
}

#[test]
fn info_refuses_a_fifo_at_once_naming_it() {
    let dir = scratch("media-fifo");
    let fifo = dir.join("pipe.mp4");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(status.success());
    // Nobody writes to it: opening it for reading would block forever.
    let run = crate::util::gstpipe_within(
        &["info", fifo.to_str().unwrap()],
        std::time::Duration::from_secs(20),
    )
    .code(2)
    .no_panic();
    assert!(run.stderr.contains("pipe.mp4"), "{}", run.stderr);
    assert!(run.stderr.contains("FIFO"), "{}", run.stderr);
}

#[test]
fn info_lists_every_stream_and_describes_the_one_asked_for() {
    let dir = scratch("media-streams");
    let file = dir.join("multi.mkv");
    run_reference(&format!(
        "matroskamux name=mux ! filesink location={} \
         audiotestsrc num-buffers=20 ! audioconvert ! vorbisenc ! mux. \
         videotestsrc num-buffers=15 ! video/x-raw,width=96,height=64,framerate=25/1 ! \
         x264enc speed-preset=ultrafast ! h264parse ! mux. \
         videotestsrc num-buffers=10 ! video/x-raw,width=64,height=48,framerate=25/1 ! \
         vp8enc ! mux.",
        file.display()
    ));
    let file = file.to_str().unwrap();
    let mut seen = Vec::new();
    for stream in ["0", "1"] {
        let run = gstpipe(&["info", file, "--json", "--stream", stream])
            .success()
            .no_panic();
        let info = &run.json_lines()[0];
        let mut streams: Vec<String> = info["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s["kind"].as_str().unwrap(),
                    s["codec"].as_str().unwrap()
                )
            })
            .collect();
        streams.sort();
        assert_eq!(
            streams,
            ["audio audio/x-vorbis", "video h264", "video vp8"],
            "{info}"
        );
        seen.push((
            info["codec"].clone(),
            info["frames"].clone(),
            info["width"].clone(),
        ));
    }
    seen.sort_by_key(|s| s.1.as_u64());
    assert_eq!(
        seen,
        [
            ("vp8".into(), 10.into(), 64.into()),
            ("h264".into(), 15.into(), 96.into())
        ]
    );
    let text = gstpipe(&["info", file]).success().stdout;
    assert!(
        text.contains("streams:") && text.contains("(read)"),
        "{text}"
    );
    let run = gstpipe(&["info", file, "--stream", "2"]).code(1).no_panic();
    assert!(run.stderr.contains("no video stream 2"), "{}", run.stderr);
}
