//! Arrays to buffers: the way back into a pipeline (e.g. through `appsrc`).

use gst_video::{VideoFormat, VideoInfo};
use ndarray::{Array3, ArrayView3};

use crate::error::FrameError;
use crate::format::{FormatInfo, Layout, format_info};
use crate::frame::PALETTE_BYTES;
use crate::sample::SampleValue;

/// A `Vec` of samples exposed to GStreamer as bytes, so it can back a buffer without copying.
struct SampleVec<T>(Vec<T>);

impl<T: SampleValue> AsMut<[u8]> for SampleVec<T> {
    fn as_mut(&mut self) -> &mut [u8] {
        bytemuck::cast_slice_mut(&mut self.0)
    }
}

impl<T: SampleValue> AsRef<[u8]> for SampleVec<T> {
    fn as_ref(&self) -> &[u8] {
        bytemuck::cast_slice(&self.0)
    }
}

/// A `VideoInfo` checked to accept arrays of `T`.
struct Target<'a> {
    info: &'a VideoInfo,
    format_info: FormatInfo,
    swap: bool,
}

impl<'a> Target<'a> {
    fn new<T: SampleValue>(info: &'a VideoInfo, packed: bool) -> Result<Self, FrameError> {
        let format = info.format();
        let format_info = format_info(format)?;
        if !format_info.is_representable() {
            return Err(FrameError::NotRepresentable {
                format,
                layout: format_info.layout(),
            });
        }
        if packed && !format_info.is_packed() {
            return Err(FrameError::NotPacked {
                format,
                layout: format_info.layout(),
                n_planes: format_info.n_planes(),
            });
        }
        if format_info.sample_type() != T::TYPE {
            return Err(FrameError::WrongSampleType {
                format,
                expected: format_info.sample_type(),
                requested: T::TYPE,
            });
        }
        Ok(Target {
            info,
            format_info,
            swap: !format_info.byte_order().is_native(),
        })
    }

    fn format(&self) -> VideoFormat {
        self.info.format()
    }

    fn expected_shape(&self, plane: usize) -> Result<[usize; 3], FrameError> {
        self.format_info
            .plane_shape(plane, self.info.width(), self.info.field_height())
            .ok_or(FrameError::NotRepresentable {
                format: self.format(),
                layout: self.format_info.layout(),
            })
    }

    fn check_shape(&self, plane: usize, shape: &[usize]) -> Result<[usize; 3], FrameError> {
        let expected = self.expected_shape(plane)?;
        if shape != expected {
            let mut found = [0; 3];
            for (f, s) in found.iter_mut().zip(shape) {
                *f = *s;
            }
            return Err(FrameError::ShapeMismatch {
                format: self.format(),
                plane,
                expected,
                found,
            });
        }
        Ok(expected)
    }

    fn row_stride(&self, plane: usize, row_bytes: usize) -> Result<usize, FrameError> {
        if self.format_info.layout() == Layout::Paletted && plane == 1 {
            return Ok(PALETTE_BYTES);
        }
        let stride = self.info.stride()[plane];
        match usize::try_from(stride) {
            Ok(s) if s >= row_bytes && s > 0 => Ok(s),
            _ => Err(FrameError::InvalidStride {
                format: self.format(),
                plane,
                stride: i64::from(stride),
                row_bytes,
            }),
        }
    }

    /// Whether one tight packed plane at offset 0 is exactly the buffer `info` describes.
    fn is_tight_packed(&self, shape: [usize; 3], size: usize) -> bool {
        let [h, w, c] = shape;
        let row_bytes = w * c * size;
        self.format_info.n_planes() == 1
            && self.info.offset()[0] == 0
            && usize::try_from(self.info.stride()[0]) == Ok(row_bytes)
            && self.info.size() == h * row_bytes
    }

    /// Adds a `VideoMeta` when `info`'s strides or offsets are not GStreamer's defaults, so
    /// that elements reading the buffer with the caps alone still find the rows.
    fn add_meta_if_needed(&self, buffer: &mut gst::Buffer) -> Result<(), FrameError> {
        let info = self.info;
        let default = VideoInfo::builder(info.format(), info.width(), info.height())
            .interlace_mode(info.interlace_mode())
            .build()
            .ok();
        let is_default = default.as_ref().is_some_and(|d| {
            d.stride() == info.stride() && d.offset() == info.offset() && d.size() == info.size()
        });
        if is_default {
            return Ok(());
        }
        let meta_error = |reason: String| FrameError::Map {
            format: info.format(),
            reason,
        };
        let buffer = buffer
            .get_mut()
            .ok_or_else(|| meta_error("buffer not writable".to_owned()))?;
        gst_video::VideoMeta::add_full(
            buffer,
            gst_video::VideoFrameFlags::empty(),
            info.format(),
            info.width(),
            info.height(),
            info.offset(),
            info.stride(),
        )
        .map_err(|e| meta_error(e.to_string()))?;
        Ok(())
    }

    /// Copies `planes` (shapes already checked) into a new buffer laid out as `info` says.
    fn copy<T: SampleValue>(
        &self,
        planes: &[ArrayView3<'_, T>],
    ) -> Result<gst::Buffer, FrameError> {
        let size = T::TYPE.size_bytes();
        let total = self.info.size();
        let mut data = vec![0u8; total];
        for (p, plane) in planes.iter().enumerate() {
            let [h, w, c] = self.check_shape(p, plane.shape())?;
            let row_bytes = w * c * size;
            let row_stride = self.row_stride(p, row_bytes)?;
            let offset = self.info.offset()[p];
            // Whole rows, the last one's padding included: what `Frame` (and
            // `VideoFrame::plane_data`) expect behind a plane when reading the buffer back.
            let needed = offset + h * row_stride;
            if needed > total {
                return Err(FrameError::BufferTooSmall {
                    format: self.format(),
                    expected: needed,
                    found: total,
                });
            }
            for (r, row) in plane.outer_iter().enumerate() {
                let start = offset + r * row_stride;
                let dst = &mut data[start..start + row_bytes];
                match row.as_slice() {
                    Some(samples) => T::write_bytes(samples, dst, self.swap),
                    None => {
                        for (d, v) in dst.chunks_exact_mut(size).zip(row.iter()) {
                            T::write_bytes(std::slice::from_ref(v), d, self.swap);
                        }
                    }
                }
            }
        }
        let mut buffer = gst::Buffer::from_mut_slice(data);
        self.add_meta_if_needed(&mut buffer)?;
        Ok(buffer)
    }
}

/// Turns an owned `(height, width, channels)` array of a packed format into a buffer.
///
/// When the array is contiguous (standard layout, as `Array3::zeros` or `to_array` make it)
/// and `info`'s rows have no padding (e.g. `RGBA`, `BGRx`, or `RGB` at widths that are
/// multiples of 4), its `Vec` becomes the buffer's memory without copying (big-endian formats
/// are byte-swapped in place first). Otherwise the samples are copied into `info`'s strides.
///
/// # Errors
/// [`FrameError::ShapeMismatch`], [`FrameError::WrongSampleType`], [`FrameError::NotPacked`]
/// (use [`planes_to_buffer`]), [`FrameError::NotRepresentable`].
pub fn array_to_buffer<T: SampleValue>(
    array: Array3<T>,
    info: &VideoInfo,
) -> Result<gst::Buffer, FrameError> {
    let target = Target::new::<T>(info, true)?;
    let shape = target.check_shape(0, array.shape())?;
    if !(array.is_standard_layout() && target.is_tight_packed(shape, T::TYPE.size_bytes())) {
        return target.copy(&[array.view()]);
    }
    let mut array = array;
    if target.swap {
        array.mapv_inplace(T::swapped);
    }
    let len = array.len();
    let (vec, offset) = array.into_raw_vec_and_offset();
    let offset = offset.unwrap_or(0);
    if offset != 0 || vec.len() != len {
        // A sliced owned array: its elements are contiguous but do not start the allocation.
        // Copy (and undo the in-place swap, which copy() redoes).
        let view = ArrayView3::from_shape(shape, &vec[offset..offset + len]).map_err(|_| {
            FrameError::ShapeMismatch {
                format: target.format(),
                plane: 0,
                expected: shape,
                found: shape,
            }
        })?;
        if target.swap {
            let unswapped = view.mapv(T::swapped);
            return target.copy(&[unswapped.view()]);
        }
        return target.copy(&[view]);
    }
    tracing::trace!(format = %target.format(), bytes = len * T::TYPE.size_bytes(), "wrapping array without copy");
    let mut buffer = gst::Buffer::from_mut_slice(SampleVec(vec));
    target.add_meta_if_needed(&mut buffer)?;
    Ok(buffer)
}

/// Copies a `(height, width, channels)` view of a packed format (any strides, e.g. a slice of
/// a bigger array or a [`Frame::view`](crate::Frame::view)) into a new buffer with `info`'s
/// strides, converting to the format's byte order.
///
/// # Errors
/// As [`array_to_buffer`].
pub fn view_to_buffer<T: SampleValue>(
    view: ArrayView3<'_, T>,
    info: &VideoInfo,
) -> Result<gst::Buffer, FrameError> {
    let target = Target::new::<T>(info, true)?;
    target.copy(&[view])
}

/// Copies one array per memory plane (shapes as [`FormatInfo::plane_shapes`] gives them:
/// `I420` Y, U, V; `NV12` Y and interleaved UV) into a new buffer with `info`'s strides and
/// offsets. Packed formats take a single array.
///
/// # Errors
/// [`FrameError::PlaneCountMismatch`], [`FrameError::ShapeMismatch`],
/// [`FrameError::WrongSampleType`], [`FrameError::NotRepresentable`].
pub fn planes_to_buffer<T: SampleValue>(
    planes: &[ArrayView3<'_, T>],
    info: &VideoInfo,
) -> Result<gst::Buffer, FrameError> {
    let target = Target::new::<T>(info, false)?;
    let expected = target.format_info.n_planes();
    if planes.len() != expected {
        return Err(FrameError::PlaneCountMismatch {
            format: target.format(),
            expected,
            found: planes.len(),
        });
    }
    target.copy(planes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::s;

    fn init() {
        gst::init().unwrap();
    }

    #[test]
    fn tight_contiguous_array_is_wrapped_without_copy() {
        init();
        let info = VideoInfo::builder(VideoFormat::Rgba, 3, 2).build().unwrap();
        let array = Array3::<u8>::from_shape_fn((2, 3, 4), |(y, x, c)| (y * 12 + x * 4 + c) as u8);
        let ptr = array.as_ptr();
        let buffer = array_to_buffer(array, &info).unwrap();
        let map = buffer.map_readable().unwrap();
        assert_eq!(map.as_ptr(), ptr, "the array's memory backs the buffer");
        assert_eq!(map.as_slice(), (0..24).collect::<Vec<u8>>().as_slice());
        assert!(buffer.meta::<gst_video::VideoMeta>().is_none());
    }

    #[test]
    fn padded_rows_are_copied_into_default_strides() {
        init();
        // RGB at width 5: stride 16, not 15.
        let info = VideoInfo::builder(VideoFormat::Rgb, 5, 2).build().unwrap();
        let array =
            Array3::<u8>::from_shape_fn((2, 5, 3), |(y, x, c)| (1 + y * 15 + x * 3 + c) as u8);
        let buffer = array_to_buffer(array, &info).unwrap();
        let map = buffer.map_readable().unwrap();
        assert_eq!(map.len(), 32);
        let expected_row0: Vec<u8> = (1..=15).collect();
        let expected_row1: Vec<u8> = (16..=30).collect();
        assert_eq!(&map[..15], expected_row0.as_slice());
        assert_eq!(map[15], 0);
        assert_eq!(&map[16..31], expected_row1.as_slice());
    }

    #[test]
    fn big_endian_is_swapped_in_place() {
        init();
        let info = VideoInfo::builder(VideoFormat::Gray16Be, 2, 1)
            .build()
            .unwrap();
        let array = Array3::<u16>::from_shape_vec((1, 2, 1), vec![0x0102, 0xA0B0]).unwrap();
        let buffer = array_to_buffer(array, &info).unwrap();
        let map = buffer.map_readable().unwrap();
        assert_eq!(map.as_slice(), &[0x01, 0x02, 0xA0, 0xB0]);
    }

    #[test]
    fn sliced_owned_array_is_copied_correctly() {
        init();
        let info = VideoInfo::builder(VideoFormat::Gray8, 4, 1)
            .build()
            .unwrap();
        let mut array = Array3::<u8>::from_shape_fn((2, 4, 1), |(y, x, _)| (y * 4 + x) as u8);
        array.slice_collapse(s![1..2, .., ..]);
        let buffer = array_to_buffer(array, &info).unwrap();
        let map = buffer.map_readable().unwrap();
        assert_eq!(map.as_slice(), &[4, 5, 6, 7]);
    }

    #[test]
    fn non_contiguous_view_is_copied() {
        init();
        let info = VideoInfo::builder(VideoFormat::Gray8, 2, 2)
            .build()
            .unwrap();
        let array = Array3::<u8>::from_shape_fn((2, 2, 1), |(y, x, _)| (y * 2 + x) as u8);
        let transposed = array.view().permuted_axes([1, 0, 2]);
        let buffer = view_to_buffer(transposed, &info).unwrap();
        let map = buffer.map_readable().unwrap();
        // stride 4: [0, 2, pad, pad, 1, 3, pad, pad]
        assert_eq!(map.as_slice(), &[0, 2, 0, 0, 1, 3, 0, 0]);
    }

    #[test]
    fn checks_shape_type_and_layout() {
        init();
        let info = VideoInfo::builder(VideoFormat::Rgb, 5, 3).build().unwrap();
        assert!(matches!(
            array_to_buffer(Array3::<u8>::zeros((3, 5, 4)), &info),
            Err(FrameError::ShapeMismatch {
                expected: [3, 5, 3],
                found: [3, 5, 4],
                ..
            })
        ));
        assert!(matches!(
            array_to_buffer(Array3::<u16>::zeros((3, 5, 3)), &info),
            Err(FrameError::WrongSampleType { .. })
        ));
        let i420 = VideoInfo::builder(VideoFormat::I420, 5, 3).build().unwrap();
        assert!(matches!(
            array_to_buffer(Array3::<u8>::zeros((3, 5, 1)), &i420),
            Err(FrameError::NotPacked { .. })
        ));
        let y = Array3::<u8>::zeros((3, 5, 1));
        assert!(matches!(
            planes_to_buffer(&[y.view()], &i420),
            Err(FrameError::PlaneCountMismatch {
                expected: 3,
                found: 1,
                ..
            })
        ));
        let rgb16 = VideoInfo::builder(VideoFormat::Rgb16, 5, 3)
            .build()
            .unwrap();
        assert!(matches!(
            array_to_buffer(Array3::<u8>::zeros((3, 5, 2)), &rgb16),
            Err(FrameError::NotRepresentable { .. })
        ));
    }

    #[test]
    fn custom_strides_get_a_video_meta() {
        init();
        let info = VideoInfo::builder(VideoFormat::Gray8, 3, 2)
            .stride(&[8])
            .offset(&[0])
            .size(16)
            .build()
            .unwrap();
        let array = Array3::<u8>::from_shape_fn((2, 3, 1), |(y, x, _)| (10 * y + x) as u8);
        let buffer = array_to_buffer(array, &info).unwrap();
        let meta = buffer.meta::<gst_video::VideoMeta>().expect("VideoMeta");
        assert_eq!(meta.stride(), &[8]);
        let map = buffer.map_readable().unwrap();
        assert_eq!(&map[..3], &[0, 1, 2]);
        assert_eq!(&map[8..11], &[10, 11, 12]);
    }
}
