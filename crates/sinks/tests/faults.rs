//! Faults, each with an exact expectation: an element error mid-stream, a source that stalls
//! and recovers, caps that change size mid-stream, panicking user callbacks, the pipeline
//! dropped under a reading thread or under held frames, and `FrameSource` pushes after a
//! failure or from several threads at once.

use crate::util::{Tally, assert_injected, bounded, failing_pipeline, gst_pts};
use gst::prelude::*;
use gst_video::{VideoFormat, VideoInfo};
use gstpipe_core::{Outcome, Pipeline, gst};
use gstpipe_sinks::{Frame, FrameSink, FrameSource, Policy, SinkError, frame_pts};
use ndarray::Array3;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier, Mutex, mpsc};
use std::time::Duration;

type Item = Result<Frame, SinkError>;

/// Every item of an async stream, driven to its end on a one-thread tokio runtime.
#[cfg(feature = "stream")]
fn drain_stream(stream: gstpipe_sinks::FrameStream) -> Vec<Item> {
    drain_stream_counting(stream, &Tally::new())
}

/// [`drain_stream`], adding one to `counter` per item as it arrives.
#[cfg(feature = "stream")]
fn drain_stream_counting(mut stream: gstpipe_sinks::FrameStream, counter: &Tally) -> Vec<Item> {
    use futures_core::Stream;
    use std::pin::Pin;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let mut items = Vec::new();
        while let Some(item) = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await
        {
            items.push(item);
            counter.add(1);
        }
        // Fused: nothing after the end.
        assert!(
            std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx))
                .await
                .is_none()
        );
        items
    })
}

/// Checks the items an adapter gave for `failing_pipeline`: the first `k <= 5` frames of the
/// stream in order (exact timestamps at videotestsrc's default 30 fps), then the injected
/// error, once.
#[track_caller]
fn assert_prefix_then_injected(adapter: &str, pts: &[Option<gst::ClockTime>], last: &SinkError) {
    assert!(
        pts.len() <= 5,
        "{adapter}: {} frames before the failure",
        pts.len()
    );
    let expected: Vec<_> = (0..pts.len() as u64)
        .map(|i| Some(gst_pts(i, 30, 1)))
        .collect();
    assert_eq!(pts, expected, "{adapter}: not the stream's first frames");
    assert_injected(last);
}

#[test]
fn an_element_error_mid_stream_ends_every_adapter_after_a_prefix_of_the_stream() {
    bounded(60, || {
        // Iterator: frames 0..k, the error, then nothing (also from `pull`).
        let pipeline = failing_pipeline("appsink");
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let mut items: Vec<Item> = sink.iter().collect();
        let last = items.pop().unwrap().unwrap_err();
        let pts: Vec<_> = items.iter().map(|f| f.as_ref().unwrap().pts()).collect();
        assert_prefix_then_injected("iterator", &pts, &last);
        assert!(sink.pull().is_none() && sink.pull().is_none());
        assert!(sink.is_ended());
        assert_eq!(sink.pulled(), pts.len() as u64);
        let Some(Outcome::Error(e)) = pipeline.outcome() else {
            panic!("{:?}", pipeline.outcome())
        };
        assert_eq!(last.element_error(), Some(&e));
        drop((sink, pipeline));

        // Channel, both policies (capacity 8: nothing needs dropping before the error).
        for policy in [Policy::Block, Policy::DropOldest] {
            let pipeline = failing_pipeline("appsink");
            let rx = FrameSink::new(&pipeline).unwrap().channel(8, policy);
            pipeline.play().unwrap();
            let mut items: Vec<Item> = std::iter::from_fn(|| rx.recv()).collect();
            let last = items.pop().unwrap().unwrap_err();
            let pts: Vec<_> = items.iter().map(|f| f.as_ref().unwrap().pts()).collect();
            assert_prefix_then_injected(&format!("channel {policy:?}"), &pts, &last);
            assert!(rx.recv().is_none() && rx.try_recv().is_none());
            assert!(rx.is_ended());
            assert_eq!((rx.received(), rx.dropped()), (pts.len() as u64, 0));
        }

        // Callback: called for frames 0..k only, then wait() gives the element's error.
        let pipeline = failing_pipeline("appsink");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let sink = FrameSink::new(&pipeline).unwrap();
        let arrived = Tally::probe_sink(sink.appsink());
        let handle = sink
            .on_frame(move |f| {
                record.lock().unwrap().push(f.pts());
                Ok::<(), String>(())
            })
            .unwrap();
        pipeline.play().unwrap();
        let err = handle.wait().unwrap_err();
        // Later frames (the source keeps running) are refused, not given to the callback.
        // Once EOS has reached the appsink (after the refusal, or after all 50 buffers were
        // handed over), every buffer the source sent has been through it.
        arrived.wait_end(Duration::from_secs(10));
        let pts = seen.lock().unwrap().clone();
        assert_prefix_then_injected("callback", &pts, &err);
        assert_eq!(handle.frames(), pts.len() as u64);
        drop((handle, pipeline));

        // Batches of 2: whole batches of the prefix, then the error, then nothing.
        let pipeline = failing_pipeline("appsink");
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let mut batches = sink.batches::<u8>(2);
        let mut pts = Vec::new();
        let err = loop {
            match batches.next().expect("an error before the end") {
                Ok(batch) => {
                    assert_eq!(batch.array.shape(), [2, 24, 32, 3]);
                    pts.extend(batch.pts);
                }
                Err(e) => break e,
            }
        };
        assert!(batches.next().is_none());
        assert!(pts.len() <= 4, "{} frames in full batches", pts.len());
        assert_prefix_then_injected("batches", &pts, &err);

        // Stream.
        #[cfg(feature = "stream")]
        {
            let pipeline = failing_pipeline("appsink");
            let stream = FrameSink::new(&pipeline).unwrap().stream();
            pipeline.play().unwrap();
            let mut items = drain_stream(stream);
            let last = items.pop().unwrap().unwrap_err();
            let pts: Vec<_> = items.iter().map(|f| f.as_ref().unwrap().pts()).collect();
            assert_prefix_then_injected("stream", &pts, &last);
        }
    });
}

#[test]
fn an_error_wins_over_frames_still_queued() {
    bounded(30, || {
        // Nobody reads until the pipeline has failed: frames 0..4 sit in the appsink's queue
        // (max-buffers 8), yet the first item is the error, and nothing follows.
        let pipeline = failing_pipeline("appsink");
        let sink = FrameSink::builder(&pipeline)
            .max_buffers(8)
            .build()
            .unwrap();
        pipeline.play().unwrap();
        assert!(pipeline.wait_timeout(Duration::from_secs(10)).is_err());
        let items: Vec<Item> = sink.iter().collect();
        assert_eq!(items.len(), 1, "{items:?}");
        assert_injected(items[0].as_ref().unwrap_err());
        assert_eq!(sink.pulled(), 0);

        let pipeline = failing_pipeline("appsink");
        let sink = FrameSink::builder(&pipeline)
            .max_buffers(8)
            .build()
            .unwrap();
        pipeline.play().unwrap();
        assert!(pipeline.wait_timeout(Duration::from_secs(10)).is_err());
        let items: Vec<_> = sink.batches::<u8>(2).collect();
        assert_eq!(items.len(), 1);
        assert_injected(items[0].as_ref().unwrap_err());
    });
}

/// A live 50 fps source with a gate on its output: closing the gate drops every buffer (a
/// camera that stops delivering, without an error or EOS), opening it lets frames through
/// again.
fn gated_source() -> (Pipeline, Arc<AtomicBool>) {
    let pipeline = Pipeline::launch(
        "videotestsrc is-live=true name=src ! video/x-raw,width=32,height=24,framerate=50/1 ! \
         appsink name=out",
    )
    .unwrap();
    let closed = Arc::new(AtomicBool::new(false));
    let gate = Arc::clone(&closed);
    let pad = pipeline.by_name("src").unwrap().static_pad("src").unwrap();
    pad.add_probe(gst::PadProbeType::BUFFER, move |_, _| {
        if gate.load(Ordering::SeqCst) {
            gst::PadProbeReturn::Drop
        } else {
            gst::PadProbeReturn::Ok
        }
    });
    (pipeline, closed)
}

const STALL: Duration = Duration::from_millis(300);
/// How long a pull that expects a frame waits: the short `STALL` is for the pulls that expect
/// the stall, so a slow machine cannot turn an expected frame into a timeout.
const FRAME_WAIT: Duration = Duration::from_secs(10);

#[test]
fn a_source_that_stalls_mid_stream_times_out_then_recovers() {
    bounded(60, || {
        // Iterator / pull: frames, then a Timeout naming the appsink once the gate closes
        // (after at most the frames already past the gate), then frames again once it opens.
        let (pipeline, closed) = gated_source();
        let sink = FrameSink::builder(&pipeline)
            .timeout(STALL)
            .build()
            .unwrap();
        pipeline.play().unwrap();
        for _ in 0..3 {
            sink.pull_timeout(FRAME_WAIT).unwrap().unwrap();
        }
        closed.store(true, Ordering::SeqCst);
        let mut in_flight = 0;
        let err = loop {
            match sink.pull().unwrap() {
                Ok(_) => in_flight += 1,
                Err(e) => break e,
            }
        };
        // Past the gate when it closed: the appsink's queue, and one frame waiting for room.
        let past_gate = u64::from(sink.appsink().max_buffers()) + 1;
        assert!(
            in_flight <= past_gate,
            "{in_flight} frames after the gate closed"
        );
        let SinkError::Timeout {
            element, waited, ..
        } = &err
        else {
            panic!("expected a timeout, got {err:?}")
        };
        assert_eq!(element, "out");
        assert!(*waited >= STALL, "{waited:?}");
        assert!(!sink.is_ended() && !pipeline.is_done());
        closed.store(false, Ordering::SeqCst);
        let pts_after = sink
            .pull_timeout(FRAME_WAIT)
            .unwrap()
            .expect("frames again after the stall");
        assert!(pts_after.pts().is_some());
        assert_eq!(sink.pulled(), 3 + in_flight + 1);
        drop(sink);
        pipeline.stop().unwrap();

        // Channel: the timeout is an item, not the end: the same receiver gets the frames
        // that come after the stall, and a stop finishes though nobody reads any more.
        let (pipeline, closed) = gated_source();
        let rx = FrameSink::builder(&pipeline)
            .timeout(STALL)
            .build()
            .unwrap()
            .channel(4, Policy::Block);
        pipeline.play().unwrap();
        for _ in 0..3 {
            rx.recv_timeout(FRAME_WAIT).unwrap().unwrap();
        }
        closed.store(true, Ordering::SeqCst);
        let err = loop {
            match rx.recv().expect("the timeout before the end") {
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        assert!(err.is_timeout(), "{err:?}");
        assert!(!rx.is_ended());
        closed.store(false, Ordering::SeqCst);
        let after = rx
            .recv_timeout(FRAME_WAIT)
            .expect("frames again")
            .expect("a frame after the stall");
        assert!(after.pts().is_some());
        pipeline.stop().unwrap();
        assert!(rx.is_ended() || !rx.is_empty());

        // Callback: wait() reports the stall; the callback runs again once the gate opens.
        let (pipeline, closed) = gated_source();
        let (tx, calls) = mpsc::channel();
        let handle = FrameSink::builder(&pipeline)
            .timeout(STALL)
            .build()
            .unwrap()
            .on_frame(move |_| {
                let _ = tx.send(());
                Ok::<(), String>(())
            })
            .unwrap();
        pipeline.play().unwrap();
        for _ in 0..3 {
            calls.recv_timeout(FRAME_WAIT).expect("a frame");
        }
        closed.store(true, Ordering::SeqCst);
        let err = handle.wait().unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        // Forget the calls made before the stall; the next one comes after the gate opens.
        while calls.try_recv().is_ok() {}
        closed.store(false, Ordering::SeqCst);
        calls
            .recv_timeout(FRAME_WAIT)
            .expect("the callback runs again after the stall");
        assert!(!pipeline.is_done());
    });
}

/// `appsrc ! appsink` with six GRAY8 frames queued before play: three 8x4 (no row padding),
/// then three 5x3 (stride 8: padded rows); frame `i` is filled with the value `i`.
fn size_change_pipeline() -> (Pipeline, gst_app::AppSrc) {
    let pipeline = Pipeline::launch("appsrc name=src format=time ! appsink").unwrap();
    let src: gst_app::AppSrc = pipeline.element("src").unwrap();
    let info = |w: u32, h: u32| {
        VideoInfo::builder(VideoFormat::Gray8, w, h)
            .build()
            .unwrap()
    };
    src.set_caps(Some(&info(8, 4).to_caps().unwrap()));
    (pipeline, src)
}

fn push_size_change(src: &gst_app::AppSrc) {
    for i in 0..6u64 {
        let (w, h) = if i < 3 { (8, 4) } else { (5, 3) };
        if i == 3 {
            let info = VideoInfo::builder(VideoFormat::Gray8, w, h)
                .build()
                .unwrap();
            src.set_caps(Some(&info.to_caps().unwrap()));
        }
        let size = VideoInfo::builder(VideoFormat::Gray8, w, h)
            .build()
            .unwrap()
            .size();
        let mut buffer = gst::Buffer::from_mut_slice(vec![i as u8; size]);
        buffer
            .get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_mseconds(i * 10));
        src.push_buffer(buffer).unwrap();
    }
    src.end_of_stream().unwrap();
}

/// The six frames of `size_change_pipeline`, as (shape, every sample equals i).
#[track_caller]
fn assert_follows_size_change(adapter: &str, frames: &[Frame]) {
    let shapes: Vec<_> = frames
        .iter()
        .map(|f| f.view::<u8>().unwrap().shape().to_vec())
        .collect();
    assert_eq!(
        shapes,
        [
            [4, 8, 1],
            [4, 8, 1],
            [4, 8, 1],
            [3, 5, 1],
            [3, 5, 1],
            [3, 5, 1]
        ],
        "{adapter}"
    );
    for (i, f) in frames.iter().enumerate() {
        assert_eq!((f.width(), f.height()), if i < 3 { (8, 4) } else { (5, 3) });
        assert!(
            f.view::<u8>().unwrap().iter().all(|&v| v == i as u8),
            "{adapter}: frame {i} is not all {i}"
        );
        // The copy is contiguous and equal to the strided view.
        assert_eq!(f.to_array::<u8>().unwrap(), f.view::<u8>().unwrap());
    }
}

#[test]
fn caps_that_change_size_mid_stream_are_followed_and_batches_report_the_change() {
    bounded(60, || {
        // Iterator.
        let (pipeline, src) = size_change_pipeline();
        let sink = FrameSink::new(&pipeline).unwrap();
        push_size_change(&src);
        pipeline.play().unwrap();
        let frames: Vec<Frame> = sink.iter().map(Result::unwrap).collect();
        assert_follows_size_change("iterator", &frames);
        drop((frames, sink, pipeline));

        // Channel, both policies (capacity 8 holds the whole stream: nothing dropped).
        for policy in [Policy::Block, Policy::DropOldest] {
            let (pipeline, src) = size_change_pipeline();
            let rx = FrameSink::new(&pipeline).unwrap().channel(8, policy);
            push_size_change(&src);
            pipeline.play().unwrap();
            let frames: Vec<Frame> = std::iter::from_fn(|| rx.recv())
                .map(Result::unwrap)
                .collect();
            assert_follows_size_change(&format!("channel {policy:?}"), &frames);
            assert_eq!(rx.dropped(), 0);
        }

        // Callback: frames kept (owned) by the callback.
        let (pipeline, src) = size_change_pipeline();
        let kept = Arc::new(Mutex::new(Vec::new()));
        let keep = Arc::clone(&kept);
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(move |f| {
                keep.lock().unwrap().push(f);
                Ok::<(), String>(())
            })
            .unwrap();
        push_size_change(&src);
        pipeline.play().unwrap();
        assert_eq!(handle.wait().unwrap(), 6);
        assert_follows_size_change("callback", &kept.lock().unwrap());

        // Stream.
        #[cfg(feature = "stream")]
        {
            let (pipeline, src) = size_change_pipeline();
            let stream = FrameSink::new(&pipeline).unwrap().stream();
            push_size_change(&src);
            pipeline.play().unwrap();
            let frames: Vec<Frame> = drain_stream(stream)
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_follows_size_change("stream", &frames);
        }

        // Batches of 3: the change falls between batches, so both are whole, each with its
        // own shape.
        let (pipeline, src) = size_change_pipeline();
        let sink = FrameSink::new(&pipeline).unwrap();
        push_size_change(&src);
        pipeline.play().unwrap();
        let batches: Vec<_> = sink.batches::<u8>(3).collect::<Result<_, _>>().unwrap();
        let shapes: Vec<_> = batches.iter().map(|b| b.array.shape().to_vec()).collect();
        assert_eq!(shapes, [[3, 4, 8, 1], [3, 3, 5, 1]]);
        for (b, batch) in batches.iter().enumerate() {
            for (j, frame) in batch.array.outer_iter().enumerate() {
                let i = (b * 3 + j) as u8;
                assert!(frame.iter().all(|&v| v == i), "batch {b} frame {j}");
            }
        }

        // Batches of 2: the change falls inside the second batch: CapsChanged naming both
        // shapes, after the first whole batch, then the end.
        let (pipeline, src) = size_change_pipeline();
        let sink = FrameSink::new(&pipeline).unwrap();
        push_size_change(&src);
        pipeline.play().unwrap();
        let mut batches = sink.batches::<u8>(2);
        assert_eq!(batches.next().unwrap().unwrap().array.shape(), [2, 4, 8, 1]);
        match batches.next().unwrap() {
            Err(SinkError::CapsChanged {
                element,
                expected,
                found,
            }) => {
                assert_eq!(element, sink.name());
                assert_eq!((expected, found), ([4, 8, 1], [3, 5, 1]));
            }
            other => panic!("expected CapsChanged, got {other:?}"),
        }
        assert!(batches.next().is_none());
    });
}

#[test]
fn a_panicking_frame_callback_becomes_the_pipelines_error_and_the_process_survives() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=50 ! video/x-raw,width=16,height=16 ! appsink name=out",
        )
        .unwrap();
        let calls = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&calls);
        let sink = FrameSink::new(&pipeline).unwrap();
        let arrived = Tally::probe_sink(sink.appsink());
        let handle = sink
            .on_frame(move |_| {
                let n = counter.fetch_add(1, Ordering::SeqCst);
                if n == 3 {
                    panic!("callback bug at frame {n}");
                }
                Ok::<(), String>(())
            })
            .unwrap();
        pipeline.play().unwrap();
        let err = handle.wait().unwrap_err();
        // gstreamer-rs catches the panic and posts it from the appsink.
        let e = err.element_error().expect("the pipeline's element error");
        assert_eq!(e.element, "out");
        assert_eq!(e.message, "Panicked: callback bug at frame 3");
        assert_eq!(handle.frames(), 3);
        assert_eq!(
            pipeline
                .wait_timeout(Duration::from_secs(5))
                .unwrap_err()
                .element_error(),
            Some(e)
        );
        // Never called again after the panic: once EOS has reached the appsink (the source
        // stops at the refused frame), no frame is left to give to the callback.
        arrived.wait_end(Duration::from_secs(10));
        assert_eq!(calls.load(Ordering::SeqCst), 4);
        drop((handle, pipeline));

        // The process (and GStreamer) carry on: a new pipeline runs to the end.
        let pipeline = Pipeline::launch("videotestsrc num-buffers=5 ! appsink").unwrap();
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(|_| Ok::<(), String>(()))
            .unwrap();
        pipeline.play().unwrap();
        assert_eq!(handle.wait().unwrap(), 5);
    });
}

#[test]
fn a_panicking_message_listener_becomes_the_pipelines_error() {
    bounded(30, || {
        // The listener runs inside GStreamer's C bus handler: unwinding out of it would abort
        // the process. The panic becomes the pipeline's error instead.
        let pipeline = Pipeline::launch("videotestsrc num-buffers=5 ! appsink").unwrap();
        pipeline.on_message(|msg| {
            if let gst::MessageView::StreamStart(_) = msg.view() {
                panic!("listener bug");
            }
        });
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let err = pipeline.wait_timeout(Duration::from_secs(5)).unwrap_err();
        let e = err.element_error().expect("an element error");
        assert_eq!(e.message, "message listener panicked: listener bug");
        assert_eq!(e.element, pipeline.name());
        assert!(e.debug.as_deref().unwrap().contains("StreamStart"), "{e:?}");
        // The adapters see it like any other pipeline error.
        let items: Vec<Item> = sink.iter().collect();
        let last = items.last().unwrap().as_ref().unwrap_err();
        assert_eq!(last.element_error(), Some(e));
        drop(sink);
        drop(pipeline); // state-change messages go through the listener again: no abort
    });
}

/// An endless deterministic source: every pixel is RGB (0x10, 0x20, 0x30).
const SOLID: &str = "videotestsrc pattern=solid-color foreground-color=0xff102030 ! \
                     video/x-raw,format=RGB,width=33,height=7 ! appsink";

#[track_caller]
fn assert_solid(frame: &Frame) {
    let view = frame.view::<u8>().unwrap();
    assert_eq!(view.shape(), [7, 33, 3]);
    for px in view.rows() {
        assert_eq!(px.to_vec(), [0x10, 0x20, 0x30]);
    }
}

#[test]
fn dropping_the_pipeline_under_a_reading_thread_ends_it_cleanly() {
    bounded(60, || {
        // Each reader counts what it got; the pipeline is dropped once it has 5 frames. A
        // reader that missed the drop would wait out the pull timeout (10 s) and end with a
        // Timeout item, which every reader below rejects.
        let started = |n: &Tally| {
            n.wait_for(5, Duration::from_secs(10));
        };

        // Iterator on another thread: ends with None (a clean end, not an error).
        let pipeline = Pipeline::launch(SOLID).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let count = Tally::new();
        let n = count.clone();
        let reader = std::thread::spawn(move || {
            let mut frames = 0;
            for item in &sink {
                assert_solid(&item.expect("no error: the pipeline was dropped, not failed"));
                frames += 1;
                n.add(1);
            }
            (frames, sink.pulled(), sink.is_ended())
        });
        started(&count);
        drop(pipeline);
        let (frames, pulled, ended) = reader.join().unwrap();
        assert!(frames >= 5 && ended && pulled == frames);

        // Channel receiver blocked in recv() on another thread, for both policies.
        for policy in [Policy::Block, Policy::DropOldest] {
            let pipeline = Pipeline::launch(SOLID).unwrap();
            let rx = FrameSink::new(&pipeline).unwrap().channel(2, policy);
            pipeline.play().unwrap();
            let count = Tally::new();
            let n = count.clone();
            let reader = std::thread::spawn(move || {
                while let Some(item) = rx.recv() {
                    assert_solid(&item.expect("no error"));
                    n.add(1);
                }
                (rx.received(), rx.is_ended())
            });
            started(&count);
            drop(pipeline);
            let (received, ended) = reader.join().unwrap();
            assert!(received >= 5 && ended, "{policy:?}");
        }

        // A callback in progress: the drop waits for it, then it is never called again, and
        // wait() reports a clean end with the exact count.
        let pipeline = Pipeline::launch(SOLID).unwrap();
        let calls = Tally::new();
        let counter = calls.clone();
        let inside = Arc::new(AtomicBool::new(false));
        let in_call = Arc::clone(&inside);
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(move |f| {
                in_call.store(true, Ordering::SeqCst);
                assert_solid(&f);
                // Work simulation: a slow callback, so the drop lands during a call.
                std::thread::sleep(Duration::from_millis(10));
                counter.add(1);
                in_call.store(false, Ordering::SeqCst);
                Ok::<(), String>(())
            })
            .unwrap();
        pipeline.play().unwrap();
        started(&calls);
        drop(pipeline);
        // The drop returned after the call in progress finished (the streaming thread is
        // gone), and none starts after it.
        assert!(!inside.load(Ordering::SeqCst), "a call outlived the drop");
        let after_drop = calls.count();
        assert_eq!(handle.wait().unwrap(), after_drop);
        assert_eq!(calls.count(), after_drop);

        // Stream polled on another thread.
        #[cfg(feature = "stream")]
        {
            let pipeline = Pipeline::launch(SOLID).unwrap();
            let stream = FrameSink::new(&pipeline).unwrap().stream();
            pipeline.play().unwrap();
            let count = Tally::new();
            let n = count.clone();
            let reader = std::thread::spawn(move || drain_stream_counting(stream, &n));
            started(&count);
            drop(pipeline);
            let items = reader.join().unwrap();
            assert!(!items.is_empty());
            for item in &items {
                assert_solid(item.as_ref().expect("no error"));
            }
        }
    });
}

#[test]
fn frames_held_after_the_pipeline_is_dropped_stay_valid() {
    bounded(30, || {
        // Frames taken, and frames still queued in a channel, outlive the pipeline, its
        // appsink and the adapters.
        let pipeline = Pipeline::launch(SOLID).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let held: Vec<Frame> = sink.iter().take(10).map(Result::unwrap).collect();
        let pts: Vec<_> = held.iter().map(Frame::pts).collect();
        drop((sink, pipeline));

        let pipeline = Pipeline::launch(SOLID).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        let arrived = Tally::probe_sink(sink.appsink());
        let rx = sink.channel(4, Policy::Block);
        pipeline.play().unwrap();
        // The 5th frame has reached the appsink: the 4 before it are in the channel.
        arrived.wait_for(5, Duration::from_secs(10));
        assert_eq!(rx.len(), 4);
        drop(pipeline);
        let queued: Vec<Frame> = std::iter::from_fn(|| rx.recv())
            .map(Result::unwrap)
            .collect();
        drop(rx);
        assert!(queued.len() >= 4, "{} queued frames", queued.len());

        // Read them on another thread, after everything else is gone.
        let barrier = Arc::new(Barrier::new(2));
        let go = Arc::clone(&barrier);
        let reader = std::thread::spawn(move || {
            go.wait();
            for f in held.iter().chain(&queued) {
                assert_solid(f);
            }
            held.iter().map(Frame::pts).collect::<Vec<_>>()
        });
        barrier.wait();
        let read_pts = reader.join().unwrap();
        assert_eq!(read_pts, pts);
        let expected: Vec<_> = (0..10).map(|i| Some(gst_pts(i, 30, 1))).collect();
        assert_eq!(pts, expected);
    });
}

fn gray(w: u32, h: u32) -> VideoInfo {
    VideoInfo::builder(VideoFormat::Gray8, w, h)
        .fps(gst::Fraction::new(1000, 1))
        .build()
        .unwrap()
}

#[test]
fn pushes_after_the_pipeline_failed_are_refused_with_its_error() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc name=src ! identity name=boom ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, gray(8, 4)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let frame = Array3::<u8>::from_elem((4, 8, 1), 7);
        for _ in 0..2 {
            source.push(frame.view()).unwrap();
        }
        for i in 0..2 {
            assert_eq!(sink.pull().unwrap().unwrap().offset(), i);
        }
        pipeline
            .by_name("boom")
            .unwrap()
            .post_error_message(gst::error_msg!(
                gst::StreamError::Failed,
                ("downstream broke")
            ));
        // Every kind of push now fails with the element's error; nothing is pushed.
        let check = |err: SinkError| {
            let e = err.element_error().unwrap_or_else(|| panic!("{err:?}"));
            assert_eq!(e.element, "boom");
            assert_eq!(e.message, "downstream broke");
        };
        check(source.push(frame.view()).unwrap_err());
        check(source.push(frame.clone()).unwrap_err());
        check(source.push([frame.view()]).unwrap_err());
        check(
            source
                .push(gst::Buffer::with_size(32).unwrap())
                .unwrap_err(),
        );
        // A mismatch is still reported as a mismatch: the check comes first.
        assert!(matches!(
            source.push(Array3::<u8>::zeros((4, 7, 1)).view()),
            Err(SinkError::Mismatch { what: "width", .. })
        ));
        check(source.finish().unwrap_err());
        assert_eq!(source.pushed(), 2);
        // Downstream saw exactly the two frames, then the error.
        check(sink.pull().unwrap().unwrap_err());
        assert!(sink.pull().is_none());
        assert_eq!(sink.pulled(), 2);
    });
}

#[test]
fn concurrent_pushes_from_four_threads_are_received_once_or_refused() {
    bounded(60, || {
        const THREADS: u8 = 4;
        let pipeline = Pipeline::launch("appsrc name=src ! appsink").unwrap();
        let source = Arc::new(FrameSource::new(&pipeline, gray(16, 4)).unwrap());
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        // Drain downstream on its own thread: (offset, pts, thread, sequence) per frame,
        // checking each frame is whole (every other sample is the thread's id).
        let reader = std::thread::spawn(move || {
            sink.iter()
                .map(|f| {
                    let f = f.unwrap();
                    let v = f.view::<u8>().unwrap();
                    let tid = v[[3, 15, 0]];
                    let seq = u16::from_le_bytes([v[[0, 0, 0]], v[[0, 1, 0]]]);
                    let whole = v
                        .indexed_iter()
                        .all(|((y, x, _), &s)| (y == 0 && x < 2) || s == tid);
                    assert!(whole, "frame {} of thread {tid} is torn", f.offset());
                    (f.offset(), f.pts(), tid, seq)
                })
                .collect::<Vec<_>>()
        });
        let ok_total = Tally::new();
        let pushers: Vec<_> = (0..THREADS)
            .map(|tid| {
                let source = Arc::clone(&source);
                let ok_total = ok_total.clone();
                std::thread::spawn(move || {
                    let mut ok = Vec::new();
                    let mut eos_from: Option<u16> = None;
                    // Until 20 pushes after the first refusal: every thread races finish(),
                    // however the threads are scheduled.
                    for seq in 0..u16::MAX {
                        if eos_from.is_some_and(|from| seq >= from.saturating_add(20)) {
                            break;
                        }
                        // Every 7th push has the wrong width: a typed refusal.
                        let width = if seq % 7 == 3 { 15 } else { 16 };
                        let mut frame = Array3::<u8>::from_elem((4, width, 1), tid);
                        let [lo, hi] = seq.to_le_bytes();
                        frame[[0, 0, 0]] = lo;
                        frame[[0, 1, 0]] = hi;
                        // Alternate the zero-copy and the copying path.
                        let result = if seq % 2 == 0 {
                            source.push(frame)
                        } else {
                            source.push(frame.view())
                        };
                        match result {
                            Ok(()) => {
                                assert!(eos_from.is_none(), "a push succeeded after EOS");
                                assert_ne!(width, 15, "a wrong shape was pushed");
                                ok.push(seq);
                                ok_total.add(1);
                            }
                            Err(SinkError::Mismatch { what: "width", .. }) => {
                                assert_eq!(width, 15);
                            }
                            Err(SinkError::Flow {
                                flow: gst::FlowError::Eos,
                                ..
                            }) => {
                                eos_from.get_or_insert(seq);
                            }
                            Err(other) => panic!("thread {tid} push {seq}: {other:?}"),
                        }
                    }
                    assert!(eos_from.is_some(), "thread {tid}: no push was refused");
                    (tid, ok, eos_from)
                })
            })
            .collect();
        // Finish while the pushers are still going (they go on until refused).
        ok_total.wait_for(200, Duration::from_secs(20));
        source.finish().unwrap();
        let results: Vec<_> = pushers.into_iter().map(|t| t.join().unwrap()).collect();
        let received = reader.join().unwrap();

        let ok_count: usize = results.iter().map(|(_, ok, _)| ok.len()).sum();
        assert_eq!(received.len(), ok_count, "received vs Ok pushes");
        assert_eq!(source.pushed(), ok_count as u64);
        assert!(ok_count >= 200, "{ok_count}");
        assert!(
            results.iter().all(|(_, _, eos)| eos.is_some()),
            "finish() raced no push"
        );
        // Stamped in push order: offsets 0..n, pts from the framerate, no gaps.
        for (i, (offset, pts, ..)) in received.iter().enumerate() {
            assert_eq!(*offset, i as u64);
            assert_eq!(*pts, frame_pts(i as u64, gst::Fraction::new(1000, 1)));
        }
        // Every Ok push arrived exactly once, in each thread's order; nothing else arrived.
        let mut seen = HashSet::new();
        for (tid, ok, _) in &results {
            let arrived: Vec<u16> = received
                .iter()
                .filter(|r| r.2 == *tid)
                .map(|r| r.3)
                .collect();
            assert_eq!(&arrived, ok, "thread {tid}");
            for seq in ok {
                assert!(seen.insert((*tid, *seq)));
            }
        }
        assert_eq!(seen.len(), received.len());
    });
}

#[test]
fn pushes_racing_a_pipeline_drop_are_ok_or_typed_errors() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc ! fakesink").unwrap();
        let source = Arc::new(FrameSource::new(&pipeline, gray(8, 4)).unwrap());
        pipeline.play().unwrap();
        let ok_total = Tally::new();
        let pushers: Vec<_> = (0..4)
            .map(|_| {
                let source = Arc::clone(&source);
                let ok_total = ok_total.clone();
                std::thread::spawn(move || {
                    let frame = Array3::<u8>::zeros((4, 8, 1));
                    let (mut ok, mut refused) = (0u64, 0u64);
                    // Until 20 refusals: every thread races the drop, however the threads are
                    // scheduled (after the drop every push is refused).
                    while refused < 20 {
                        match source.push(frame.view()) {
                            Ok(()) => {
                                assert_eq!(refused, 0, "a push succeeded after a refusal");
                                ok += 1;
                                ok_total.add(1);
                            }
                            Err(e) => {
                                assert_eq!(e.flow(), Some(gst::FlowError::Flushing), "{e:?}");
                                refused += 1;
                            }
                        }
                    }
                    (ok, refused)
                })
            })
            .collect();
        ok_total.wait_for(50, Duration::from_secs(20));
        drop(pipeline);
        let counts: Vec<(u64, u64)> = pushers.into_iter().map(|t| t.join().unwrap()).collect();
        let ok: u64 = counts.iter().map(|c| c.0).sum();
        assert!(ok >= 50, "{ok}");
        assert_eq!(ok, ok_total.count());
        assert_eq!(source.pushed(), ok);
        assert!(counts.iter().all(|c| c.1 == 20), "the drop raced no push");
    });
}

#[test]
fn a_callback_installed_after_play_still_sees_every_frame_in_order() {
    bounded(30, || {
        // The appsink's queue fills (max-buffers 8) before the callback exists: the frames
        // already queued must reach it too, or upstream stays blocked forever.
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=20 ! video/x-raw,width=16,height=16,framerate=25/1 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::builder(&pipeline)
            .max_buffers(8)
            .build()
            .unwrap();
        let arrived = Tally::probe_sink(sink.appsink());
        pipeline.play().unwrap();
        // 8 queued, the 9th blocked in the appsink waiting for room.
        arrived.wait_for(9, Duration::from_secs(10));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&seen);
        let handle = sink
            .on_frame(move |f| {
                record.lock().unwrap().push(f.pts());
                Ok::<(), String>(())
            })
            .unwrap();
        assert_eq!(handle.wait_timeout(Duration::from_secs(10)).unwrap(), 20);
        let expected: Vec<_> = (0..20).map(|i| Some(gst_pts(i, 25, 1))).collect();
        assert_eq!(*seen.lock().unwrap(), expected);
        pipeline.wait_timeout(Duration::from_secs(5)).unwrap();
    });
}
