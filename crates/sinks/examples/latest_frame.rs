//! A latest-frame consumer of a live source: a slow "model" that always gets the newest
//! frame, while the frames it has no time for are dropped (and counted), so memory stays
//! bounded however slow it is. Runs for about one second.
//!
//! `cargo run -p gstpipe-sinks --example latest_frame`

use gst::prelude::*;
use gstpipe_core::{Pipeline, gst};
use gstpipe_sinks::{FrameSink, Policy};
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A "camera": live, 60 frames a second.
    let pipeline = Pipeline::launch(
        "videotestsrc is-live=true pattern=ball ! \
         video/x-raw,format=RGB,width=320,height=240,framerate=60/1 ! appsink",
    )?;
    let frames = FrameSink::new(&pipeline)?.channel(1, Policy::DropOldest);
    pipeline.play()?;

    let started = Instant::now();
    let mut processed = 0;
    while started.elapsed() < Duration::from_secs(1) {
        let Some(frame) = frames.recv_timeout(Duration::from_secs(2)) else {
            break; // the stream ended
        };
        let frame = frame?;
        // The "model": 100 ms per frame, six frames' worth of time.
        let brightness = frame
            .view::<u8>()?
            .iter()
            .map(|&v| u64::from(v))
            .sum::<u64>();
        std::thread::sleep(Duration::from_millis(100));
        processed += 1;
        println!(
            "processed frame pts {:>15}  brightness {brightness:>9}  dropped so far {}",
            frame.pts().display(),
            frames.dropped()
        );
    }
    let dropped = frames.dropped();
    // Release the appsink before stopping, so the stop's EOS can pass it.
    drop(frames);
    pipeline.stop()?;
    println!("processed {processed} frames, dropped {dropped} stale ones");
    Ok(())
}
