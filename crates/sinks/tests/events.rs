//! The event model and the user's settings: latest-frame latency on a live source, stopping
//! after `break`, graceful end requests, watch subscriptions, structured flow errors.

use crate::util::bounded;
use gst::prelude::*;
use gstpipe_core::{Event, Outcome, Pipeline, gst};
use gstpipe_sinks::FrameSink;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How far behind the live source a frame is when the application gets it: the pipeline's
/// running time now minus the frame's timestamp (both on the pipeline clock).
fn lag(pipeline: &Pipeline, pts: gst::ClockTime) -> Duration {
    let now = pipeline
        .gst()
        .current_running_time()
        .expect("a playing pipeline has a running time");
    Duration::from_nanos(now.saturating_sub(pts).nseconds())
}

/// The description's latest-frame setting (`max-buffers=1 drop=true`) is kept: with a
/// consumer that takes 200 ms per frame on a 30 fps camera, every frame it gets is fresh.
/// Overriding it with a deeper, non-dropping queue makes each frame ~170 ms older than the
/// one before, which this test would catch.
#[test]
fn latest_frame_description_keeps_latency_low_with_a_slow_consumer() {
    bounded(60, || {
        let pipeline = Pipeline::launch(
            "videotestsrc is-live=true ! video/x-raw,width=64,height=48,framerate=30/1 ! \
             appsink max-buffers=1 drop=true",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let mut lags = Vec::new();
        for frame in sink.iter().take(8) {
            let frame = frame.unwrap();
            lags.push(lag(&pipeline, frame.pts().unwrap()));
            // The model: 200 ms of work per frame (simulated load, not synchronisation).
            std::thread::sleep(Duration::from_millis(200));
        }
        pipeline.stop().unwrap();
        // The first frame may include start-up. A queue that kept old frames would make each
        // one ~170 ms older than the last (the median would be ~0.7 s); the newest-frame
        // setting keeps them under 100 ms. The median rides out a scheduling hiccup of a
        // loaded machine.
        let mut later: Vec<Duration> = lags[1..].to_vec();
        later.sort();
        let median = later[later.len() / 2];
        assert!(
            median < Duration::from_millis(100),
            "frames arrived {median:?} behind the camera (median): {lags:?}"
        );
    });
}

/// Breaking out of the loop with frames queued and the sink still alive, then stopping:
/// stop lets the sink go, EOS reaches the end, and stop says Ok.
#[test]
fn stop_after_break_with_the_sink_alive_reaches_eos() {
    bounded(60, || {
        for description in [
            "videotestsrc ! video/x-raw,width=32,height=24 ! appsink",
            "videotestsrc ! video/x-raw,width=32,height=24 ! appsink max-buffers=8",
            "videotestsrc is-live=true ! video/x-raw,width=32,height=24 ! appsink",
            "videotestsrc ! tee name=t t. ! queue ! appsink name=a t. ! queue ! fakesink",
        ] {
            let pipeline = Pipeline::launch(description).unwrap();
            let sink = FrameSink::builder(&pipeline).build().unwrap();
            pipeline.play().unwrap();
            for frame in &sink {
                frame.unwrap();
                if sink.pulled() == 3 {
                    break;
                }
            }
            pipeline
                .stop()
                .unwrap_or_else(|e| panic!("{description}: {e}"));
            assert_eq!(
                pipeline.outcome(),
                Some(Outcome::Eos),
                "{description}: EOS reached the sinks, stop did not give up waiting"
            );
            // The sink, still alive, ends cleanly.
            assert!(sink.pull().is_none(), "{description}");
        }
    });
}

/// `request_eos` from another thread ends a live source gracefully: the reader's loop ends
/// at end of stream, and the pipeline's outcome is EOS, not an error.
#[test]
fn request_eos_from_another_thread_ends_a_live_stream() {
    bounded(30, || {
        let pipeline = Arc::new(
            Pipeline::launch(
                "videotestsrc is-live=true ! video/x-raw,width=32,height=24 ! appsink",
            )
            .unwrap(),
        );
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let mut frames = 0;
        for frame in &sink {
            frame.unwrap();
            frames += 1;
            if frames == 5 {
                let p = Arc::clone(&pipeline);
                std::thread::spawn(move || p.request_eos()).join().unwrap();
            }
        }
        assert!(frames >= 5);
        assert_eq!(
            pipeline.watch().wait_outcome(Duration::from_secs(10)),
            Some(Outcome::Eos)
        );
        pipeline.stop().unwrap();
    });
}

/// Subscribers hear `Stopping` when stop begins, then the end; dropping the subscription
/// unsubscribes.
#[test]
fn watch_subscribers_hear_stopping_then_the_end() {
    let pipeline =
        Pipeline::launch("videotestsrc is-live=true ! video/x-raw,width=16,height=16 ! fakesink")
            .unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&events);
    let subscription = pipeline
        .watch()
        .subscribe(move |e| seen.lock().unwrap().push(e.clone()));
    let dropped = Arc::new(Mutex::new(Vec::new()));
    let late = Arc::clone(&dropped);
    drop(
        pipeline
            .watch()
            .subscribe(move |e| late.lock().unwrap().push(e.clone())),
    );
    pipeline.play().unwrap();
    pipeline.stop().unwrap();
    let events = events.lock().unwrap().clone();
    assert_eq!(events.first(), Some(&Event::Stopping), "{events:?}");
    assert!(
        matches!(
            events.last(),
            Some(Event::Ended(Outcome::Eos | Outcome::Stopped))
        ),
        "{events:?}"
    );
    assert!(dropped.lock().unwrap().is_empty());
    drop(subscription);
}

/// A streaming failure keeps GStreamer's structure: the error's domain and code, and the
/// flow return from the message's `flow-return` detail.
#[test]
fn not_negotiated_is_read_from_the_error_details() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc name=src num-buffers=5 ! video/x-raw,format=RGB ! appsink",
        )
        .unwrap();
        // Caps the source cannot produce, set after parsing: negotiation fails at run time.
        let sink = FrameSink::builder(&pipeline)
            .caps("video/x-raw,format=GRAY8".parse().unwrap())
            .build()
            .unwrap();
        let err = match pipeline.play() {
            Err(e) => gstpipe_sinks::SinkError::from(e),
            Ok(()) => sink.pull().expect("an item").unwrap_err(),
        };
        let element = err.element_error().expect("an element error");
        assert_eq!(
            element.kind::<gst::StreamError>(),
            Some(gst::StreamError::Failed),
            "{element:?}"
        );
        assert_eq!(element.flow_return(), Some(gst::FlowReturn::NotNegotiated));
        assert_eq!(err.flow(), Some(gst::FlowError::NotNegotiated));
        assert_eq!(element.element, "src");
        assert!(
            element
                .details
                .as_ref()
                .is_some_and(|d| d.has_field("flow-return"))
        );
        let _ = pipeline.stop();
    });
}

/// A sink reused after `stop()` reads the next run of the same pipeline; a pipeline whose
/// pads are linked once (decodebin) says so instead of failing with `not-linked`, and its
/// description builds a working new one.
#[test]
fn reuse_after_stop_works_or_says_why() {
    bounded(60, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=4 ! video/x-raw,width=16,height=8 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        for run in 0..2 {
            pipeline.play().unwrap();
            let pts: Vec<_> = sink.iter().map(|f| f.unwrap().pts()).collect();
            assert_eq!(pts.len(), 4, "run {run}");
            assert_eq!(pts[0], Some(gst::ClockTime::ZERO), "run {run} starts over");
            pipeline.stop().unwrap();
        }

        let decoding =
            Pipeline::launch("videotestsrc num-buffers=3 ! decodebin name=dec ! appsink").unwrap();
        let sink = FrameSink::new(&decoding).unwrap();
        decoding.play().unwrap();
        assert_eq!(sink.iter().filter(Result::is_ok).count(), 3);
        decoding.stop().unwrap();
        let err = decoding.play().unwrap_err();
        assert!(
            matches!(&err, gstpipe_core::Error::NotReplayable { element, .. } if element == "dec"),
            "{err:?}"
        );
        let again = decoding
            .relaunch()
            .expect("built from a description")
            .unwrap();
        let sink = FrameSink::new(&again).unwrap();
        again.play().unwrap();
        assert_eq!(sink.iter().filter(Result::is_ok).count(), 3);
    });
}
