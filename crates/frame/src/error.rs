//! The error type of gstpipe-frame.

use gst_video::VideoFormat;

use crate::format::{ByteOrder, Layout, SampleType};

/// Everything that can go wrong turning buffers into arrays and back. Each variant names the
/// format involved and, where there is one, the call to use instead.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// `view()`, `to_array()`, `array_to_buffer()` or `view_to_buffer()` on a format that is
    /// not one packed array.
    #[error(
        "{format} is a {layout} format with {n_planes} planes, not one packed array: \
         use planes() / planes_to_arrays() (or planes_to_buffer())"
    )]
    NotPacked {
        /// The format.
        format: VideoFormat,
        /// Its layout.
        layout: Layout,
        /// Its number of planes.
        n_planes: usize,
    },

    /// The sample type `T` asked for is not the format's.
    #[error("{format} holds {expected} samples, not {requested}: ask for {expected}")]
    WrongSampleType {
        /// The format.
        format: VideoFormat,
        /// The format's sample type.
        expected: SampleType,
        /// The sample type requested.
        requested: SampleType,
    },

    /// The format is bit-packed or tiled: its planes are not arrays of whole samples.
    #[error(
        "{format} is a {layout} format, not representable as arrays of u8/u16 samples: \
         use plane_bytes() and stride() for the raw bytes, or convert with videoconvert"
    )]
    NotRepresentable {
        /// The format.
        format: VideoFormat,
        /// Its layout ([`Layout::SubByte`] or [`Layout::Tiled`]).
        layout: Layout,
    },

    /// A zero-copy `u16` view of samples in foreign byte order was refused.
    #[error(
        "{format} stores {order}-endian u16 samples; a zero-copy view on this {native}-endian \
         machine would show byte-swapped values: use to_array() / planes_to_arrays(), which \
         convert to native order"
    )]
    ForeignByteOrder {
        /// The format.
        format: VideoFormat,
        /// The format's byte order.
        order: ByteOrder,
        /// This machine's byte order.
        native: ByteOrder,
    },

    /// The mapped memory or the stride of a plane is not aligned for a zero-copy `u16` view.
    #[error(
        "plane {plane} of {format} is not 2-byte aligned in memory (address or stride), so it \
         cannot be viewed as u16 without copying: use to_array() / planes_to_arrays()"
    )]
    Misaligned {
        /// The format.
        format: VideoFormat,
        /// The plane index.
        plane: usize,
    },

    /// An array's shape does not match what the `VideoInfo` needs.
    #[error(
        "plane {plane} of {format}: expected an array of shape {expected:?} (rows, columns, \
         channels), found {found:?}"
    )]
    ShapeMismatch {
        /// The format.
        format: VideoFormat,
        /// The plane index.
        plane: usize,
        /// The shape the `VideoInfo` requires.
        expected: [usize; 3],
        /// The shape given.
        found: [usize; 3],
    },

    /// The number of plane arrays does not match the format's planes.
    #[error("{format} has {expected} planes, {found} arrays were given")]
    PlaneCountMismatch {
        /// The format.
        format: VideoFormat,
        /// The format's number of planes.
        expected: usize,
        /// The number of arrays given.
        found: usize,
    },

    /// A plane index past the format's planes.
    #[error("{format} has {n_planes} planes, there is no plane {plane}")]
    PlaneOutOfRange {
        /// The format.
        format: VideoFormat,
        /// The plane asked for.
        plane: usize,
        /// The format's number of planes.
        n_planes: usize,
    },

    /// The buffer (or a plane described by its `VideoMeta`) is smaller than the caps and
    /// strides promise; nothing is read past its end.
    #[error("buffer too small for {format}: need {expected} bytes, found {found}")]
    BufferTooSmall {
        /// The format.
        format: VideoFormat,
        /// Bytes needed.
        expected: usize,
        /// Bytes available.
        found: usize,
    },

    /// A plane stride (from the `VideoInfo` or a `VideoMeta`) that cannot describe rows:
    /// zero, negative, or shorter than a row.
    #[error(
        "plane {plane} of {format} has unsupported stride {stride} (need at least {row_bytes} bytes per row)"
    )]
    InvalidStride {
        /// The format.
        format: VideoFormat,
        /// The plane index.
        plane: usize,
        /// The stride in bytes.
        stride: i64,
        /// The bytes one row of the plane needs.
        row_bytes: usize,
    },

    /// The sample has no caps.
    #[error("the sample has no caps: cannot tell the video format")]
    NoCaps,

    /// The sample has no buffer.
    #[error("the sample has no buffer")]
    NoBuffer,

    /// The caps are not raw video caps `VideoInfo` understands.
    #[error("not raw video caps: {caps}")]
    NotVideoCaps {
        /// The caps.
        caps: gst::Caps,
    },

    /// `Unknown`, `Encoded` or a format value this GStreamer does not know.
    #[error("{format:?} is not a raw video format")]
    UnknownFormat {
        /// The format.
        format: VideoFormat,
    },

    /// A format name that is not a raw video format GStreamer knows (names are
    /// case-sensitive, as in caps: `RGB`, `GRAY16_BE`, `NV12`).
    #[error(
        "unknown raw video format {name:?}{}: the formats table (`gstpipe formats`, \
         gstpipe.formats()) lists them",
        match suggestion { Some(s) => format!(" (did you mean {s:?}?)"), None => String::new() }
    )]
    UnknownFormatName {
        /// The name given.
        name: String,
        /// The format of that name in other letter case, when there is one.
        suggestion: Option<String>,
    },

    /// GStreamer refused to map the buffer as a video frame (unreadable memory, a `VideoMeta`
    /// that disagrees with the caps, ...).
    #[error("cannot map the {format} buffer as a video frame: {reason}")]
    Map {
        /// The format.
        format: VideoFormat,
        /// Why.
        reason: String,
    },

    /// `to_image()` for a format the `image` crate cannot hold.
    #[error(
        "to_image() supports packed 8/16-bit RGB(A)/BGR(A)/RGBx-style and GRAY8/GRAY16 formats, \
         not {format}: convert with videoconvert (e.g. to RGB) or use to_array() / planes()"
    )]
    ImageUnsupported {
        /// The format.
        format: VideoFormat,
    },

    /// `image_view()` for a format whose bytes are not in the `image` crate's channel order.
    #[error(
        "image_view() needs RGB, RGBx, xRGB, RGBA or GRAY8 (channels already in image order), \
         not {format}: use to_image(), which reorders while copying"
    )]
    ImageViewUnsupported {
        /// The format.
        format: VideoFormat,
    },

    /// A [`YuvToRgb`](crate::YuvToRgb) conversion given a frame it was not made for, or
    /// failing.
    #[error("cannot convert the {from} frame to {to}: {reason}")]
    Convert {
        /// The frame's format.
        from: VideoFormat,
        /// The conversion's target format.
        to: VideoFormat,
        /// Why.
        reason: String,
    },

    /// GStreamer could not be initialised.
    #[error("cannot initialise GStreamer: {reason}")]
    Init {
        /// GStreamer's message.
        reason: String,
    },
}
