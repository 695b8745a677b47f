//! Test helpers: bounded execution, reference frames from independent pulls.

use gstpipe_batch::{Batch, Batcher, StreamStatus};
use gstpipe_core::Pipeline;
use gstpipe_sinks::FrameSink;
use ndarray::Array3;
use std::sync::mpsc;
use std::time::Duration;

/// Runs `f` on its own thread; panics if it does not finish within `secs` seconds.
pub fn bounded<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    let handle = std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(v) => {
            let _ = handle.join();
            v
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => match handle.join() {
            Err(panic) => std::panic::resume_unwind(panic),
            Ok(()) => unreachable!("the closure returned without sending"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test did not finish within {secs} s"),
    }
}

/// Every frame of `description` (made non-live), pulled on its own with a plain `FrameSink`
/// and copied: the independent reference each slot is compared with.
pub fn reference(description: &str) -> Vec<Array3<u8>> {
    let description = description.replace("is-live=true", "is-live=false");
    let pipeline = Pipeline::launch(&description).unwrap();
    let sink = FrameSink::new(&pipeline).unwrap();
    pipeline.play().unwrap();
    let frames: Vec<Array3<u8>> = sink
        .iter()
        .map(|f| f.unwrap().to_array::<u8>().unwrap())
        .collect();
    // The comparison can only catch a wrong frame if the frames differ from each other.
    for (i, pair) in frames.windows(2).enumerate() {
        assert_ne!(
            pair[0],
            pair[1],
            "reference frames {i} and {} are equal",
            i + 1
        );
    }
    frames
}

/// Every stream's reference, checked to differ from the other streams' at each frame index,
/// so a frame put in the wrong slot is caught.
pub fn references(descriptions: &[&str]) -> Vec<Vec<Array3<u8>>> {
    let references: Vec<_> = descriptions.iter().map(|d| reference(d)).collect();
    for (a, ra) in references.iter().enumerate() {
        for (b, rb) in references.iter().enumerate().skip(a + 1) {
            for (i, (fa, fb)) in ra.iter().zip(rb).enumerate() {
                assert_ne!(fa, fb, "streams {a} and {b} have equal frames {i}");
            }
        }
    }
    references
}

/// Launches each description, adds its appsink to `batcher` (slot order = description order)
/// and returns the pipelines, not yet playing.
pub fn add_all(batcher: &mut Batcher, descriptions: &[&str]) -> Vec<Pipeline> {
    descriptions
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let pipeline = Pipeline::launch(d).unwrap();
            let slot = batcher.add(FrameSink::new(&pipeline).unwrap()).unwrap();
            assert_eq!(slot, i);
            pipeline
        })
        .collect()
}

/// [`add_all`], then plays every pipeline.
pub fn start_all(batcher: &mut Batcher, descriptions: &[&str]) -> Vec<Pipeline> {
    let pipelines = add_all(batcher, descriptions);
    for p in &pipelines {
        p.play().unwrap();
    }
    pipelines
}

/// Asserts every filled slot of `batch` holds exactly frame `slot.index` of its stream's
/// reference, and that each stream's indices only grow.
#[track_caller]
pub fn check_slots(batch: &Batch, references: &[Vec<Array3<u8>>], last: &mut [Option<u64>]) {
    assert_eq!(batch.len(), references.len());
    for (n, slot) in batch.slots.iter().enumerate() {
        let Some(slot) = slot else { continue };
        assert_eq!(slot.stream, n, "slot {n} holds stream {}", slot.stream);
        let reference = &references[n][slot.index as usize];
        let frame = slot.frame.to_array::<u8>().unwrap();
        assert_eq!(
            &frame, reference,
            "batch {}, stream {n}: frame {} differs from the stream's own frame",
            batch.index, slot.index
        );
        assert!(
            last[n].is_none_or(|l| slot.index > l),
            "stream {n}: frame {} after {:?}",
            slot.index,
            last[n]
        );
        last[n] = Some(slot.index);
    }
}

/// Asserts the counters of a stream add up: every frame received was batched or dropped.
#[track_caller]
pub fn check_accounting(status: &StreamStatus, frames: u64) {
    assert_eq!(status.received, frames, "{status:?}");
    assert_eq!(status.batched + status.dropped, frames, "{status:?}");
}
