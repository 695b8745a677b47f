//! The async stream (feature `stream`), driven by tokio.

use crate::util::{STALLED, assert_injected, bounded, failing_pipeline, gst_pts};
use futures_core::Stream;
use gstpipe_core::Pipeline;
use gstpipe_sinks::{FrameSink, FrameStream, Policy};
use std::pin::Pin;
use std::time::Duration;

async fn next(stream: &mut FrameStream) -> Option<<FrameStream as Stream>::Item> {
    std::future::poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_time()
        .build()
        .unwrap()
}

#[test]
fn stream_yields_exactly_n_frames_in_tokio() {
    bounded(30, || {
        runtime().block_on(async {
            let pipeline = Pipeline::launch(
                "videotestsrc num-buffers=15 ! video/x-raw,width=32,height=24,framerate=25/1 ! appsink",
            )
            .unwrap();
            let mut stream = FrameSink::new(&pipeline).unwrap().stream();
            pipeline.play().unwrap();
            let mut pts = Vec::new();
            while let Some(frame) = next(&mut stream).await {
                pts.push(frame.unwrap().pts().unwrap());
                // Work simulation, not synchronisation: the consumer awaits something else
                // (a timer) between frames, and the stream loses nothing meanwhile.
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let expected: Vec<_> = (0..15).map(|i| gst_pts(i, 25, 1)).collect();
            assert_eq!(pts, expected);
            assert!(futures_core::FusedStream::is_terminated(&stream));
            assert_eq!(stream.receiver().dropped(), 0);
        });
    });
}

#[test]
fn stream_reports_a_mid_stream_error() {
    bounded(30, || {
        runtime().block_on(async {
            let pipeline = failing_pipeline("appsink");
            let mut stream = FrameSink::new(&pipeline).unwrap().stream();
            pipeline.play().unwrap();
            let mut last = None;
            while let Some(item) = next(&mut stream).await {
                last = Some(item);
            }
            assert_injected(&last.expect("an item").unwrap_err());
        });
    });
}

#[test]
fn stream_reports_a_stall() {
    bounded(30, || {
        runtime().block_on(async {
            let pipeline = Pipeline::launch(STALLED).unwrap();
            let sink = FrameSink::builder(&pipeline)
                .timeout(Duration::from_millis(300))
                .build()
                .unwrap();
            let mut stream = sink.stream_with(1, Policy::DropOldest);
            pipeline.play().unwrap();
            let err = next(&mut stream).await.unwrap().unwrap_err();
            assert!(err.is_timeout(), "{err:?}");
            // A stall is reported, not the end: the stream waits again.
            let again = next(&mut stream).await.unwrap().unwrap_err();
            assert!(again.is_timeout(), "{again:?}");
            pipeline.stop().unwrap();
            assert!(next(&mut stream).await.is_none());
        });
    });
}
