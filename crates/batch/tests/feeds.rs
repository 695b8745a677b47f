//! The policies, ends and waits, with frames pushed through `Feed`s (no pipeline timing).

use crate::util::bounded;
use gstpipe_batch::{BatchError, Batcher, Formed, Frame, FrameIter, QueuePolicy, StreamEnd};
use std::time::Duration;

/// A 4x2 GRAY8 frame whose every pixel is `value`, with pts `value` ms.
fn frame(value: u8) -> Frame {
    gst::init().unwrap();
    let info = gst_video::VideoInfo::builder(gst_video::VideoFormat::Gray8, 4, 2)
        .build()
        .unwrap();
    let mut buffer = gst::Buffer::from_mut_slice(vec![value; info.size()]);
    buffer
        .get_mut()
        .unwrap()
        .set_pts(gst::ClockTime::from_mseconds(value.into()));
    Frame::from_buffer(buffer, &info).unwrap()
}

/// The pixel value of the frame in `slot` of `batch`.
fn value(batch: &gstpipe_batch::Batch, slot: usize) -> Option<u8> {
    batch.slots[slot]
        .as_ref()
        .map(|s| s.frame.view::<u8>().unwrap()[[0, 0, 0]])
}

#[test]
fn keep_newest_replaces_the_waiting_frame_and_counts_the_drop() {
    let mut batcher = Batcher::builder()
        .timeout(Duration::from_secs(30))
        .ahead(QueuePolicy::keep_newest())
        .build();
    let fast = batcher.add_feed("fast");
    let slow = batcher.add_feed("slow");
    for v in 0..3 {
        assert!(fast.push(frame(v)));
    }
    assert!(slow.push(frame(100)));
    // Both have a frame: complete at once, without waiting for the timeout.
    let batch = batcher.next_batch().unwrap().unwrap();
    assert_eq!(batch.formed, Formed::Complete);
    assert_eq!((value(&batch, 0), value(&batch, 1)), (Some(2), Some(100)));
    let slot = batch.slots[0].as_ref().unwrap();
    assert_eq!((slot.stream, slot.index), (0, 2));
    assert_eq!(slot.pts, Some(gst::ClockTime::from_mseconds(2)));
    assert_eq!(batch.slots[1].as_ref().unwrap().index, 0);
    assert_eq!(batcher.streams()[0].dropped, 2);
    assert_eq!(batcher.streams()[1].dropped, 0);

    // An ended stream is no longer waited for: complete with its slot empty.
    fast.end();
    assert!(!fast.push(frame(9)), "frames after the end are refused");
    assert!(slow.push(frame(101)));
    let batch = batcher.next_batch().unwrap().unwrap();
    assert_eq!(batch.formed, Formed::Complete);
    assert_eq!((value(&batch, 0), value(&batch, 1)), (None, Some(101)));
    assert!(matches!(batch.ended[..], [(0, StreamEnd::Eos)]));

    // Dropping the last feed of a stream ends it.
    drop(slow);
    assert!(batcher.next_batch().unwrap().is_none());
    let streams = batcher.streams();
    assert!(matches!(streams[1].end, Some(StreamEnd::Detached)));
    assert_eq!(
        (streams[0].received, streams[0].batched, streams[0].dropped),
        (3, 1, 2)
    );
    assert_eq!(batcher.batches(), 2);
}

#[test]
fn queue_keeps_k_frames_for_the_next_batches() {
    let mut batcher = Batcher::builder()
        .timeout(Duration::from_millis(20))
        .ahead(QueuePolicy::drop_oldest(2))
        .build();
    let fast = batcher.add_feed("fast");
    let slow = batcher.add_feed("slow");
    for v in 0..3 {
        fast.push(frame(v)); // 0 is pushed out by 2
    }
    slow.push(frame(100));
    let batch = batcher.next_batch().unwrap().unwrap();
    assert_eq!((value(&batch, 0), value(&batch, 1)), (Some(1), Some(100)));
    // Frame 2 waits for the slow stream until the timeout, then leaves alone.
    let batch = batcher.next_batch().unwrap().unwrap();
    assert_eq!(batch.formed, Formed::Timeout);
    assert_eq!((value(&batch, 0), value(&batch, 1)), (Some(2), None));
    assert_eq!(batch.slots[0].as_ref().unwrap().index, 2);
    assert_eq!(batcher.streams()[0].dropped, 1);
    slow.fail(std::io::Error::other("camera unplugged"));
    fast.end();
    assert!(batcher.next_batch().unwrap().is_none());
    let streams = batcher.streams();
    let end = streams[1].end.as_ref().unwrap();
    assert!(end.is_failure());
    assert!(end.to_string().contains("camera unplugged"), "{end}");
}

#[test]
fn a_frame_pushed_from_another_thread_wakes_the_waiting_batcher() {
    bounded(30, || {
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_secs(120))
            .stall(Duration::from_secs(120))
            .build();
        let a = batcher.add_feed("a");
        let b = batcher.add_feed("b");
        a.push(frame(1));
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let pusher = std::thread::spawn(move || {
            // Push once the batcher is about to wait (it would wait for b up to 120 s).
            rx.recv().unwrap();
            b.push(frame(2));
            b
        });
        tx.send(()).unwrap();
        let batch = batcher.next_batch().unwrap().unwrap();
        // Formed by b's frame: without the wake-up, the 120 s timeout would exceed the test's
        // 30 s bound.
        assert_eq!(batch.formed, Formed::Complete);
        assert_eq!((value(&batch, 0), value(&batch, 1)), (Some(1), Some(2)));
        drop(pusher.join().unwrap());
    });
}

#[test]
fn nothing_at_all_is_a_stall_naming_the_streams() {
    let mut batcher = Batcher::builder().stall(Duration::from_millis(30)).build();
    let _a = batcher.add_feed("cam-a");
    let b = batcher.add_feed("cam-b");
    b.end();
    match batcher.next_batch() {
        Err(BatchError::Stalled { waiting, waited }) => {
            assert_eq!(waiting, ["0 (cam-a)"]);
            assert!(waited >= Duration::from_millis(30));
        }
        other => panic!("expected a stall, got {other:?}"),
    }
    let mut empty = Batcher::new();
    assert!(matches!(empty.next_batch(), Err(BatchError::NoStreams)));
}

#[test]
fn an_iterator_source_ends_or_fails_its_stream() {
    bounded(30, || {
        let mut batcher = Batcher::builder()
            .ahead(QueuePolicy::drop_oldest(8))
            .build();
        let ok: Vec<Result<Frame, std::io::Error>> = vec![Ok(frame(1)), Ok(frame(2))];
        let failing: Vec<Result<Frame, std::io::Error>> =
            vec![Ok(frame(7)), Err(std::io::Error::other("decoder gave up"))];
        batcher.add(FrameIter::new("ok", ok.into_iter())).unwrap();
        batcher
            .add(FrameIter::new("failing", failing.into_iter()))
            .unwrap();
        let mut values = [Vec::new(), Vec::new()];
        for batch in &mut batcher {
            let batch = batch.unwrap();
            for (n, values) in values.iter_mut().enumerate() {
                values.extend(value(&batch, n));
            }
        }
        assert_eq!(values, [vec![1, 2], vec![7]]);
        let streams = batcher.streams();
        assert!(matches!(streams[0].end, Some(StreamEnd::Eos)));
        assert!(
            streams[1]
                .end
                .as_ref()
                .unwrap()
                .to_string()
                .contains("decoder gave up")
        );
    });
}

#[test]
fn dropping_the_batcher_closes_the_feeds() {
    let batcher = Batcher::new();
    let feed = batcher.add_feed("a");
    assert!(!feed.is_closed());
    drop(batcher);
    assert!(feed.is_closed());
    assert!(!feed.push(frame(1)));
}

#[test]
fn a_check_ends_a_stream_its_source_could_not_end() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    bounded(30, || {
        let mut batcher = Batcher::builder().timeout(Duration::from_secs(120)).build();
        let running = batcher.add_feed("running");
        let silent = batcher.add_feed("silent");
        let gone = Arc::new(AtomicBool::new(false));
        {
            let gone = Arc::clone(&gone);
            silent.set_check(move || {
                gone.load(Ordering::SeqCst)
                    .then(|| StreamEnd::Failed(Arc::new(std::io::Error::other("lost"))))
            });
        }
        gone.store(true, Ordering::SeqCst);
        running.push(frame(1));
        // The check runs as the batcher wakes: the silent stream has failed, so the batch is
        // complete at once; waiting for the 120 s timeout would exceed the test's bound.
        let batch = batcher.next_batch().unwrap().unwrap();
        assert_eq!(batch.formed, Formed::Complete);
        assert_eq!((value(&batch, 0), value(&batch, 1)), (Some(1), None));
        assert!(matches!(&batch.ended[..], [(1, end)] if end.to_string().contains("lost")));
        drop(silent);
    });
}

#[test]
fn block_makes_the_producer_wait_and_a_dropped_batcher_lets_it_go() {
    bounded(30, || {
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(10))
            .ahead(QueuePolicy::block(1))
            .build();
        let feed = batcher.add_feed("producer");
        let (tx, rx) = std::sync::mpsc::channel();
        let producer = std::thread::spawn(move || {
            for v in 0..4 {
                let taken = feed.push(frame(v));
                tx.send((v, taken)).unwrap();
                if !taken {
                    break;
                }
            }
        });
        // The first push fits; the second waits until a batch takes the first.
        assert_eq!(rx.recv().unwrap(), (0, true));
        let batch = batcher.next_batch().unwrap().unwrap();
        assert_eq!(value(&batch, 0), Some(0));
        assert_eq!(rx.recv().unwrap(), (1, true));
        let batch = batcher.next_batch().unwrap().unwrap();
        assert_eq!(value(&batch, 0), Some(1));
        assert_eq!(rx.recv().unwrap(), (2, true));
        assert_eq!(batcher.streams()[0].dropped, 0);
        // Frame 3 waits for room that never comes: dropping the batcher releases it.
        drop(batcher);
        assert_eq!(rx.recv().unwrap(), (3, false));
        producer.join().unwrap();
    });
}
