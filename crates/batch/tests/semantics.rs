//! What a batch is, tested against the clock and failing streams: a batch leaves at its open
//! plus the timeout whatever replacements happen meanwhile; a stream that fails, at start or
//! later, gets an empty slot and an `ended` entry; streams come and go while batches form.

use crate::util::bounded;
use gstpipe_batch::{BatchError, Batcher, Formed, QueuePolicy, StreamEnd};
use gstpipe_core::Pipeline;
use std::time::{Duration, Instant};

fn live(fps: u32, frames: u32, pattern: &str) -> Pipeline {
    Pipeline::launch(&format!(
        "videotestsrc is-live=true num-buffers={frames} pattern={pattern} ! \
         video/x-raw,format=RGB,width=32,height=24,framerate={fps}/1 ! appsink"
    ))
    .unwrap()
}

/// What one run of a 30 fps and a 5 fps live camera (2 s) gave.
struct MixedRun {
    batches: u64,
    by_timeout: u64,
    fast_batched: u64,
    fast_dropped: u64,
    slow_batched: u64,
}

fn mixed_rates(timeout_ms: u64) -> MixedRun {
    let mut batcher = Batcher::builder()
        .timeout(Duration::from_millis(timeout_ms))
        .ahead(QueuePolicy::keep_newest())
        .build();
    let fast = batcher.add_pipeline(live(30, 60, "ball"), None);
    let slow = batcher.add_pipeline(live(5, 10, "smpte"), None);
    let (mut batches, mut by_timeout) = (0u64, 0u64);
    while let Some(batch) = batcher.next_batch().unwrap() {
        batches += 1;
        if batch.formed == Formed::Timeout {
            by_timeout += 1;
        }
    }
    let streams = batcher.streams();
    assert_eq!(streams[fast].received, 60);
    MixedRun {
        batches,
        by_timeout,
        fast_batched: streams[fast].batched,
        fast_dropped: streams[fast].dropped,
        slow_batched: streams[slow].batched,
    }
}

/// A 30 fps and a 5 fps live camera, keep-newest. A batch opens at its first frame and
/// leaves at that plus the timeout, whatever replacements happen meanwhile (the timer belongs
/// to the batch, not to the frame now waiting): with a timeout under the fast camera's frame
/// interval (25 ms < 33 ms), batches leave at the fast camera's rate, most of them by
/// timeout, and it loses almost nothing; with 40 ms, one batch leaves every two fast frames
/// (open, one replacement, timeout), never one per slow frame.
#[test]
fn mixed_rates_batches_leave_at_open_plus_timeout() {
    bounded(60, || {
        let run = mixed_rates(25);
        assert!(
            run.batches >= 50 && run.fast_batched >= 50 && run.fast_dropped <= 10,
            "25 ms: {} batches, fast camera {} batched {} dropped of 60",
            run.batches,
            run.fast_batched,
            run.fast_dropped
        );
        // The slow camera fills at most one batch in six: most others left by timeout (once
        // it has ended, batches are complete with its slot empty).
        assert!(
            run.by_timeout * 3 >= run.batches * 2,
            "25 ms: {} of {} by timeout, slow camera in {}",
            run.by_timeout,
            run.batches,
            run.slow_batched
        );
        let run = mixed_rates(40);
        assert!(
            (24..=40).contains(&run.batches),
            "40 ms: {} batches for 60 fast frames (one per two expected)",
            run.batches
        );
        assert!(
            run.by_timeout * 2 >= run.batches,
            "40 ms: {} of {} by timeout",
            run.by_timeout,
            run.batches
        );
    });
}

/// A stream whose pipeline cannot start (a missing file) gets its slot, empty, and the first
/// batch reports its failure; the good stream is batched to its end, which is not an error.
#[test]
fn a_stream_failing_at_start_keeps_an_empty_slot() {
    bounded(60, || {
        let mut batcher = Batcher::builder()
            .ahead(QueuePolicy::block(2))
            .timeout(Duration::from_millis(40))
            .build();
        let bad = batcher.add_pipeline(
            Pipeline::launch(
                "filesrc location=/nonexistent/clip.mp4 ! decodebin ! videoconvert ! appsink",
            )
            .unwrap(),
            None,
        );
        let good = batcher.add_pipeline(
            Pipeline::launch(
                "videotestsrc num-buffers=6 ! video/x-raw,width=16,height=8 ! appsink",
            )
            .unwrap(),
            None,
        );
        let mut seen = 0;
        let mut reported = Vec::new();
        while let Some(batch) = batcher.next_batch().unwrap() {
            assert_eq!(batch.streams, vec![bad, good]);
            assert!(
                batch.slots[0].is_none(),
                "the failed stream's slot is empty"
            );
            assert!(batch.slots[1].is_some());
            reported.extend(batch.ended.iter().map(|(s, e)| (*s, e.clone())));
            seen += 1;
        }
        assert_eq!(seen, 6);
        let failure = reported
            .iter()
            .find(|(s, _)| *s == bad)
            .map(|(_, e)| e.to_string())
            .expect("the failure is reported in a batch");
        assert!(failure.contains("/nonexistent/clip.mp4"), "{failure}");
        assert!(matches!(
            batcher.streams()[bad].end,
            Some(StreamEnd::Failed(_))
        ));
    });
}

/// Only when every stream has failed does the batcher fail, naming each.
#[test]
fn the_batcher_fails_when_every_stream_failed() {
    bounded(60, || {
        let mut batcher = Batcher::new();
        for path in ["/nonexistent/a.mp4", "/nonexistent/b.mp4"] {
            batcher.add_pipeline(
                Pipeline::launch(&format!("filesrc location={path} ! decodebin ! appsink"))
                    .unwrap(),
                None,
            );
        }
        match batcher.next_batch() {
            Err(BatchError::AllFailed { failures }) => {
                assert_eq!(failures.len(), 2, "{failures:?}");
                assert!(failures[0].contains("a.mp4") && failures[1].contains("b.mp4"));
            }
            other => panic!("expected AllFailed, got {other:?}"),
        }
    });
}

/// A stream that fails mid-stream (identity `error-after=5`): its slot empties from then on,
/// one batch reports it, and the other stream goes on to its end.
#[test]
fn a_stream_failing_later_empties_its_slot_and_the_others_go_on() {
    bounded(60, || {
        let mut batcher = Batcher::builder()
            .ahead(QueuePolicy::block(1))
            .timeout(Duration::from_millis(200))
            .build();
        let failing = batcher.add_pipeline(
            Pipeline::launch(
                "videotestsrc num-buffers=30 ! video/x-raw,width=16,height=8 ! \
                 identity error-after=5 ! appsink",
            )
            .unwrap(),
            None,
        );
        let good = batcher.add_pipeline(
            Pipeline::launch(
                "videotestsrc num-buffers=12 ! video/x-raw,width=16,height=8 ! appsink",
            )
            .unwrap(),
            None,
        );
        let (mut from_failing, mut from_good, mut reports) = (0, 0, 0);
        while let Some(batch) = batcher.next_batch().unwrap() {
            from_failing += usize::from(batch.slots[failing].is_some());
            from_good += usize::from(batch.slots[good].is_some());
            for (stream, end) in &batch.ended {
                if *stream == failing {
                    assert!(end.is_failure(), "{end}");
                    reports += 1;
                }
            }
        }
        assert!(
            from_failing <= 4,
            "{from_failing} frames after error-after=5"
        );
        assert_eq!(from_good, 12);
        assert_eq!(reports, 1);
    });
}

/// Streams added and removed from another thread while batches are formed: the change shows
/// in the next batches, other slots keep their numbers, the batch's size follows.
#[test]
fn streams_come_and_go_while_batches_form() {
    bounded(60, || {
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(60))
            .build();
        let first = batcher.add_pipeline(live(30, 300, "ball"), None);
        let handle = batcher.handle();
        let batch = batcher.next_batch().unwrap().unwrap();
        assert_eq!(batch.streams, vec![first]);
        let added = std::thread::spawn(move || handle.add_pipeline(live(30, 300, "smpte"), None))
            .join()
            .unwrap();
        assert_eq!(added, first + 1);
        // Within a few batches, the new camera fills its slot.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let batch = batcher.next_batch().unwrap().unwrap();
            if batch.streams == vec![first, added] && batch.filled_count() == 2 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the added stream never filled its slot"
            );
        }
        batcher.remove(first).unwrap();
        let batch = batcher.next_batch().unwrap().unwrap();
        assert_eq!(batch.streams, vec![added], "slot numbers stay");
        assert_eq!(batch.len(), 1);
        assert!(batch.slots[0].as_ref().is_some_and(|s| s.stream == added));
        assert!(matches!(
            batcher.remove(first),
            Err(BatchError::NoSuchStream { stream }) if stream == first
        ));
        assert!(batcher.streams()[first].removed);
    });
}
