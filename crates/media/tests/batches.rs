//! Batches in any order, repeated indices, reading forward instead of seeking, and two
//! readers on one file at once.

use crate::util::{Rng, assert_frame, bounded, clip, open, reference};
use gstpipe_media::{MediaError, VideoReader};

#[test]
fn shuffled_random_batches_with_repeats() {
    bounded(120, || {
        let clip = clip("long.mkv");
        let reference = reference(&clip.path, None);
        let mut reader = open(&clip, None);
        assert_eq!(reader.len(), 240);
        let mut rng = Rng::new(42);
        for round in 0..6 {
            let size = 1 + rng.below(12);
            let mut batch: Vec<usize> = (0..size).map(|_| rng.below(240)).collect();
            // A repeated index, and the last frame now and then.
            batch.push(batch[0]);
            if round % 2 == 0 {
                batch.push(239);
            }
            let frames = reader
                .get_batch(&batch)
                .unwrap_or_else(|e| panic!("batch {batch:?}: {e}"));
            assert_eq!(frames.len(), batch.len());
            for (frame, &i) in frames.iter().zip(&batch) {
                assert_frame(&reference, i, frame, &format!("batch {batch:?}"));
            }
        }
    });
}

#[test]
fn a_contiguous_batch_is_one_seek_and_each_frame_decoded_once() {
    bounded(60, || {
        let clip = clip("long.mkv");
        let reference = reference(&clip.path, None);
        let mut reader = open(&clip, None);
        let mut batch: Vec<usize> = (130..150).collect();
        Rng::new(7).shuffle(&mut batch);
        let (seeks, decoded) = (reader.seeks(), reader.frames_decoded());
        let frames = reader.get_batch(&batch).unwrap();
        for (frame, &i) in frames.iter().zip(&batch) {
            assert_frame(&reference, i, frame, "contiguous batch");
        }
        assert_eq!(reader.seeks() - seeks, 1, "one seek, then decoding forward");
        // The seek goes to the keyframe before frame 130; from there every frame is pulled
        // once up to 149.
        let keyframe = *reader
            .keyframes()
            .iter()
            .rev()
            .find(|&&k| k <= 130)
            .unwrap();
        assert_eq!(reader.frames_decoded() - decoded, (150 - keyframe) as u64);
        // Reading on from there needs no seek at all.
        let next = reader.get(151).unwrap();
        assert_frame(&reference, 151, &next, "forward read");
        assert_eq!(reader.seeks() - seeks, 1);
        // Going back does.
        let back = reader.get(3).unwrap();
        assert_frame(&reference, 3, &back, "backward read");
        assert_eq!(reader.seeks() - seeks, 2);
    });
}

#[test]
fn two_readers_on_one_file_at_once() {
    bounded(120, || {
        let clip = clip("h264.mkv");
        let reference = std::sync::Arc::new(reference(&clip.path, None));
        let threads: Vec<_> = (0..2u64)
            .map(|t| {
                let clip = clip.clone();
                let reference = std::sync::Arc::clone(&reference);
                std::thread::spawn(move || {
                    let mut reader = VideoReader::open(clip.path()).unwrap();
                    let mut rng = Rng::new(100 + t);
                    for _ in 0..30 {
                        let i = rng.below(clip.frames);
                        let frame = reader.get(i).unwrap();
                        assert_frame(&reference, i, &frame, &format!("reader {t}"));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("reader thread");
        }
    });
}

#[test]
fn a_batch_past_the_end_fails_before_decoding() {
    bounded(60, || {
        let clip = clip("vp8.webm");
        let mut reader = open(&clip, None);
        let decoded = reader.frames_decoded();
        let err = reader.get_batch(&[3, 64, 1]).unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::OutOfRange {
                    index: 64,
                    frames: 64
                }
            ),
            "{err:?}"
        );
        assert!(err.to_string().contains("64 frames"), "{err}");
        assert_eq!(reader.frames_decoded(), decoded);
        assert!(reader.get_batch(&[]).unwrap().is_empty());
    });
}

#[test]
fn a_batch_as_one_array() {
    bounded(60, || {
        let clip = clip("h264-odd.mp4");
        let reference = reference(&clip.path, Some("video/x-raw,format=RGB"));
        let mut reader = open(&clip, Some(gst_video::VideoFormat::Rgb));
        let indices = [40usize, 2, 40, 17];
        let array = reader.get_batch_array::<u8>(&indices).unwrap();
        assert_eq!(array.shape(), &[4, 241, 321, 3]);
        for (k, &i) in indices.iter().enumerate() {
            let expected = &reference[i].planes[0];
            assert!(
                array.index_axis(ndarray::Axis(0), k) == expected.view(),
                "frame {i} in slot {k}"
            );
        }
        assert_eq!(reader.get_batch_array::<u8>(&[]).unwrap().len(), 0);
        // A planar format has no single array.
        let mut native = open(&crate::util::clip("vp8.webm"), None);
        let err = native.get_batch_array::<u8>(&[1]).unwrap_err();
        assert!(matches!(err, MediaError::Frame(_)), "{err:?}");
        let err = reader.get_batch_array::<u8>(&[48]).unwrap_err();
        assert!(
            matches!(
                err,
                MediaError::OutOfRange {
                    index: 48,
                    frames: 48
                }
            ),
            "{err:?}"
        );
    });
}
