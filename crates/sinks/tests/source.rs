//! FrameSource: round trips through GStreamer's own converters, encoders and muxers,
//! timestamps, shape checks, flow errors and finish.

use crate::util::{bounded, gst_pts, temp_dir};
use gst::prelude::*;
use gst_video::{VideoFormat, VideoInfo};
use gstpipe_core::{Outcome, Pipeline, gst};
use gstpipe_sinks::{FrameSink, FrameSource, Input, SinkError};
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
                1 => source.push(rgb.clone()).unwrap(),
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
        source.push(gray.clone()).unwrap();
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
        source.push([y.view(), u.view(), v.view()]).unwrap();
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
            source.push(frame.clone()).unwrap();
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
            source.push(Array3::<u8>::zeros((2, 4, 1))).unwrap();
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
            source.push(Array3::<u8>::zeros((48, 63, 3))).unwrap_err(),
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
            source.push(Array3::<u16>::zeros((48, 64, 3))).unwrap_err(),
            "sample type",
            "u8",
            "u16",
        );
        let y = Array3::<u8>::zeros((48, 64, 1));
        check(
            source.push([y.view(), y.view()]).unwrap_err(),
            "planes",
            "1",
            "2",
        );
        check(
            source
                .push(gst::Buffer::with_size(100).unwrap())
                .unwrap_err(),
            "buffer size",
            "9216",
            "100",
        );
        let err = source.push(Array3::<u8>::zeros((48, 63, 3))).unwrap_err();
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
        source.push(Array3::<u8>::zeros((48, 64, 3))).unwrap();
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
            planar.push([y.view(), uv.view()]).unwrap_err(),
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
        // The first push is queued; the streaming thread then fails to negotiate.
        source.push(frame.view()).unwrap();
        assert!(pipeline.wait_timeout(Duration::from_secs(10)).is_err());
        let err = source.push(frame.view()).unwrap_err();
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
            .frame(frame.view())
            .pts(at)
            .duration(gst::ClockTime::from_mseconds(7))
            .push()
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

/// `interlace-mode=alternate`: every buffer is one field, half the rows (rounded up).
fn alternate(format: VideoFormat, w: u32, h: u32) -> VideoInfo {
    VideoInfo::builder(format, w, h)
        .interlace_mode(gst_video::VideoInterlaceMode::Alternate)
        .fps(gst::Fraction::new(50, 1))
        .build()
        .unwrap()
}

#[test]
fn alternate_interlace_fields_round_trip_with_field_shapes() {
    bounded(30, || {
        // I420 7x10: fields of 5 luma rows and ceil(5/2) = 3 chroma rows.
        let info = alternate(VideoFormat::I420, 7, 10);
        assert_eq!(info.field_height(), 5);
        let pipeline = Pipeline::launch("appsrc ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info.clone()).unwrap();
        let field = info.field_height() as usize;
        let expected_shapes = [[field, 7, 1], [field.div_ceil(2), 4, 1], [3, 4, 1]];
        assert_eq!(source.shapes(), expected_shapes);
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        for i in 0..4u8 {
            let planes: Vec<Array3<u8>> = expected_shapes
                .iter()
                .enumerate()
                .map(|(p, &[h, w, c])| {
                    Array3::from_shape_fn((h, w, c), |(y, x, _)| {
                        ((i as usize * 50 + p * 70 + y * 9 + x) as u8) ^ 0x55
                    })
                })
                .collect();
            source
                .push(Input::planes(planes.iter().map(|p| p.view())))
                .unwrap();
            let frame = sink.pull().unwrap().unwrap();
            assert_eq!(
                frame.info().interlace_mode(),
                gst_video::VideoInterlaceMode::Alternate
            );
            assert_eq!((frame.width(), frame.height()), (7, 10));
            assert_eq!(frame.plane_shapes(), expected_shapes);
            assert_eq!(frame.planes::<u8>().unwrap(), planes, "field {i}");
            // The bytes sit where GStreamer's own VideoInfo puts them.
            let buffer = frame.buffer().map_readable().unwrap();
            let (offset, stride) = (info.offset()[2], info.stride()[2] as usize);
            assert_eq!(buffer[offset + 2 * stride + 3], planes[2][[2, 3, 0]]);
        }

        // Packed, from a strided view: GRAY8 6x9 gives fields of 5 rows.
        let info = alternate(VideoFormat::Gray8, 6, 9);
        let pipeline = Pipeline::launch("appsrc ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info).unwrap();
        assert_eq!(source.shapes(), [[5, 6, 1]]);
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let wide = Array3::<u8>::from_shape_fn((5, 12, 1), |(y, x, _)| (y * 12 + x) as u8);
        let view = wide.slice(s![.., ..;2, ..]);
        source.push(view).unwrap();
        let frame = sink.pull().unwrap().unwrap();
        assert_eq!(frame.view::<u8>().unwrap(), view);

        // A whole frame's rows are refused, naming the field's.
        let err = source.push(Array3::<u8>::zeros((9, 6, 1))).unwrap_err();
        assert_eq!(
            err.to_string(),
            "appsrc0: height mismatch: expected 5 (shape [5, 6, 1] for GRAY8 6x9 (one field: \
             5 rows)), found 9 (shape [9, 6, 1]); nothing was pushed"
                .replace("appsrc0", &source.appsrc().name()),
        );
    });
}

#[test]
fn wrong_planes_and_types_name_expected_and_found() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc name=src ! fakesink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::I420, 8, 6, 25)).unwrap();
        let y = Array3::<u16>::zeros((6, 8, 1));
        let uv = Array3::<u16>::zeros((3, 4, 1));
        let err = source.push([y.view(), uv.view(), uv.view()]).unwrap_err();
        let SinkError::Mismatch {
            what,
            expected,
            found,
            ..
        } = &err
        else {
            panic!("{err:?}")
        };
        assert_eq!(
            (*what, expected.as_str(), found.as_str()),
            ("sample type", "u8 (I420 8x6 holds u8 samples)", "u16")
        );
        let (y, v) = (
            Array3::<u8>::zeros((6, 8, 1)),
            Array3::<u8>::zeros((3, 5, 1)),
        );
        let u = Array3::<u8>::zeros((3, 4, 1));
        let err = source.push(vec![y.view(), u.view(), v.view()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "src: width mismatch: expected 4 (shape [3, 4, 1] for I420 8x6, plane 2), found 5 \
             (shape [3, 5, 1]); nothing was pushed"
        );
        // A ready buffer one byte short of a frame.
        let size = source.info().size();
        let err = source
            .push(gst::Buffer::with_size(size - 1).unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "src: buffer size mismatch: expected {size} bytes for I420 8x6, found {} bytes; \
                 nothing was pushed",
                size - 1
            )
        );
        assert_eq!(source.pushed(), 0);
    });
}

/// Pushes `n` GRAY8 frames of `(height, width)`, frame `i` filled with `i`, through a pipeline
/// whose appsink holds one buffer and is read by a thread that copies every frame; returns the
/// highest `level` the appsrc reached between pushes and the frames read (offset, pixels).
fn push_through_a_slow_reader(
    pipeline: &Pipeline,
    source: &FrameSource,
    n: usize,
    (height, width): (usize, usize),
    level: impl Fn(&gst_app::AppSrc) -> u64,
) -> (u64, Vec<(u64, Array3<u8>)>) {
    let sink = FrameSink::builder(pipeline).max_buffers(1).build().unwrap();
    pipeline.play().unwrap();
    let reader = std::thread::spawn(move || {
        sink.iter()
            .map(|f| {
                let f = f.unwrap();
                (f.offset(), f.to_array::<u8>().unwrap())
            })
            .collect::<Vec<_>>()
    });
    let mut highest = 0;
    for i in 0..n {
        source
            .push(Array3::from_elem((height, width, 1), i as u8))
            .unwrap();
        highest = highest.max(level(source.appsrc()));
    }
    source.finish().unwrap();
    (highest, reader.join().unwrap())
}

#[test]
fn backpressure_bounds_the_queue_and_loses_nothing() {
    bounded(60, || {
        const N: usize = 40;
        // A consumer slower than the producer: every frame goes through an appsink holding
        // one buffer, read by a thread that copies and checks each one.
        let pipeline = Pipeline::launch("appsrc ! appsink max-buffers=1").unwrap();
        let source = FrameSource::builder(&pipeline)
            .info(info(VideoFormat::Gray8, 16, 8, 25))
            .max_queued(2)
            .build()
            .unwrap();
        assert_eq!(source.appsrc().max_buffers(), 2);
        let (highest, got) = push_through_a_slow_reader(&pipeline, &source, N, (8, 16), |a| {
            a.current_level_buffers()
        });
        // enough-data comes when a push finds max_queued buffers queued; that push still
        // queues its buffer, the next one waits for need-data.
        assert!(highest <= 3, "the appsrc held {highest} buffers");
        assert_eq!(got.len(), N, "every pushed frame arrived");
        for (i, (offset, array)) in got.iter().enumerate() {
            assert_eq!(*offset, i as u64);
            assert!(array.iter().all(|&v| v == i as u8), "frame {i}");
        }
    });
}

/// Reports on a channel every `tracing` event whose message is `message`.
struct EventSignal {
    message: &'static str,
    tx: Mutex<std::sync::mpsc::Sender<()>>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for EventSignal {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(Option<String>);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = Some(format!("{value:?}"));
                }
            }
        }
        let mut message = Message(None);
        event.record(&mut message);
        if message.0.as_deref() == Some(self.message) {
            let _ = self.tx.lock().unwrap().send(());
        }
    }
}

#[test]
fn a_push_waiting_for_room_wakes_on_the_pipeline_error() {
    // The push timeout (60 s) is longer than the test's bound (30 s): only the error's
    // wake-up can end the wait in time.
    bounded(30, || {
        use tracing_subscriber::layer::SubscriberExt as _;
        let pipeline =
            Pipeline::launch("appsrc ! identity name=boom ! appsink max-buffers=1").unwrap();
        let source = Arc::new(
            FrameSource::builder(&pipeline)
                .info(info(VideoFormat::Gray8, 8, 4, 25))
                .max_queued(1)
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
        );
        // Nobody drains the appsink: the pusher fills the appsrc queue, then waits.
        let sink = FrameSink::builder(&pipeline)
            .max_buffers(1)
            .build()
            .unwrap();
        pipeline.play().unwrap();
        let (tx, waiting) = std::sync::mpsc::channel();
        let pusher = {
            let source = Arc::clone(&source);
            std::thread::spawn(move || {
                let signal = EventSignal {
                    message: "waiting for room in the appsrc queue",
                    tx: Mutex::new(tx),
                };
                let subscriber = tracing_subscriber::registry().with(signal);
                tracing::subscriber::with_default(subscriber, || {
                    loop {
                        if let Err(e) = source.push(Array3::<u8>::zeros((4, 8, 1))) {
                            return e;
                        }
                    }
                })
            })
        };
        waiting
            .recv_timeout(Duration::from_secs(20))
            .expect("the pusher waits for room");
        pipeline
            .by_name("boom")
            .unwrap()
            .post_error_message(gst::error_msg!(
                gst::StreamError::Failed,
                ("downstream broke")
            ));
        let err = pusher.join().unwrap();
        assert_eq!(
            err.element_error().map(|e| e.element.as_str()),
            Some("boom"),
            "{err:?}"
        );
        drop(sink);
    });
}

#[test]
fn caller_timestamps_and_unstamped_buffers() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc ! appsink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Gray8, 4, 2, 10)).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        // Only the pts given: the duration stays the framerate's.
        let at = gst::ClockTime::from_seconds(3);
        source
            .frame(Array3::<u8>::zeros((2, 4, 1)))
            .pts(at)
            .push()
            .unwrap();
        let frame = sink.pull().unwrap().unwrap();
        assert_eq!(frame.pts(), Some(at));
        assert_eq!(frame.duration(), Some(gst::ClockTime::from_mseconds(100)));
        // A ready buffer, explicitly without timestamps.
        let mut buffer = gst::Buffer::with_size(source.info().size()).unwrap();
        buffer
            .get_mut()
            .unwrap()
            .set_pts(gst::ClockTime::from_seconds(9));
        source
            .frame(buffer)
            .pts(None)
            .duration(None)
            .push()
            .unwrap();
        let frame = sink.pull().unwrap().unwrap();
        assert_eq!((frame.pts(), frame.duration()), (None, None));
        assert_eq!(frame.offset(), 1);
        // A ready buffer stamped as the next frame.
        source
            .push(gst::Buffer::with_size(source.info().size()).unwrap())
            .unwrap();
        let frame = sink.pull().unwrap().unwrap();
        assert_eq!(frame.pts(), Some(gst::ClockTime::from_mseconds(200)));
    });
}

#[test]
fn the_description_keeps_its_appsrc_settings_and_builder_calls_win() {
    bounded(30, || {
        // Nothing written: gstpipe's defaults.
        let pipeline = Pipeline::launch("appsrc ! fakesink").unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Gray8, 8, 4, 25)).unwrap();
        let appsrc = source.appsrc();
        assert!(appsrc.is_live());
        assert_eq!(appsrc.max_buffers(), gstpipe_sinks::DEFAULT_MAX_QUEUED);
        assert_eq!(appsrc.max_bytes(), 0, "appsrc's own default is 200000");
        assert_eq!(appsrc.format(), gst::Format::Time);

        // Written in the description: kept.
        let pipeline = Pipeline::launch(
            "appsrc is-live=false max-buffers=1 max-bytes=1000 do-timestamp=true ! fakesink",
        )
        .unwrap();
        let source = FrameSource::new(&pipeline, info(VideoFormat::Gray8, 8, 4, 25)).unwrap();
        let appsrc = source.appsrc();
        assert!(!appsrc.is_live());
        assert_eq!(appsrc.max_buffers(), 1);
        assert_eq!(appsrc.max_bytes(), 1000);
        assert!(appsrc.do_timestamp());

        // Builder calls win over the description.
        let pipeline = Pipeline::launch("appsrc is-live=false max-buffers=1 ! fakesink").unwrap();
        let source = FrameSource::builder(&pipeline)
            .info(info(VideoFormat::Gray8, 8, 4, 25))
            .live(true)
            .max_queued(3)
            .build()
            .unwrap();
        assert!(source.appsrc().is_live());
        assert_eq!(source.appsrc().max_buffers(), 3);
    });
}

#[test]
fn a_byte_limit_written_in_the_description_bounds_the_queue() {
    bounded(60, || {
        const N: usize = 30;
        // GRAY8 8x4 frames are 32 bytes: the appsrc holds two before its byte limit.
        let pipeline = Pipeline::launch("appsrc max-bytes=64 ! appsink max-buffers=1").unwrap();
        let source = FrameSource::builder(&pipeline)
            .info(info(VideoFormat::Gray8, 8, 4, 25))
            .max_queued(0)
            .build()
            .unwrap();
        assert_eq!(source.appsrc().max_bytes(), 64);
        let (highest, got) =
            push_through_a_slow_reader(&pipeline, &source, N, (4, 8), |a| a.current_level_bytes());
        // The push that finds 64 bytes queued still queues its 32; the next one waits.
        assert!(highest <= 96, "the appsrc held {highest} bytes");
        let expected: Vec<u8> = (0..N as u8).collect();
        let values: Vec<u8> = got.iter().map(|(_, a)| a[[3, 7, 0]]).collect();
        assert_eq!(values, expected);
    });
}

#[test]
fn a_second_source_with_other_caps_is_refused_while_the_first_lives() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc ! fakesink").unwrap();
        let first = FrameSource::new(&pipeline, info(VideoFormat::Gray8, 4, 4, 30)).unwrap();
        let err = FrameSource::new(&pipeline, info(VideoFormat::Rgb, 8, 8, 30)).unwrap_err();
        assert!(matches!(err, SinkError::SourceInUse { .. }), "{err}");
        assert!(err.to_string().contains("GRAY8"), "{err}");
        // The same caps share the appsrc; once the first is gone, other caps are fine.
        drop(FrameSource::new(&pipeline, info(VideoFormat::Gray8, 4, 4, 30)).unwrap());
        drop(first);
        FrameSource::new(&pipeline, info(VideoFormat::Rgb, 8, 8, 30)).unwrap();
    });
}

#[test]
fn caps_from_the_description_without_a_framerate_stamp_with_the_default_fps() {
    bounded(30, || {
        let description = "appsrc caps=video/x-raw,format=GRAY8,width=4,height=4 ! fakesink";
        let pipeline = Pipeline::launch(description).unwrap();
        let source = FrameSource::builder(&pipeline)
            .default_fps(gst::Fraction::new(25, 1))
            .build()
            .unwrap();
        assert_eq!(source.fps(), gst::Fraction::new(25, 1));
        assert_eq!(source.pts_of(1), Some(gst::ClockTime::from_mseconds(40)));
        // The caps are the user's: no framerate was added to them.
        let caps = source.appsrc().caps().unwrap();
        assert!(!caps.structure(0).unwrap().has_field("framerate"), "{caps}");
        // Caps that are not fixed give no video info (and no GLib-CRITICAL).
        let ranged = Pipeline::launch(
            "appsrc caps=video/x-raw,format=GRAY8,width=[1,8],height=4 ! fakesink",
        )
        .unwrap();
        let err = FrameSource::builder(&ranged).build().unwrap_err();
        assert!(matches!(err, SinkError::NoVideoInfo { .. }), "{err}");
    });
}
