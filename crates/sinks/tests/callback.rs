//! `on_frame`: every frame, on the streaming thread.

use crate::util::{bounded, gst_pts};
use gstpipe_core::Pipeline;
use gstpipe_core::gst::prelude::*;
use gstpipe_sinks::FrameSink;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[test]
fn on_frame_sees_exactly_n_frames_on_the_streaming_thread() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=30 ! video/x-raw,format=RGBA,width=16,height=8,framerate=30/1 ! appsink name=cb",
        )
        .unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let me = std::thread::current().id();
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(move |frame| {
                assert_ne!(std::thread::current().id(), me);
                let shape = frame.view::<u8>().map_err(|e| e.to_string())?.dim();
                log.lock().unwrap().push((frame.pts().unwrap(), shape));
                Ok::<(), String>(())
            })
            .unwrap();
        assert_eq!(handle.appsink().name(), "cb");
        pipeline.play().unwrap();
        assert_eq!(handle.wait().unwrap(), 30);
        assert!(handle.is_done());
        let seen = seen.lock().unwrap();
        let expected: Vec<_> = (0..30).map(|i| (gst_pts(i, 30, 1), (8, 16, 4))).collect();
        assert_eq!(*seen, expected);
        pipeline.wait_timeout(Duration::from_secs(5)).unwrap();
    });
}

#[test]
fn a_callback_that_is_not_kept_still_runs() {
    bounded(30, || {
        let pipeline = Pipeline::launch("videotestsrc num-buffers=12 ! appsink").unwrap();
        let count = Arc::new(Mutex::new(0));
        let counter = count.clone();
        // The handle is dropped at once: the callback keeps running until EOS.
        let _ = FrameSink::new(&pipeline).unwrap().on_frame(move |_| {
            *counter.lock().unwrap() += 1;
            Ok::<(), std::convert::Infallible>(())
        });
        pipeline.play().unwrap();
        pipeline.wait_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(*count.lock().unwrap(), 12);
    });
}
