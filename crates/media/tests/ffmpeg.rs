//! The reader against ffmpeg: clips encoded by the `ffmpeg` command-line tool with the
//! settings users' files come with, each frame compared with ffmpeg's own decode of the same
//! file (`ffmpeg -f rawvideo -pix_fmt yuv420p`), in a shuffled order. Skipped (with a message)
//! where the `ffmpeg` tool is missing (`cargo xtask setup` installs it).

use crate::util::{Rng, bounded, dir};
use gstpipe_media::VideoReader;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn ffmpeg_available() -> bool {
    Command::new("ffmpeg")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Encodes `frames` frames of 96x64 `testsrc2` at 25 fps with `options` into `name`.
fn make(name: &str, options: &str, frames: usize) -> PathBuf {
    let path = dir().join(name);
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg("testsrc2=size=96x64:rate=25,format=rgb24")
        .args(["-frames:v", &frames.to_string(), "-pix_fmt", "yuv420p"])
        .args(options.split_whitespace())
        .arg(&path)
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {options}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// ffmpeg's decode of `path`: every frame's I420 bytes (Y, U, V planes, tightly packed).
fn ffmpeg_frames(path: &PathBuf, w: usize, h: usize) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(path)
        // Every decoded frame once: no frame rate conversion (duplicates, drops).
        .args([
            "-fps_mode",
            "passthrough",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-",
        ])
        .output()
        .expect("run ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let size = w * h + 2 * w.div_ceil(2) * h.div_ceil(2);
    assert_eq!(out.stdout.len() % size, 0);
    out.stdout.chunks(size).map(<[u8]>::to_vec).collect()
}

fn check(name: &'static str, options: &'static str, frames: usize, tolerance: u8) {
    if !ffmpeg_available() {
        eprintln!("skipped: no ffmpeg command-line tool (cargo xtask setup installs it)");
        return;
    }
    bounded(120, move || {
        let path = make(name, options, frames);
        let reference = ffmpeg_frames(&path, 96, 64);
        // Xvid's packed B-frames cost the first two frames' slots.
        assert!(
            (frames - 2..=frames).contains(&reference.len()),
            "{name}: ffmpeg's frame count {}",
            reference.len()
        );
        let frames = reference.len();
        let mut reader = VideoReader::open(path.to_str().unwrap()).expect("open");
        assert_eq!(reader.len(), frames, "{name}: frame count");
        let mut order: Vec<usize> = (0..frames).collect();
        Rng::new(frames as u64 + name.len() as u64).shuffle(&mut order);
        for i in order {
            let frame = reader
                .get(i)
                .unwrap_or_else(|e| panic!("{name}: get({i}): {e}"));
            let planes = frame.planes_to_arrays::<u8>().expect("8-bit planes");
            let got: Vec<u8> = planes.iter().flat_map(|p| p.iter().copied()).collect();
            assert_eq!(got.len(), reference[i].len(), "{name}: frame {i} size");
            let diff = got
                .iter()
                .zip(&reference[i])
                .map(|(a, b)| a.abs_diff(*b))
                .max()
                .unwrap_or(0);
            assert!(
                diff <= tolerance,
                "{name}: frame {i} differs from ffmpeg's by up to {diff} levels"
            );
        }
    });
}

#[test]
fn h264_with_b_frames_in_mp4() {
    check(
        "ff-h264.mp4",
        "-c:v libx264 -preset ultrafast -bf 2 -g 12 -sc_threshold 0",
        30,
        0,
    );
}

#[test]
fn fragmented_mp4() {
    check(
        "ff-frag.mp4",
        "-c:v libx264 -preset ultrafast -bf 2 -g 12 -sc_threshold 0 -movflags frag_keyframe+empty_moov",
        40,
        0,
    );
}

#[test]
fn mpeg4_part2_with_b_frames_in_avi() {
    check("ff-mpeg4.avi", "-c:v mpeg4 -bf 2 -g 12", 30, 2);
}

#[test]
fn xvid_packed_b_frames_in_avi() {
    check("ff-xvid.avi", "-c:v libxvid -bf 2 -g 12", 30, 2);
}

#[test]
fn mpeg2_in_a_program_stream() {
    check("ff-mpeg2.mpg", "-c:v mpeg2video -bf 2 -g 12 -f vob", 30, 2);
}

#[test]
fn a_damaged_file_reports_the_frames_a_sequential_decode_loses() {
    if !ffmpeg_available() {
        eprintln!("skipped: no ffmpeg command-line tool (cargo xtask setup installs it)");
        return;
    }
    bounded(120, || {
        let path = make(
            "ff-damaged.mp4",
            "-c:v libx264 -preset ultrafast -bf 2 -g 10",
            40,
        );
        let mut data = std::fs::read(&path).unwrap();
        // A tenth of the file, a third of the way in: frame data (the index, `moov`, is at
        // the end of ffmpeg's MP4 files).
        let start = data.len() / 3;
        let end = start + data.len() / 10;
        data[start..end].fill(0);
        std::fs::write(&path, &data).unwrap();
        // The reference: which pts a plain sequential GStreamer decode still gives.
        let decoded: Vec<_> = crate::util::reference(&path, None)
            .into_iter()
            .filter_map(|f| f.pts)
            .collect();
        let mut reader = VideoReader::builder()
            .index_cache(None)
            .open(path.to_str().unwrap())
            .expect("open");
        let want: Vec<usize> = (0..reader.len())
            .filter(|&i| !decoded.contains(&reader.pts()[i]))
            .collect();
        assert!(!want.is_empty() && want.len() < reader.len(), "{want:?}");
        // Asked for first, a lost frame is found lost; then the whole file is checked.
        let err = reader.get(want[want.len() / 2]).unwrap_err();
        assert!(
            matches!(err, gstpipe_media::MediaError::NotDecoded { .. }),
            "{err}"
        );
        assert_eq!(reader.verify().expect("verify"), want);
        assert_eq!(reader.lost_frames(), want);
        for (i, frame) in reader.frames().enumerate() {
            assert_eq!(frame.is_err(), want.contains(&i), "frame {i}");
        }
    });
}
