//! Solid videotestsrc patterns have the Y/U/V values GStreamer documents for BT.601
//! limited range (white 235/128/128, black 16/128/128, red 81/90/240), at an odd size whose
//! rows are padded, so a wrong stride would read padding and fail.

use gstpipe_frame::Frame;
use ndarray::{Axis, s};

use crate::util::test_sample;

const W: u32 = 7;
const H: u32 = 5;
/// (pattern, Y, U, V)
const COLOURS: &[(&str, u8, u8, u8)] = &[
    ("white", 235, 128, 128),
    ("black", 16, 128, 128),
    ("red", 81, 90, 240),
];

fn frame(format: &str, pattern: &str) -> Frame {
    let sample = test_sample(
        pattern,
        &format!("video/x-raw,format={format},width={W},height={H},colorimetry=bt601"),
    );
    Frame::from_sample(&sample).expect("frame")
}

fn all(values: ndarray::ArrayView2<'_, u8>, expected: u8) -> bool {
    values.iter().all(|&v| v == expected)
}

#[test]
fn i420() {
    for &(pattern, y, u, v) in COLOURS {
        let frame = frame("I420", pattern);
        let planes = frame.planes::<u8>().unwrap();
        let shapes: Vec<_> = planes.iter().map(|p| p.shape().to_vec()).collect();
        // Chroma rounds up: ceil(7/2) = 4 columns, ceil(5/2) = 3 rows.
        assert_eq!(shapes, [vec![5, 7, 1], vec![3, 4, 1], vec![3, 4, 1]]);
        assert!(
            all(planes[0].index_axis(Axis(2), 0), y),
            "{pattern} Y {:?}",
            planes[0]
        );
        assert!(
            all(planes[1].index_axis(Axis(2), 0), u),
            "{pattern} U {:?}",
            planes[1]
        );
        assert!(
            all(planes[2].index_axis(Axis(2), 0), v),
            "{pattern} V {:?}",
            planes[2]
        );
        let copies = frame.planes_to_arrays::<u8>().unwrap();
        assert_eq!(copies, planes);
    }
}

#[test]
fn nv12() {
    for &(pattern, y, u, v) in COLOURS {
        let frame = frame("NV12", pattern);
        let planes = frame.planes::<u8>().unwrap();
        assert_eq!(planes.len(), 2);
        assert_eq!(planes[0].shape(), &[5, 7, 1]);
        assert_eq!(planes[1].shape(), &[3, 4, 2]);
        assert!(all(planes[0].index_axis(Axis(2), 0), y), "{pattern} Y");
        assert!(
            all(planes[1].index_axis(Axis(2), 0), u),
            "{pattern} U {:?}",
            planes[1]
        );
        assert!(
            all(planes[1].index_axis(Axis(2), 1), v),
            "{pattern} V {:?}",
            planes[1]
        );
    }
}

#[test]
fn yuy2() {
    for &(pattern, y, u, v) in COLOURS {
        let frame = frame("YUY2", pattern);
        let view = frame.view::<u8>().unwrap();
        // Packed 4:2:2: (h, w, 2), each pixel its Y and alternately U (even x) or V (odd x).
        assert_eq!(view.shape(), &[5, 7, 2]);
        assert!(all(view.index_axis(Axis(2), 0), y), "{pattern} Y {view:?}");
        assert!(all(view.slice(s![.., ..;2, 1]), u), "{pattern} U {view:?}");
        assert!(all(view.slice(s![.., 1..;2, 1]), v), "{pattern} V {view:?}");
        assert_eq!(frame.to_array::<u8>().unwrap(), view);
    }
}

#[test]
fn y444() {
    for &(pattern, y, u, v) in COLOURS {
        let frame = frame("Y444", pattern);
        let planes = frame.planes::<u8>().unwrap();
        for (plane, expected) in planes.iter().zip([y, u, v]) {
            assert_eq!(plane.shape(), &[5, 7, 1]);
            assert!(
                all(plane.index_axis(Axis(2), 0), expected),
                "{pattern} {plane:?}"
            );
        }
    }
}
