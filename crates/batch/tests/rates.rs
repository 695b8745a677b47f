//! Streams at different frame rates: every slot holds its own stream's frame, in order.

use crate::util::{add_all, bounded, check_accounting, check_slots, references, start_all};
use gstpipe_batch::{Batcher, Formed, QueuePolicy, StreamEnd};
use std::time::Duration;

/// Live cameras at 30 and 10 fps: the fast one is ahead and keeps only its newest frame.
#[test]
fn live_streams_at_30_and_10_fps() {
    bounded(60, || {
        let descriptions = [
            "videotestsrc is-live=true num-buffers=24 pattern=ball ! \
             video/x-raw,format=RGB,width=40,height=30,framerate=30/1 ! appsink",
            "videotestsrc is-live=true num-buffers=8 pattern=ball foreground-color=0xff20c040 ! \
             video/x-raw,format=RGB,width=40,height=30,framerate=10/1 ! appsink",
        ];
        let references: Vec<_> = references(&descriptions);
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(60))
            .ahead(QueuePolicy::keep_newest())
            .build();
        let _pipelines = start_all(&mut batcher, &descriptions);
        let mut last = [None, None];
        let mut batches = 0;
        while let Some(batch) = batcher.next_batch().unwrap() {
            assert!(batch.filled_count() >= 1);
            if batch.formed == Formed::Complete {
                // Complete: every stream still running had a frame.
                let statuses = batcher.streams();
                for (n, slot) in batch.slots.iter().enumerate() {
                    assert!(slot.is_some() || statuses[n].end.is_some(), "{batch:?}");
                }
            }
            check_slots(&batch, &references, &mut last);
            batches += 1;
        }
        let streams = batcher.streams();
        check_accounting(&streams[0], 24);
        check_accounting(&streams[1], 8);
        assert!(matches!(streams[0].end, Some(StreamEnd::Eos)));
        assert!(matches!(streams[1].end, Some(StreamEnd::Eos)));
        assert_eq!(batches, batcher.batches());
        // The 10 fps stream has at most 8 frames: batches went on without it.
        assert!(batches >= streams[0].batched);
    });
}

/// Three files of different lengths (12, 3 and 7 frames) with row padding (RGB at width 38).
const FILES: [&str; 3] = [
    "videotestsrc num-buffers=12 pattern=ball ! \
     video/x-raw,format=RGB,width=38,height=28,framerate=30/1 ! appsink",
    "videotestsrc num-buffers=3 pattern=smpte horizontal-speed=1 ! \
     video/x-raw,format=RGB,width=38,height=28,framerate=30/1 ! appsink",
    "videotestsrc num-buffers=7 pattern=colors horizontal-speed=2 ! \
     video/x-raw,format=RGB,width=38,height=28,framerate=30/1 ! appsink",
];

/// Files read at full speed with different lengths and row padding (RGB at width 38: rows of
/// 116 bytes), queued so nothing is dropped: every frame of every stream is batched once, in
/// order, and the batches go on after the short streams end.
#[test]
fn files_of_different_lengths_all_frames_in_order() {
    bounded(60, || {
        let descriptions = FILES;
        let references: Vec<_> = references(&descriptions);
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(200))
            .ahead(QueuePolicy::drop_oldest(64))
            .build();
        let _pipelines = start_all(&mut batcher, &descriptions);
        let mut last = [None, None, None];
        let mut seen = [0u64; 3];
        let mut ended = Vec::new();
        while let Some(batch) = batcher.next_batch().unwrap() {
            check_slots(&batch, &references, &mut last);
            for slot in batch.slots.iter().flatten() {
                // Queued, nothing dropped: each stream's frames come one after the other.
                assert_eq!(slot.index, seen[slot.stream]);
                seen[slot.stream] += 1;
            }
            for (stream, end) in &batch.ended {
                assert!(matches!(end, StreamEnd::Eos), "{end}");
                ended.push(*stream);
            }
        }
        assert_eq!(seen, [12, 3, 7]);
        let streams = batcher.streams();
        for (status, frames) in streams.iter().zip([12, 3, 7]) {
            check_accounting(status, frames);
            assert_eq!(status.dropped, 0);
        }
        let mut unique = ended.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            ended.len(),
            "an end reported twice: {ended:?}"
        );
        // Each end is reported once, with a batch when one is formed after it; the record
        // keeps every end.
        assert!(
            streams
                .iter()
                .all(|s| matches!(s.end, Some(StreamEnd::Eos)))
        );
        assert!(batcher.batches() >= 12);
    });
}

/// The same files with backpressure (`QueuePolicy::block(1)`): the fast streams wait for the slow
/// ones, nothing is dropped, and each batch is complete until the short streams end.
#[test]
fn files_with_backpressure_lose_nothing() {
    bounded(60, || {
        let descriptions = FILES;
        let references = references(&descriptions);
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_secs(5))
            .ahead(QueuePolicy::block(1))
            .build();
        let _pipelines = start_all(&mut batcher, &descriptions);
        let mut last = [None, None, None];
        let mut seen = [0u64; 3];
        while let Some(batch) = batcher.next_batch().unwrap() {
            check_slots(&batch, &references, &mut last);
            for slot in batch.slots.iter().flatten() {
                assert_eq!(slot.index, seen[slot.stream]);
                seen[slot.stream] += 1;
            }
        }
        assert_eq!(seen, [12, 3, 7]);
        for (status, frames) in batcher.streams().iter().zip([12, 3, 7]) {
            check_accounting(status, frames);
            assert_eq!(status.dropped, 0);
        }
    });
}

/// A stream held back by `Ahead::Block` does not hold its pipeline's stop back.
#[test]
fn stopping_a_pipeline_that_waits_for_room_finishes() {
    bounded(60, || {
        let description = "videotestsrc num-buffers=1000 ! \
                           video/x-raw,format=GRAY8,width=16,height=8 ! appsink";
        let mut batcher = Batcher::builder().ahead(QueuePolicy::block(1)).build();
        let pipelines = add_all(&mut batcher, &[description]);
        pipelines[0].play().unwrap();
        let batch = batcher.next_batch().unwrap().unwrap();
        assert_eq!(batch.slots[0].as_ref().unwrap().index, 0);
        // The streaming thread now waits with frame 2 (frame 1 is queued).
        pipelines[0].stop().unwrap();
        let mut frames = 1;
        while let Some(batch) = batcher.next_batch().unwrap() {
            frames += batch.filled_count();
        }
        let status = &batcher.streams()[0];
        assert!(status.end.is_some());
        assert_eq!(status.batched, frames as u64);
    });
}
