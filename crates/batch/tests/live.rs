//! A reconnecting live source (gstpipe-live's supervisor) feeds a slot through `FrameIter`,
//! next to a plain `FrameSink`: neither crate knows the other.

use crate::util::{bounded, check_slots, references};
use gstpipe_batch::{Batcher, Frame, FrameIter, QueuePolicy};
use gstpipe_core::Pipeline;
use gstpipe_live::{HealthEvent, LiveItem, LiveSource};
use gstpipe_sinks::FrameSink;
use std::time::Duration;

/// A supervisor that gives up ends its slot's stream with this error.
#[derive(Debug, thiserror::Error)]
#[error("the live source gave up after {attempts} attempts")]
struct GaveUp {
    attempts: u32,
}

#[test]
fn a_live_supervisor_plugs_in_as_a_source() {
    bounded(60, || {
        let live = "videotestsrc is-live=true pattern=ball ! \
                    video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! appsink";
        let sink = "videotestsrc is-live=true num-buffers=40 pattern=smpte horizontal-speed=1 ! \
                    video/x-raw,format=RGB,width=32,height=24,framerate=30/1 ! appsink";
        // Frame i of each stream, from the same descriptions run on their own.
        let references = references(&[
            &live.replace("pattern=ball", "num-buffers=60 pattern=ball"),
            sink,
        ]);
        let mut batcher = Batcher::builder()
            .timeout(Duration::from_millis(100))
            .ahead(QueuePolicy::drop_oldest(64))
            .build();
        let source = LiveSource::new(live).unwrap();
        let frames = std::iter::from_fn(move || source.next()).filter_map(|item| match item {
            LiveItem::Frame(frame) => Some(Ok::<Frame, GaveUp>(frame.into_frame())),
            LiveItem::Event(HealthEvent::GaveUp { attempts, .. }) => Some(Err(GaveUp { attempts })),
            _ => None,
        });
        assert_eq!(batcher.add(FrameIter::new("live", frames)).unwrap(), 0);
        let pipeline = Pipeline::launch(sink).unwrap();
        assert_eq!(batcher.add(FrameSink::new(&pipeline).unwrap()).unwrap(), 1);
        pipeline.play().unwrap();
        let mut last = [None, None];
        let mut filled = [0; 2];
        for _ in 0..10 {
            let batch = batcher.next_batch().unwrap().unwrap();
            check_slots(&batch, &references, &mut last);
            for slot in batch.slots.iter().flatten() {
                filled[slot.stream] += 1;
            }
        }
        assert!(filled[0] > 0 && filled[1] > 0, "{filled:?}");
        // Dropping the batcher ends the producer thread at its next frame, which drops (and
        // stops) the supervisor.
        drop(batcher);
    });
}
