//! Batches as model input: `(N, H, W, C)` u8 and normalised `(N, C, H, W)` f32, checked
//! against each stream's own frames and a straightforward computation.

use crate::util::{bounded, references, start_all};
use gstpipe_batch::{Batch, BatchError, Batcher, Normalize, QueuePolicy};
use ndarray::{Array3, Array4};
use std::time::Duration;

/// `(x * scale - mean[c]) / std[c]`, element by element, from the u8 batch.
fn straightforward(nhwc: &Array4<u8>, n: &Normalize) -> Array4<f32> {
    let (b, h, w, c) = nhwc.dim();
    let pick = |v: &[f32], ch: usize| if v.len() == 1 { v[0] } else { v[ch] };
    Array4::from_shape_fn((b, c, h, w), |(i, ch, y, x)| {
        (nhwc[[i, y, x, ch]] as f32 * n.scale - pick(&n.mean, ch)) / pick(&n.std, ch)
    })
}

/// Runs the streams to their end with a queue (nothing dropped) and checks every batch's
/// u8 and f32 arrays, written into one pair of arrays kept across batches.
fn check_streams(descriptions: &[&str], normalize: &Normalize) -> u64 {
    let references: Vec<Vec<Array3<u8>>> = references(descriptions);
    let mut batcher = Batcher::builder()
        .timeout(Duration::from_millis(100))
        .ahead(QueuePolicy::drop_oldest(64))
        .build();
    let _pipelines = start_all(&mut batcher, descriptions);
    let mut nhwc = Array4::<u8>::zeros((0, 0, 0, 0));
    let mut nchw = Array4::<f32>::zeros((0, 0, 0, 0));
    let mut buffers = None;
    let mut frames = 0;
    while let Some(batch) = batcher.next_batch().unwrap() {
        batch.nhwc_into(&mut nhwc).unwrap();
        batch.nchw_into(&mut nchw, normalize).unwrap();
        let (_, h, w, c) = nhwc.dim();
        assert_eq!(nhwc.dim().0, descriptions.len());
        assert_eq!(nchw.dim(), (descriptions.len(), c, h, w));
        assert!(nchw.is_standard_layout() && nhwc.is_standard_layout());
        // The arrays are reused: allocated for the first batch only.
        let now = (nhwc.as_ptr(), nchw.as_ptr());
        assert_eq!(*buffers.get_or_insert(now), now);
        for (n, slot) in batch.slots.iter().enumerate() {
            let got = nhwc.index_axis(ndarray::Axis(0), n);
            match slot {
                Some(slot) => {
                    assert_eq!(got, references[n][slot.index as usize], "stream {n}");
                    frames += 1;
                }
                None => assert!(got.iter().all(|&v| v == 0), "empty slot {n} not zero"),
            }
        }
        let expected = straightforward(&nhwc, normalize);
        for (n, slot) in batch.slots.iter().enumerate() {
            let got = nchw.index_axis(ndarray::Axis(0), n);
            if slot.is_some() {
                assert_eq!(got, expected.index_axis(ndarray::Axis(0), n), "stream {n}");
            } else {
                assert!(got.iter().all(|&v| v == 0.0), "empty slot {n} not zero");
            }
        }
        // The owned conversions give the same arrays.
        assert_eq!(batch.to_nhwc().unwrap(), nhwc);
        assert_eq!(batch.to_nchw(normalize).unwrap(), nchw);
    }
    frames
}

#[test]
fn rgb_with_padded_rows_in_u8_and_imagenet_f32() {
    bounded(60, || {
        // RGB at width 38: rows of 116 bytes, 2 of padding.
        let frames = check_streams(
            &[
                "videotestsrc num-buffers=6 pattern=ball ! \
                 video/x-raw,format=RGB,width=38,height=28 ! appsink",
                "videotestsrc num-buffers=3 pattern=smpte horizontal-speed=1 ! \
                 video/x-raw,format=RGB,width=38,height=28 ! appsink",
            ],
            &Normalize::imagenet(),
        );
        assert_eq!(frames, 9);
    });
}

#[test]
fn gray_bgrx_and_yuy2_at_odd_widths() {
    bounded(60, || {
        // 1, 4 and 2 channels; width 5 pads every row (GRAY8: 8 bytes, YUY2: 12).
        for (format, normalize) in [
            ("GRAY8", Normalize::new(1.0 / 255.0, [0.5], [0.25])),
            (
                "BGRx",
                Normalize::new(2.0, [1.0, 2.0, 3.0, 4.0], [0.5, 1.5, 2.5, 3.5]),
            ),
            ("YUY2", Normalize::unit()),
        ] {
            let a = format!(
                "videotestsrc num-buffers=4 pattern=smpte horizontal-speed=1 ! \
                 video/x-raw,format={format},width=5,height=7 ! appsink"
            );
            let b = format!(
                "videotestsrc num-buffers=2 pattern=zone-plate kt=30 ! \
                 video/x-raw,format={format},width=5,height=7 ! appsink"
            );
            assert_eq!(check_streams(&[&a, &b], &normalize), 6, "{format}");
        }
    });
}

/// The first batch of two streams (both filled: queued, complete).
fn first_batch(descriptions: &[&str]) -> (Batch, Batcher, Vec<gstpipe_core::Pipeline>) {
    let mut batcher = Batcher::builder()
        .timeout(Duration::from_secs(5))
        .ahead(QueuePolicy::drop_oldest(8))
        .build();
    let pipelines = start_all(&mut batcher, descriptions);
    let batch = batcher.next_batch().unwrap().unwrap();
    assert_eq!(batch.filled_count(), descriptions.len());
    (batch, batcher, pipelines)
}

#[test]
fn frames_of_different_sizes_are_refused_naming_the_stream_and_both_shapes() {
    bounded(60, || {
        let (batch, _batcher, _pipelines) = first_batch(&[
            "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=32,height=24 ! \
             appsink name=big",
            "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=16,height=12 ! \
             appsink name=small",
        ]);
        let mut out = Array4::<u8>::zeros((0, 0, 0, 0));
        let err = batch.nhwc_into(&mut out).unwrap_err();
        match &err {
            BatchError::Shape {
                stream,
                name,
                found,
                expected,
                reference,
                reference_name,
            } => {
                assert_eq!((*stream, name.as_str()), (1, "small"));
                assert_eq!(*found, [12, 16, 3]);
                assert_eq!(*expected, [24, 32, 3]);
                assert_eq!((*reference, reference_name.as_str()), (0, "big"));
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
        let message = err.to_string();
        assert!(
            message.contains("small") && message.contains("videoscale"),
            "{message}"
        );
        let err = batch.to_nchw(&Normalize::unit()).unwrap_err();
        assert!(
            matches!(err, BatchError::Shape { stream: 1, .. }),
            "{err:?}"
        );
    });
}

#[test]
fn wrong_outputs_normalisations_and_formats_are_refused() {
    bounded(60, || {
        let (batch, _batcher, _pipelines) = first_batch(&[
            "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=8,height=6 ! appsink",
            "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=8,height=6 ! appsink",
        ]);
        assert_eq!(batch.shape_nchw(), Some([2, 3, 6, 8]));
        let mut wrong = Array4::<f32>::zeros((2, 3, 8, 6));
        let err = batch
            .write_nchw(wrong.view_mut(), &Normalize::unit())
            .unwrap_err();
        assert!(
            matches!(
                err,
                BatchError::Output {
                    expected: [2, 3, 6, 8],
                    found: [2, 3, 8, 6],
                    ..
                }
            ),
            "{err:?}"
        );
        let mut transposed = Array4::<u8>::zeros((3, 8, 6, 2));
        let err = batch
            .write_nhwc(transposed.view_mut().reversed_axes())
            .unwrap_err();
        assert!(
            matches!(
                err,
                BatchError::Output {
                    standard: false,
                    ..
                }
            ),
            "{err:?}"
        );
        for bad in [
            Normalize::new(1.0, [0.0, 0.0], [1.0]),
            Normalize::new(1.0, [0.0], [1.0, 0.0, 1.0]),
        ] {
            let err = batch.to_nchw(&bad).unwrap_err();
            assert!(matches!(err, BatchError::Normalize(_)), "{err:?}");
        }

        let (planar, _batcher, _pipelines) = first_batch(&[
            "videotestsrc num-buffers=2 ! video/x-raw,format=I420,width=8,height=6 ! appsink",
        ]);
        let err = planar.to_nhwc().unwrap_err();
        assert!(
            matches!(err, BatchError::Frame { stream: 0, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("videoconvert"), "{err}");
    });
}
