//! Seeking by time and iterating from any index.

use crate::util::{assert_frame, bounded, clip, open, reference};
use gstpipe_media::{MediaError, SeekMode};
use std::time::Duration;

#[test]
fn exact_seeks_land_on_the_frame_showing_at_that_time() {
    bounded(90, || {
        let clip = clip("h264.mp4");
        let reference = reference(&clip.path, None);
        let pts: Vec<_> = reference.iter().map(|f| f.pts.unwrap()).collect();
        let mut reader = open(&clip, None);
        for i in [0usize, 1, 2, 17, 40, 41, 71, 5] {
            // At a frame's pts, and halfway to the next one: both show frame i.
            let at = Duration::from_nanos(pts[i].nseconds());
            let mid = at + Duration::from_millis(15);
            for t in [at, mid] {
                let got = reader.seek_time(t, SeekMode::Exact).unwrap();
                assert_eq!(got, i, "seek to {t:?}");
                assert_eq!(reader.position(), i);
                let frame = reader.read().unwrap().unwrap();
                assert_frame(&reference, i, &frame, &format!("after seeking to {t:?}"));
                assert_eq!(reader.position(), i + 1);
            }
        }
        // Before the first frame (B-frame delay): the first frame.
        assert_eq!(
            reader.seek_time(Duration::ZERO, SeekMode::Exact).unwrap(),
            0
        );
    });
}

#[test]
fn keyframe_seeks_land_on_a_keyframe_at_or_before() {
    bounded(90, || {
        let clip = clip("h264.mp4");
        let reference = reference(&clip.path, None);
        let mut reader = open(&clip, None);
        let keyframes = reader.keyframes().to_vec();
        // key-int-max=24 on 72 frames: 0, 24, 48 (x264 may add scene cuts, never fewer).
        assert!(keyframes.len() >= 3, "{keyframes:?}");
        assert_eq!(keyframes[0], 0);
        for i in [0usize, 10, 30, 60, 71] {
            let t = Duration::from_nanos(reader.pts()[i].nseconds());
            let k = reader.seek_time(t, SeekMode::Keyframe).unwrap();
            let expected = *keyframes.iter().rev().find(|&&k| k <= i).unwrap();
            assert_eq!(k, expected, "keyframe before {i}");
            let frame = reader.read().unwrap().unwrap();
            assert_frame(&reference, k, &frame, "after a keyframe seek");
        }
    });
}

#[test]
fn seeking_past_the_end_is_an_error_naming_the_duration() {
    bounded(60, || {
        let clip = clip("vp9.webm");
        let mut reader = open(&clip, None);
        let duration = reader.duration();
        // 48 frames at 30 fps.
        assert!((duration.as_secs_f64() - 1.6).abs() < 0.05, "{duration:?}");
        let err = reader.seek_time(duration, SeekMode::Exact).unwrap_err();
        assert!(matches!(err, MediaError::TimeOutOfRange { .. }), "{err:?}");
        assert!(err.is_out_of_range());
        let err = reader
            .seek_time(Duration::from_secs(3600), SeekMode::Keyframe)
            .unwrap_err();
        assert!(err.to_string().contains("past the end"), "{err}");
        // The reader still works afterwards.
        assert!(reader.get(47).is_ok());
    });
}

#[test]
fn iteration_from_any_index() {
    bounded(90, || {
        let clip = clip("vfr.mkv");
        let reference = reference(&clip.path, None);
        let mut reader = open(&clip, None);
        for start in [37usize, 0, 59, 12] {
            let mut n = 0;
            for (k, frame) in reader.iter_from(start).enumerate() {
                assert_frame(
                    &reference,
                    start + k,
                    &frame.unwrap(),
                    &format!("from {start}"),
                );
                n += 1;
            }
            assert_eq!(n, clip.frames - start);
        }
        assert_eq!(reader.iter_from(60).count(), 0);
        assert!(reader.read().is_none());
    });
}
