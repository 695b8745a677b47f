//! Bad input: indices past the end, missing and non-media files, files without video,
//! truncated and corrupt files. Always a typed error or the frames that decode; never a hang.

use crate::util::{assert_frame, bounded, clip, dir, encode, reference};
use gstpipe_media::{MediaError, VideoReader};
use std::time::Duration;

#[test]
fn indices_past_the_end_name_the_frame_count() {
    bounded(60, || {
        let clip = clip("mjpeg.avi");
        let mut reader = VideoReader::open(clip.path()).unwrap();
        for i in [40usize, 41, usize::MAX] {
            let err = reader.get(i).unwrap_err();
            assert!(
                matches!(err, MediaError::OutOfRange { index, frames: 40 } if index == i),
                "{err:?}"
            );
            assert!(err.to_string().contains("40 frames"), "{err}");
        }
        assert!(reader.get(39).is_ok());
    });
}

#[test]
fn missing_files_and_directories() {
    let err = VideoReader::open("/nonexistent/clip.mp4").unwrap_err();
    assert!(matches!(err, MediaError::Open { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/clip.mp4"), "{err}");
    let err = VideoReader::open(dir().to_str().unwrap()).unwrap_err();
    assert!(err.to_string().contains("directory"), "{err}");
    let err = VideoReader::open("nosuchscheme://host/clip.mp4").unwrap_err();
    assert!(matches!(err, MediaError::Uri { .. }), "{err:?}");
}

#[test]
fn a_file_that_is_not_media() {
    bounded(60, || {
        let path = dir().join("notes.txt");
        std::fs::write(
            &path,
            "these are not the frames you are looking for\n".repeat(100),
        )
        .unwrap();
        let err = VideoReader::open(path.to_str().unwrap()).unwrap_err();
        let element = err.element_error();
        assert!(
            element.is_some() || matches!(err, MediaError::NoVideo { .. }),
            "{err:?}"
        );
    });
}

#[test]
fn an_audio_only_file_has_no_video() {
    bounded(60, || {
        let path = encode(
            "audio.mkv",
            "audiotestsrc num-buffers=20 ! audioconvert ! vorbisenc ! matroskamux ! filesink location={out}",
        );
        let err = VideoReader::open(path.to_str().unwrap()).unwrap_err();
        assert!(matches!(err, MediaError::NoVideo { .. }), "{err:?}");
        assert!(err.to_string().contains("no video stream"), "{err}");
    });
}

#[test]
fn a_video_with_an_audio_track() {
    bounded(90, || {
        let path = encode(
            "av.mkv",
            "matroskamux name=mux ! filesink location={out} \
             audiotestsrc num-buffers=30 samplesperbuffer=1470 ! audioconvert ! vorbisenc ! queue ! mux. \
             videotestsrc num-buffers=30 pattern=ball animation-mode=frames ! \
             video/x-raw,format=I420,width=96,height=64,framerate=30/1 ! x264enc bframes=2 ! h264parse ! queue ! mux.",
        );
        let reference = reference(&path, None);
        assert_eq!(reference.len(), 30);
        let mut reader = VideoReader::open(path.to_str().unwrap()).unwrap();
        assert_eq!(reader.len(), 30);
        for i in [29usize, 0, 14, 15] {
            assert_frame(&reference, i, &reader.get(i).unwrap(), "with audio");
        }
    });
}

/// Reads every frame of a damaged file: each is the reference frame of the same pts or a
/// typed error; the whole read is bounded.
fn read_damaged(path: std::path::PathBuf, reference: Vec<crate::util::RefFrame>) -> (usize, usize) {
    let reader = VideoReader::builder()
        .timeout(Duration::from_secs(10))
        .open(path.to_str().unwrap());
    let mut reader = match reader {
        Ok(reader) => reader,
        Err(e) => {
            // A clear error at open is an acceptable answer for a damaged file.
            assert!(!e.to_string().is_empty());
            return (0, 0);
        }
    };
    let (mut ok, mut failed) = (0, 0);
    for i in (0..reader.len()).rev() {
        match reader.get(i) {
            Ok(frame) => {
                // A frame that decodes carries a pts of the index.
                assert_eq!(frame.pts(), Some(reader.pts()[i]));
                if let Some(k) = reference.iter().position(|r| r.pts == frame.pts()) {
                    assert_eq!(crate::util::planes(&frame).len(), reference[k].planes.len());
                }
                ok += 1;
            }
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        MediaError::NotDecoded { .. }
                            | MediaError::Element { .. }
                            | MediaError::Timeout { .. }
                    ),
                    "frame {i}: {e:?}"
                );
                failed += 1;
            }
        }
    }
    (ok, failed)
}

#[test]
fn a_truncated_matroska_file_gives_the_frames_that_decode() {
    bounded(120, || {
        let clip = clip("h264.mkv");
        let bytes = std::fs::read(&clip.path).unwrap();
        let path = dir().join("truncated.mkv");
        std::fs::write(&path, &bytes[..bytes.len() * 6 / 10]).unwrap();
        let reference = reference(&clip.path, None);
        let (ok, _failed) = read_damaged(path.clone(), reference.clone());
        assert!(ok > 10, "only {ok} frames decoded from 60% of the file");
        // The frames that decode before the cut are exactly the complete file's frames.
        let mut reader = VideoReader::open(path.to_str().unwrap()).unwrap();
        assert!(
            reader.len() < clip.frames,
            "{} frames in a truncated file",
            reader.len()
        );
        for i in [0usize, 5, 10] {
            assert_frame(&reference, i, &reader.get(i).unwrap(), "truncated file");
        }
    });
}

#[test]
fn a_truncated_mp4_file_is_a_clear_error() {
    bounded(120, || {
        let clip = clip("h264.mp4");
        let bytes = std::fs::read(&clip.path).unwrap();
        let path = dir().join("truncated.mp4");
        std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
        let err = VideoReader::builder()
            .timeout(Duration::from_secs(3))
            .open(path.to_str().unwrap())
            .unwrap_err();
        // mp4mux writes the index (moov) at the end: without it nothing can be read. qtdemux
        // says so, but parsebin sometimes swallows its error: then the scan times out.
        match &err {
            MediaError::Element { error, .. } => {
                assert!(error.element.starts_with("qtdemux"), "{err:?}")
            }
            MediaError::Timeout { operation, .. } => {
                assert!(operation.contains("none appeared"), "{err}")
            }
            other => panic!("unexpected error {other:?}"),
        }
    });
}

#[test]
fn a_corrupt_file_never_hangs() {
    bounded(120, || {
        let clip = clip("h264.mkv");
        let mut bytes = std::fs::read(&clip.path).unwrap();
        // Overwrite a stretch in the middle with noise.
        let (start, len) = (bytes.len() / 2, bytes.len() / 10);
        let mut x = 12345u32;
        for b in &mut bytes[start..start + len] {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (x >> 16) as u8;
        }
        let path = dir().join("corrupt.mkv");
        std::fs::write(&path, &bytes).unwrap();
        let reference = reference(&clip.path, None);
        let (ok, _failed) = read_damaged(path.clone(), reference.clone());
        // The frames stored before the damage decode as in the intact file.
        assert!(ok >= 10, "only {ok} frames decoded");
        let mut reader = VideoReader::open(path.to_str().unwrap()).unwrap();
        for i in [0usize, 3, 9] {
            assert_frame(&reference, i, &reader.get(i).unwrap(), "before the damage");
        }
    });
}
