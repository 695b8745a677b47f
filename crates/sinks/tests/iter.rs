//! The blocking iterator and `pull`: exact frames, end of stream, stop, early drop.

use crate::util::{Tally, bounded, gst_pts};
use gst::prelude::*;
use gstpipe_core::{Outcome, Pipeline, gst};
use gstpipe_sinks::{FrameSink, SinkError};
use std::sync::{Arc, Barrier, mpsc};
use std::time::Duration;

/// RGB 32x24 at 25 fps, one solid colour: every pixel is (0x10, 0x80, 0xf0).
const SOLID: &str = "videotestsrc num-buffers=25 pattern=solid-color foreground-color=0xff1080f0 ! \
                     video/x-raw,format=RGB,width=32,height=24,framerate=25/1 ! appsink";

#[test]
fn iterator_yields_exactly_n_frames_with_increasing_pts() {
    bounded(30, || {
        let pipeline = Pipeline::launch(SOLID).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let mut count = 0u64;
        for frame in sink.iter() {
            let frame = frame.unwrap();
            // videotestsrc stamps frame i at i / 25 s.
            assert_eq!(frame.pts(), Some(gst_pts(count, 25, 1)), "frame {count}");
            assert_eq!(frame.duration(), Some(gst::ClockTime::from_mseconds(40)));
            let view = frame.view::<u8>().unwrap();
            assert_eq!(view.shape(), &[24, 32, 3]);
            assert!(
                view.outer_iter()
                    .flat_map(|row| row.outer_iter().map(|px| px.to_vec()).collect::<Vec<_>>())
                    .all(|px| px == [0x10, 0x80, 0xf0]),
                "frame {count} is not the solid colour"
            );
            count += 1;
        }
        assert_eq!(count, 25);
        assert_eq!(sink.pulled(), 25);
        assert!(sink.is_ended());
        // Ended means ended: no more frames, no error.
        assert!(sink.pull().is_none());
        pipeline.wait_timeout(Duration::from_secs(5)).unwrap();
    });
}

#[test]
fn odd_width_frames_are_read_through_their_strides() {
    bounded(30, || {
        // RGB at width 5 has 16-byte rows: a stride bug would shift colours between rows.
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=3 pattern=solid-color foreground-color=0xff0a141e ! \
             video/x-raw,format=RGB,width=5,height=3 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let frames: Vec<_> = sink.iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), 3);
        for frame in &frames {
            assert_eq!(frame.buffer().size(), 48, "3 rows of 16 bytes");
            let array = frame.to_array::<u8>().unwrap();
            assert_eq!(array.shape(), &[3, 5, 3]);
            for px in array.rows() {
                assert_eq!(px.to_vec(), [10, 20, 30]);
            }
        }
    });
}

#[test]
fn seed_pipeline_works_with_and_without_emit_signals() {
    for emit in ["emit-signals=True", "emit-signals=false", ""] {
        bounded(30, move || {
            let pipeline = Pipeline::launch(&format!(
                "videotestsrc num-buffers=10 ! capsfilter caps=video/x-raw,format=RGB,width=640,height=480 ! \
                 appsink {emit}"
            ))
            .unwrap();
            let sink = FrameSink::new(&pipeline).unwrap();
            pipeline.play().unwrap();
            let mut last = None;
            let mut count = 0;
            for frame in &sink {
                let frame = frame.unwrap();
                assert_eq!(frame.view::<u8>().unwrap().shape(), &[480, 640, 3]);
                assert!(frame.pts() > last, "{emit}: pts must increase");
                last = frame.pts();
                count += 1;
            }
            assert_eq!(count, 10, "{emit}");
        });
    }
}

#[test]
fn owned_iterator_ends_at_eos() {
    bounded(30, || {
        let pipeline = Pipeline::launch(SOLID).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let pts: Vec<_> = sink
            .into_iter()
            .map(|f| f.unwrap().pts().unwrap())
            .collect();
        let expected: Vec<_> = (0..25).map(|i| gst_pts(i, 25, 1)).collect();
        assert_eq!(pts, expected);
    });
}

/// What the description writes on the appsink is kept, even values equal to GStreamer's
/// defaults; gstpipe's defaults fill only the rest; builder calls win over both.
#[test]
fn the_description_wins_over_gstpipe_defaults() {
    // Written: kept, whatever gstpipe would have chosen.
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=1 ! appsink name=out sync=true max-buffers=1 drop=true \
         wait-on-eos=false enable-last-sample=true emit-signals=true caps=video/x-raw,format=RGB",
    )
    .unwrap();
    let sink = FrameSink::builder(&pipeline).name("out").build().unwrap();
    let appsink = sink.appsink();
    assert!(appsink.is_sync(), "sync=true was written");
    assert_eq!(appsink.max_buffers(), 1);
    assert!(appsink.is_drop());
    assert!(!appsink.is_wait_on_eos());
    assert!(appsink.enables_last_sample());
    assert!(appsink.property::<bool>("emit-signals"));
    assert_eq!(
        appsink.caps().unwrap(),
        "video/x-raw,format=RGB".parse::<gst::Caps>().unwrap()
    );

    // Unsaid: gstpipe's defaults, and GStreamer's own where gstpipe has none.
    let pipeline = Pipeline::launch("videotestsrc num-buffers=1 ! appsink").unwrap();
    let sink = FrameSink::new(&pipeline).unwrap();
    let appsink = sink.appsink();
    assert!(!appsink.is_sync());
    assert_eq!(appsink.max_buffers(), gstpipe_sinks::DEFAULT_MAX_BUFFERS);
    assert!(!appsink.is_drop());
    assert!(appsink.is_wait_on_eos());
    assert!(!appsink.enables_last_sample());
    assert!(appsink.caps().is_none());

    // Builder calls override the description.
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=1 ! appsink name=out sync=true max-buffers=0 drop=false",
    )
    .unwrap();
    let sink = FrameSink::builder(&pipeline)
        .name("out")
        .max_buffers(3)
        .drop(true)
        .sync(false)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let appsink = sink.appsink();
    assert!(!appsink.is_sync());
    assert_eq!(appsink.max_buffers(), 3);
    assert!(appsink.is_drop());
    assert_eq!(sink.timeout(), Duration::from_secs(2));
    assert_eq!(sink.name(), "out");
}

/// Each appsink of a description keeps its own settings: the description's elements are
/// matched by name, or by order for unnamed ones.
#[test]
fn several_appsinks_keep_their_own_settings() {
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=1 ! tee name=t \
         t. ! queue ! appsink sync=true \
         t. ! queue ! appsink max-buffers=5 \
         t. ! queue ! appsink name=named drop=true",
    )
    .unwrap();
    let sinks = pipeline.elements::<gst_app::AppSink>();
    let mut unnamed: Vec<_> = sinks.iter().filter(|s| s.name() != "named").collect();
    unnamed.sort_by_key(|s| {
        s.name()
            .trim_start_matches("appsink")
            .parse::<u64>()
            .unwrap()
    });
    let first = FrameSink::builder(&pipeline)
        .name(&unnamed[0].name())
        .build()
        .unwrap();
    let second = FrameSink::builder(&pipeline)
        .name(&unnamed[1].name())
        .build()
        .unwrap();
    let named = FrameSink::builder(&pipeline).name("named").build().unwrap();
    assert!(first.appsink().is_sync());
    assert_eq!(
        first.appsink().max_buffers(),
        gstpipe_sinks::DEFAULT_MAX_BUFFERS
    );
    assert!(!second.appsink().is_sync());
    assert_eq!(second.appsink().max_buffers(), 5);
    assert!(named.appsink().is_drop());
    assert!(!named.appsink().is_sync());
}

/// Properties set in code before the sink is built count as the user's too.
#[test]
fn properties_set_in_code_are_kept() {
    let pipeline = Pipeline::launch("videotestsrc num-buffers=1 ! appsink name=out").unwrap();
    let appsink: gst_app::AppSink = pipeline.element("out").unwrap();
    appsink.set_max_buffers(7);
    let sink = FrameSink::new(&pipeline).unwrap();
    assert_eq!(sink.appsink().max_buffers(), 7);
}

#[test]
fn caps_make_upstream_convert() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=4 ! video/x-raw,format=I420,width=20,height=10 ! videoconvert ! appsink",
        )
        .unwrap();
        let sink = FrameSink::builder(&pipeline)
            .caps("video/x-raw,format=GRAY8".parse().unwrap())
            .build()
            .unwrap();
        pipeline.play().unwrap();
        let frames: Vec<_> = sink.iter().collect::<Result<_, _>>().unwrap();
        assert_eq!(frames.len(), 4);
        for frame in frames {
            assert_eq!(frame.format(), gst_video::VideoFormat::Gray8);
            assert_eq!(frame.view::<u8>().unwrap().shape(), &[10, 20, 1]);
        }
    });
}

#[test]
fn pull_before_play_waits_for_the_pipeline_to_start() {
    bounded(30, || {
        let pipeline = Pipeline::launch(SOLID).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        // A pull before play waits (bounded) instead of reporting the end.
        let err = sink
            .pull_timeout(Duration::from_millis(50))
            .expect("not the end: the pipeline has not started")
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        // A reader already pulling when play() starts the pipeline gets every frame. The
        // barrier lets it start first; play() then takes long enough (preroll) that it is
        // waiting by the time frames come, and the count is right either way.
        let ready = Arc::new(Barrier::new(2));
        let go = Arc::clone(&ready);
        let reader = std::thread::spawn(move || {
            go.wait();
            sink.iter().count()
        });
        ready.wait();
        pipeline.play().unwrap();
        assert_eq!(reader.join().unwrap(), 25);
    });
}

#[test]
fn stopping_the_pipeline_ends_the_iterator_cleanly() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc is-live=true ! video/x-raw,width=32,height=24 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let (first, got_first) = mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut items: Vec<Result<_, SinkError>> = Vec::new();
            for item in sink.iter() {
                items.push(item);
                let _ = first.send(());
            }
            items
        });
        got_first
            .recv_timeout(Duration::from_secs(10))
            .expect("the reader got a frame");
        drop(pipeline); // Null: the reader sees the stop
        // A reader that missed the stop would wait out the pull timeout (10 s) and end with
        // a Timeout item, which the assertion below rejects.
        let items = reader.join().unwrap();
        assert!(!items.is_empty());
        assert!(items.iter().all(|i| i.is_ok()), "a stop is not an error");
    });
}

#[test]
fn dropping_the_sink_lets_a_stop_finish_at_once() {
    bounded(30, || {
        // A long non-live stream read for 3 frames only: its appsink is full and EOS cannot
        // pass until the sink is released.
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=100000 ! video/x-raw,width=32,height=24 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        let arrived = Tally::probe_sink(sink.appsink());
        pipeline.play().unwrap();
        for frame in sink.iter().take(3) {
            frame.unwrap();
        }
        // Full: 3 frames taken, `max-buffers` queued, and one more blocked in the appsink
        // waiting for room.
        let full = 3 + u64::from(sink.appsink().max_buffers()) + 1;
        arrived.wait_for(full, Duration::from_secs(10));
        drop(sink);
        pipeline.stop().expect("EOS passes the released appsink");
        // Eos, not Stopped: EOS reached the appsink instead of stop() giving up on it after
        // its timeout and forcing the pipeline down.
        assert_eq!(pipeline.outcome(), Some(Outcome::Eos));
    });
}
