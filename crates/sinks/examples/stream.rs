//! The async stream in tokio: frames arrive in a task while another task keeps ticking; a
//! pipeline error would arrive as the stream's last item.
//!
//! `cargo run -p gstpipe-sinks --example stream`

use futures_core::Stream;
use gst::prelude::*;
use gstpipe_core::{Pipeline, gst};
use gstpipe_sinks::FrameSink;
use std::pin::Pin;
use std::time::Duration;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=30 ! video/x-raw,format=RGB,width=64,height=48 ! appsink",
    )?;
    let mut frames = FrameSink::new(&pipeline)?.stream();
    pipeline.play()?;

    let ticker = tokio::spawn(async {
        let mut ticks = 0;
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            ticks += 1;
            if ticks == 1000 {
                break ticks;
            }
        }
    });
    let mut count = 0;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut frames).poll_next(cx)).await {
        let frame = frame?;
        count += 1;
        println!(
            "frame {count:2}  pts {:>15}  {}x{}",
            frame.pts().display(),
            frame.width(),
            frame.height()
        );
    }
    ticker.abort();
    pipeline.wait_timeout(Duration::from_secs(5))?;
    println!("{count} frames received asynchronously");
    Ok(())
}
