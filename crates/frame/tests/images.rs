//! `to_image` for the 16-bit RGBA formats and `GRAY16_LE`, against buffers laid out by hand;
//! one-field buffers of `interlace-mode=alternate`.

use gst_video::{VideoFormat, VideoInfo};
use gstpipe_frame::Frame;
use image::DynamicImage;

use crate::util::{init, layout_bytes};

/// Logical RGBA pixels of a 3x2 image, distinct high and low bytes.
fn pixels() -> Vec<[u16; 4]> {
    (0..6u16)
        .map(|i| {
            [
                0x0102 + i * 0x1111,
                0x2030 + i * 0x0101,
                0xA0B0 - i * 0x0203,
                0xFF00 + i,
            ]
        })
        .collect()
}

/// Builds a 3x2 frame of a 64-bit format whose components sit at `order` (indices into RGBA)
/// in memory, each stored big- or little-endian.
fn frame(format: VideoFormat, order: [usize; 4], big_endian: bool) -> Frame {
    init();
    let info = VideoInfo::builder(format, 3, 2).build().unwrap();
    let stride = info.stride()[0] as usize;
    let px = pixels();
    let mut rows: Vec<Vec<u8>> = vec![Vec::new(); 2];
    for (r, row) in rows.iter_mut().enumerate() {
        for x in 0..3 {
            for c in order {
                let v = px[r * 3 + x][c];
                row.extend(if big_endian {
                    v.to_be_bytes()
                } else {
                    v.to_le_bytes()
                });
            }
        }
    }
    let data = layout_bytes(info.size(), 0xEE, &[(0, stride, rows)]);
    Frame::from_buffer(gst::Buffer::from_mut_slice(data), &info).unwrap()
}

fn expected_rgba16() -> DynamicImage {
    let raw: Vec<u16> = pixels().into_iter().flatten().collect();
    DynamicImage::ImageRgba16(image::ImageBuffer::from_raw(3, 2, raw).unwrap())
}

#[test]
fn rgba64_orders_to_rgba16() {
    let cases = [
        (VideoFormat::Rgba64Le, [0, 1, 2, 3], false),
        (VideoFormat::Rgba64Be, [0, 1, 2, 3], true),
        (VideoFormat::Argb64Be, [3, 0, 1, 2], true),
        (VideoFormat::Bgra64Le, [2, 1, 0, 3], false),
        (VideoFormat::Abgr64Be, [3, 2, 1, 0], true),
    ];
    for (format, order, be) in cases {
        assert_eq!(
            frame(format, order, be).to_image().unwrap(),
            expected_rgba16(),
            "{format}"
        );
    }
}

#[test]
fn gray16_le_to_luma16() {
    init();
    let info = VideoInfo::builder(VideoFormat::Gray16Le, 3, 1)
        .build()
        .unwrap();
    let data = layout_bytes(
        info.size(),
        0xEE,
        &[(0, 8, vec![vec![0x01, 0x02, 0x03, 0x04, 0xFF, 0x00]])],
    );
    let frame = Frame::from_buffer(gst::Buffer::from_mut_slice(data), &info).unwrap();
    let image = frame.to_image().unwrap();
    assert_eq!(
        image.as_luma16().unwrap().as_raw(),
        &vec![0x0201, 0x0403, 0x00FF]
    );
}

#[test]
fn buffer_metadata_is_exposed() {
    init();
    let info = VideoInfo::builder(VideoFormat::Gray8, 4, 1)
        .build()
        .unwrap();
    let mut buffer = gst::Buffer::from_mut_slice(vec![0u8; 4]);
    {
        let b = buffer.get_mut().unwrap();
        b.set_pts(gst::ClockTime::from_mseconds(40));
        b.set_dts(gst::ClockTime::from_mseconds(20));
        b.set_duration(gst::ClockTime::from_mseconds(33));
        b.set_offset(7);
        b.set_flags(gst::BufferFlags::DELTA_UNIT);
    }
    let frame = Frame::from_buffer(buffer, &info).unwrap();
    assert_eq!(frame.pts(), Some(gst::ClockTime::from_mseconds(40)));
    assert_eq!(frame.dts(), Some(gst::ClockTime::from_mseconds(20)));
    assert_eq!(frame.duration(), Some(gst::ClockTime::from_mseconds(33)));
    assert_eq!(frame.offset(), 7);
    assert!(frame.flags().contains(gst::BufferFlags::DELTA_UNIT));
    assert_eq!(
        (frame.width(), frame.height(), frame.format()),
        (4, 1, VideoFormat::Gray8)
    );
    assert_eq!(frame.buffer().size(), 4);
    assert_eq!(frame.info().stride(), &[4]);
}

#[test]
fn alternate_interlace_field_becomes_an_image_of_its_rows() {
    init();
    // BGR 5x7, one field per buffer: ceil(7/2) = 4 rows, stride 16.
    let info = VideoInfo::builder(VideoFormat::Bgr, 5, 7)
        .interlace_mode(gst_video::VideoInterlaceMode::Alternate)
        .build()
        .unwrap();
    assert_eq!(info.field_height(), 4);
    let stride = info.stride()[0] as usize;
    let data: Vec<u8> = (0..stride * 4).map(|i| (i * 7 % 251) as u8).collect();
    let frame = Frame::from_buffer(gst::Buffer::from_slice(data.clone()), &info).unwrap();
    let image = frame.to_image().unwrap().to_rgb8();
    assert_eq!(image.dimensions(), (5, 4));
    for (x, y, px) in image.enumerate_pixels() {
        let at = y as usize * stride + x as usize * 3;
        // BGR in memory, RGB in the image.
        assert_eq!(px.0, [data[at + 2], data[at + 1], data[at]], "({x}, {y})");
    }
}
