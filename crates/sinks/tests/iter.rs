//! The blocking iterator and `pull`: exact frames, end of stream, stop, early drop.

use crate::util::{bounded, gst_pts};
use gstpipe_core::{Outcome, Pipeline, gst};
use gstpipe_sinks::{FrameSink, SinkError};
use std::time::{Duration, Instant};

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

#[test]
fn configuration_is_explicit() {
    let pipeline = Pipeline::launch(
        "videotestsrc num-buffers=1 ! appsink name=out sync=true max-buffers=0 enable-last-sample=true",
    )
    .unwrap();
    let sink = FrameSink::builder(&pipeline)
        .name("out")
        .max_buffers(3)
        .drop(true)
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let appsink = sink.appsink();
    assert!(!appsink.is_sync(), "sync defaults to false");
    assert_eq!(appsink.max_buffers(), 3);
    assert!(appsink.is_drop());
    assert!(!appsink.enables_last_sample());
    assert!(appsink.is_wait_on_eos());
    assert_eq!(sink.timeout(), Duration::from_secs(2));
    assert_eq!(sink.name(), "out");
    let defaults = FrameSink::new(&pipeline).unwrap();
    assert_eq!(
        defaults.appsink().max_buffers(),
        gstpipe_sinks::DEFAULT_MAX_BUFFERS
    );
    assert!(!defaults.appsink().is_drop());
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
        let reader = std::thread::spawn(move || sink.iter().count());
        std::thread::sleep(Duration::from_millis(200));
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
        let reader = std::thread::spawn(move || {
            let items: Vec<Result<_, SinkError>> = sink.iter().collect();
            items
        });
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        drop(pipeline); // Null: the reader sees the stop
        let items = reader.join().unwrap();
        assert!(started.elapsed() < Duration::from_secs(2));
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
        pipeline.play().unwrap();
        for frame in sink.iter().take(3) {
            frame.unwrap();
        }
        std::thread::sleep(Duration::from_millis(100));
        drop(sink);
        let started = Instant::now();
        pipeline.stop().expect("EOS passes the released appsink");
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "stop took {:?}",
            started.elapsed()
        );
        assert_eq!(pipeline.outcome(), Some(Outcome::Eos));
    });
}
