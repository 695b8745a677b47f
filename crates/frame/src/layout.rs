//! [`FrameLayout`]: the arrays a frame described by a `VideoInfo` maps to. Reading buffers
//! ([`Frame`](crate::Frame)), writing them ([`array_to_buffer`](crate::array_to_buffer),
//! [`Input`](crate::Input)) and pushing them (gstpipe-sinks' `FrameSource`) all take their
//! expected shapes, sample types and checks from here.

use std::fmt;

use gst_video::{VideoFormat, VideoInfo, VideoInterlaceMode};

use crate::error::FrameError;
use crate::format::{FormatInfo, SampleType, format_info};

/// The array one memory plane maps to: `(rows, cols, channels)` samples of `sample_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaneShape {
    /// Rows of the plane in one buffer (subsampled planes round up; a field's rows for
    /// `interlace-mode=alternate`).
    pub rows: usize,
    /// Columns (array elements per row).
    pub cols: usize,
    /// Samples per element: the last axis (`RGB` 3, `BGRx` 4, `NV12`'s UV plane 2).
    pub channels: usize,
    /// The element type (`u8` or `u16`).
    pub sample_type: SampleType,
}

impl PlaneShape {
    /// `[rows, cols, channels]`, the array shape.
    pub const fn dims(&self) -> [usize; 3] {
        [self.rows, self.cols, self.channels]
    }

    /// Bytes of one row without padding: `cols * channels * sample size`.
    pub const fn row_bytes(&self) -> usize {
        self.cols * self.channels * self.sample_type.size_bytes()
    }
}

impl fmt::Display for PlaneShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "({}, {}, {}) {}",
            self.rows, self.cols, self.channels, self.sample_type
        )
    }
}

const NO_PLANE: PlaneShape = PlaneShape {
    rows: 0,
    cols: 0,
    channels: 0,
    sample_type: SampleType::None,
};

/// What a buffer described by a `VideoInfo` holds as arrays: one [`PlaneShape`] per memory
/// plane, with the checks every conversion runs. The single source of truth for expected
/// shapes and sample types: [`Frame`](crate::Frame), the array-to-buffer functions and
/// gstpipe-sinks' `FrameSource` all ask it.
///
/// Rows are counted per buffer: with `interlace-mode=alternate` each buffer holds one field,
/// so a plane has [`VideoInfo::field_height`] rows (rounded up), not the frame's height.
///
/// Cheap to build (a table lookup) and `Copy`: no allocation.
///
/// ```
/// use gst_video::{VideoFormat, VideoInfo, VideoInterlaceMode};
/// use gstpipe_frame::{FrameLayout, SampleType};
///
/// gst::init()?;
/// let info = VideoInfo::builder(VideoFormat::Nv12, 5, 3).build()?;
/// let layout = FrameLayout::new(&info)?;
/// assert_eq!(layout.shapes(), [[3, 5, 1], [2, 3, 2]]);
/// assert_eq!(layout.sample_type(), SampleType::U8);
/// assert!(layout.check_plane(1, &[2, 3, 1], SampleType::U8).is_err()); // channels: 2, not 1
///
/// // One field per buffer: 10 rows of luma become 5.
/// let info = VideoInfo::builder(VideoFormat::Gray8, 4, 10)
///     .interlace_mode(VideoInterlaceMode::Alternate)
///     .build()?;
/// assert_eq!(FrameLayout::new(&info)?.shapes(), [[5, 4, 1]]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameLayout {
    format: FormatInfo,
    width: u32,
    height: u32,
    rows: u32,
    size: usize,
    planes: [PlaneShape; 4],
    /// Planes that are arrays: the format's planes, or 0 when it is not representable.
    n_arrays: usize,
}

impl FrameLayout {
    /// The layout of buffers described by `info`.
    ///
    /// # Errors
    /// [`FrameError::UnknownFormat`] for `Unknown`/`Encoded` formats; [`FrameError::Init`]
    /// when GStreamer cannot be initialised.
    pub fn new(info: &VideoInfo) -> Result<FrameLayout, FrameError> {
        let format = format_info(info.format())?;
        let (width, rows) = (info.width(), info.field_height());
        let mut planes = [NO_PLANE; 4];
        let mut n_arrays = 0;
        for (p, slot) in planes.iter_mut().enumerate().take(format.n_planes()) {
            let Some([r, c, ch]) = format.plane_shape(p, width, rows) else {
                break;
            };
            *slot = PlaneShape {
                rows: r,
                cols: c,
                channels: ch,
                sample_type: format.sample_type(),
            };
            n_arrays += 1;
        }
        Ok(FrameLayout {
            format,
            width,
            height: info.height(),
            rows,
            size: info.size(),
            planes,
            n_arrays,
        })
    }

    /// The format's description.
    pub fn format_info(&self) -> FormatInfo {
        self.format
    }

    /// The pixel format.
    pub fn format(&self) -> VideoFormat {
        self.format.format()
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height of the whole frame in pixels (both fields for `interlace-mode=alternate`).
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Rows of pixels one buffer holds: the height, or the field height for
    /// `interlace-mode=alternate`.
    pub fn rows(&self) -> u32 {
        self.rows
    }

    /// Whether each buffer holds one field (`interlace-mode=alternate`).
    pub fn is_field(&self) -> bool {
        self.rows != self.height
    }

    /// Bytes of a buffer with the `VideoInfo`'s default layout.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The element type of every plane ([`SampleType::None`] when not representable).
    pub fn sample_type(&self) -> SampleType {
        self.format.sample_type()
    }

    /// Number of memory planes.
    pub fn n_planes(&self) -> usize {
        self.format.n_planes()
    }

    /// Every plane's array, in memory plane order; empty when the format is not representable
    /// as samples (sub-byte and tiled formats).
    pub fn planes(&self) -> &[PlaneShape] {
        &self.planes[..self.n_arrays]
    }

    /// Every plane's `[rows, cols, channels]`; empty when the format is not representable.
    pub fn shapes(&self) -> Vec<[usize; 3]> {
        self.planes().iter().map(PlaneShape::dims).collect()
    }

    /// Plane `plane`'s array.
    ///
    /// # Errors
    /// [`FrameError::NotRepresentable`], [`FrameError::PlaneOutOfRange`].
    pub fn plane(&self, plane: usize) -> Result<PlaneShape, FrameError> {
        self.ensure_representable()?;
        self.planes()
            .get(plane)
            .copied()
            .ok_or(FrameError::PlaneOutOfRange {
                format: self.format(),
                plane,
                n_planes: self.n_planes(),
            })
    }

    /// Whether the planes are arrays of whole samples.
    ///
    /// # Errors
    /// [`FrameError::NotRepresentable`] for sub-byte and tiled formats.
    pub fn ensure_representable(&self) -> Result<(), FrameError> {
        if self.format.is_representable() {
            Ok(())
        } else {
            Err(FrameError::NotRepresentable {
                format: self.format(),
                layout: self.format.layout(),
            })
        }
    }

    /// Whether the whole frame is one array (`view()`, `to_array()`, `array_to_buffer()`).
    ///
    /// # Errors
    /// [`FrameError::NotRepresentable`], then [`FrameError::NotPacked`] for planar formats.
    pub fn ensure_packed(&self) -> Result<(), FrameError> {
        self.ensure_representable()?;
        if self.format.is_packed() {
            Ok(())
        } else {
            Err(FrameError::NotPacked {
                format: self.format(),
                layout: self.format.layout(),
                n_planes: self.n_planes(),
            })
        }
    }

    /// Whether arrays of `requested` fit the format.
    ///
    /// # Errors
    /// [`FrameError::WrongSampleType`] naming both types.
    pub fn ensure_sample_type(&self, requested: SampleType) -> Result<(), FrameError> {
        let expected = self.sample_type();
        if requested == expected {
            Ok(())
        } else {
            Err(FrameError::WrongSampleType {
                format: self.format(),
                expected,
                requested,
            })
        }
    }

    /// Whether `found` arrays are one per plane.
    ///
    /// # Errors
    /// [`FrameError::PlaneCountMismatch`].
    pub fn ensure_plane_count(&self, found: usize) -> Result<(), FrameError> {
        let expected = self.n_planes();
        if found == expected {
            Ok(())
        } else {
            Err(FrameError::PlaneCountMismatch {
                format: self.format(),
                expected,
                found,
            })
        }
    }

    /// Checks an array of `sample_type` with shape `shape` (any number of axes) against plane
    /// `plane`: representable, sample type, then shape.
    ///
    /// # Errors
    /// [`FrameError::NotRepresentable`], [`FrameError::WrongSampleType`],
    /// [`FrameError::PlaneOutOfRange`], [`FrameError::ShapeMismatch`] (expected and found).
    pub fn check_plane(
        &self,
        plane: usize,
        shape: &[usize],
        sample_type: SampleType,
    ) -> Result<PlaneShape, FrameError> {
        self.ensure_representable()?;
        self.ensure_sample_type(sample_type)?;
        let expected = self.plane(plane)?;
        if shape != expected.dims() {
            let mut found = [0; 3];
            for (f, s) in found.iter_mut().zip(shape) {
                *f = *s;
            }
            return Err(FrameError::ShapeMismatch {
                format: self.format(),
                plane,
                expected: expected.dims(),
                found,
            });
        }
        Ok(expected)
    }

    /// Checks that `buffer` can hold a frame of this layout before it is mapped or pushed:
    /// without a `VideoMeta` it must be at least [`size`](FrameLayout::size) bytes; with one,
    /// the meta must describe this format, at least this size, with as many planes (its own
    /// strides and offsets are checked when the buffer is mapped, by
    /// [`Frame::from_buffer`](crate::Frame::from_buffer)).
    ///
    /// # Errors
    /// [`FrameError::BufferTooSmall`]; [`FrameError::Map`] for a contradicting `VideoMeta`.
    pub fn check_buffer(&self, buffer: &gst::BufferRef) -> Result<(), FrameError> {
        let format = self.format();
        if let Some(meta) = buffer.meta::<gst_video::VideoMeta>() {
            if meta.format() != format
                || meta.width() < self.width
                || meta.height() < self.height
                || meta.n_planes() as usize != self.n_planes()
            {
                return Err(FrameError::Map {
                    format,
                    reason: format!(
                        "its VideoMeta ({} {}x{}, {} planes) contradicts the caps ({} {}x{}, {} \
                         planes)",
                        meta.format(),
                        meta.width(),
                        meta.height(),
                        meta.n_planes(),
                        format,
                        self.width,
                        self.height,
                        self.n_planes()
                    ),
                });
            }
            Ok(())
        } else if buffer.size() < self.size {
            Err(FrameError::BufferTooSmall {
                format,
                expected: self.size,
                found: buffer.size(),
            })
        } else {
            Ok(())
        }
    }
}

impl fmt::Display for FrameLayout {
    /// `RGB 64x48`, or `I420 8x10 (one field: 5 rows)` for alternate interlacing.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}x{}", self.format.name(), self.width, self.height)?;
        if self.is_field() {
            write!(f, " (one field: {} rows)", self.rows)?;
        }
        Ok(())
    }
}

/// Whether buffers described by `info` hold one field each.
pub(crate) fn is_alternate(info: &VideoInfo) -> bool {
    info.interlace_mode() == VideoInterlaceMode::Alternate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alternate_counts_field_rows() {
        gst::init().unwrap();
        let info = VideoInfo::builder(VideoFormat::I420, 7, 11)
            .interlace_mode(VideoInterlaceMode::Alternate)
            .build()
            .unwrap();
        let layout = FrameLayout::new(&info).unwrap();
        // 11 rows: fields of ceil(11/2) = 6 luma rows, 3 chroma rows.
        assert_eq!(layout.rows(), 6);
        assert_eq!(layout.shapes(), [[6, 7, 1], [3, 4, 1], [3, 4, 1]]);
        assert!(layout.is_field());
        assert_eq!(layout.to_string(), "I420 7x11 (one field: 6 rows)");
    }

    #[test]
    fn checks_name_expected_and_found() {
        gst::init().unwrap();
        let info = VideoInfo::builder(VideoFormat::Rgb, 5, 3).build().unwrap();
        let layout = FrameLayout::new(&info).unwrap();
        assert_eq!(layout.to_string(), "RGB 5x3");
        assert!(matches!(
            layout.check_plane(0, &[3, 5, 4], SampleType::U8),
            Err(FrameError::ShapeMismatch {
                plane: 0,
                expected: [3, 5, 3],
                found: [3, 5, 4],
                ..
            })
        ));
        assert!(matches!(
            layout.check_plane(0, &[3, 5, 3], SampleType::U16),
            Err(FrameError::WrongSampleType {
                expected: SampleType::U8,
                requested: SampleType::U16,
                ..
            })
        ));
        assert!(matches!(
            layout.check_plane(1, &[3, 5, 3], SampleType::U8),
            Err(FrameError::PlaneOutOfRange { plane: 1, .. })
        ));
        assert_eq!(
            layout.check_plane(0, &[3, 5, 3], SampleType::U8).unwrap(),
            PlaneShape {
                rows: 3,
                cols: 5,
                channels: 3,
                sample_type: SampleType::U8
            }
        );
        let too_small = gst::Buffer::with_size(47).unwrap();
        assert!(matches!(
            layout.check_buffer(&too_small),
            Err(FrameError::BufferTooSmall {
                expected: 48,
                found: 47,
                ..
            })
        ));
        let rgb16 = VideoInfo::builder(VideoFormat::Rgb16, 5, 3)
            .build()
            .unwrap();
        let layout = FrameLayout::new(&rgb16).unwrap();
        assert!(layout.planes().is_empty());
        assert!(matches!(
            layout.plane(0),
            Err(FrameError::NotRepresentable { .. })
        ));
    }
}
