//! The bounded channel: Block loses nothing, DropOldest bounds memory and counts drops.

use crate::util::{STALLED, bounded, gst_pts};
use gstpipe_core::{Outcome, Pipeline};
use gstpipe_sinks::{FrameSink, Policy};
use std::time::{Duration, Instant};

#[test]
fn block_policy_loses_nothing_with_a_slow_consumer() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=40 ! video/x-raw,format=RGB,width=64,height=48,framerate=25/1 ! appsink",
        )
        .unwrap();
        let rx = FrameSink::new(&pipeline).unwrap().channel(2, Policy::Block);
        assert_eq!((rx.capacity(), rx.policy()), (2, Policy::Block));
        pipeline.play().unwrap();
        let mut pts = Vec::new();
        while let Some(frame) = rx.recv() {
            assert!(rx.len() <= 2);
            pts.push(frame.unwrap().pts().unwrap());
            std::thread::sleep(Duration::from_millis(3));
        }
        // Every frame, in order, none skipped.
        let expected: Vec<_> = (0..40).map(|i| gst_pts(i, 25, 1)).collect();
        assert_eq!(pts, expected);
        assert_eq!(rx.dropped(), 0);
        assert_eq!(rx.received(), 40);
        assert!(rx.is_ended());
        pipeline.wait_timeout(Duration::from_secs(5)).unwrap();
    });
}

#[test]
fn drop_oldest_bounds_the_queue_and_counts_dropped_frames() {
    bounded(30, || {
        const N: u64 = 200;
        let pipeline = Pipeline::launch(&format!(
            "videotestsrc num-buffers={N} ! video/x-raw,format=RGB,width=320,height=240,framerate=25/1 ! appsink"
        ))
        .unwrap();
        let rx = FrameSink::new(&pipeline)
            .unwrap()
            .channel(2, Policy::DropOldest);
        pipeline.play().unwrap();
        let mut pts = Vec::new();
        let mut max_len = 0;
        while let Some(frame) = rx.recv() {
            pts.push(frame.unwrap().pts().unwrap());
            // A slow consumer: the producer keeps pulling, the queue never grows.
            std::thread::sleep(Duration::from_millis(10));
            max_len = max_len.max(rx.len());
        }
        assert!(max_len <= 2, "queue grew to {max_len}");
        let dropped = rx.dropped();
        assert!(dropped > 0, "a slow consumer must lose frames");
        // Exact accounting: every frame of the stream was either received or dropped.
        assert_eq!(
            pts.len() as u64 + dropped,
            N,
            "received {} dropped {dropped}",
            pts.len()
        );
        assert_eq!(rx.received(), pts.len() as u64);
        // What arrives is in order, and the last frame (latest wins) is the stream's last.
        assert!(pts.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(*pts.last().unwrap(), gst_pts(N - 1, 25, 1));
        pipeline.wait_timeout(Duration::from_secs(5)).unwrap();
    });
}

#[test]
fn latest_frame_of_a_live_source() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc is-live=true ! video/x-raw,width=32,height=24,framerate=100/1 ! appsink",
        )
        .unwrap();
        let rx = FrameSink::new(&pipeline)
            .unwrap()
            .channel(1, Policy::DropOldest);
        pipeline.play().unwrap();
        let mut pts = Vec::new();
        for _ in 0..5 {
            pts.push(rx.recv().unwrap().unwrap().pts().unwrap());
            std::thread::sleep(Duration::from_millis(60)); // 6 frames' worth
        }
        assert!(rx.dropped() > 0);
        assert!(rx.len() <= 1);
        // Consecutive received frames are several frames apart: older ones were dropped.
        assert!(
            pts.windows(2)
                .any(|w| w[1] - w[0] >= gstpipe_core::gst::ClockTime::from_mseconds(30)),
            "{pts:?}"
        );
    });
}

#[test]
fn try_recv_and_recv_timeout() {
    bounded(30, || {
        let pipeline = Pipeline::launch(STALLED).unwrap();
        let rx = FrameSink::new(&pipeline).unwrap().channel(2, Policy::Block);
        pipeline.play().unwrap();
        assert!(rx.try_recv().is_none());
        assert!(!rx.is_ended());
        let started = Instant::now();
        let err = rx
            .recv_timeout(Duration::from_millis(100))
            .unwrap()
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(started.elapsed() >= Duration::from_millis(100));
        // Still usable after a timeout.
        assert!(
            rx.recv_timeout(Duration::from_millis(10))
                .unwrap()
                .unwrap_err()
                .is_timeout()
        );
    });
}

#[test]
fn dropping_the_receiver_releases_the_pipeline() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=100000 ! video/x-raw,width=32,height=24 ! appsink",
        )
        .unwrap();
        let rx = FrameSink::new(&pipeline).unwrap().channel(2, Policy::Block);
        pipeline.play().unwrap();
        for _ in 0..3 {
            rx.recv().unwrap().unwrap();
        }
        let started = Instant::now();
        drop(rx);
        pipeline
            .stop()
            .expect("EOS passes once the receiver is gone");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{:?}",
            started.elapsed()
        );
        assert_eq!(pipeline.outcome(), Some(Outcome::Eos));
    });
}
