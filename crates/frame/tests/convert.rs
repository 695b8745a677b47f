//! `YuvToRgb` against two references made without it, from the same `I420` frames, over
//! matrices, ranges, odd sizes and target formats:
//!
//! - the matrix equations of BT.601 / BT.709 / BT.2020 in floating point (each chroma sample
//!   for its 2x2 pixels): within 2 levels, except where a limited-range luma is below 16
//!   (converted as 16, so no darker than the equations);
//! - GStreamer's `videoconvert` with `chroma-mode=none` (no chroma interpolation), whose own
//!   8-bit matrix is a few levels off the equations (e.g. 251 for the 255 of a 100 % yellow
//!   bar): within 6 levels (luma below 16 aside). A wrong matrix, range or channel order is tens of
//!   levels off in both.

use crate::util::TestPipeline;
use gst_video::{VideoColorMatrix, VideoColorRange, VideoFormat};
use gstpipe_frame::{Frame, YuvToRgb};

/// `(pattern, colorimetry, width, height)`: natural-looking and synthetic content.
const CASES: &[(&str, &str, u32, u32)] = &[
    ("smpte", "bt601", 64, 48),
    ("smpte75", "bt709", 160, 90),
    ("colors", "bt709", 33, 17),
    ("ball", "bt709", 31, 21),
    ("colors", "bt2020", 40, 30),
    ("colors", "1:4:0:0", 32, 32), // BT.601 matrix, full range (JPEG's)
    ("smpte100", "bt601", 17, 9),
];

/// The equations: RGB in 0..=255 (unclamped) of one pixel.
fn equations(frame: &Frame, x: usize, y: usize) -> [f64; 3] {
    let colorimetry = frame.info().colorimetry();
    let (kr, kb) = match colorimetry.matrix() {
        VideoColorMatrix::Bt601 => (0.299, 0.114),
        VideoColorMatrix::Bt709 => (0.2126, 0.0722),
        VideoColorMatrix::Bt2020 => (0.2627, 0.0593),
        other => panic!("no equations for {other:?}"),
    };
    let planes = frame.planes::<u8>().unwrap();
    let (luma, cb, cr) = (
        f64::from(planes[0][[y, x, 0]]),
        f64::from(planes[1][[y / 2, x / 2, 0]]) - 128.0,
        f64::from(planes[2][[y / 2, x / 2, 0]]) - 128.0,
    );
    let (luma, cb, cr) = match colorimetry.range() {
        VideoColorRange::Range16_235 => (
            (luma - 16.0) * 255.0 / 219.0,
            cb * 255.0 / 224.0,
            cr * 255.0 / 224.0,
        ),
        _ => (luma, cb, cr),
    };
    let r = luma + 2.0 * (1.0 - kr) * cr;
    let b = luma + 2.0 * (1.0 - kb) * cb;
    let g = (luma - kr * r - kb * b) / (1.0 - kr - kb);
    [r, g, b]
}

#[test]
fn yuv_to_rgb_agrees_with_the_equations_and_with_videoconvert() {
    for &(pattern, colorimetry, width, height) in CASES {
        for (target, name, order) in [
            (VideoFormat::Rgb, "RGB", [0, 1, 2]),
            (VideoFormat::Bgr, "BGR", [2, 1, 0]),
            (VideoFormat::Rgba, "RGBA", [0, 1, 2]),
            (VideoFormat::Bgrx, "BGRx", [2, 1, 0]),
        ] {
            let description = format!(
                "videotestsrc pattern={pattern} num-buffers=1 ! video/x-raw,format=I420,\
                 width={width},height={height},colorimetry={colorimetry} ! tee name=t \
                 t. ! queue ! appsink name=yuv sync=false \
                 t. ! queue ! videoconvert chroma-mode=none dither=none ! \
                 video/x-raw,format={name} ! appsink name=rgb sync=false"
            );
            let case = format!("{pattern} {colorimetry} {width}x{height} {name}");
            let pipeline = TestPipeline::launch(&description);
            let yuv = Frame::from_sample(&pipeline.pull("yuv")).unwrap();
            let reference = Frame::from_sample(&pipeline.pull("rgb")).unwrap();
            let conversion = YuvToRgb::new(yuv.info(), target)
                .unwrap_or_else(|| panic!("no conversion for {case}"));
            let converted = conversion.convert(&yuv).unwrap();
            assert_eq!(converted.format(), target);
            assert_eq!(converted.pts(), yuv.pts(), "timestamps are carried");
            let ours = converted.view::<u8>().unwrap();
            let theirs = reference.view::<u8>().unwrap();
            assert_eq!(ours.dim(), theirs.dim(), "{case}");
            let limited = yuv.info().colorimetry().range() == VideoColorRange::Range16_235;
            let luma = &yuv.planes::<u8>().unwrap()[0];
            let (mut off_equations, mut off_videoconvert) = (0.0f64, 0i32);
            for y in 0..height as usize {
                for x in 0..width as usize {
                    let exact = equations(&yuv, x, y);
                    for (channel, &at) in order.iter().enumerate() {
                        let value = ours[[y, x, at]];
                        let expected = exact[channel].round().clamp(0.0, 255.0);
                        if limited && luma[[y, x, 0]] < 16 {
                            // Converted as luma 16 (the documented exception): brighter.
                            assert!(f64::from(value) >= expected - 2.0, "{case} at {x},{y}");
                            continue;
                        }
                        off_equations = off_equations.max((f64::from(value) - expected).abs());
                        let other = i32::from(theirs[[y, x, at]]);
                        off_videoconvert = off_videoconvert.max((i32::from(value) - other).abs());
                    }
                }
            }
            assert!(
                off_equations <= 2.0,
                "{case}: {off_equations} levels off the equations"
            );
            assert!(
                off_videoconvert <= 6,
                "{case}: {off_videoconvert} levels off videoconvert"
            );
        }
    }
}

#[test]
fn yuv_to_rgb_refuses_what_it_does_not_convert() {
    crate::util::init();
    let info = |format, colorimetry: &str| {
        gst_video::VideoInfo::builder(format, 8, 8)
            .colorimetry(&colorimetry.parse().unwrap())
            .build()
            .unwrap()
    };
    // Other sources, other targets, an unknown matrix: `videoconvert` is the way.
    assert!(YuvToRgb::new(&info(VideoFormat::Nv12, "bt601"), VideoFormat::Rgb).is_none());
    assert!(YuvToRgb::new(&info(VideoFormat::I42010le, "bt709"), VideoFormat::Rgb).is_none());
    assert!(YuvToRgb::new(&info(VideoFormat::I420, "bt601"), VideoFormat::Gray8).is_none());
    assert!(YuvToRgb::new(&info(VideoFormat::I420, "1:0:0:0"), VideoFormat::Rgb).is_none());
    let interlaced = gst_video::VideoInfo::builder(VideoFormat::I420, 8, 8)
        .interlace_mode(gst_video::VideoInterlaceMode::Interleaved)
        .build()
        .unwrap();
    assert!(YuvToRgb::new(&interlaced, VideoFormat::Rgb).is_none());
    // A frame of another size than the conversion's: a typed error naming both.
    let conversion = YuvToRgb::new(&info(VideoFormat::I420, "bt601"), VideoFormat::Rgb).unwrap();
    let small = gst_video::VideoInfo::builder(VideoFormat::I420, 4, 4)
        .build()
        .unwrap();
    let frame = Frame::from_buffer(gst::Buffer::with_size(small.size()).unwrap(), &small).unwrap();
    let err = conversion.convert(&frame).unwrap_err().to_string();
    assert!(err.contains("8x8") && err.contains("4x4"), "{err}");
}
