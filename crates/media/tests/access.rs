//! Every index of short clips of each codec and container, in shuffled order and
//! sequentially, against an independent sequential decode of the same file.

use crate::util::{Rng, assert_frame, bounded, clip, open, reference};
use gst_video::VideoFormat;

/// Reads every frame of clip `name` in a shuffled order, then all of them in order, and
/// compares each with the reference decode. Returns whether the reader saw variable rate.
fn every_index(
    name: &'static str,
    format: Option<VideoFormat>,
    caps: Option<&'static str>,
) -> bool {
    bounded(120, move || {
        let clip = clip(name);
        let reference = reference(&clip.path, caps);
        // What a sequential decode gives defines the frames: all that were encoded, except
        // where the container cuts some (on GStreamer 1.22, mp4mux's edit list on
        // variable-rate B-frame video ends before the last two frames; the reader must then
        // leave them out too).
        let cut = if name == "vfr.mp4" { 2 } else { 0 };
        assert!(
            (clip.frames - cut..=clip.frames).contains(&reference.len()),
            "{name}: the reference decode has {} frames of {}",
            reference.len(),
            clip.frames
        );
        // The comparison can fail: consecutive frames of the test clips differ.
        for pair in reference.windows(2) {
            assert_ne!(
                pair[0].planes, pair[1].planes,
                "{name}: two equal frames in a row"
            );
        }
        let mut reader = open(&clip, format);
        assert_eq!(reader.len(), reference.len(), "{name}: frame count");
        let pts: Vec<_> = reference.iter().map(|f| f.pts.expect("pts")).collect();
        assert_eq!(reader.pts(), &pts[..], "{name}: the pts list");
        let mut order: Vec<usize> = (0..reference.len()).collect();
        Rng::new(name.len() as u64 * 7919).shuffle(&mut order);
        for &i in &order {
            let frame = reader
                .get(i)
                .unwrap_or_else(|e| panic!("{name}: get({i}): {e}"));
            assert_frame(&reference, i, &frame, name);
        }
        let mut n = 0;
        for (i, frame) in reader.frames().enumerate() {
            let frame = frame.unwrap_or_else(|e| panic!("{name}: frame {i} of the iteration: {e}"));
            assert_frame(&reference, i, &frame, name);
            n += 1;
        }
        assert_eq!(n, reference.len(), "{name}: iteration length");
        assert_eq!(
            crate::util::criticals(),
            0,
            "GStreamer logged critical warnings"
        );
        let info = reader.info();
        let first = &reference[0].planes[0];
        if format.is_some() {
            assert_eq!(
                (info.height as usize, info.width as usize),
                (first.shape()[0], first.shape()[1])
            );
        }
        reader.is_variable_rate()
    })
}

#[test]
fn h264_with_b_frames_in_mp4() {
    assert!(!every_index("h264.mp4", None, None));
    // B-frames: the first frame is shown after the reordering delay, not at 0.
    let reader = open(&clip("h264.mp4"), None);
    assert!(
        reader.pts()[0] > gst::ClockTime::ZERO,
        "{:?}",
        reader.pts()[0]
    );
    assert_eq!(reader.info().codec, "h264");
    assert_eq!(reader.fps(), 30.0);
}

#[test]
fn h264_with_b_frames_in_matroska() {
    assert!(!every_index("h264.mkv", None, None));
}

#[test]
fn h264_odd_size_as_rgb() {
    every_index(
        "h264-odd.mp4",
        Some(VideoFormat::Rgb),
        Some("video/x-raw,format=RGB"),
    );
    let reader = open(&clip("h264-odd.mp4"), Some(VideoFormat::Rgb));
    let info = reader.info();
    assert_eq!(
        (info.width, info.height, info.format),
        (321, 241, VideoFormat::Rgb)
    );
}

#[test]
fn h265_in_matroska() {
    assert!(!every_index("h265.mkv", None, None));
    assert_eq!(open(&clip("h265.mkv"), None).info().codec, "h265");
}

#[test]
fn h265_with_b_frames_in_mp4() {
    assert!(!every_index("h265.mp4", None, None));
}

#[test]
fn variable_frame_rate_in_mp4() {
    assert!(
        every_index("vfr.mp4", None, None),
        "the clip's rate was not seen as variable"
    );
}

#[test]
fn vp8_in_webm() {
    assert!(!every_index("vp8.webm", None, None));
    assert_eq!(open(&clip("vp8.webm"), None).info().codec, "vp8");
}

#[test]
fn vp9_in_webm() {
    assert!(!every_index("vp9.webm", None, None));
    assert_eq!(open(&clip("vp9.webm"), None).info().codec, "vp9");
}

#[test]
fn mjpeg_in_avi_odd_size() {
    assert!(!every_index("mjpeg.avi", None, None));
    let reader = open(&clip("mjpeg.avi"), None);
    assert_eq!(reader.info().codec, "mjpeg");
    assert_eq!((reader.info().width, reader.info().height), (321, 241));
    // Every MJPEG frame is a keyframe.
    assert_eq!(reader.keyframes(), (0..reader.len()).collect::<Vec<_>>());
}

#[test]
fn variable_frame_rate() {
    assert!(
        every_index("vfr.mkv", None, None),
        "the clip's rate was not seen as variable"
    );
    let reader = open(&clip("vfr.mkv"), None);
    // The pts follow the irregular intervals the clip was made with (Matroska keeps ms).
    let pts = reader.pts();
    for i in 1..pts.len() {
        let step = (pts[i] - pts[i - 1]).mseconds();
        assert_eq!(
            step,
            crate::util::vfr_interval(i - 1),
            "interval before frame {i}"
        );
    }
    let average = (pts.len() - 1) as f64 / (pts[pts.len() - 1] - pts[0]).seconds_f64();
    assert!(
        (reader.fps() - average).abs() < 1e-6,
        "{} vs {average}",
        reader.fps()
    );
}

#[test]
fn holding_every_frame_does_not_stall_the_decoder() {
    // Frames handed out hold the decoder's buffers; a decoder with a bounded pool would stall
    // if the reader did not copy what it cannot hand back.
    for name in ["h264.mkv", "h265.mkv", "vp8.webm", "vp9.webm", "mjpeg.avi"] {
        bounded(60, move || {
            let clip = clip(name);
            let mut reader = open(&clip, None);
            let held: Vec<_> = reader
                .frames()
                .collect::<Result<_, _>>()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(held.len(), clip.frames, "{name}");
            let batch = reader
                .get_batch(&(0..clip.frames).rev().collect::<Vec<_>>())
                .unwrap();
            assert_eq!(batch.len(), clip.frames);
        });
    }
}

#[test]
fn a_decoding_index_agrees_with_the_parse_scan() {
    bounded(90, || {
        let clip = clip("vp9.webm");
        let reference = reference(&clip.path, None);
        let parsed = open(&clip, None);
        assert_eq!(parsed.index_source(), gstpipe_media::IndexSource::Parse);
        let mut decoded = gstpipe_media::VideoReader::builder()
            .index_mode(gstpipe_media::IndexMode::Decode)
            .open(clip.path())
            .unwrap();
        assert_eq!(decoded.index_source(), gstpipe_media::IndexSource::Decode);
        assert_eq!(decoded.pts(), parsed.pts());
        for i in [40usize, 3, 22] {
            assert_frame(&reference, i, &decoded.get(i).unwrap(), "decoding index");
        }
    });
}

#[test]
fn a_file_uri_reads_like_its_path() {
    bounded(60, || {
        let clip = clip("vp8.webm");
        let reference = reference(&clip.path, None);
        let uri = format!("file://{}", clip.path());
        let mut reader = gstpipe_media::VideoReader::open(&uri).unwrap();
        assert_eq!(reader.uri(), uri);
        assert_eq!(reader.len(), clip.frames);
        assert_frame(&reference, 33, &reader.get(33).unwrap(), "by URI");
    });
}

#[test]
fn a_reader_can_move_to_another_thread() {
    fn send<T: Send>(_: &T) {}
    let reader = open(&clip("mjpeg.avi"), None);
    send(&reader);
    let len = std::thread::spawn(move || reader.len()).join().unwrap();
    assert_eq!(len, 40);
}

#[test]
fn h264_with_b_frames_as_rgb() {
    // Converted frames take another path: the frames passed over are dropped before
    // conversion, and still checked.
    assert!(!every_index(
        "h264.mkv",
        Some(VideoFormat::Rgb),
        Some("video/x-raw,format=RGB")
    ));
}
