//! Streams that die mid-run or never start never hold the others back.

use crate::util::{add_all, bounded, check_accounting, check_slots, reference, start_all};
use gstpipe_batch::{BatchError, Batcher, Formed, QueuePolicy, StreamEnd};
use gstpipe_core::Pipeline;
use gstpipe_sinks::FrameSink;
use std::time::Duration;

/// One stream fails after 6 frames (GStreamer's own `identity error-after`), another ends
/// after 4: the third goes on to its end with their slots empty, and both ends are reported.
#[test]
fn a_stream_that_fails_and_one_that_ends_leave_empty_slots() {
    bounded(60, || {
        let descriptions = [
            "videotestsrc is-live=true num-buffers=30 pattern=ball ! \
             video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! appsink",
            "videotestsrc is-live=true num-buffers=30 pattern=smpte horizontal-speed=1 ! \
             video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! \
             identity name=boom error-after=6 ! appsink",
            "videotestsrc is-live=true num-buffers=4 pattern=colors horizontal-speed=3 ! \
             video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! appsink",
        ];
        let references: Vec<_> = descriptions
            .iter()
            .map(|d| reference(&d.replace(" error-after=6", "")))
            .collect();
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(50))
            .ahead(QueuePolicy::drop_oldest(64))
            .build();
        let _pipelines = start_all(&mut batcher, &descriptions);
        let mut last = [None, None, None];
        let mut failed_at = None;
        let mut ended_at = None;
        let mut after_failure = 0;
        while let Some(batch) = batcher.next_batch().unwrap() {
            check_slots(&batch, &references, &mut last);
            if failed_at.is_some() {
                assert!(
                    batch.slots[1].is_none(),
                    "a frame after the failure: {batch:?}"
                );
                if batch.slots[0].is_some() {
                    after_failure += 1;
                }
            }
            if ended_at.is_some() {
                assert!(batch.slots[2].is_none(), "a frame after the end: {batch:?}");
            }
            for (stream, end) in &batch.ended {
                match stream {
                    1 => {
                        let message = end.to_string();
                        assert!(end.is_failure(), "{end}");
                        assert!(message.contains("boom"), "{message}");
                        failed_at = Some(batch.index);
                    }
                    2 => {
                        assert!(matches!(end, StreamEnd::Eos), "{end}");
                        ended_at = Some(batch.index);
                    }
                    _ => {
                        // The longest stream ends last: with its last frame.
                        assert!(matches!(end, StreamEnd::Eos), "{end}");
                        assert_eq!(batch.slots[0].as_ref().map(|s| s.index), Some(29));
                    }
                }
            }
        }
        assert!(failed_at.is_some() && ended_at.is_some());
        assert!(
            after_failure > 0,
            "the healthy stream went on after the failure"
        );
        let streams = batcher.streams();
        check_accounting(&streams[0], 30);
        assert_eq!(streams[0].batched, 30);
        // identity passes 5 buffers and fails on the 6th (`error-after` counts it).
        check_accounting(&streams[1], 5);
        check_accounting(&streams[2], 4);
        assert!(streams[1].end.as_ref().is_some_and(StreamEnd::is_failure));
        let error = streams[1].end.as_ref().and_then(StreamEnd::error).unwrap();
        let core = error.downcast_ref::<gstpipe_core::Error>().unwrap();
        assert_eq!(core.element_error().unwrap().element, "boom");
    });
}

/// A live stream nobody sends to (udpsrc on a free 127.0.0.1 port) and a pipeline that is
/// never played: batches of the running stream leave on the timeout with their slots empty;
/// once it ends, the batcher reports the stall and names the two silent streams.
#[test]
fn streams_that_never_start_do_not_block_the_batches() {
    bounded(60, || {
        let running = "videotestsrc is-live=true num-buffers=15 pattern=ball ! \
                       video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! appsink";
        let silent = "udpsrc address=127.0.0.1 port=0 ! appsink";
        let never_played = "videotestsrc ! video/x-raw,format=RGB,width=32,height=24 ! appsink";
        let references = vec![reference(running), Vec::new(), Vec::new()];
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(50))
            .stall(Duration::from_millis(500))
            .ahead(QueuePolicy::drop_oldest(64))
            .build();
        let pipelines = add_all(&mut batcher, &[running, silent, never_played]);
        pipelines[0].play().unwrap();
        pipelines[1].play().unwrap();
        let mut last = [None, None, None];
        let mut frames = 0;
        let stalled = loop {
            match batcher.next_batch() {
                Ok(Some(batch)) => {
                    check_slots(&batch, &references, &mut last);
                    assert!(batch.slots[1].is_none() && batch.slots[2].is_none());
                    assert_eq!(batch.formed, Formed::Timeout);
                    frames += batch.filled_count();
                }
                Ok(None) => panic!("the silent streams never ended"),
                Err(e) => break e,
            }
        };
        assert_eq!(frames, 15);
        match &stalled {
            BatchError::Stalled { waiting, .. } => {
                assert_eq!(waiting.len(), 2, "{waiting:?}");
                assert!(waiting[0].starts_with("1 (") && waiting[1].starts_with("2 ("));
            }
            other => panic!("expected a stall, got {other:?}"),
        }
        let streams = batcher.streams();
        check_accounting(&streams[0], 15);
        assert!(matches!(streams[0].end, Some(StreamEnd::Eos)));
        assert!(streams[1].end.is_none() && streams[2].end.is_none());
        assert_eq!(streams[1].received + streams[2].received, 0);
    });
}

/// A pipeline that fails without an end of stream reaching the appsink (buffers dropped
/// after the error) is noticed by the batcher's check of the pipeline's outcome.
#[test]
fn a_failure_without_end_of_stream_is_noticed() {
    bounded(60, || {
        let running = "videotestsrc is-live=true num-buffers=20 pattern=ball ! \
                       video/x-raw,format=RGB,width=16,height=12,framerate=30/1 ! appsink";
        let failing = Pipeline::launch(
            "videotestsrc is-live=true pattern=ball ! \
             video/x-raw,format=RGB,width=16,height=12,framerate=30/1 ! \
             identity name=boom ! valve name=gate ! appsink",
        )
        .unwrap();
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(50))
            .build();
        let pipelines = add_all(&mut batcher, &[running]);
        batcher.add(FrameSink::new(&failing).unwrap()).unwrap();
        // Close the valve, then post an element error: nothing (no frame, no EOS) reaches the
        // appsink after it.
        let gate = failing.by_name("gate").unwrap();
        gate.set_property("drop", true);
        pipelines[0].play().unwrap();
        failing.play().unwrap();
        let boom = failing.by_name("boom").unwrap();
        use gst::prelude::*;
        boom.post_error_message(gst::error_msg!(
            gst::StreamError::Failed,
            ["injected failure"]
        ));
        let mut reported = false;
        while let Some(batch) = batcher.next_batch().unwrap() {
            assert!(batch.slots[1].is_none());
            for (stream, end) in &batch.ended {
                if *stream == 1 {
                    assert!(end.to_string().contains("injected failure"), "{end}");
                    reported = true;
                }
            }
        }
        assert!(reported);
        assert_eq!(batcher.streams()[0].received, 20);
    });
}
