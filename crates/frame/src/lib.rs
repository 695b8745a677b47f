//! GStreamer video buffers as stride-correct [`ndarray`] views, copies and images, and arrays
//! back into buffers.
//!
//! ```
//! use gstpipe_frame::{Frame, array_to_buffer};
//! use gst_video::{VideoFormat, VideoInfo};
//! use ndarray::Array3;
//!
//! gst::init()?;
//! // RGB at width 5 has 16-byte rows (15 bytes of pixels, 1 of padding).
//! let info = VideoInfo::builder(VideoFormat::Rgb, 5, 3).build()?;
//! let pixels = Array3::<u8>::from_shape_fn((3, 5, 3), |(y, x, c)| (y * 100 + x * 10 + c) as u8);
//! let buffer = array_to_buffer(pixels.clone(), &info)?; // copied into the padded layout
//! assert_eq!(buffer.size(), 48);
//!
//! let frame = Frame::from_buffer(buffer, &info)?;
//! let view = frame.view::<u8>()?; // zero copy, real strides: padding is skipped
//! assert_eq!(view.shape(), &[3, 5, 3]);
//! assert_eq!(view.strides(), &[16, 3, 1]);
//! assert_eq!(view, pixels);
//! assert_eq!(view[[2, 4, 1]], 241);
//!
//! // Planar formats: one view per plane; wrong calls are typed errors.
//! let info = VideoInfo::builder(VideoFormat::I420, 5, 3).build()?;
//! let frame = Frame::from_buffer(gst::Buffer::with_size(info.size())?, &info)?;
//! let shapes: Vec<_> = frame.planes::<u8>()?.iter().map(|p| p.shape().to_vec()).collect();
//! assert_eq!(shapes, [[3, 5, 1], [2, 3, 1], [2, 3, 1]]);
//! assert!(frame.view::<u8>().is_err()); // "I420 is a planar format ...: use planes()"
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Shapes
//!
//! Arrays follow memory. Packed formats give `(height, width, channels)` where channels is
//! the pixel stride in samples: `RGB` 3, `RGBA`/`BGRx`/`xRGB` 4 (padding included), `GRAY8` 1,
//! `YUY2` 2. Planar and semi-planar formats give one array per memory plane: `I420` Y
//! `(h, w, 1)`, U and V `(ceil(h/2), ceil(w/2), 1)`; `NV12` Y `(h, w, 1)` and UV
//! `(ceil(h/2), ceil(w/2), 2)`. 9- to 16-bit formats give `u16`. Bit-packed and tiled formats
//! (`RGB16`, `v210`, `NV12_4L4`, ...) are not arrays of samples: they give
//! [`FrameError::NotRepresentable`] and their bytes through [`Frame::plane_bytes`]. The whole
//! table is in [`formats`] / [`formats_markdown`].
//!
//! [`FrameLayout`] is the one place that knows, for a `VideoInfo`, each plane's expected
//! `(rows, columns, channels)` and sample type (counting one field's rows for
//! `interlace-mode=alternate`): reading ([`Frame`]) and writing ([`array_to_buffer`],
//! [`Input`]) both check against it.
//!
//! # RGB from YUV
//!
//! [`YuvToRgb`] turns 8-bit 4:2:0 frames (`I420`, `YV12`, progressive) into packed RGB
//! (`RGB`, `BGR`, `RGBA`, `BGRA`, `RGBx`, `BGRx`) with SIMD, following the frame's matrix and
//! range, at about a tenth of `videoconvert`'s CPU; gstpipe-media's reader uses it for RGB.
//!
//! # Features
//!
//! `image` (default): `Frame::to_image` and `Frame::image_view`, conversions to the
//! [`image`](https://docs.rs/image) crate. Without it gstpipe-frame does not depend on `image`.
//!
//! # Byte order
//!
//! Copies ([`Frame::to_array`], [`Frame::planes_to_arrays`], `Frame::to_image`) convert
//! big-endian formats (`GRAY16_BE`, `RGBA64_BE`, ...) to native order; a zero-copy `u16` view of
//! a foreign byte order is refused ([`FrameError::ForeignByteOrder`]) rather than showing
//! swapped values. Arrays going into buffers are converted to the format's order.
//!
//! # Lifetimes
//!
//! Views borrow from their [`Frame`], which keeps the buffer mapped; a view cannot outlive it:
//!
//! ```compile_fail,E0597
//! # use gstpipe_frame::Frame;
//! # use gst_video::{VideoFormat, VideoInfo};
//! # gst::init().unwrap();
//! let info = VideoInfo::builder(VideoFormat::Gray8, 4, 4).build().unwrap();
//! let view = {
//!     let frame = Frame::from_buffer(gst::Buffer::with_size(16).unwrap(), &info).unwrap();
//!     frame.view::<u8>().unwrap()
//! }; // error[E0597]: `frame` does not live long enough
//! println!("{}", view[[0, 0, 0]]);
//! ```
//!
//! GStreamer must be initialised (`gst::init()`) before buffers are made; the format table
//! functions initialise it themselves.

mod any_array;
mod convert;
mod detections;
mod error;
mod format;
mod frame;
#[cfg(feature = "image")]
mod image_interop;
mod layout;
mod sample;
mod to_buffer;

pub use crate::any_array::{AnyArray, AnyView};
pub use crate::convert::YuvToRgb;
pub use crate::detections::{
    Detection, PARAMS_NAME as DETECTION_PARAMS, add_detection, add_detections, clear_detections,
    detections, remove_detections,
};
pub use crate::error::FrameError;
pub use crate::format::{
    ByteOrder, FormatInfo, Layout, SampleType, channels, format_info, formats, formats_markdown,
    parse_format, sample_type,
};
pub use crate::frame::Frame;
pub use crate::layout::{FrameLayout, PlaneShape};
pub use crate::sample::SampleValue;
pub use crate::to_buffer::{Input, InputKind, array_to_buffer, planes_to_buffer, view_to_buffer};

/// The crates whose types appear in gstpipe-frame's API, re-exported so users need no
/// version match: `gstpipe_frame::gst`, `gstpipe_frame::gst_video`, `gstpipe_frame::ndarray`.
pub use {gst, gst_video, ndarray};
