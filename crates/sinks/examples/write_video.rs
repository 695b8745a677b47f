//! Pushing generated frames into a video file: RGB arrays into `appsrc`, VP8-encoded into a
//! Matroska file in the temp dir; then GStreamer reads the file back to check it.
//!
//! `cargo run -p gstpipe-sinks --example write_video`

use gst::prelude::*;
use gst_video::{VideoFormat, VideoInfo};
use gstpipe_core::{Pipeline, gst};
use gstpipe_sinks::{FrameSink, FrameSource};
use ndarray::Array3;

const FRAMES: u64 = 60;
const WIDTH: usize = 320;
const HEIGHT: usize = 240;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::temp_dir().join(format!("gstpipe-generated-{}.mkv", std::process::id()));
    let pipeline = Pipeline::launch(&format!(
        "appsrc ! videoconvert ! vp8enc deadline=1 ! matroskamux ! filesink location={}",
        path.display()
    ))?;
    let info = VideoInfo::builder(VideoFormat::Rgb, WIDTH as u32, HEIGHT as u32)
        .fps(gst::Fraction::new(30, 1))
        .build()?;
    let source = FrameSource::new(&pipeline, info)?;
    pipeline.play()?;
    for i in 0..FRAMES as usize {
        // A gradient that scrolls one pixel per frame.
        let frame = Array3::from_shape_fn((HEIGHT, WIDTH, 3), |(y, x, c)| match c {
            0 => ((x + i) % 256) as u8,
            1 => (y % 256) as u8,
            _ => 128,
        });
        source.push(frame)?; // owned, rows need no padding: no copy
    }
    source.finish()?; // EOS, and wait until the muxer has written the file
    drop(pipeline);
    let size = std::fs::metadata(&path)?.len();
    println!("wrote {FRAMES} frames to {} ({size} bytes)", path.display());

    // Read it back with GStreamer's demuxer and decoder.
    let reader = Pipeline::launch(&format!(
        "filesrc location={} ! matroskademux ! vp8dec ! videoconvert ! \
         video/x-raw,format=RGB ! appsink",
        path.display()
    ))?;
    let sink = FrameSink::new(&reader)?;
    reader.play()?;
    let mut count = 0;
    let mut last = None;
    for frame in &sink {
        let frame = frame?;
        if frame.view::<u8>()?.shape() != [HEIGHT, WIDTH, 3] {
            return Err(format!("unexpected frame shape {:?}", frame.view::<u8>()?.shape()).into());
        }
        last = frame.pts();
        count += 1;
    }
    drop(reader);
    std::fs::remove_file(&path)?;
    if count != FRAMES {
        return Err(format!("read back {count} frames, wrote {FRAMES}").into());
    }
    println!("read back {count} frames, last at {}", last.display());
    Ok(())
}
