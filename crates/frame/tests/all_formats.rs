//! Every format of the table at an odd size: representable formats yield planes whose shapes
//! match `plane_shapes()` and GStreamer's own plane geometry, with every sample read from the
//! right byte; the others give a clear `NotRepresentable` error and their raw bytes.

use gst_video::{VideoFormatInfo, VideoInfo};
use gstpipe_frame::{ByteOrder, FormatInfo, Frame, FrameError, Layout, SampleType, formats};

use crate::util::init;

const W: u32 = 7;
const H: u32 = 5;

fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + 3) as u8).collect()
}

/// Rows GStreamer gives plane `p` (from the format's own component description).
fn gst_plane_rows(info: &VideoInfo, finfo: &VideoFormatInfo, plane: u32) -> usize {
    let comp = finfo.component(plane)[0];
    assert!(comp >= 0, "{} plane {plane} has no component", finfo.name());
    info.comp_height(comp as u8) as usize
}

fn check_representable(fi: &FormatInfo, frame: &Frame, info: &VideoInfo, data: &[u8]) {
    let format = fi.format();
    let finfo = VideoFormatInfo::from_format(format);
    let shapes = fi.plane_shapes(W, H);
    assert_eq!(shapes.len(), fi.n_planes(), "{format}");
    assert_eq!(frame.plane_shapes(), shapes);
    let size = fi.sample_type().size_bytes();
    // Independent of the table: GStreamer's strides, offsets and component heights.
    for (p, shape) in shapes.iter().enumerate() {
        if fi.layout() == Layout::Paletted && p == 1 {
            assert_eq!(shape, &[1, 256, 4]);
            continue;
        }
        assert_eq!(
            shape[0],
            gst_plane_rows(info, &finfo, p as u32),
            "{format} plane {p} rows"
        );
        let row_bytes = shape[1] * shape[2] * size;
        assert!(
            row_bytes <= info.stride()[p] as usize,
            "{format} plane {p}: {shape:?}"
        );
        assert!(
            shape[1] >= (W as usize).div_ceil(4),
            "{format} plane {p}: {shape:?}"
        );
    }
    // The sample at (r, x, ch) of plane p is the bytes at offset + r * stride + (x * c + ch) * size.
    let big_endian = fi.name().ends_with("BE");
    let read = |p: usize, r: usize, x: usize, ch: usize, c: usize| -> u32 {
        let stride = if fi.layout() == Layout::Paletted && p == 1 {
            1024
        } else {
            info.stride()[p] as usize
        };
        let at = info.offset()[p] + r * stride + (x * c + ch) * size;
        match size {
            1 => u32::from(data[at]),
            _ if big_endian => u32::from(u16::from_be_bytes([data[at], data[at + 1]])),
            _ => u32::from(u16::from_le_bytes([data[at], data[at + 1]])),
        }
    };
    let check =
        |p: usize, got: &mut dyn Iterator<Item = ((usize, usize, usize), u32)>, c: usize| {
            for ((r, x, ch), v) in got {
                assert_eq!(
                    v,
                    read(p, r, x, ch, c),
                    "{format} plane {p} at {r},{x},{ch}"
                );
            }
        };
    match fi.sample_type() {
        SampleType::U8 => {
            let planes = frame.planes::<u8>().unwrap();
            for (p, plane) in planes.iter().enumerate() {
                assert_eq!(plane.shape(), shapes[p]);
                check(
                    p,
                    &mut plane.indexed_iter().map(|(i, v)| (i, u32::from(*v))),
                    shapes[p][2],
                );
            }
            assert!(matches!(
                frame.planes::<u16>(),
                Err(FrameError::WrongSampleType {
                    expected: SampleType::U8,
                    ..
                })
            ));
        }
        SampleType::U16 => {
            let arrays = frame.planes_to_arrays::<u16>().unwrap();
            for (p, array) in arrays.iter().enumerate() {
                assert_eq!(array.shape(), shapes[p]);
                check(
                    p,
                    &mut array.indexed_iter().map(|(i, v)| (i, u32::from(*v))),
                    shapes[p][2],
                );
            }
            assert_eq!(
                fi.byte_order(),
                if big_endian {
                    ByteOrder::Big
                } else {
                    ByteOrder::Little
                },
                "{format}"
            );
            if fi.byte_order().is_native() {
                assert_eq!(frame.planes::<u16>().unwrap(), arrays);
            } else {
                assert!(matches!(
                    frame.planes::<u16>(),
                    Err(FrameError::ForeignByteOrder { .. })
                ));
            }
        }
        SampleType::None => unreachable!(),
    }
    if fi.is_packed() {
        assert_eq!(shapes.len(), 1);
        assert_eq!(Some(shapes[0][2]), fi.channels());
    } else {
        let err = match fi.sample_type() {
            SampleType::U8 => frame.view::<u8>().map(|_| ()),
            _ => frame.view::<u16>().map(|_| ()),
        };
        assert!(
            matches!(err, Err(FrameError::NotPacked { .. })),
            "{format}: {err:?}"
        );
    }
}

fn check_not_representable(fi: &FormatInfo, frame: &Frame, info: &VideoInfo, data: &[u8]) {
    let format = fi.format();
    assert!(fi.plane_shapes(W, H).is_empty());
    assert_eq!(fi.sample_type(), SampleType::None);
    assert!(
        matches!(fi.layout(), Layout::SubByte | Layout::Tiled),
        "{format}"
    );
    for err in [
        frame.planes::<u8>().map(|_| ()),
        frame.planes::<u16>().map(|_| ()),
        frame.view::<u8>().map(|_| ()),
    ] {
        match err {
            Err(e @ FrameError::NotRepresentable { .. }) => {
                let msg = e.to_string();
                assert!(
                    msg.contains(format.to_str().as_str()) && msg.contains("plane_bytes()"),
                    "{msg}"
                );
            }
            other => panic!("{format}: {other:?}"),
        }
    }
    for p in 0..fi.n_planes() {
        let bytes = frame.plane_bytes(p).unwrap();
        let offset = info.offset()[p];
        assert!(!bytes.is_empty(), "{format} plane {p}");
        assert_eq!(
            bytes,
            &data[offset..offset + bytes.len()],
            "{format} plane {p}"
        );
    }
}

#[test]
fn every_format_yields_shaped_planes_or_a_clear_error() {
    init();
    let all = formats();
    let mut representable = 0;
    for fi in &all {
        let format = fi.format();
        let info = VideoInfo::builder(format, W, H)
            .build()
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        let data = pattern(info.size());
        let frame = Frame::from_buffer(gst::Buffer::from_mut_slice(data.clone()), &info)
            .unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(frame.format_info(), *fi);
        if fi.is_representable() {
            representable += 1;
            check_representable(fi, &frame, &info, &data);
        } else {
            check_not_representable(fi, &frame, &info, &data);
        }
    }
    assert!(representable > 70, "{representable} of {}", all.len());
}
