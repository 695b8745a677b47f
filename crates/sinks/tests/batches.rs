//! Batches: (N, H, W, C) arrays with timestamps, a partial last batch, size changes.

use crate::util::{bounded, gst_pts};
use gstpipe_core::{Pipeline, gst};
use gstpipe_sinks::{FrameSink, SinkError};
use ndarray::{Array3, Axis};

const BALL: &str = "videotestsrc num-buffers=10 pattern=ball ! \
                    video/x-raw,format=RGB,width=40,height=30,framerate=25/1 ! appsink";

#[test]
fn batches_stack_n_frames_and_the_last_is_partial() {
    bounded(30, || {
        // The reference: the same deterministic stream, frame by frame.
        let pipeline = Pipeline::launch(BALL).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let frames: Vec<Array3<u8>> = sink
            .iter()
            .map(|f| f.unwrap().to_array::<u8>().unwrap())
            .collect();
        assert_eq!(frames.len(), 10);
        assert_ne!(frames[0], frames[1], "the ball moves");
        drop((sink, pipeline));

        let pipeline = Pipeline::launch(BALL).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let batches: Vec<_> = sink.batches::<u8>(4).collect::<Result<_, _>>().unwrap();
        let shapes: Vec<_> = batches.iter().map(|b| b.array.shape().to_vec()).collect();
        assert_eq!(shapes, [[4, 30, 40, 3], [4, 30, 40, 3], [2, 30, 40, 3]]);
        let mut i = 0;
        for batch in &batches {
            assert!(batch.array.is_standard_layout());
            assert_eq!(batch.len(), batch.array.len_of(Axis(0)));
            for (frame, pts) in batch.array.outer_iter().zip(&batch.pts) {
                assert_eq!(frame, frames[i], "frame {i}");
                assert_eq!(*pts, Some(gst_pts(i as u64, 25, 1)));
                i += 1;
            }
        }
        assert_eq!(i, 10);
    });
}

#[test]
fn exact_multiple_has_no_empty_batch_and_u16_formats_batch_as_u16() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=6 pattern=white ! video/x-raw,format=GRAY16_LE,width=8,height=4 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let batches: Vec<_> = sink.batches::<u16>(3).collect::<Result<_, _>>().unwrap();
        assert_eq!(batches.len(), 2);
        for b in &batches {
            assert_eq!(b.array.shape(), &[3, 4, 8, 1]);
            // videotestsrc's white is limited-range luma 235, widened to 16 bits as 0xebeb.
            assert!(b.array.iter().all(|&v| v == 0xebeb), "{:?}", b.array);
        }
    });
}

#[test]
fn a_size_change_in_the_middle_of_a_batch_is_an_error() {
    bounded(30, || {
        let pipeline = Pipeline::launch("appsrc name=src format=time ! appsink").unwrap();
        let src: gst_app::AppSrc = pipeline.element("src").unwrap();
        let caps = |w: i32, h: i32| {
            gst_video::VideoInfo::builder(gst_video::VideoFormat::Gray8, w as u32, h as u32)
                .build()
                .unwrap()
                .to_caps()
                .unwrap()
        };
        src.set_caps(Some(&caps(8, 4)));
        let sink = FrameSink::new(&pipeline).unwrap();
        // Push before play (appsrc queues): 3 frames of 8x4, then 3 of 16x2.
        for i in 0..6u64 {
            if i == 3 {
                src.set_caps(Some(&caps(16, 2)));
            }
            let mut buffer = gst::Buffer::from_mut_slice(vec![i as u8; 32]);
            buffer
                .get_mut()
                .unwrap()
                .set_pts(gst::ClockTime::from_mseconds(i * 10));
            src.push_buffer(buffer).unwrap();
        }
        src.end_of_stream().unwrap();
        pipeline.play().unwrap();
        let mut batches = sink.batches::<u8>(2);
        let first = batches.next().unwrap().unwrap();
        assert_eq!(first.array.shape(), &[2, 4, 8, 1]);
        let err = batches.next().unwrap().unwrap_err();
        let SinkError::CapsChanged {
            expected, found, ..
        } = err
        else {
            panic!("expected CapsChanged, got {err:?}")
        };
        assert_eq!((expected, found), ([4, 8, 1], [2, 16, 1]));
        assert!(batches.next().is_none());
    });
}

#[test]
fn formats_that_are_not_one_array_are_frame_errors() {
    bounded(30, || {
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=2 ! video/x-raw,format=I420,width=8,height=4 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let mut batches = sink.batches::<u8>(2);
        let err = batches.next().unwrap().unwrap_err();
        assert!(matches!(err, SinkError::Frame(_)), "{err:?}");
        assert!(err.to_string().contains("planes"), "{err}");
        assert!(batches.next().is_none());

        // u16 batches of an 8-bit format: a typed error naming both types.
        let pipeline = Pipeline::launch(
            "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=8,height=4 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let err = sink.batches::<u16>(2).next().unwrap().unwrap_err();
        assert!(
            err.to_string().contains("u8") && err.to_string().contains("u16"),
            "{err}"
        );
    });
}

#[test]
fn from_frames_stacks_held_frames_and_refuses_mixed_sizes() {
    use gstpipe_sinks::FrameBatch;
    bounded(30, || {
        let pipeline = Pipeline::launch(BALL).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let frames: Vec<_> = sink.iter().take(3).map(|f| f.unwrap()).collect();
        let batch = FrameBatch::<u8>::from_frames(&frames).unwrap();
        assert_eq!(batch.array.shape(), [3, 30, 40, 3]);
        for (i, frame) in frames.iter().enumerate() {
            // Reference: each frame's own view (stride-correct, independent of the batch).
            assert_eq!(
                batch.array.index_axis(Axis(0), i),
                frame.view::<u8>().unwrap()
            );
            assert_eq!(batch.pts[i], frame.pts());
        }
        drop((frames, sink, pipeline));

        let small = Pipeline::launch(
            "videotestsrc num-buffers=1 ! video/x-raw,format=RGB,width=8,height=6 ! appsink",
        )
        .unwrap();
        let sink = FrameSink::new(&small).unwrap();
        small.play().unwrap();
        let other = sink.iter().next().unwrap().unwrap();
        let big = Pipeline::launch(BALL).unwrap();
        let sink = FrameSink::new(&big).unwrap();
        big.play().unwrap();
        let first = sink.iter().next().unwrap().unwrap();
        match FrameBatch::<u8>::from_frames(&[first, other]) {
            Err(SinkError::CapsChanged {
                expected, found, ..
            }) => {
                assert_eq!(expected, [30, 40, 3]);
                assert_eq!(found, [6, 8, 3]);
            }
            other => panic!("expected CapsChanged, got {other:?}"),
        }
        assert_eq!(
            FrameBatch::<u8>::from_frames(&[]).unwrap().array.shape(),
            [0, 0, 0, 0]
        );
    });
}

#[test]
fn stack_into_fills_a_reused_array_and_checks_its_shape() {
    use gstpipe_sinks::FrameBatch;
    use ndarray::Array4;
    bounded(30, || {
        let pipeline = Pipeline::launch(BALL).unwrap();
        let sink = FrameSink::new(&pipeline).unwrap();
        pipeline.play().unwrap();
        let frames: Vec<_> = sink.iter().take(4).map(|f| f.unwrap()).collect();
        let mut out = Array4::<u8>::zeros((2, 30, 40, 3));
        for pair in frames.chunks(2) {
            let pts = FrameBatch::<u8>::stack_into(pair, out.view_mut()).unwrap();
            for (i, frame) in pair.iter().enumerate() {
                assert_eq!(out.index_axis(Axis(0), i), frame.view::<u8>().unwrap());
                assert_eq!(pts[i], frame.pts());
            }
        }
        let mut wrong = Array4::<u8>::zeros((2, 30, 41, 3));
        match FrameBatch::<u8>::stack_into(&frames[..2], wrong.view_mut()) {
            Err(SinkError::BatchShape { expected, found }) => {
                assert_eq!(expected, [2, 30, 40, 3]);
                assert_eq!(found, [2, 30, 41, 3]);
            }
            other => panic!("expected BatchShape, got {other:?}"),
        }
        let mut three = Array4::<u8>::zeros((3, 30, 40, 3));
        assert!(matches!(
            FrameBatch::<u8>::stack_into(&frames[..2], three.view_mut()),
            Err(SinkError::BatchShape { .. })
        ));
    });
}
