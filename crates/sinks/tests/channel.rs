//! The bounded channel: Block loses nothing, DropOldest bounds memory and counts drops.

use crate::util::{STALLED, Tally, bounded, gst_pts};
use gstpipe_core::{Outcome, Pipeline};
use gstpipe_sinks::{FrameSink, Policy, SinkError};
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
            // Work simulation: a consumer slower than the source, so the producer blocks.
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
        let sink = FrameSink::new(&pipeline).unwrap();
        let arrived = Tally::probe_sink(sink.appsink());
        let rx = sink.channel(2, Policy::DropOldest);
        pipeline.play().unwrap();
        let mut pts = Vec::new();
        let mut max_len = 0;
        while let Some(frame) = rx.recv() {
            pts.push(frame.unwrap().pts().unwrap());
            // A slow consumer: before reading on, it lets the producer deliver 3 more frames
            // into the queue of 2 (the 4th has reached the appsink, so the 3 before it have
            // been queued). Every step overflows the queue, whatever the machine's speed.
            let now = arrived.count();
            arrived.wait_for((now + 4).min(N), Duration::from_secs(10));
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
        let sink = FrameSink::new(&pipeline).unwrap();
        let arrived = Tally::probe_sink(sink.appsink());
        let rx = sink.channel(1, Policy::DropOldest);
        pipeline.play().unwrap();
        let mut pts = Vec::new();
        for _ in 0..5 {
            pts.push(rx.recv().unwrap().unwrap().pts().unwrap());
            // A consumer slower than the live source: 5 more frames reach the appsink before
            // it reads again, so frames up to 4 after the one it got have been queued.
            let now = arrived.count();
            arrived.wait_for(now + 5, Duration::from_secs(10));
        }
        assert!(rx.dropped() > 0);
        assert!(rx.len() <= 1);
        // Consecutive received frames are at least 4 frames (40 ms) apart: the latest frame
        // replaced the older ones.
        assert!(
            pts.windows(2)
                .all(|w| w[1] - w[0] >= gstpipe_core::gst::ClockTime::from_mseconds(40)),
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
        let SinkError::Timeout { waited, .. } = err else {
            panic!("expected a timeout, got {err:?}")
        };
        // Lower bounds only: a loaded machine makes the wait longer, never shorter.
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert!(started.elapsed() >= waited);
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
        drop(rx);
        pipeline
            .stop()
            .expect("EOS passes once the receiver is gone");
        // Eos, not Stopped: EOS reached the end instead of stop() giving up on it after its
        // timeout and forcing the pipeline down.
        assert_eq!(pipeline.outcome(), Some(Outcome::Eos));
    });
}
