//! Wrong calls are typed errors naming the format and what to use instead.

use gst_video::{VideoFormat, VideoInfo};
use gstpipe_frame::{Frame, FrameError, SampleType, format_info};

use crate::util::init;

fn zeroed(format: VideoFormat, w: u32, h: u32) -> Frame {
    init();
    let info = VideoInfo::builder(format, w, h).build().unwrap();
    Frame::from_buffer(gst::Buffer::with_size(info.size()).unwrap(), &info).unwrap()
}

#[test]
fn wrong_sample_type() {
    let frame = zeroed(VideoFormat::Rgb, 5, 3);
    let err = frame.view::<u16>().unwrap_err();
    assert!(matches!(
        err,
        FrameError::WrongSampleType {
            format: VideoFormat::Rgb,
            expected: SampleType::U8,
            requested: SampleType::U16
        }
    ));
    let msg = err.to_string();
    assert!(
        msg.contains("RGB") && msg.contains("u8") && msg.contains("u16"),
        "{msg}"
    );
    assert!(frame.to_array::<u16>().is_err());
    let frame = zeroed(VideoFormat::Gray16Le, 5, 3);
    assert!(matches!(
        frame.view::<u8>(),
        Err(FrameError::WrongSampleType {
            expected: SampleType::U16,
            ..
        })
    ));
}

#[test]
fn view_of_planar_format() {
    for format in [VideoFormat::I420, VideoFormat::Nv12] {
        let frame = zeroed(format, 5, 3);
        let err = frame.view::<u8>().unwrap_err();
        assert!(matches!(err, FrameError::NotPacked { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(format.to_str().as_str()) && msg.contains("planes()"),
            "{msg}"
        );
        assert!(matches!(
            frame.to_array::<u8>(),
            Err(FrameError::NotPacked { .. })
        ));
        assert!(frame.planes::<u8>().is_ok());
    }
}

#[test]
fn too_small_buffer() {
    init();
    let info = VideoInfo::builder(VideoFormat::Rgb, 641, 3)
        .build()
        .unwrap();
    let size = info.size();
    assert_eq!(size, 1924 * 3);
    let err = Frame::from_buffer(gst::Buffer::with_size(size - 1).unwrap(), &info).unwrap_err();
    assert!(
        matches!(err, FrameError::BufferTooSmall { expected, found, .. } if expected == size && found == size - 1)
    );
    // The same through a sample whose caps promise more than its buffer holds.
    let sample = gst::Sample::builder()
        .buffer(&gst::Buffer::with_size(100).unwrap())
        .caps(&info.to_caps().unwrap())
        .build();
    assert!(matches!(
        Frame::from_sample(&sample),
        Err(FrameError::BufferTooSmall { .. })
    ));
}

#[test]
fn big_endian_zero_copy_view_is_refused() {
    let frame = zeroed(VideoFormat::Gray16Be, 5, 3);
    let err = frame.view::<u16>().unwrap_err();
    assert!(matches!(err, FrameError::ForeignByteOrder { .. }));
    assert!(err.to_string().contains("to_array()"));
    assert!(frame.to_array::<u16>().is_ok());
}

/// A buffer whose memory starts at an odd address.
struct OddAddress(Vec<u8>);

impl AsMut<[u8]> for OddAddress {
    fn as_mut(&mut self) -> &mut [u8] {
        let start = usize::from((self.0.as_ptr() as usize).is_multiple_of(2));
        &mut self.0[start..start + 8]
    }
}

#[test]
fn misaligned_u16_view_is_refused_but_copies_work() {
    init();
    let info = VideoInfo::builder(VideoFormat::Gray16Le, 2, 2)
        .build()
        .unwrap();
    assert_eq!(info.size(), 8);
    let mut inner = OddAddress(vec![0u8; 9]);
    inner.as_mut().copy_from_slice(&[1, 0, 2, 0, 3, 1, 4, 1]);
    let frame = Frame::from_buffer(gst::Buffer::from_mut_slice(inner), &info).unwrap();
    assert_eq!(frame.plane_bytes(0).unwrap().as_ptr() as usize % 2, 1);
    let err = frame.view::<u16>().unwrap_err();
    assert!(
        matches!(err, FrameError::Misaligned { plane: 0, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("to_array()"));
    let array = frame.to_array::<u16>().unwrap();
    assert_eq!(array.iter().copied().collect::<Vec<_>>(), [1, 2, 259, 260]);
}

#[test]
fn sub_byte_formats_are_not_representable() {
    let frame = zeroed(VideoFormat::Rgb16, 5, 3);
    assert!(matches!(
        frame.view::<u8>(),
        Err(FrameError::NotRepresentable { .. })
    ));
    assert!(matches!(
        frame.planes::<u16>(),
        Err(FrameError::NotRepresentable { .. })
    ));
    assert_eq!(frame.plane_bytes(0).unwrap().len(), 12 * 3);
    assert_eq!(frame.stride(0).unwrap(), 12);
}

#[cfg(feature = "image")]
#[test]
fn image_conversions_of_unsupported_formats() {
    let frame = zeroed(VideoFormat::I420, 5, 3);
    assert!(matches!(
        frame.to_image(),
        Err(FrameError::ImageUnsupported {
            format: VideoFormat::I420
        })
    ));
    let frame = zeroed(VideoFormat::Bgr, 5, 3);
    let err = frame.image_view().unwrap_err();
    assert!(matches!(
        err,
        FrameError::ImageViewUnsupported {
            format: VideoFormat::Bgr
        }
    ));
    assert!(err.to_string().contains("to_image()"));
    assert!(frame.to_image().is_ok());
}

#[test]
fn samples_without_caps_or_video_caps() {
    init();
    let buffer = gst::Buffer::with_size(16).unwrap();
    let sample = gst::Sample::builder().buffer(&buffer).build();
    assert!(matches!(
        Frame::from_sample(&sample),
        Err(FrameError::NoCaps)
    ));
    let caps = gst::Caps::builder("audio/x-raw").build();
    let sample = gst::Sample::builder().buffer(&buffer).caps(&caps).build();
    assert!(matches!(
        Frame::from_sample(&sample),
        Err(FrameError::NotVideoCaps { .. })
    ));
    let info = VideoInfo::builder(VideoFormat::Gray8, 4, 4)
        .build()
        .unwrap();
    let sample = gst::Sample::builder()
        .caps(&info.to_caps().unwrap())
        .build();
    assert!(matches!(
        Frame::from_sample(&sample),
        Err(FrameError::NoBuffer)
    ));
}

#[test]
fn unknown_formats() {
    init();
    assert!(matches!(
        format_info(VideoFormat::Encoded),
        Err(FrameError::UnknownFormat { .. })
    ));
    assert!(matches!(
        format_info(VideoFormat::Unknown),
        Err(FrameError::UnknownFormat { .. })
    ));
}
