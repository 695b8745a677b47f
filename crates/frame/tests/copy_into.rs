//! `Frame::copy_into` / `copy_plane_into` / `append_to`, `parse_format` and the any-sample
//! arrays, against buffers built by hand with known bytes.

use gst_video::{VideoFormat, VideoInfo};
use gstpipe_frame::{AnyArray, AnyView, Frame, FrameError, SampleType, parse_format};
use ndarray::{Array3, Array4, Axis};

fn init() {
    gst::init().unwrap();
}

/// A buffer of `info`'s default layout where byte `i` is `i % 251` (a prime, so rows differ).
fn numbered(info: &VideoInfo) -> (Frame, Vec<u8>) {
    let data: Vec<u8> = (0..info.size()).map(|i| (i % 251) as u8).collect();
    let frame = Frame::from_buffer(gst::Buffer::from_mut_slice(data.clone()), info).unwrap();
    (frame, data)
}

/// The expected tight copy of a plane, read from the raw bytes with the stride by hand.
fn tight(data: &[u8], offset: usize, stride: usize, rows: usize, row_bytes: usize) -> Vec<u8> {
    (0..rows)
        .flat_map(|r| data[offset + r * stride..offset + r * stride + row_bytes].to_vec())
        .collect()
}

#[test]
fn odd_width_rgb_skips_default_padding() {
    init();
    // RGB 7x3: rows of 21 bytes inside GStreamer's default 24-byte stride.
    let info = VideoInfo::builder(VideoFormat::Rgb, 7, 3).build().unwrap();
    assert_eq!(info.stride()[0], 24);
    let (frame, data) = numbered(&info);
    let expected = tight(&data, 0, 24, 3, 21);
    let mut out = Array3::<u8>::from_elem((3, 7, 3), 0xAA);
    frame.copy_into(out.view_mut()).unwrap();
    assert_eq!(out.as_slice().unwrap(), expected.as_slice());
    let mut appended = vec![9u8];
    frame.append_to(&mut appended).unwrap();
    assert_eq!(appended[0], 9);
    assert_eq!(&appended[1..], expected.as_slice());
    assert_eq!(
        frame.to_array::<u8>().unwrap().as_slice().unwrap(),
        expected
    );
}

#[test]
fn copy_into_a_batch_slot() {
    init();
    let info = VideoInfo::builder(VideoFormat::Gray8, 5, 2)
        .build()
        .unwrap();
    let (frame, data) = numbered(&info);
    let mut batch = Array4::<u8>::zeros((2, 2, 5, 1));
    frame.copy_into(batch.index_axis_mut(Axis(0), 1)).unwrap();
    assert!(batch.index_axis(Axis(0), 0).iter().all(|&v| v == 0));
    let slot: Vec<u8> = batch.index_axis(Axis(0), 1).iter().copied().collect();
    assert_eq!(slot, tight(&data, 0, 8, 2, 5));
}

#[test]
fn i420_and_nv12_planes_at_odd_sizes() {
    init();
    for format in [VideoFormat::I420, VideoFormat::Nv12] {
        let info = VideoInfo::builder(format, 5, 3).build().unwrap();
        let (frame, data) = numbered(&info);
        for plane in 0..info.n_planes() as usize {
            let [h, w, c] = frame.plane_shapes()[plane];
            let expected = tight(
                &data,
                info.offset()[plane],
                info.stride()[plane] as usize,
                h,
                w * c,
            );
            let mut out = Array3::<u8>::zeros((h, w, c));
            frame.copy_plane_into(plane, out.view_mut()).unwrap();
            assert_eq!(
                out.as_slice().unwrap(),
                expected.as_slice(),
                "{format} plane {plane}"
            );
        }
        // The whole frame is not one packed array.
        let mut out = Array3::<u8>::zeros((3, 5, 1));
        assert!(matches!(
            frame.copy_into(out.view_mut()),
            Err(FrameError::NotPacked { .. })
        ));
    }
}

#[test]
fn gray16_be_is_converted_to_native() {
    init();
    // GRAY16_BE 3x2: rows of 6 bytes inside a default stride of 8.
    let info = VideoInfo::builder(VideoFormat::Gray16Be, 3, 2)
        .build()
        .unwrap();
    assert_eq!(info.stride()[0], 8);
    let mut data = vec![0xEEu8; 16];
    let values = [[0x0102u16, 0x0304, 0xA0B0], [0xFFFE, 0x0001, 0x1234]];
    for (r, row) in values.iter().enumerate() {
        for (x, v) in row.iter().enumerate() {
            data[r * 8 + x * 2..r * 8 + x * 2 + 2].copy_from_slice(&v.to_be_bytes());
        }
    }
    let frame = Frame::from_buffer(gst::Buffer::from_mut_slice(data), &info).unwrap();
    let mut out = Array3::<u16>::zeros((2, 3, 1));
    frame.copy_into(out.view_mut()).unwrap();
    let expected: Vec<u16> = values.iter().flatten().copied().collect();
    assert_eq!(out.as_slice().unwrap(), expected.as_slice());
    match frame.to_any_array().unwrap() {
        AnyArray::U16(a) => assert_eq!(a.as_slice().unwrap(), expected.as_slice()),
        other => panic!("expected u16 samples, got {other:?}"),
    }
    // No zero-copy view in foreign byte order, through either door.
    assert!(matches!(
        frame.view_any(),
        Err(FrameError::ForeignByteOrder { .. })
    ));
}

#[test]
fn wrong_output_is_a_typed_error_and_leaves_it_unwritten() {
    init();
    let info = VideoInfo::builder(VideoFormat::Rgb, 4, 2).build().unwrap();
    let (frame, _) = numbered(&info);
    let mut out = Array3::<u8>::from_elem((2, 5, 3), 7);
    let err = frame.copy_into(out.view_mut()).unwrap_err();
    assert!(matches!(
        err,
        FrameError::ShapeMismatch {
            expected: [2, 4, 3],
            found: [2, 5, 3],
            ..
        }
    ));
    assert!(out.iter().all(|&v| v == 7));
    // Right shape, but not standard layout (transposed).
    let mut t = Array3::<u8>::zeros((3, 4, 2));
    let mut swapped = t.view_mut();
    swapped.swap_axes(0, 2);
    assert!(frame.copy_into(swapped).is_err());
    let mut wide = Array3::<u16>::zeros((2, 4, 3));
    assert!(matches!(
        frame.copy_into(wide.view_mut()),
        Err(FrameError::WrongSampleType { .. })
    ));
}

#[test]
fn any_view_and_array_follow_the_format() {
    init();
    let info = VideoInfo::builder(VideoFormat::Gray16Le, 3, 2)
        .build()
        .unwrap();
    let (frame, _) = numbered(&info);
    let view = frame.view_any().unwrap();
    assert!(matches!(view, AnyView::U16(_)));
    assert_eq!(view.dims(), [2, 3, 1]);
    assert_eq!(view.to_owned_array(), frame.to_any_array().unwrap());
    let info = VideoInfo::builder(VideoFormat::Rgba, 3, 2).build().unwrap();
    let (frame, _) = numbered(&info);
    let array = frame.to_any_array().unwrap();
    assert_eq!(array.sample_type(), SampleType::U8);
    assert_eq!(array.dims(), [2, 3, 4]);
    let info = VideoInfo::builder(VideoFormat::Nv12, 4, 2).build().unwrap();
    let (frame, _) = numbered(&info);
    let planes: Vec<_> = frame
        .planes_any()
        .unwrap()
        .iter()
        .map(AnyView::dims)
        .collect();
    assert_eq!(planes, [[2, 4, 1], [1, 2, 2]]);
    assert_eq!(frame.planes_to_any_arrays().unwrap().len(), 2);
}

#[test]
fn format_names_parse_exactly() {
    init();
    assert_eq!(parse_format("RGB").unwrap(), VideoFormat::Rgb);
    assert_eq!(parse_format("GRAY16_BE").unwrap(), VideoFormat::Gray16Be);
    match parse_format("rgb").unwrap_err() {
        FrameError::UnknownFormatName { name, suggestion } => {
            assert_eq!(name, "rgb");
            assert_eq!(suggestion.as_deref(), Some("RGB"));
        }
        other => panic!("unexpected {other:?}"),
    }
    for bad in ["", "ENCODED", "UNKNOWN", "NOPE"] {
        let err = parse_format(bad).unwrap_err();
        assert!(
            matches!(&err, FrameError::UnknownFormatName { name, suggestion: None } if name == bad),
            "{bad}: {err:?}"
        );
        assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
    }
}
