//! Arrays of a known gradient, made into buffers with `array_to_buffer` / `planes_to_buffer`,
//! go through `videoconvert` to another format and back (lossless pairs) and come back equal.

use gst_video::{VideoFormat, VideoInfo};
use gstpipe_frame::{Frame, array_to_buffer, planes_to_buffer, view_to_buffer};
use ndarray::Array3;

use crate::util::{init, push_through};

fn gradient_u8(shape: [usize; 3], seed: usize) -> Array3<u8> {
    Array3::from_shape_fn(shape, |(y, x, c)| {
        ((x * 7 + y * 13 + c * 61 + seed * 17) % 256) as u8
    })
}

fn gradient_u16(shape: [usize; 3], seed: usize, max: u32) -> Array3<u16> {
    Array3::from_shape_fn(shape, |(y, x, c)| {
        ((x as u32 * 2_749 + y as u32 * 977 + c as u32 * 12_345 + seed as u32 * 31) % (max + 1))
            as u16
    })
}

fn caps_of(info: &VideoInfo) -> gst::Caps {
    info.to_caps().expect("caps")
}

fn info(format: VideoFormat, w: u32, h: u32) -> VideoInfo {
    init();
    VideoInfo::builder(format, w, h)
        .fps(gst::Fraction::new(25, 1))
        .build()
        .expect("info")
}

/// `format` -> `via` -> `format` through two videoconverts.
fn through(info: &VideoInfo, via: &str, buffers: Vec<gst::Buffer>) -> Vec<Frame> {
    let format = info.format().to_str();
    push_through(
        &caps_of(info),
        &format!(
            "videoconvert chroma-mode=none dither=none ! video/x-raw,format={via} ! videoconvert chroma-mode=none dither=none"
        ),
        &format!("video/x-raw,format={format}"),
        buffers,
    )
    .iter()
    .map(|s| Frame::from_sample(s).expect("frame"))
    .collect()
}

fn packed_u8(format: VideoFormat, via: &str, w: u32, h: u32) {
    let info = info(format, w, h);
    let shape = gstpipe_frame::format_info(format)
        .unwrap()
        .plane_shapes(w, h)[0];
    let arrays: Vec<_> = (0..2).map(|i| gradient_u8(shape, i)).collect();
    let buffers = vec![
        array_to_buffer(arrays[0].clone(), &info).unwrap(),
        view_to_buffer(arrays[1].view(), &info).unwrap(),
    ];
    let frames = through(&info, via, buffers);
    for (frame, array) in frames.iter().zip(&arrays) {
        assert_eq!(frame.format(), format);
        assert_eq!(
            &frame.to_array::<u8>().unwrap(),
            array,
            "{format} via {via} at {w}x{h}"
        );
        assert_eq!(frame.view::<u8>().unwrap(), array);
    }
}

#[test]
fn rgb_via_bgrx() {
    packed_u8(VideoFormat::Rgb, "BGRx", 33, 17); // padded rows: copied
    packed_u8(VideoFormat::Rgb, "BGRx", 32, 4); // tight rows: wrapped without copy
}

#[test]
fn bgrx_via_rgb() {
    let info = info(VideoFormat::Bgrx, 33, 17);
    // The x byte is not preserved by a conversion: compare B, G, R only.
    let mut array = gradient_u8([17, 33, 4], 3);
    array.slice_mut(ndarray::s![.., .., 3]).fill(255);
    let frames = through(
        &info,
        "RGB",
        vec![array_to_buffer(array.clone(), &info).unwrap()],
    );
    let back = frames[0].to_array::<u8>().unwrap();
    assert_eq!(
        back.slice(ndarray::s![.., .., ..3]),
        array.slice(ndarray::s![.., .., ..3])
    );
}

#[test]
fn rgba_via_argb() {
    packed_u8(VideoFormat::Rgba, "ARGB", 33, 17);
}

#[test]
fn gray8_via_gray16() {
    packed_u8(VideoFormat::Gray8, "GRAY16_LE", 33, 17);
}

#[test]
fn yuy2_via_uyvy() {
    packed_u8(VideoFormat::Yuy2, "UYVY", 32, 17);
}

fn gray16(format: VideoFormat, via: &str) {
    let info = info(format, 33, 17);
    let array = gradient_u16([17, 33, 1], 1, 65_535);
    // Values whose two bytes differ, so a byte-order mistake cannot go unnoticed.
    assert!(array.iter().filter(|v| **v >> 8 != **v & 0xff).count() > 500);
    let frames = through(
        &info,
        via,
        vec![array_to_buffer(array.clone(), &info).unwrap()],
    );
    assert_eq!(
        frames[0].to_array::<u16>().unwrap(),
        array,
        "{format} via {via}"
    );
}

#[test]
fn gray16_le_via_be() {
    gray16(VideoFormat::Gray16Le, "GRAY16_BE");
}

#[test]
fn gray16_be_via_le() {
    gray16(VideoFormat::Gray16Be, "GRAY16_LE");
}

fn planar_u8(format: VideoFormat, via: &str, w: u32, h: u32) {
    let info = info(format, w, h);
    let shapes = gstpipe_frame::format_info(format)
        .unwrap()
        .plane_shapes(w, h);
    let planes: Vec<_> = shapes
        .iter()
        .enumerate()
        .map(|(i, &shape)| gradient_u8(shape, i))
        .collect();
    let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
    let buffer = planes_to_buffer(&views, &info).unwrap();
    let frames = through(&info, via, vec![buffer]);
    assert_eq!(
        frames[0].planes_to_arrays::<u8>().unwrap(),
        planes,
        "{format} via {via}"
    );
    assert_eq!(frames[0].planes::<u8>().unwrap(), planes);
}

#[test]
fn i420_via_yv12() {
    planar_u8(VideoFormat::I420, "YV12", 33, 17);
}

#[test]
fn nv12_via_i420() {
    planar_u8(VideoFormat::Nv12, "I420", 33, 17);
}

#[test]
fn y444_via_v308() {
    planar_u8(VideoFormat::Y444, "v308", 33, 17);
}

#[test]
fn i420_10le_via_10be() {
    let info = info(VideoFormat::I42010le, 33, 17);
    let shapes = gstpipe_frame::format_info(VideoFormat::I42010le)
        .unwrap()
        .plane_shapes(33, 17);
    let planes: Vec<_> = shapes
        .iter()
        .enumerate()
        .map(|(i, &shape)| gradient_u16(shape, i, 1023))
        .collect();
    let views: Vec<_> = planes.iter().map(|p| p.view()).collect();
    let frames = through(
        &info,
        "I420_10BE",
        vec![planes_to_buffer(&views, &info).unwrap()],
    );
    assert_eq!(frames[0].planes_to_arrays::<u16>().unwrap(), planes);
}
