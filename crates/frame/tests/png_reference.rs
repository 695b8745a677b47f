//! Pixel-exact equality with GStreamer's own `pngenc` output of the same frame (a `tee`
//! feeds both the appsink we read and pngenc), decoded by the `image` crate.

use gstpipe_frame::{Frame, FrameError};
use image::{ColorType, DynamicImage, ImageFormat};
use ndarray::{Array3, Axis};

use crate::util::TestPipeline;

const SIZES: &[(u32, u32, &str)] = &[
    (641, 481, "smpte"),
    (5, 3, "smpte"),
    (1, 1, "smpte"),
    (1920, 1080, "ball"),
];

/// Returns (raw frame, pngenc's image of the same buffer).
fn frame_and_png(
    format: &str,
    png_format: &str,
    w: u32,
    h: u32,
    pattern: &str,
) -> (Frame, DynamicImage) {
    // videotestsrc draws 16-bit formats with both bytes equal (v * 257): scaling bilinearly
    // from another size makes values whose bytes differ, so byte order mistakes show.
    let source = if format.starts_with("GRAY16") {
        format!(
            "video/x-raw,format={format},width={},height={} ! videoscale method=bilinear ! ",
            2 * w + 1,
            2 * h + 1
        )
    } else {
        String::new()
    };
    let p = TestPipeline::launch(&format!(
        "videotestsrc num-buffers=1 pattern={pattern} ! {source}\
         video/x-raw,format={format},width={w},height={h},framerate=30/1 ! tee name=t \
         t. ! queue ! appsink name=raw sync=false \
         t. ! queue ! videoconvert ! video/x-raw,format={png_format} ! \
              pngenc compression-level=1 snapshot=false ! appsink name=png sync=false"
    ));
    let raw = p.pull("raw");
    let png = p.pull("png");
    let bytes = png
        .buffer()
        .expect("png buffer")
        .map_readable()
        .expect("readable");
    let reference =
        image::load_from_memory_with_format(&bytes, ImageFormat::Png).expect("decodable PNG");
    assert_eq!((reference.width(), reference.height()), (w, h));
    (Frame::from_sample(&raw).expect("frame"), reference)
}

fn to_array3<T: Clone>(w: u32, h: u32, c: usize, data: Vec<T>) -> Array3<T> {
    Array3::from_shape_vec((h as usize, w as usize, c), data).expect("shape")
}

/// The pattern must not be uniform, or equality would prove little.
fn assert_non_uniform<T: PartialEq + Copy>(data: &[T], w: u32, h: u32) {
    if w * h >= 15 {
        assert!(
            data.iter().any(|v| *v != data[0]),
            "uniform reference at {w}x{h}"
        );
    }
}

fn check_rgb(format: &str, w: u32, h: u32, pattern: &str) {
    let (frame, reference) = frame_and_png(format, "RGB", w, h, pattern);
    assert_eq!(reference.color(), ColorType::Rgb8);
    let expected = to_array3(w, h, 3, reference.to_rgb8().into_raw());
    assert_non_uniform(expected.as_slice().unwrap(), w, h);
    let view = frame.view::<u8>().unwrap();
    match format {
        "RGB" => {
            assert_eq!(view, expected);
            assert_eq!(frame.to_array::<u8>().unwrap(), expected);
            let flat = frame.image_view().unwrap();
            let iv = flat.as_view::<image::Rgb<u8>>().unwrap();
            let rgb = reference.to_rgb8();
            for (x, y, px) in image::GenericImageView::pixels(&iv) {
                assert_eq!(px, *rgb.get_pixel(x, y));
            }
        }
        "BGRx" => {
            assert_eq!(view.shape(), &[h as usize, w as usize, 4]);
            assert_eq!(view.select(Axis(2), &[2, 1, 0]), expected);
        }
        other => unreachable!("{other}"),
    }
    assert_eq!(frame.to_image().unwrap(), reference, "{format} {w}x{h}");
}

#[test]
fn rgb_matches_pngenc() {
    for &(w, h, pattern) in SIZES {
        check_rgb("RGB", w, h, pattern);
    }
}

#[test]
fn bgrx_matches_pngenc() {
    for &(w, h, pattern) in SIZES {
        check_rgb("BGRx", w, h, pattern);
    }
}

#[test]
fn rgba_matches_pngenc() {
    for &(w, h, pattern) in SIZES {
        let (frame, reference) = frame_and_png("RGBA", "RGBA", w, h, pattern);
        assert_eq!(reference.color(), ColorType::Rgba8);
        let expected = to_array3(w, h, 4, reference.to_rgba8().into_raw());
        assert_non_uniform(expected.as_slice().unwrap(), w, h);
        assert_eq!(frame.view::<u8>().unwrap(), expected);
        assert_eq!(frame.to_array::<u8>().unwrap(), expected);
        assert_eq!(frame.to_image().unwrap(), reference);
        let flat = frame.image_view().unwrap();
        let iv = flat.as_view::<image::Rgba<u8>>().unwrap();
        let rgba = reference.to_rgba8();
        for (x, y, px) in image::GenericImageView::pixels(&iv) {
            assert_eq!(px, *rgba.get_pixel(x, y));
        }
    }
}

#[test]
fn gray8_matches_pngenc() {
    for &(w, h, pattern) in SIZES {
        let (frame, reference) = frame_and_png("GRAY8", "GRAY8", w, h, pattern);
        assert_eq!(reference.color(), ColorType::L8);
        let expected = to_array3(w, h, 1, reference.to_luma8().into_raw());
        assert_non_uniform(expected.as_slice().unwrap(), w, h);
        assert_eq!(frame.view::<u8>().unwrap(), expected);
        assert_eq!(frame.to_array::<u8>().unwrap(), expected);
        assert_eq!(frame.to_image().unwrap(), reference);
    }
}

#[test]
fn gray16_be_matches_pngenc() {
    for &(w, h, pattern) in SIZES {
        let (frame, reference) = frame_and_png("GRAY16_BE", "GRAY16_BE", w, h, pattern);
        assert_eq!(reference.color(), ColorType::L16);
        let expected = to_array3(w, h, 1, reference.to_luma16().into_raw());
        assert_non_uniform(expected.as_slice().unwrap(), w, h);
        // Values that differ in their two bytes prove the byte order is handled.
        assert!(expected.iter().any(|v| v >> 8 != v & 0xff), "{w}x{h}");
        assert_eq!(frame.to_array::<u16>().unwrap(), expected);
        assert_eq!(frame.planes_to_arrays::<u16>().unwrap(), vec![expected]);
        assert_eq!(frame.to_image().unwrap(), reference);
        assert!(matches!(
            frame.view::<u16>(),
            Err(FrameError::ForeignByteOrder { .. })
        ));
    }
}

/// The other packed RGB orders and GRAY16_LE, through a lossless videoconvert to a format
/// pngenc takes, at an odd size whose 3-byte formats have padded rows.
#[test]
fn other_orders_match_pngenc() {
    let cases = [
        ("BGR", "RGB"),
        ("RGBx", "RGB"),
        ("xRGB", "RGB"),
        ("xBGR", "RGB"),
        ("BGRA", "RGBA"),
        ("ARGB", "RGBA"),
        ("ABGR", "RGBA"),
        ("GRAY16_LE", "GRAY16_BE"),
    ];
    for (format, png_format) in cases {
        let (frame, reference) = frame_and_png(format, png_format, 641, 481, "smpte");
        assert_eq!(frame.to_image().unwrap(), reference, "{format}");
        // Zero-copy image views exist where the bytes are in image's order (skipping x).
        if matches!(format, "RGBx" | "xRGB") {
            let flat = frame.image_view().unwrap();
            let view = flat.as_view::<image::Rgb<u8>>().unwrap();
            let rgb = reference.to_rgb8();
            for (x, y, px) in image::GenericImageView::pixels(&view) {
                assert_eq!(px, *rgb.get_pixel(x, y), "{format} at {x},{y}");
            }
        }
    }
}
