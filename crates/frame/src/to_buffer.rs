//! Arrays to buffers: the way back into a pipeline (e.g. through `appsrc`).

use gst_video::{VideoFormat, VideoInfo};
use ndarray::{Array3, ArrayView3};

use crate::error::FrameError;
use crate::format::Layout;
use crate::format::SampleType;
use crate::frame::PALETTE_BYTES;
use crate::layout::FrameLayout;
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

/// A `VideoInfo` checked to accept arrays of one sample type.
struct Target<'a> {
    info: &'a VideoInfo,
    layout: FrameLayout,
    swap: bool,
}

impl<'a> Target<'a> {
    /// Checks the format takes arrays of `T` (and one array when `packed`).
    fn new<T: SampleValue>(info: &'a VideoInfo, packed: bool) -> Result<Self, FrameError> {
        let layout = FrameLayout::new(info)?;
        if packed {
            layout.ensure_packed()?;
        } else {
            layout.ensure_representable()?;
        }
        layout.ensure_sample_type(T::TYPE)?;
        Ok(Target {
            info,
            layout,
            swap: !layout.format_info().byte_order().is_native(),
        })
    }

    fn format(&self) -> VideoFormat {
        self.info.format()
    }

    /// Checks every plane's count and shape before anything is copied.
    fn check_planes<T: SampleValue>(&self, planes: &[ArrayView3<'_, T>]) -> Result<(), FrameError> {
        self.layout.ensure_plane_count(planes.len())?;
        for (p, plane) in planes.iter().enumerate() {
            self.layout.check_plane(p, plane.shape(), T::TYPE)?;
        }
        Ok(())
    }

    fn row_stride(&self, plane: usize, row_bytes: usize) -> Result<usize, FrameError> {
        if self.layout.format_info().layout() == Layout::Paletted && plane == 1 {
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
        self.layout.n_planes() == 1
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

    /// Copies `planes` into a new buffer laid out as `info` says, after checking them all.
    fn copy<T: SampleValue>(
        &self,
        planes: &[ArrayView3<'_, T>],
    ) -> Result<gst::Buffer, FrameError> {
        self.check_planes(planes)?;
        let size = T::TYPE.size_bytes();
        let total = self.info.size();
        let mut data = vec![0u8; total];
        for (p, plane) in planes.iter().enumerate() {
            let [h, w, c] = self.layout.plane(p)?.dims();
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
    let shape = target.layout.check_plane(0, array.shape(), T::TYPE)?.dims();
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

/// Copies one array per memory plane (shapes as [`FrameLayout::planes`] gives them:
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
    target.copy(planes)
}

/// Pixels on their way into a buffer: a view, an owned array, one array per plane, or a ready
/// buffer, of `u8` or `u16` samples. Built with `From` (`Input::from(array.view())`,
/// `array.into()`) or the named constructors, and turned into a buffer for a `VideoInfo` by
/// [`Input::into_buffer`] (what gstpipe-sinks' `FrameSource::push` does).
///
/// | from | becomes |
/// |---|---|
/// | `ArrayView3<T>`, `&Array3<T>` | one copy into the format's strides ([`view_to_buffer`]) |
/// | `Array3<T>` | the buffer's memory, without a copy when contiguous and rows need no padding ([`array_to_buffer`]) |
/// | `Vec<ArrayView3<T>>`, `&[ArrayView3<T>]`, `[ArrayView3<T>; N]` | one array per plane, copied ([`planes_to_buffer`]) |
/// | `gst::Buffer` | itself, after a size check ([`FrameLayout::check_buffer`]) |
///
/// Every array is checked against the [`FrameLayout`] of the `VideoInfo` first.
///
/// ```
/// use gst_video::{VideoFormat, VideoInfo};
/// use gstpipe_frame::{Frame, FrameError, Input};
/// use ndarray::Array3;
///
/// gst::init()?;
/// let info = VideoInfo::builder(VideoFormat::I420, 4, 2).build()?;
/// let y = Array3::<u8>::from_elem((2, 4, 1), 16);
/// let u = Array3::<u8>::from_elem((1, 2, 1), 128);
/// let buffer = Input::from([y.view(), u.view(), u.view()]).into_buffer(&info)?;
/// assert_eq!(Frame::from_buffer(buffer, &info)?.planes::<u8>()?[0], y);
///
/// let err = Input::from(&y).into_buffer(&info).unwrap_err();
/// assert!(matches!(err, FrameError::NotPacked { n_planes: 3, .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Input<'a>(Pixels<'a>);

/// What an [`Input`] holds.
#[derive(Debug)]
pub(crate) enum Pixels<'a> {
    ViewU8(ArrayView3<'a, u8>),
    ViewU16(ArrayView3<'a, u16>),
    ArrayU8(Array3<u8>),
    ArrayU16(Array3<u16>),
    PlanesU8(Vec<ArrayView3<'a, u8>>),
    PlanesU16(Vec<ArrayView3<'a, u16>>),
    Buffer(gst::Buffer),
}

/// What kind of pixels an [`Input`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InputKind {
    /// A borrowed `(rows, cols, channels)` view, copied.
    View,
    /// An owned `(rows, cols, channels)` array, wrapped without a copy when it can be.
    Array,
    /// One borrowed array per plane, copied.
    Planes,
    /// A ready buffer.
    Buffer,
}

impl<'a> Input<'a> {
    pub(crate) fn new(pixels: Pixels<'a>) -> Self {
        Input(pixels)
    }

    /// A `(rows, cols, channels)` view of a packed format, copied once into the format's
    /// strides.
    pub fn view<T: SampleValue>(view: ArrayView3<'a, T>) -> Self {
        T::view_input(view)
    }

    /// An owned `(rows, cols, channels)` array of a packed format: its memory becomes the
    /// buffer's when it is contiguous and the format's rows need no padding.
    pub fn array<T: SampleValue>(array: Array3<T>) -> Self {
        T::array_input(array)
    }

    /// One array per memory plane, in memory order (`I420`: Y, U, V; `NV12`: Y, UV), shapes
    /// as [`FrameLayout::planes`] gives them.
    pub fn planes<T: SampleValue>(planes: impl IntoIterator<Item = ArrayView3<'a, T>>) -> Self {
        T::planes_input(planes.into_iter().collect())
    }

    /// A ready buffer, pushed as it is (its size is checked).
    pub fn buffer(buffer: gst::Buffer) -> Self {
        Input(Pixels::Buffer(buffer))
    }

    /// What kind of pixels this is.
    pub fn kind(&self) -> InputKind {
        match &self.0 {
            Pixels::ViewU8(_) | Pixels::ViewU16(_) => InputKind::View,
            Pixels::ArrayU8(_) | Pixels::ArrayU16(_) => InputKind::Array,
            Pixels::PlanesU8(_) | Pixels::PlanesU16(_) => InputKind::Planes,
            Pixels::Buffer(_) => InputKind::Buffer,
        }
    }

    /// The arrays' sample type; `None` for a buffer.
    pub fn sample_type(&self) -> Option<SampleType> {
        match &self.0 {
            Pixels::ViewU8(_) | Pixels::ArrayU8(_) | Pixels::PlanesU8(_) => Some(SampleType::U8),
            Pixels::ViewU16(_) | Pixels::ArrayU16(_) | Pixels::PlanesU16(_) => {
                Some(SampleType::U16)
            }
            Pixels::Buffer(_) => None,
        }
    }

    /// The arrays' shapes (one per plane for planes, one otherwise); empty for a buffer.
    pub fn shapes(&self) -> Vec<[usize; 3]> {
        fn dims<S: ndarray::Data>(a: &ndarray::ArrayBase<S, ndarray::Ix3>) -> [usize; 3] {
            let (h, w, c) = a.dim();
            [h, w, c]
        }
        match &self.0 {
            Pixels::ViewU8(v) => vec![dims(v)],
            Pixels::ViewU16(v) => vec![dims(v)],
            Pixels::ArrayU8(a) => vec![dims(a)],
            Pixels::ArrayU16(a) => vec![dims(a)],
            Pixels::PlanesU8(p) => p.iter().map(dims).collect(),
            Pixels::PlanesU16(p) => p.iter().map(dims).collect(),
            Pixels::Buffer(_) => Vec::new(),
        }
    }

    /// A buffer laid out as `info` says: arrays are checked against `info`'s
    /// [`FrameLayout`] (sample type, plane count, shapes) and converted to its byte order; a
    /// ready buffer is checked with [`FrameLayout::check_buffer`] and returned as it is.
    ///
    /// # Errors
    /// [`FrameError::WrongSampleType`], [`FrameError::NotPacked`] (a single array for a planar
    /// format), [`FrameError::PlaneCountMismatch`], [`FrameError::ShapeMismatch`],
    /// [`FrameError::NotRepresentable`], [`FrameError::BufferTooSmall`] (a buffer smaller
    /// than a frame), [`FrameError::Map`] (a buffer whose `VideoMeta` contradicts `info`).
    pub fn into_buffer(self, info: &VideoInfo) -> Result<gst::Buffer, FrameError> {
        match self.0 {
            Pixels::ViewU8(v) => view_to_buffer(v, info),
            Pixels::ViewU16(v) => view_to_buffer(v, info),
            Pixels::ArrayU8(a) => array_to_buffer(a, info),
            Pixels::ArrayU16(a) => array_to_buffer(a, info),
            Pixels::PlanesU8(p) => planes_to_buffer(&p, info),
            Pixels::PlanesU16(p) => planes_to_buffer(&p, info),
            Pixels::Buffer(buffer) => {
                FrameLayout::new(info)?.check_buffer(&buffer)?;
                Ok(buffer)
            }
        }
    }
}

impl<'a, T: SampleValue> From<ArrayView3<'a, T>> for Input<'a> {
    fn from(view: ArrayView3<'a, T>) -> Self {
        Input::view(view)
    }
}

impl<'a, T: SampleValue> From<&'a Array3<T>> for Input<'a> {
    fn from(array: &'a Array3<T>) -> Self {
        Input::view(array.view())
    }
}

impl<T: SampleValue> From<Array3<T>> for Input<'_> {
    fn from(array: Array3<T>) -> Self {
        Input::array(array)
    }
}

impl<'a, T: SampleValue> From<Vec<ArrayView3<'a, T>>> for Input<'a> {
    fn from(planes: Vec<ArrayView3<'a, T>>) -> Self {
        T::planes_input(planes)
    }
}

impl<'a, T: SampleValue> From<&[ArrayView3<'a, T>]> for Input<'a> {
    fn from(planes: &[ArrayView3<'a, T>]) -> Self {
        T::planes_input(planes.to_vec())
    }
}

impl<'a, T: SampleValue, const N: usize> From<[ArrayView3<'a, T>; N]> for Input<'a> {
    fn from(planes: [ArrayView3<'a, T>; N]) -> Self {
        T::planes_input(planes.into())
    }
}

impl From<gst::Buffer> for Input<'_> {
    fn from(buffer: gst::Buffer) -> Self {
        Input::buffer(buffer)
    }
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
    fn alternate_interlace_takes_one_field_of_rows() {
        init();
        let info = VideoInfo::builder(VideoFormat::Nv12, 6, 9)
            .interlace_mode(gst_video::VideoInterlaceMode::Alternate)
            .build()
            .unwrap();
        // 9 rows: fields of 5 luma rows, 3 chroma rows.
        let y = Array3::<u8>::from_shape_fn((5, 6, 1), |(r, c, _)| (r * 6 + c) as u8);
        let uv =
            Array3::<u8>::from_shape_fn((3, 3, 2), |(r, c, k)| (100 + r * 6 + c * 2 + k) as u8);
        let buffer = Input::from([y.view(), uv.view()])
            .into_buffer(&info)
            .unwrap();
        let map = buffer.map_readable().unwrap();
        let (offset, stride) = (info.offset()[1], info.stride()[1] as usize);
        assert_eq!(map[offset + 2 * stride + 5], uv[[2, 2, 1]]);
        drop(map);
        let frame = crate::Frame::from_buffer(buffer, &info).unwrap();
        assert_eq!(frame.planes::<u8>().unwrap(), [y.view(), uv.view()]);
        // The frame's full height is refused.
        let full = Array3::<u8>::zeros((9, 6, 1));
        assert!(matches!(
            planes_to_buffer(&[full.view(), uv.view()], &info),
            Err(FrameError::ShapeMismatch {
                plane: 0,
                expected: [5, 6, 1],
                found: [9, 6, 1],
                ..
            })
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
