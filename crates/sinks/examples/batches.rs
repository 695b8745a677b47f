//! Batches for a model: frames scaled to 224x224 RGB, stacked 16 at a time into one
//! `(N, H, W, C)` array, then turned into the `f32` NCHW input most vision models take.
//!
//! `cargo run -p gstpipe-sinks --example batches`

use gst::prelude::*;
use gstpipe_core::{Pipeline, gst};
use gstpipe_sinks::FrameSink;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=50 pattern=smpte ! videoconvert ! videoscale ! \
         video/x-raw,format=RGB,width=224,height=224 ! appsink",
    )?;
    let sink = FrameSink::new(&pipeline)?;
    pipeline.play()?;
    for batch in sink.batches::<u8>(16) {
        let batch = batch?; // the last batch holds the 2 frames left
        let input = batch
            .array
            .mapv(|v| f32::from(v) / 255.0)
            .permuted_axes([0, 3, 1, 2]) // NHWC -> NCHW
            .as_standard_layout()
            .into_owned();
        let mean = input.mean().unwrap_or(0.0);
        println!(
            "batch of {:2} frames  pts {} .. {}  array {:?} -> model input {:?}  mean {mean:.4}",
            batch.len(),
            batch.pts[0].display(),
            batch.pts[batch.len() - 1].display(),
            batch.array.shape(),
            input.shape(),
        );
    }
    Ok(())
}
