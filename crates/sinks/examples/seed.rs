//! The seed's pipeline: receive every frame from the appsink and print its shape and dtype.
//!
//! `cargo run -p gstpipe-sinks --example seed`

use gst::prelude::*;
use gstpipe_core::{Pipeline, gst};
use gstpipe_sinks::FrameSink;
use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=100 ! \
         capsfilter caps=video/x-raw,format=RGB,width=640,height=480 ! \
         appsink emit-signals=True",
    )?;
    let sink = FrameSink::new(&pipeline)?;
    pipeline.play()?;
    let started = Instant::now();
    for (i, frame) in sink.iter().enumerate() {
        let frame = frame?; // the pipeline's error, if any, stops the loop here
        let pixels = frame.view::<u8>()?; // (height, width, channels), no copy
        println!(
            "frame {i:3}  pts {:>15}  shape {:?}  dtype {}",
            frame.pts().display(),
            pixels.shape(),
            frame.format_info().sample_type(),
        );
    }
    pipeline.wait_timeout(Duration::from_secs(10))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{} frames in {seconds:.2} s ({:.0} fps)",
        sink.pulled(),
        sink.pulled() as f64 / seconds
    );
    Ok(())
}
