//! `Frame`: a mapped video buffer handing out stride-correct views and copies.

use std::fmt;

use gst_video::VideoFrameExt as _;
use gst_video::video_frame::{IsVideoFrame as _, Readable};
use ndarray::{Array3, ArrayView3, ArrayViewMut3, ShapeBuilder as _};

use crate::error::FrameError;
use crate::format::{ByteOrder, FormatInfo, Layout};
use crate::layout::{FrameLayout, is_alternate};
use crate::sample::SampleValue;

/// Bytes of the `RGB8P` palette plane: 256 32-bit entries.
pub(crate) const PALETTE_BYTES: usize = 256 * 4;

/// One mapped, readable video frame.
///
/// A `Frame` owns a `gst_video::VideoFrame` (the buffer mapped for reading through
/// `gst_video_frame_map`, so `VideoMeta` strides and offsets are honoured) and hands out
/// [`view`](Frame::view)s and [`planes`](Frame::planes) that borrow from it without copying,
/// and owned copies ([`to_array`](Frame::to_array), `to_image` with the `image` feature).
///
/// Every plane is checked against the mapped memory when the frame is built: a buffer smaller
/// than its caps (or its `VideoMeta`) promise is an error, never a read past its end.
///
/// While a frame is alive its buffer does not return to the upstream buffer pool: holding many
/// frames from a camera or decoder can stall it. Copy (`to_array`) and drop frames you keep.
///
/// `Frame` is `Send` and `Sync`.
pub struct Frame {
    frame: gst_video::VideoFrame<Readable>,
    /// The mapped frame's layout (from the `VideoMeta`'s size when there is one).
    layout: FrameLayout,
    /// Whole-buffer mapping for tiled formats and `interlace-mode=alternate` frames, whose
    /// plane sizes `VideoFrame::plane_data` gets wrong (tile-encoded strides; full-frame
    /// rows for a one-field buffer).
    whole: Option<gst::MappedBuffer<gst::buffer::Readable>>,
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frame")
            .field("format", &self.format())
            .field("width", &self.width())
            .field("height", &self.height())
            .field("pts", &self.pts())
            .field("strides", &self.info().stride())
            .finish()
    }
}

impl Frame {
    /// Maps the buffer of `sample` using its caps.
    ///
    /// # Errors
    /// [`FrameError::NoCaps`], [`FrameError::NotVideoCaps`], [`FrameError::NoBuffer`], and
    /// everything [`Frame::from_buffer`] returns.
    pub fn from_sample(sample: &gst::Sample) -> Result<Frame, FrameError> {
        let caps = sample.caps().ok_or(FrameError::NoCaps)?;
        let info = gst_video::VideoInfo::from_caps(caps).map_err(|_| FrameError::NotVideoCaps {
            caps: caps.to_owned(),
        })?;
        let buffer = sample.buffer_owned().ok_or(FrameError::NoBuffer)?;
        Frame::from_buffer(buffer, &info)
    }

    /// Maps `buffer` for reading as a frame described by `info`. A `VideoMeta` on the buffer
    /// (custom strides and offsets) takes precedence over `info`'s layout. A buffer made of
    /// several memories is merged by the mapping (a copy).
    ///
    /// # Errors
    /// [`FrameError::BufferTooSmall`] when the buffer (or a plane its `VideoMeta` describes)
    /// is smaller than needed, [`FrameError::InvalidStride`] for zero, negative or too short
    /// strides, [`FrameError::Map`] when GStreamer cannot map it, its `VideoMeta`
    /// contradicts `info` or `info` is not valid (caps with a negative width give such
    /// infos), [`FrameError::UnknownFormat`].
    pub fn from_buffer(
        buffer: gst::Buffer,
        info: &gst_video::VideoInfo,
    ) -> Result<Frame, FrameError> {
        let format = info.format();
        let caps_layout = FrameLayout::new(info)?;
        if !info.is_valid() {
            // gst_video::VideoFrame asserts this (a panic); caps such as `width=-1` or
            // `width=4294967295` still give a VideoInfo.
            return Err(FrameError::Map {
                format,
                reason: format!(
                    "the video info is not valid ({}x{}, {} bytes)",
                    info.width() as i32,
                    info.height() as i32,
                    info.size()
                ),
            });
        }
        caps_layout.check_buffer(&buffer)?;
        let has_meta = match buffer.meta::<gst_video::VideoMeta>() {
            Some(meta) => {
                tracing::trace!(%format, offsets = ?meta.offset(), strides = ?meta.stride(), "mapping with VideoMeta");
                true
            }
            None => false,
        };
        let needs_whole = caps_layout.format_info().layout() == Layout::Tiled || is_alternate(info);
        let whole = if needs_whole {
            Some(
                buffer
                    .clone()
                    .into_mapped_buffer_readable()
                    .map_err(|_| FrameError::Map {
                        format,
                        reason: "the buffer is not readable".to_owned(),
                    })?,
            )
        } else {
            None
        };
        let frame = gst_video::VideoFrame::from_buffer_readable(buffer, info).map_err(|_| {
            FrameError::Map {
                format,
                reason: "gst_video_frame_map() failed (unreadable memory or inconsistent \
                         VideoMeta)"
                    .to_owned(),
            }
        })?;
        // The mapped info carries the VideoMeta's size when there is one.
        let layout = if has_meta {
            FrameLayout::new(frame.info())?
        } else {
            caps_layout
        };
        let frame = Frame {
            frame,
            layout,
            whole,
        };
        frame.validate_planes(info)?;
        Ok(frame)
    }

    /// Checks every plane's stride and that `stride * rows` bytes are mapped behind it, which
    /// makes `VideoFrame::plane_data` (a slice of exactly that length) sound to call. Tiled
    /// planes must hold at least the bytes `info` (the caps) gives them.
    fn validate_planes(&self, info: &gst_video::VideoInfo) -> Result<(), FrameError> {
        if self.is_tiled() {
            return self.validate_tiled_planes(info);
        }
        for plane in 0..self.n_planes() {
            let needed = self.plane_len(plane)?;
            let available = match &self.whole {
                Some(mapped) => mapped
                    .len()
                    .saturating_sub(self.frame.plane_offset()[plane]),
                None => self.mapped_bytes_after(plane),
            };
            if needed > available {
                return Err(FrameError::BufferTooSmall {
                    format: self.format(),
                    expected: needed,
                    found: available,
                });
            }
        }
        Ok(())
    }

    /// Tiled planes have no rows to check: each must hold (up to the next plane or the end
    /// of the buffer, as `plane_bytes` slices it) at least the bytes the caps give it, also
    /// when a `VideoMeta` moved it.
    fn validate_tiled_planes(&self, info: &gst_video::VideoInfo) -> Result<(), FrameError> {
        let offsets = &info.offset()[..self.n_planes()];
        for (plane, &start) in offsets.iter().enumerate() {
            let end = offsets
                .iter()
                .copied()
                .filter(|&o| o > start)
                .min()
                .unwrap_or(info.size());
            let needed = end.saturating_sub(start);
            let available = self.plane_bytes(plane).map_or(0, <[u8]>::len);
            if available < needed {
                return Err(FrameError::BufferTooSmall {
                    format: self.format(),
                    expected: needed,
                    found: available,
                });
            }
        }
        Ok(())
    }

    fn is_tiled(&self) -> bool {
        self.layout.format_info().layout() == Layout::Tiled
    }

    /// Bytes of plane `plane`: `stride * rows` (the palette: 1024), after checking the
    /// stride. Without a whole-buffer mapping this is what `VideoFrame::plane_data` slices.
    fn plane_len(&self, plane: usize) -> Result<usize, FrameError> {
        if self.is_palette(plane) {
            return Ok(PALETTE_BYTES);
        }
        let stride = self.frame.plane_stride()[plane];
        let row_bytes = self.row_bytes(plane);
        let invalid = || FrameError::InvalidStride {
            format: self.format(),
            plane,
            stride: i64::from(stride),
            row_bytes,
        };
        let stride = usize::try_from(stride).map_err(|_| invalid())?;
        if stride == 0 || stride < row_bytes {
            return Err(invalid());
        }
        Ok(stride * self.plane_rows(plane))
    }

    /// Rows of `plane` in this buffer (a field's rows for `interlace-mode=alternate`).
    fn plane_rows(&self, plane: usize) -> usize {
        let finfo = self.frame.format_info();
        match u8::try_from(finfo.component(plane as u32)[0]) {
            Ok(comp) => finfo.scale_height(comp, self.rows()) as usize,
            Err(_) => 0,
        }
    }

    /// Bytes one row of `plane` needs (1 when not representable as samples: any positive
    /// stride will do).
    fn row_bytes(&self, plane: usize) -> usize {
        self.layout.plane(plane).map_or(1, |p| p.row_bytes())
    }

    fn is_palette(&self, plane: usize) -> bool {
        self.layout.format_info().layout() == Layout::Paletted && plane == 1
    }

    /// How many mapped bytes follow the start of `plane`, read from the `GstVideoFrame`'s own
    /// map records: without `VideoMeta` the whole buffer is one mapping (`map[0]`); with one,
    /// each plane maps the memory holding its offset (`map[plane]`).
    fn mapped_bytes_after(&self, plane: usize) -> usize {
        let raw = self.frame.as_raw();
        let map = if raw.meta.is_null() {
            &raw.map[0]
        } else {
            &raw.map[plane]
        };
        let start = map.data as usize;
        let end = start.saturating_add(map.size);
        let data = raw.data[plane] as usize;
        if start == 0 || data < start || data > end {
            0
        } else {
            end - data
        }
    }

    fn check_plane(&self, plane: usize) -> Result<(), FrameError> {
        if plane < self.n_planes() {
            Ok(())
        } else {
            Err(FrameError::PlaneOutOfRange {
                format: self.format(),
                plane,
                n_planes: self.n_planes(),
            })
        }
    }

    /// The frame's video info: the caps' info, with the strides, offsets and size of the
    /// buffer's `VideoMeta` when it has one.
    pub fn info(&self) -> &gst_video::VideoInfo {
        self.frame.info()
    }

    /// The pixel format.
    pub fn format(&self) -> gst_video::VideoFormat {
        self.frame.format()
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.frame.width()
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.frame.height()
    }

    /// Rows in the buffer: the height, or the field height for `interlace-mode=alternate`.
    fn rows(&self) -> u32 {
        self.layout.rows()
    }

    /// The format's description (layout, sample type, channels, ...).
    pub fn format_info(&self) -> FormatInfo {
        self.layout.format_info()
    }

    /// The arrays this frame maps to: per plane `(rows, columns, channels)` and sample type
    /// (rows of one field for `interlace-mode=alternate`).
    pub fn layout(&self) -> &FrameLayout {
        &self.layout
    }

    /// Number of memory planes.
    pub fn n_planes(&self) -> usize {
        self.layout.n_planes()
    }

    /// Array shapes `(rows, columns, channels)` of this frame's planes; empty when the
    /// format is not representable as samples.
    pub fn plane_shapes(&self) -> Vec<[usize; 3]> {
        self.layout.shapes()
    }

    /// Presentation timestamp of the buffer.
    pub fn pts(&self) -> Option<gst::ClockTime> {
        self.buffer().pts()
    }

    /// Decoding timestamp of the buffer.
    pub fn dts(&self) -> Option<gst::ClockTime> {
        self.buffer().dts()
    }

    /// Duration of the buffer.
    pub fn duration(&self) -> Option<gst::ClockTime> {
        self.buffer().duration()
    }

    /// Buffer offset (for video usually the frame number, or `u64::MAX` when unset).
    pub fn offset(&self) -> u64 {
        self.buffer().offset()
    }

    /// Buffer flags (`DELTA_UNIT`, `DISCONT`, ...).
    pub fn flags(&self) -> gst::BufferFlags {
        self.buffer().flags()
    }

    /// The underlying buffer.
    pub fn buffer(&self) -> &gst::BufferRef {
        self.frame.buffer()
    }

    /// The object detections attached to the buffer as region-of-interest metas (see
    /// [`crate::detections`](crate::Detection)).
    pub fn detections(&self) -> Vec<crate::Detection> {
        crate::detections(self.buffer())
    }

    /// Unmaps the frame and returns its buffer.
    pub fn into_buffer(self) -> gst::Buffer {
        self.frame.into_buffer()
    }

    /// Raw bytes of plane `plane`, for every format including sub-byte and tiled ones:
    /// `stride * rows` bytes starting at the plane's first row (the last row's padding
    /// included); for tiled formats the bytes up to the next plane (or the buffer's end); for
    /// the `RGB8P` palette 1024 bytes.
    ///
    /// # Errors
    /// [`FrameError::PlaneOutOfRange`]; [`FrameError::BufferTooSmall`] for a tiled plane
    /// outside the buffer.
    pub fn plane_bytes(&self, plane: usize) -> Result<&[u8], FrameError> {
        self.check_plane(plane)?;
        let Some(mapped) = &self.whole else {
            // plane_data() slices `stride * rows` bytes from the plane pointer;
            // validate_planes() checked at construction that this many bytes are mapped there.
            return self
                .frame
                .plane_data(plane as u32)
                .map_err(|e| FrameError::Map {
                    format: self.format(),
                    reason: e.to_string(),
                });
        };
        let offsets = &self.frame.plane_offset()[..self.n_planes()];
        let start = offsets[plane];
        let end = if self.is_tiled() {
            offsets
                .iter()
                .copied()
                .filter(|&o| o > start)
                .min()
                .unwrap_or(mapped.len())
        } else {
            start + self.plane_len(plane)?
        };
        mapped.get(start..end).ok_or(FrameError::BufferTooSmall {
            format: self.format(),
            expected: end,
            found: mapped.len(),
        })
    }

    /// Row stride of plane `plane` in bytes (from the `VideoMeta` when there is one). For
    /// tiled formats this is GStreamer's tile-encoded stride.
    ///
    /// # Errors
    /// [`FrameError::PlaneOutOfRange`].
    pub fn stride(&self, plane: usize) -> Result<usize, FrameError> {
        self.check_plane(plane)?;
        // Validated positive at construction for non-tiled formats.
        Ok(self.frame.plane_stride()[plane].unsigned_abs() as usize)
    }

    /// Byte distance between rows of the array of `plane` (the palette is one row).
    fn row_stride(&self, plane: usize) -> usize {
        if self.is_palette(plane) {
            PALETTE_BYTES
        } else {
            self.frame.plane_stride()[plane].unsigned_abs() as usize
        }
    }

    fn ensure_native_order(&self) -> Result<(), FrameError> {
        let order = self.layout.format_info().byte_order();
        if order.is_native() {
            Ok(())
        } else {
            Err(FrameError::ForeignByteOrder {
                format: self.format(),
                order,
                native: ByteOrder::NATIVE,
            })
        }
    }

    /// Zero-copy view of a packed frame, shape `(height, width, channels)` with the real
    /// strides (row padding is skipped, never read).
    ///
    /// # Errors
    /// [`FrameError::NotPacked`] for planar formats (use [`planes`](Frame::planes)),
    /// [`FrameError::NotRepresentable`] for sub-byte formats (use
    /// [`plane_bytes`](Frame::plane_bytes)), [`FrameError::WrongSampleType`],
    /// [`FrameError::ForeignByteOrder`] for big-endian `u16` formats (use
    /// [`to_array`](Frame::to_array)), [`FrameError::Misaligned`] when the memory is not
    /// 2-byte aligned for `u16`.
    pub fn view<T: SampleValue>(&self) -> Result<ArrayView3<'_, T>, FrameError> {
        self.layout.ensure_packed()?;
        self.layout.ensure_sample_type(T::TYPE)?;
        self.ensure_native_order()?;
        self.plane_view(0)
    }

    /// Zero-copy views of every plane, in memory plane order (`I420`: Y, U, V; `YV12`: Y, V,
    /// U; `NV12`: Y `(h, w, 1)`, UV `(ceil(h/2), ceil(w/2), 2)`). Works for packed formats
    /// too (one plane).
    ///
    /// # Errors
    /// As [`view`](Frame::view), except that planar formats are fine.
    pub fn planes<T: SampleValue>(&self) -> Result<Vec<ArrayView3<'_, T>>, FrameError> {
        self.layout.ensure_representable()?;
        self.layout.ensure_sample_type(T::TYPE)?;
        self.ensure_native_order()?;
        (0..self.n_planes()).map(|p| self.plane_view(p)).collect()
    }

    fn plane_view<T: SampleValue>(&self, plane: usize) -> Result<ArrayView3<'_, T>, FrameError> {
        let format = self.format();
        let shape = self.layout.plane(plane)?.dims();
        let bytes = self.plane_bytes(plane)?;
        let size = T::TYPE.size_bytes();
        let row_stride = self.row_stride(plane);
        if !row_stride.is_multiple_of(size) {
            return Err(FrameError::Misaligned { format, plane });
        }
        let samples: &[T] = bytemuck::try_cast_slice(bytes)
            .map_err(|_| FrameError::Misaligned { format, plane })?;
        let [h, w, c] = shape;
        ArrayView3::from_shape((h, w, c).strides((row_stride / size, c, 1)), samples).map_err(
            |_| FrameError::BufferTooSmall {
                format,
                expected: (h.saturating_sub(1)) * row_stride + w * c * size,
                found: bytes.len(),
            },
        )
    }

    /// Contiguous copy of a packed frame, shape `(height, width, channels)`: one copy (row by
    /// row when rows are padded), big-endian samples converted to native order. Works at any
    /// memory alignment.
    ///
    /// # Errors
    /// [`FrameError::NotPacked`], [`FrameError::NotRepresentable`],
    /// [`FrameError::WrongSampleType`].
    pub fn to_array<T: SampleValue>(&self) -> Result<Array3<T>, FrameError> {
        self.layout.ensure_packed()?;
        self.layout.ensure_sample_type(T::TYPE)?;
        self.copy_plane(0)
    }

    /// Contiguous copies of every plane (see [`planes`](Frame::planes) for the shapes),
    /// converted to native byte order.
    ///
    /// # Errors
    /// [`FrameError::NotRepresentable`], [`FrameError::WrongSampleType`].
    pub fn planes_to_arrays<T: SampleValue>(&self) -> Result<Vec<Array3<T>>, FrameError> {
        self.layout.ensure_representable()?;
        self.layout.ensure_sample_type(T::TYPE)?;
        (0..self.n_planes()).map(|p| self.copy_plane(p)).collect()
    }

    /// Copies a packed frame into `out`, an array you own of shape `(height, width,
    /// channels)` in standard (C) layout: row padding skipped, big-endian samples converted to
    /// native order, one copy (a single one when the frame's rows are tight). Works at any
    /// memory alignment.
    ///
    /// # Errors
    /// As [`to_array`](Frame::to_array); [`FrameError::ShapeMismatch`] when `out` has another
    /// shape or is not in standard layout (its shape is then reported with the layout's
    /// shape, so the message names both). `out` is not written on error.
    pub fn copy_into<T: SampleValue>(&self, out: ArrayViewMut3<'_, T>) -> Result<(), FrameError> {
        self.layout.ensure_packed()?;
        self.copy_plane_into(0, out)
    }

    /// Copies plane `plane` into `out` as [`copy_into`](Frame::copy_into) does for packed
    /// frames (see [`planes`](Frame::planes) for the plane shapes).
    ///
    /// # Errors
    /// [`FrameError::PlaneOutOfRange`], [`FrameError::NotRepresentable`],
    /// [`FrameError::WrongSampleType`], [`FrameError::ShapeMismatch`].
    pub fn copy_plane_into<T: SampleValue>(
        &self,
        plane: usize,
        mut out: ArrayViewMut3<'_, T>,
    ) -> Result<(), FrameError> {
        self.layout.ensure_representable()?;
        self.layout.ensure_sample_type(T::TYPE)?;
        self.check_plane(plane)?;
        let (h, w, c) = out.dim();
        let expected = self.layout.plane(plane)?.dims();
        let dst = match out.as_slice_mut() {
            Some(dst) if [h, w, c] == expected => dst,
            _ => {
                return Err(FrameError::ShapeMismatch {
                    format: self.format(),
                    plane,
                    expected,
                    found: [h, w, c],
                });
            }
        };
        let swap = !self.layout.format_info().byte_order().is_native();
        let mut at = 0;
        self.for_each_rows::<T>(plane, |rows| {
            let n = rows.len() / T::TYPE.size_bytes();
            T::copy_from_bytes(&mut dst[at..at + n], rows, swap);
            at += n;
        })
    }

    /// Appends a packed frame's samples to `out` in `(height, width, channels)` order, as
    /// [`copy_into`](Frame::copy_into) copies them: for stacking frames into a growing batch
    /// without first filling it with zeros.
    ///
    /// # Errors
    /// As [`to_array`](Frame::to_array); `out` is unchanged on error.
    pub fn append_to<T: SampleValue>(&self, out: &mut Vec<T>) -> Result<(), FrameError> {
        self.layout.ensure_packed()?;
        self.layout.ensure_sample_type(T::TYPE)?;
        self.append_plane(0, out)
    }

    fn copy_plane<T: SampleValue>(&self, plane: usize) -> Result<Array3<T>, FrameError> {
        let [h, w, c] = self.layout.plane(plane)?.dims();
        let mut out = Vec::with_capacity(h * w * c);
        self.append_plane(plane, &mut out)?;
        Ok(Array3::from_shape_vec((h, w, c), out).expect("one sample per element appended"))
    }

    fn append_plane<T: SampleValue>(
        &self,
        plane: usize,
        out: &mut Vec<T>,
    ) -> Result<(), FrameError> {
        let swap = !self.layout.format_info().byte_order().is_native();
        let [h, w, c] = self.layout.plane(plane)?.dims();
        out.reserve(h * w * c);
        self.for_each_rows::<T>(plane, |rows| T::extend_from_bytes(out, rows, swap))
    }

    /// The strided copy: calls `each` with the bytes of the rows of `T` samples of `plane`,
    /// in order, row padding left out: once with every row when the rows are tight, else once
    /// per row. Checks first that the plane holds every row, so `each` is called for all rows
    /// or not at all.
    fn for_each_rows<T: SampleValue>(
        &self,
        plane: usize,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), FrameError> {
        let (bytes, [h, _, _], row_bytes, row_stride) = self.checked_plane::<T>(plane)?;
        if row_stride == row_bytes {
            each(&bytes[..h * row_bytes]);
        } else {
            for row in 0..h {
                let start = row * row_stride;
                each(&bytes[start..start + row_bytes]);
            }
        }
        Ok(())
    }

    #[cfg(feature = "image")]
    /// Samples of packed plane 0 reordered per pixel: for each pixel, the samples at
    /// `offsets` (in samples), converted to native order. One pass over the memory.
    pub(crate) fn gather_packed<T: SampleValue>(
        &self,
        offsets: &[usize],
    ) -> Result<Vec<T>, FrameError> {
        self.layout.ensure_packed()?;
        self.layout.ensure_sample_type(T::TYPE)?;
        let size = T::TYPE.size_bytes();
        let [h, w, c] = self.layout.plane(0)?.dims();
        let swap = !self.layout.format_info().byte_order().is_native();
        let mut out = Vec::with_capacity(h * w * offsets.len());
        self.for_each_rows::<T>(0, |rows| {
            for px in rows.chunks_exact(c * size) {
                out.extend(offsets.iter().map(|&o| T::read_one(&px[o * size..], swap)));
            }
        })?;
        Ok(out)
    }

    /// A plane's bytes, shape, row length in bytes and row stride, checked to hold every
    /// row of `T` samples the shape promises.
    fn checked_plane<T: SampleValue>(&self, plane: usize) -> Result<CheckedPlane<'_>, FrameError> {
        let format = self.format();
        let shape @ [h, w, c] = self.layout.plane(plane)?.dims();
        let bytes = self.plane_bytes(plane)?;
        let row_bytes = w * c * T::TYPE.size_bytes();
        let row_stride = self.row_stride(plane);
        let needed = h.saturating_sub(1) * row_stride + row_bytes;
        if bytes.len() < needed {
            return Err(FrameError::BufferTooSmall {
                format,
                expected: needed,
                found: bytes.len(),
            });
        }
        Ok((bytes, shape, row_bytes, row_stride))
    }

    #[cfg(feature = "image")]
    /// Plane 0 bytes plus its geometry `(bytes, [h, w, c], row_stride)` for zero-copy image
    /// views.
    pub(crate) fn packed_bytes(&self) -> Result<(&[u8], [usize; 3], usize), FrameError> {
        self.layout.ensure_packed()?;
        let shape = self.layout.plane(0)?.dims();
        Ok((self.plane_bytes(0)?, shape, self.row_stride(0)))
    }
}

/// `(bytes, [h, w, c], row bytes, row stride)` of a plane checked by `checked_plane`.
type CheckedPlane<'a> = (&'a [u8], [usize; 3], usize, usize);

#[cfg(test)]
mod tests {
    use super::*;
    use gst_video::{VideoFormat, VideoInfo};

    fn init() {
        gst::init().unwrap();
    }

    #[test]
    fn frame_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Frame>();
    }

    #[test]
    fn padded_rgb_view_has_real_strides() {
        init();
        // RGB 5x2: default stride 16, rows of 15 bytes + 1 padding byte.
        let info = VideoInfo::builder(VideoFormat::Rgb, 5, 2).build().unwrap();
        assert_eq!(info.stride()[0], 16);
        let mut data = vec![0xEEu8; 32];
        for row in 0..2 {
            for i in 0..15 {
                data[row * 16 + i] = (row * 15 + i) as u8;
            }
        }
        let frame = Frame::from_buffer(gst::Buffer::from_mut_slice(data), &info).unwrap();
        let view = frame.view::<u8>().unwrap();
        assert_eq!(view.shape(), &[2, 5, 3]);
        assert_eq!(view.strides(), &[16, 3, 1]);
        let expected: Vec<u8> = (0..30).collect();
        assert_eq!(view.iter().copied().collect::<Vec<_>>(), expected);
        assert_eq!(
            frame.to_array::<u8>().unwrap().into_raw_vec_and_offset().0,
            expected
        );
    }

    #[test]
    fn short_buffer_is_rejected_before_mapping() {
        init();
        let info = VideoInfo::builder(VideoFormat::Rgb, 5, 2).build().unwrap();
        let err = Frame::from_buffer(gst::Buffer::with_size(31).unwrap(), &info).unwrap_err();
        assert!(matches!(
            err,
            FrameError::BufferTooSmall {
                expected: 32,
                found: 31,
                ..
            }
        ));
    }

    #[test]
    fn alternate_interlace_buffer_holds_one_field() {
        init();
        let info = VideoInfo::builder(VideoFormat::I420, 7, 10)
            .interlace_mode(gst_video::VideoInterlaceMode::Alternate)
            .build()
            .unwrap();
        // One field: 5 luma rows of stride 8, 3 chroma rows of stride 4 each.
        assert_eq!(info.field_height(), 5);
        let data: Vec<u8> = (0..info.size()).map(|i| i as u8).collect();
        let offsets = info.offset().to_vec();
        let frame = Frame::from_buffer(gst::Buffer::from_mut_slice(data), &info).unwrap();
        assert_eq!(frame.plane_shapes(), [[5, 7, 1], [3, 4, 1], [3, 4, 1]]);
        let planes = frame.planes::<u8>().unwrap();
        assert_eq!(planes[0][[4, 6, 0]], (4 * 8 + 6) as u8);
        assert_eq!(planes[2][[2, 3, 0]], (offsets[2] + 2 * 4 + 3) as u8);
        assert_eq!(frame.plane_bytes(2).unwrap().len(), 12);
    }

    #[test]
    fn plane_out_of_range() {
        init();
        let info = VideoInfo::builder(VideoFormat::Gray8, 3, 3)
            .build()
            .unwrap();
        let frame =
            Frame::from_buffer(gst::Buffer::with_size(info.size()).unwrap(), &info).unwrap();
        assert!(matches!(
            frame.plane_bytes(1),
            Err(FrameError::PlaneOutOfRange {
                plane: 1,
                n_planes: 1,
                ..
            })
        ));
        assert!(frame.stride(1).is_err());
        assert_eq!(frame.stride(0).unwrap(), 4);
    }
}
