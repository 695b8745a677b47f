//! Buffers with non-default strides and offsets carried by a `VideoMeta`, built by hand with
//! a sentinel in every padding byte: views follow the meta and never read padding.

use gst_video::{VideoFormat, VideoFrameFlags, VideoInfo, VideoMeta};
use gstpipe_frame::{Frame, FrameError};
use ndarray::{Array3, Axis};

use crate::util::{init, layout_bytes};

const SENTINEL: u8 = 0xAB;

fn add_meta(
    buffer: &mut gst::Buffer,
    format: VideoFormat,
    w: u32,
    h: u32,
    offsets: &[usize],
    strides: &[i32],
) {
    VideoMeta::add_full(
        buffer.get_mut().unwrap(),
        VideoFrameFlags::empty(),
        format,
        w,
        h,
        offsets,
        strides,
    )
    .unwrap();
}

/// Pixel values 1..=n, never the sentinel.
fn value(i: usize) -> u8 {
    (i % 170) as u8 + 1
}

#[test]
fn rgb_with_wide_stride() {
    init();
    let (w, h) = (5usize, 3usize);
    let info = VideoInfo::builder(VideoFormat::Rgb, w as u32, h as u32)
        .build()
        .unwrap();
    assert_eq!(info.stride()[0], 16, "caps alone would say 16");
    let stride = 24;
    let expected = Array3::from_shape_fn((h, w, 3), |(y, x, c)| value(y * 15 + x * 3 + c));
    let rows: Vec<Vec<u8>> = expected
        .outer_iter()
        .map(|r| r.iter().copied().collect())
        .collect();
    let data = layout_bytes(stride * h, SENTINEL, &[(0, stride, rows)]);
    let mut buffer = gst::Buffer::from_mut_slice(data);
    add_meta(
        &mut buffer,
        VideoFormat::Rgb,
        w as u32,
        h as u32,
        &[0],
        &[stride as i32],
    );

    let frame = Frame::from_buffer(buffer, &info).unwrap();
    assert_eq!(frame.stride(0).unwrap(), 24);
    let view = frame.view::<u8>().unwrap();
    assert_eq!(view.strides(), &[24, 3, 1]);
    assert_eq!(view, expected);
    assert!(view.iter().all(|&v| v != SENTINEL));
    assert_eq!(frame.to_array::<u8>().unwrap(), expected);
    #[cfg(feature = "image")]
    {
        let image = frame.to_image().unwrap().to_rgb8();
        assert_eq!(
            image.into_raw(),
            expected.iter().copied().collect::<Vec<_>>()
        );
        let flat = frame.image_view().unwrap();
        assert_eq!(flat.layout.height_stride, 24);
    }
}

#[test]
fn i420_with_custom_offsets_and_strides() {
    init();
    let (w, h) = (7u32, 5u32);
    let info = VideoInfo::builder(VideoFormat::I420, w, h).build().unwrap();
    let offsets = [8usize, 120, 200];
    let strides = [16usize, 12, 20];
    let shapes = [(5, 7), (3, 4), (3, 4)];
    let planes: Vec<Vec<Vec<u8>>> = shapes
        .iter()
        .enumerate()
        .map(|(p, &(rows, cols))| {
            (0..rows)
                .map(|r| (0..cols).map(|c| value(p * 50 + r * 10 + c)).collect())
                .collect()
        })
        .collect();
    let layout: Vec<_> = (0..3)
        .map(|p| (offsets[p], strides[p], planes[p].clone()))
        .collect();
    let mut buffer = gst::Buffer::from_mut_slice(layout_bytes(280, SENTINEL, &layout));
    let strides_i32: Vec<i32> = strides.iter().map(|&s| s as i32).collect();
    add_meta(&mut buffer, VideoFormat::I420, w, h, &offsets, &strides_i32);

    let frame = Frame::from_buffer(buffer, &info).unwrap();
    let views = frame.planes::<u8>().unwrap();
    for (p, view) in views.iter().enumerate() {
        let (rows, cols) = shapes[p];
        assert_eq!(view.shape(), &[rows, cols, 1]);
        assert_eq!(view.strides()[0], strides[p] as isize);
        let got: Vec<Vec<u8>> = view
            .index_axis(Axis(2), 0)
            .outer_iter()
            .map(|r| r.to_vec())
            .collect();
        assert_eq!(got, planes[p], "plane {p}");
        assert!(view.iter().all(|&v| v != SENTINEL));
    }
    assert_eq!(frame.planes_to_arrays::<u8>().unwrap(), views);
}

#[test]
fn nv12_planes_in_separate_memories() {
    init();
    let (w, h) = (5u32, 3u32);
    let info = VideoInfo::builder(VideoFormat::Nv12, w, h).build().unwrap();
    let y_rows: Vec<Vec<u8>> = (0..3)
        .map(|r| (0..5).map(|c| value(r * 5 + c)).collect())
        .collect();
    let uv_rows: Vec<Vec<u8>> = (0..2)
        .map(|r| (0..6).map(|c| value(100 + r * 6 + c)).collect())
        .collect();
    let y_mem = layout_bytes(3 * 12, SENTINEL, &[(0, 12, y_rows.clone())]);
    let uv_mem = layout_bytes(2 * 10, SENTINEL, &[(0, 10, uv_rows.clone())]);
    let mut buffer = gst::Buffer::new();
    {
        let b = buffer.get_mut().unwrap();
        b.append_memory(gst::Memory::from_mut_slice(y_mem));
        b.append_memory(gst::Memory::from_mut_slice(uv_mem));
    }
    add_meta(&mut buffer, VideoFormat::Nv12, w, h, &[0, 36], &[12, 10]);

    let frame = Frame::from_buffer(buffer, &info).unwrap();
    let planes = frame.planes::<u8>().unwrap();
    assert_eq!(planes[0].shape(), &[3, 5, 1]);
    assert_eq!(planes[1].shape(), &[2, 3, 2]);
    let y: Vec<Vec<u8>> = planes[0]
        .index_axis(Axis(2), 0)
        .outer_iter()
        .map(|r| r.to_vec())
        .collect();
    assert_eq!(y, y_rows);
    let uv: Vec<Vec<u8>> = planes[1]
        .outer_iter()
        .map(|r| r.iter().copied().collect())
        .collect();
    assert_eq!(uv, uv_rows);
}

#[test]
fn several_memories_without_meta_are_merged() {
    init();
    let info = VideoInfo::builder(VideoFormat::Gray8, 4, 2)
        .build()
        .unwrap();
    let mut buffer = gst::Buffer::new();
    {
        let b = buffer.get_mut().unwrap();
        b.append_memory(gst::Memory::from_mut_slice(vec![1u8, 2, 3]));
        b.append_memory(gst::Memory::from_mut_slice(vec![4u8, 5, 6, 7, 8]));
    }
    let frame = Frame::from_buffer(buffer, &info).unwrap();
    let view = frame.view::<u8>().unwrap();
    assert_eq!(
        view.iter().copied().collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6, 7, 8]
    );
}

#[test]
fn meta_promising_more_than_the_buffer_holds_is_an_error() {
    init();
    let info = VideoInfo::builder(VideoFormat::Rgb, 5, 3).build().unwrap();
    // Stride 64 * 3 rows = 192 bytes promised, 48 present.
    let mut buffer = gst::Buffer::from_mut_slice(vec![0u8; 48]);
    add_meta(&mut buffer, VideoFormat::Rgb, 5, 3, &[0], &[64]);
    assert!(matches!(
        Frame::from_buffer(buffer, &info),
        Err(FrameError::BufferTooSmall {
            expected: 192,
            found: 48,
            ..
        })
    ));
}

#[test]
fn meta_plane_spanning_two_memories_is_an_error() {
    init();
    // With a VideoMeta GStreamer maps only the memory holding a plane's offset: a plane
    // running into the next memory must be refused, not read past the first one.
    let info = VideoInfo::builder(VideoFormat::Gray8, 4, 4)
        .build()
        .unwrap();
    let mut buffer = gst::Buffer::new();
    {
        let b = buffer.get_mut().unwrap();
        b.append_memory(gst::Memory::from_mut_slice(vec![0u8; 8]));
        b.append_memory(gst::Memory::from_mut_slice(vec![0u8; 8]));
    }
    add_meta(&mut buffer, VideoFormat::Gray8, 4, 4, &[0], &[4]);
    assert!(matches!(
        Frame::from_buffer(buffer, &info),
        Err(FrameError::BufferTooSmall {
            expected: 16,
            found: 8,
            ..
        })
    ));
}

#[test]
fn meta_with_another_format_is_an_error() {
    init();
    let info = VideoInfo::builder(VideoFormat::Rgb, 2, 2).build().unwrap();
    let mut buffer = gst::Buffer::from_mut_slice(vec![0u8; 64]);
    add_meta(&mut buffer, VideoFormat::Bgrx, 2, 2, &[0], &[8]);
    assert!(matches!(
        Frame::from_buffer(buffer, &info),
        Err(FrameError::Map { .. })
    ));
}
