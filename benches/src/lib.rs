//! Shared helpers for the gstpipe benchmarks: prepared buffers, the row-reading work every
//! variant does, and the resolutions measured.
//!
//! ```
//! let (buffer, info) = gstpipe_benches::prepared_buffer(gstpipe_benches::gst_video::VideoFormat::Rgb, 64, 48);
//! assert_eq!(buffer.size(), info.size());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub use gst;
pub use gst_video;
use ndarray::ArrayView3;

/// A resolution measured by the benches, with a short label.
#[derive(Debug, Clone, Copy)]
pub struct Resolution {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Label used in benchmark ids (`640x480`, `1080p`, `4k`).
    pub label: &'static str,
}

/// 640x480, 1920x1080 and 3840x2160.
pub const RESOLUTIONS: [Resolution; 3] = [
    Resolution {
        width: 640,
        height: 480,
        label: "640x480",
    },
    Resolution {
        width: 1920,
        height: 1080,
        label: "1080p",
    },
    Resolution {
        width: 3840,
        height: 2160,
        label: "4k",
    },
];

/// Initialises GStreamer (idempotent).
pub fn init() {
    gst::init().expect("GStreamer initialises");
}

/// A buffer of `format` at `width` x `height` with GStreamer's default strides, filled with a
/// non-uniform byte pattern, and its `VideoInfo`.
pub fn prepared_buffer(
    format: gst_video::VideoFormat,
    width: u32,
    height: u32,
) -> (gst::Buffer, gst_video::VideoInfo) {
    init();
    let info = gst_video::VideoInfo::builder(format, width, height)
        .build()
        .expect("valid video info");
    let bytes: Vec<u8> = (0..info.size()).map(|i| (i * 31 % 251) as u8).collect();
    (gst::Buffer::from_mut_slice(bytes), info)
}

/// Sums every byte of every row of a plane given as raw bytes, stride and row length: the
/// reading a hand-written loop does.
#[inline]
pub fn read_rows_raw(data: &[u8], stride: usize, row_bytes: usize, rows: usize) -> u64 {
    let mut sum = 0u64;
    for y in 0..rows {
        let row = &data[y * stride..y * stride + row_bytes];
        sum = sum.wrapping_add(row.iter().map(|&b| u64::from(b)).sum::<u64>());
    }
    sum
}

/// Sums every byte of every row of a `(rows, columns, channels)` view, row by row: the same
/// reading through a gstpipe view.
#[inline]
pub fn read_rows_view(view: &ArrayView3<'_, u8>) -> u64 {
    let mut sum = 0u64;
    for row in view.outer_iter() {
        let row = row.to_slice().expect("rows of a frame view are contiguous");
        sum = sum.wrapping_add(row.iter().map(|&b| u64::from(b)).sum::<u64>());
    }
    sum
}

/// Reads the first byte of every row through raw bytes and a stride.
#[inline]
pub fn touch_rows_raw(data: &[u8], stride: usize, rows: usize) -> u64 {
    (0..rows).map(|y| u64::from(data[y * stride])).sum()
}

/// Reads the first byte of every row through a view.
#[inline]
pub fn touch_rows_view(view: &ArrayView3<'_, u8>) -> u64 {
    view.outer_iter().map(|row| u64::from(row[[0, 0]])).sum()
}
