//! Failures reach every adapter: a pipeline error mid-stream, a callback error, a stall.

use crate::util::{STALLED, assert_injected, bounded, failing_pipeline};
use gstpipe_core::{Outcome, Pipeline};
use gstpipe_sinks::{FrameSink, Policy, SinkError};
use std::time::{Duration, Instant};

#[test]
fn iterator_reports_a_mid_stream_error_not_a_clean_end() {
    bounded(30, || {
        let pipeline = failing_pipeline("appsink");
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let items: Vec<_> = sink.iter().collect();
        let (last, frames) = items.split_last().expect("at least the error");
        assert!(frames.iter().all(|f| f.is_ok()));
        assert!(
            frames.len() <= 5,
            "{} frames before the failure",
            frames.len()
        );
        assert_injected(last.as_ref().unwrap_err());
        // Reported once; then the sink has ended.
        assert!(sink.pull().is_none());
    });
}

#[test]
fn on_frame_reports_a_mid_stream_error() {
    bounded(30, || {
        let pipeline = failing_pipeline("appsink");
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(|_| Ok::<(), String>(()))
            .unwrap();
        pipeline.play().unwrap();
        let err = handle.wait().unwrap_err();
        assert_injected(&err);
        assert!(handle.frames() <= 5);
    });
}

#[test]
fn channel_reports_a_mid_stream_error() {
    for policy in [Policy::Block, Policy::DropOldest] {
        bounded(30, move || {
            let pipeline = failing_pipeline("appsink");
            let rx = FrameSink::new(&pipeline).unwrap().channel(2, policy);
            pipeline.play().unwrap();
            let items: Vec<_> = rx.collect();
            let err = items.last().unwrap().as_ref().unwrap_err();
            assert_injected(err);
            assert!(
                items[..items.len() - 1].iter().all(|f| f.is_ok()),
                "{policy:?}"
            );
        });
    }
}

#[test]
fn batches_report_a_mid_stream_error() {
    bounded(30, || {
        let pipeline = failing_pipeline("appsink");
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        // Batches of 4: at most one full batch comes before the failure at frame 5.
        let items: Vec<_> = sink.batches::<u8>(4).collect();
        let err = items.last().unwrap().as_ref().unwrap_err();
        assert_injected(err);
        assert!(items.len() <= 2, "{} items", items.len());
    });
}

#[test]
fn a_failing_callback_stops_the_pipeline_with_its_error() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=100 ! video/x-raw,width=16,height=16 ! appsink name=out",
        )
        .unwrap();
        #[derive(Debug, thiserror::Error)]
        #[error("model refused frame {0}")]
        struct Refused(u32);
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counter = calls.clone();
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(move |_| {
                let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n == 3 {
                    return Err(Refused(n));
                }
                Ok(())
            })
            .unwrap();
        pipeline.play().unwrap();
        let err = handle.wait().unwrap_err();
        // The callback's own error, with its type.
        let refused = err
            .callback_error()
            .and_then(|e| e.downcast_ref::<Refused>())
            .unwrap_or_else(|| panic!("not the callback's error: {err:?}"));
        assert_eq!(refused.0, 3);
        assert!(matches!(&err, SinkError::Callback { element, .. } if element == "out"));
        assert_eq!(handle.frames(), 3);
        // The pipeline itself ended with the callback's error, from the appsink.
        let pipeline_err = pipeline.wait_timeout(Duration::from_secs(5)).unwrap_err();
        let e = pipeline_err.element_error().expect("element error");
        assert_eq!(e.element, "out");
        assert!(e.message.contains("model refused frame 3"), "{e:?}");
        // The callback is not called again after the failure: once the pipeline is stopped
        // (no streaming thread left), the count is final.
        assert!(pipeline.stop().is_err(), "the pipeline failed");
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 4);
    });
}

#[test]
fn a_panicking_callback_fails_the_pipeline() {
    bounded(30, || {
        let pipeline = Pipeline::launch("videotestsrc num-buffers=10 ! appsink").unwrap();
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(|_| -> Result<(), String> { panic!("callback bug") })
            .unwrap();
        pipeline.play().unwrap();
        let err = handle.wait().unwrap_err();
        assert!(err.element_error().is_some(), "{err:?}");
        assert!(matches!(pipeline.outcome(), Some(Outcome::Error(_))));
    });
}

#[test]
fn a_stalled_live_source_makes_the_iterator_time_out() {
    bounded(30, || {
        let pipeline = Pipeline::launch(&format!("{STALLED} name=stalled")).unwrap();
        let sink = FrameSink::builder(&pipeline)
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        pipeline.play().unwrap();
        let started = Instant::now();
        let mut frames = sink.iter();
        let err = frames.next().unwrap().unwrap_err();
        let elapsed = started.elapsed();
        let SinkError::Timeout {
            waited,
            ref element,
            ..
        } = err
        else {
            panic!("expected a timeout, got {err:?}")
        };
        // The configured timeout, not the default (10 s): the error says what it waited, and
        // the wait took at least that long (a lower bound: load only makes it longer).
        assert_eq!(waited, Duration::from_millis(300));
        assert!(elapsed >= waited, "{elapsed:?}");
        assert_eq!(element, "stalled");
        assert!(err.is_timeout());
        // The iterator ends after the error; pull() may wait again.
        assert!(frames.next().is_none());
        let again = sink
            .pull_timeout(Duration::from_millis(50))
            .unwrap()
            .unwrap_err();
        assert!(again.is_timeout());
        assert!(!pipeline.is_done());
    });
}

#[test]
fn a_stall_reaches_the_channel_the_callback_and_batches() {
    bounded(30, || {
        let build = |p: &Pipeline| {
            FrameSink::builder(p)
                .timeout(Duration::from_millis(300))
                .build()
                .unwrap()
        };
        let p1 = Pipeline::launch(STALLED).unwrap();
        let rx = build(&p1).channel(2, Policy::DropOldest);
        let p2 = Pipeline::launch(STALLED).unwrap();
        let handle = build(&p2).on_frame(|_| Ok::<(), String>(())).unwrap();
        let p3 = Pipeline::launch(STALLED).unwrap();
        let sink = build(&p3);
        for p in [&p1, &p2, &p3] {
            p.play().unwrap();
        }
        assert!(rx.recv().unwrap().unwrap_err().is_timeout());
        // A timeout is not the end: the receiver stays usable and waits again.
        assert!(rx.recv().unwrap().unwrap_err().is_timeout());
        assert!(!rx.is_ended());
        assert!(handle.wait().unwrap_err().is_timeout());
        assert!(
            sink.batches::<u8>(2)
                .next()
                .unwrap()
                .unwrap_err()
                .is_timeout()
        );
    });
}

#[test]
fn a_corrupt_file_in_the_middle_of_a_sequence_fails_the_iterator() {
    bounded(30, || {
        // Six PNGs made by GStreamer, the fourth corrupted after its header: pngdec fails on
        // it, mid-stream, after three good frames.
        let dir = crate::util::temp_dir("corrupt");
        let pattern = dir.join("f%03d.png");
        let writer = Pipeline::launch(&format!(
            "videotestsrc num-buffers=6 pattern=ball ! video/x-raw,width=32,height=24,framerate=10/1 ! \
             pngenc ! multifilesink location={}",
            pattern.display()
        ))
        .unwrap();
        writer.play().unwrap();
        writer.wait_timeout(Duration::from_secs(10)).unwrap();
        let bad = dir.join("f003.png");
        let mut bytes = std::fs::read(&bad).unwrap();
        let len = bytes.len();
        for b in &mut bytes[60..len - 20] {
            *b ^= 0x5a;
        }
        std::fs::write(&bad, bytes).unwrap();

        let pipeline = Pipeline::launch(&format!(
            "multifilesrc location={} caps=image/png,framerate=10/1 ! pngdec ! videoconvert ! \
             video/x-raw,format=RGB ! appsink",
            pattern.display()
        ))
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let items: Vec<_> = sink.iter().collect();
        let (last, frames) = items.split_last().unwrap();
        assert!(frames.len() <= 3, "{} frames", frames.len());
        assert!(frames.iter().all(|f| f.is_ok()));
        let err = last.as_ref().unwrap_err();
        assert!(err.element_error().is_some(), "{err:?}");
        assert!(matches!(pipeline.outcome(), Some(Outcome::Error(_))));
        let _ = std::fs::remove_dir_all(dir);
    });
}
