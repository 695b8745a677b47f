//! FrameSource: round trips through GStreamer's own converters, encoders and muxers,
//! timestamps, shape checks, flow errors and finish.

use crate::util::{bounded, gst_pts, temp_dir};
use gst_video::{VideoFormat, VideoInfo};
use gstpipe_core::{Outcome, Pipeline, gst};
use gstpipe_sinks::{FrameSink, FrameSource, SinkError};
use ndarray::{Array3, s};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn info(format: VideoFormat, w: u32, h: u32, fps: i32) -> VideoInfo {
    VideoInfo::builder(format, w, h)
        .fps(gst::Fraction::new(fps, 1))
        .build()
        .unwrap()
}

/// A frame no two pixels, channels or frames of which are alike (modulo 256).
fn gradient(i: usize, h: usize, w: usize, c: usize) -> Array3<u8> {
    Array3::from_shape_fn((h, w, c), |(y, x, ch)| {
        (x * 3 + y * 7 + ch * 50 + i * 11) as u8
    })
}

/// Every frame a description's appsink gives, as RGB arrays with their pts.
fn read_back(description: &str) -> Vec<(Option<gst::ClockTime>, Array3<u8>)> {
    let pipeline = Pipeline::launch(description).unwrap();
    let sink = FrameSink::new(&pipeline).unwrap();
    pipeline.play().unwrap();
    let frames = sink
        .iter()
        .map(|f| {
            let f = f.unwrap();
            (f.pts(), f.to_array::<u8>().unwrap())
        })
        .collect();
    pipeline.wait_timeout(Duration::from_secs(10)).unwrap();
    frames
}

#[test]
fn gradient_round_trip_through_videoconvert() {
    bounded(30, || {
        // Width 63: RGB rows are padded to 192 bytes in buffers, not 189.
        let pipeline =
            Pipeline::launch("appsrc ! videoconvert ! video/x-raw,format=BGR ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 63, 48, 25)).unwrap();
        assert_eq!(source.shapes(), [[48, 63, 3]]);
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        for i in 0..6 {
            let rgb = gradient(i, 48, 63, 3);
            match i % 3 {
                0 => source.push(rgb.view()).unwrap(),
                1 => source.push_array(rgb.clone()).unwrap(),
                // A strided view (every other column of a wider array).
                _ => {
                    let mut wide = Array3::<u8>::zeros((48, 126, 3));
                    wide.slice_mut(s![.., ..;2, ..]).assign(&rgb);
                    source.push(wide.slice(s![.., ..;2, ..])).unwrap();
                }
            }
            let frame = sink.pull().unwrap().unwrap();
            assert_eq!(frame.format(), VideoFormat::Bgr);
            assert_eq!(frame.pts(), Some(gst_pts(i as u64, 25, 1)));
            assert_eq!(frame.duration(), Some(gst::ClockTime::from_mseconds(40)));
            // videoconvert's BGR is our RGB with the channel axis reversed.
            let bgr = frame.view::<u8>().unwrap();
            assert_eq!(bgr, rgb.slice(s![.., .., ..;-1]), "frame {i}");
        }
        assert_eq!(source.pushed(), 6);
        // finish() needs the appsink drained by someone: read the EOS on another thread.
        let reader = std::thread::spawn(move || sink.iter().count());
        source.finish().unwrap();
        assert_eq!(reader.join().unwrap(), 0);
        assert_eq!(pipeline.outcome(), Some(Outcome::Eos));
    });
}

#[test]
fn u16_and_planar_round_trips() {
    bounded(30, || {
        let pipeline =
            Pipeline::launch("appsrc ! videoconvert ! video/x-raw,format=GRAY16_LE ! appsink")
                .unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Gray16Le, 7, 5, 10)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let gray = Array3::<u16>::from_shape_fn((5, 7, 1), |(y, x, _)| {
            (y * 10_000 + x * 1_000 + 7) as u16
        });
        source.push_array(gray.clone()).unwrap();
        let frame = sink.pull().unwrap().unwrap();
        assert_eq!(frame.view::<u16>().unwrap(), gray);

        // I420 at an odd size, plane by plane: Y (5, 7), U and V (3, 4).
        let pipeline =
            Pipeline::launch("appsrc ! videoconvert ! video/x-raw,format=I420 ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::I420, 7, 5, 10)).unwrap();
        assert_eq!(source.shapes(), [[5, 7, 1], [3, 4, 1], [3, 4, 1]]);
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let y = Array3::<u8>::from_shape_fn((5, 7, 1), |(r, c, _)| (16 + r * 30 + c * 3) as u8);
        let u = Array3::<u8>::from_shape_fn((3, 4, 1), |(r, c, _)| (40 + r * 20 + c * 5) as u8);
        let v = Array3::<u8>::from_shape_fn((3, 4, 1), |(r, c, _)| (200 - r * 20 - c * 5) as u8);
        source.push_planes(&[y.view(), u.view(), v.view()]).unwrap();
        let frame = sink.pull().unwrap().unwrap();
        let planes = frame.planes::<u8>().unwrap();
        assert_eq!(planes, [y.view(), u.view(), v.view()]);
    });
}

#[test]
fn frames_pushed_into_pngenc_read_back_equal_with_pngdec() {
    bounded(30, || {
        let dir = temp_dir("png");
        let pattern = dir.join("frame%03d.png");
        let pipeline = Pipeline::launch(&format!(
            "appsrc ! videoconvert ! pngenc ! multifilesink location={}",
            pattern.display()
        ))
        .unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 33, 17, 5)).unwrap();
        pipeline.play().unwrap();
        let pushed: Vec<_> = (0..3).map(|i| gradient(i, 17, 33, 3)).collect();
        for frame in &pushed {
            source.push(frame.view()).unwrap();
        }
        source.finish().unwrap();
        drop(pipeline);
        for (i, expected) in pushed.iter().enumerate() {
            let file = dir.join(format!("frame{i:03}.png"));
            let frames = read_back(&format!(
                "filesrc location={} ! pngdec ! videoconvert ! video/x-raw,format=RGB ! appsink",
                file.display()
            ));
            assert_eq!(frames.len(), 1, "{}", file.display());
            assert_eq!(&frames[0].1, expected, "{}", file.display());
        }
        assert!(!dir.join("frame003.png").exists());
        let _ = std::fs::remove_dir_all(dir);
    });
}

#[test]
fn frames_pushed_into_matroska_read_back_with_matroskademux() {
    bounded(30, || {
        let dir = temp_dir("mkv");
        let path = dir.join("pushed.mkv");
        let pipeline = Pipeline::launch(&format!(
            "appsrc ! matroskamux ! filesink location={}",
            path.display()
        ))
        .unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 32, 24, 25)).unwrap();
        pipeline.play().unwrap();
        let pushed: Vec<_> = (0..20).map(|i| gradient(i, 24, 32, 3)).collect();
        for frame in &pushed {
            source.push_array(frame.clone()).unwrap();
        }
        source.finish().expect("the muxer finalises the file");
        drop(pipeline);

        let frames = read_back(&format!(
            "filesrc location={} ! matroskademux ! appsink",
            path.display()
        ));
        assert_eq!(frames.len(), 20);
        for (i, (pts, array)) in frames.iter().enumerate() {
            assert_eq!(*pts, Some(gst_pts(i as u64, 25, 1)), "frame {i}");
            assert_eq!(array, &pushed[i], "frame {i}");
        }
        let _ = std::fs::remove_dir_all(dir);
    });
}

#[test]
fn timestamps_do_not_drift_over_10000_frames() {
    bounded(60, || {
        let pipeline = Pipeline::launch("appsrc ! appsink").unwrap();
        let ntsc = VideoInfo::builder(VideoFormat::Gray8, 4, 2)
            .fps(gst::Fraction::new(30000, 1001))
            .build()
            .unwrap();
        let source = FrameSource::new(&pipeline, ntsc).unwrap();
        let stamps = Arc::new(Mutex::new(Vec::with_capacity(10_000)));
        let log = stamps.clone();
        let handle = FrameSink::new(&pipeline)
            .unwrap()
            .on_frame(move |f| {
                log.lock()
                    .unwrap()
                    .push((f.pts(), f.duration(), f.offset()));
                Ok::<(), String>(())
            })
            .unwrap();
        pipeline.play().unwrap();
        for _ in 0..10_000 {
            source.push_array(Array3::<u8>::zeros((2, 4, 1))).unwrap();
        }
        source.finish().unwrap();
        assert_eq!(handle.wait().unwrap(), 10_000);
        let stamps = stamps.lock().unwrap();
        assert_eq!(stamps.len(), 10_000);
        let mut end = gst::ClockTime::ZERO;
        for (i, &(pts, duration, offset)) in stamps.iter().enumerate() {
            let i = i as u64;
            // GStreamer's own scaling: frame i at i * 1001 / 30000 s, rounded down.
            assert_eq!(pts, Some(gst_pts(i, 30000, 1001)), "frame {i}");
            assert_eq!(
                pts,
                Some(end),
                "durations add up to the next pts (frame {i})"
            );
            assert_eq!(offset, i);
            end += duration.unwrap();
        }
        assert_eq!(end, gst_pts(10_000, 30000, 1001));
        assert_eq!(end.nseconds(), 333_666_666_666);
    });
}

#[test]
fn mismatched_pushes_are_refused_naming_expected_and_found() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc name=src ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 64, 48, 25)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let check = |err: SinkError, what: &str, expected: &str, found: &str| {
            let SinkError::Mismatch {
                what: w,
                expected: e,
                found: f,
                ..
            } = &err
            else {
                panic!("expected a mismatch, got {err:?}")
            };
            assert_eq!(*w, what, "{err}");
            assert!(e.starts_with(expected), "{err}");
            assert!(f.starts_with(found), "{err}");
        };
        check(
            source
                .push_array(Array3::<u8>::zeros((48, 63, 3)))
                .unwrap_err(),
            "width",
            "64 (shape [48, 64, 3] for RGB 64x48)",
            "63",
        );
        check(
            source
                .push(Array3::<u8>::zeros((47, 64, 3)).view())
                .unwrap_err(),
            "height",
            "48",
            "47",
        );
        check(
            source
                .push(Array3::<u8>::zeros((48, 64, 4)).view())
                .unwrap_err(),
            "channels",
            "3",
            "4",
        );
        check(
            source
                .push_array(Array3::<u16>::zeros((48, 64, 3)))
                .unwrap_err(),
            "sample type",
            "u8",
            "u16",
        );
        let y = Array3::<u8>::zeros((48, 64, 1));
        check(
            source.push_planes(&[y.view(), y.view()]).unwrap_err(),
            "planes",
            "1",
            "2",
        );
        check(
            source
                .push_buffer(gst::Buffer::with_size(100).unwrap())
                .unwrap_err(),
            "buffer size",
            "9216",
            "100",
        );
        let err = source
            .push_array(Array3::<u8>::zeros((48, 63, 3)))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "src: width mismatch: expected 64 (shape [48, 64, 3] for RGB 64x48), \
             found 63 (shape [48, 63, 3]); nothing was pushed"
        );
        // Nothing went through: the first frame that fits is frame 0.
        assert_eq!(source.pushed(), 0);
        assert!(
            sink.pull_timeout(Duration::from_millis(100))
                .unwrap()
                .unwrap_err()
                .is_timeout()
        );
        source.push_array(Array3::<u8>::zeros((48, 64, 3))).unwrap();
        let frame = sink.pull().unwrap().unwrap();
        assert_eq!(frame.pts(), Some(gst::ClockTime::ZERO));
        assert_eq!(frame.offset(), 0);

        // Planar formats need one array per plane.
        let pipeline = Pipeline::launch("appsrc ! fakesink").unwrap();
        let planar = FrameSource::new(&pipeline, info(VideoFormat::Nv12, 8, 4, 25)).unwrap();
        check(
            planar
                .push(Array3::<u8>::zeros((4, 8, 1)).view())
                .unwrap_err(),
            "planes",
            "2",
            "1",
        );
        let (y, uv) = (
            Array3::<u8>::zeros((4, 8, 1)),
            Array3::<u8>::zeros((2, 4, 1)),
        );
        check(
            planar.push_planes(&[y.view(), uv.view()]).unwrap_err(),
            "channels",
            "2",
            "1",
        );
    });
}

#[test]
fn downstream_flow_errors_come_back_to_the_pusher() {
    bounded(30, || {
        // not-negotiated: downstream only takes GRAY8.
        let pipeline =
            Pipeline::launch("appsrc name=src ! video/x-raw,format=GRAY8 ! fakesink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 8, 4, 25)).unwrap();
        pipeline.play().unwrap();
        let frame = Array3::<u8>::zeros((4, 8, 3));
        let err = (0..200)
            .find_map(|_| {
                let r = source.push(frame.view()).err();
                std::thread::sleep(Duration::from_millis(10));
                r
            })
            .expect("a push must fail");
        assert_eq!(err.flow(), Some(gst::FlowError::NotNegotiated), "{err:?}");
        assert_eq!(err.element_error().unwrap().element, "src", "{err}");
        // finish() reports it too instead of waiting.
        assert_eq!(
            source.finish().unwrap_err().flow(),
            Some(gst::FlowError::NotNegotiated)
        );

        // eos: pushing after finish().
        let pipeline = Pipeline::launch("appsrc ! fakesink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 8, 4, 25)).unwrap();
        pipeline.play().unwrap();
        source.push(frame.view()).unwrap();
        source.finish().unwrap();
        assert!(source.is_finished());
        let err = source.push(frame.view()).unwrap_err();
        assert!(
            matches!(
                err,
                SinkError::Flow {
                    flow: gst::FlowError::Eos,
                    ..
                }
            ),
            "{err:?}"
        );
        source.finish().expect("finishing again waits again");

        // flushing: pushing into a stopped pipeline.
        let pipeline = Pipeline::launch("appsrc ! fakesink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 8, 4, 25)).unwrap();
        pipeline.play().unwrap();
        drop(pipeline);
        let err = source.push(frame.view()).unwrap_err();
        assert_eq!(err.flow(), Some(gst::FlowError::Flushing), "{err:?}");
        assert_eq!(source.pushed(), 0);
    });
}

#[test]
fn finish_is_bounded_and_a_full_queue_times_out() {
    bounded(30, || {
        // The valve drops EOS too: the pipeline never ends.
        let pipeline = Pipeline::launch("appsrc ! valve drop=true ! fakesink").unwrap();
        let source = FrameSource::builder(&pipeline)
            .info(info(VideoFormat::Gray8, 4, 4, 25))
            .timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        pipeline.play().unwrap();
        source.push(Array3::<u8>::zeros((4, 4, 1)).view()).unwrap();
        let err = source.finish().unwrap_err();
        assert!(err.is_timeout(), "{err:?}");

        // Nobody drains the appsink: the appsrc queue fills, then a push times out.
        let pipeline = Pipeline::launch("appsrc ! appsink max-buffers=1").unwrap();
        let source = FrameSource::builder(&pipeline)
            .info(info(VideoFormat::Gray8, 4, 4, 25))
            .timeout(Duration::from_millis(300))
            .max_queued(2)
            .build()
            .unwrap();
        let sink = FrameSink::builder(&pipeline)
            .max_buffers(1)
            .build()
            .unwrap();
        pipeline.play().unwrap();
        let err = (0..10)
            .find_map(|_| source.push(Array3::<u8>::zeros((4, 4, 1)).view()).err())
            .expect("the queue fills");
        assert!(err.is_timeout(), "{err:?}");
        assert!(source.pushed() <= 5, "{} pushed", source.pushed());
        drop(sink);
    });
}

#[test]
fn info_from_the_description_caps_and_caller_timestamps() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "appsrc name=in caps=video/x-raw,format=GRAY8,width=6,height=2,framerate=10/1 ! appsink",
        )
        .unwrap();
        let source = FrameSource::builder(&pipeline).name("in").build().unwrap();
        assert_eq!(source.info().format(), VideoFormat::Gray8);
        assert_eq!((source.info().width(), source.info().height()), (6, 2));
        assert_eq!(source.pts_of(3), Some(gst::ClockTime::from_mseconds(300)));
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let frame = Array3::<u8>::from_elem((2, 6, 1), 9);
        let at = gst::ClockTime::from_seconds(5);
        source
            .push_at(
                frame.view(),
                Some(at),
                Some(gst::ClockTime::from_mseconds(7)),
            )
            .unwrap();
        let got = sink.pull().unwrap().unwrap();
        assert_eq!(got.pts(), Some(at));
        assert_eq!(got.duration(), Some(gst::ClockTime::from_mseconds(7)));
        assert_eq!(got.view::<u8>().unwrap(), frame);

        let bare = Pipeline::launch("appsrc ! fakesink").unwrap();
        let err = FrameSource::builder(&bare).build().unwrap_err();
        assert!(matches!(err, SinkError::NoVideoInfo { .. }), "{err:?}");
    });
}

#[test]
fn a_non_live_source_prerolls_on_a_frame_pushed_before_play() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc ! videoconvert ! appsink").unwrap();
        let source = FrameSource::builder(&pipeline)
            .info(info(VideoFormat::Gray8, 8, 4, 10))
            .live(false)
            .build()
            .unwrap();
        assert!(!source.appsrc().is_live());
        assert_eq!(source.appsrc().format(), gst::Format::Time);
        let sink = FrameSink::new(&pipeline).unwrap();
        source
            .push(Array3::<u8>::from_elem((4, 8, 1), 1).view())
            .unwrap();
        pipeline.play().expect("prerolls on the queued frame");
        source
            .push(Array3::<u8>::from_elem((4, 8, 1), 2).view())
            .unwrap();
        let reader = std::thread::spawn(move || {
            sink.iter()
                .map(|f| {
                    let f = f.unwrap();
                    (f.pts().unwrap(), f.view::<u8>().unwrap()[[3, 7, 0]])
                })
                .collect::<Vec<_>>()
        });
        source.finish().unwrap();
        assert_eq!(
            reader.join().unwrap(),
            [
                (gst::ClockTime::ZERO, 1),
                (gst::ClockTime::from_mseconds(100), 2)
            ]
        );
    });
}
