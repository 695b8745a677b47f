//! Arrays of whichever sample type the format holds: the one `u8`/`u16` dispatch.

use ndarray::{Array3, ArrayView3};

use crate::error::FrameError;
use crate::format::SampleType;
use crate::frame::Frame;

/// An owned `(height, width, channels)` array of the frame's own sample type.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyArray {
    /// 8-bit samples.
    U8(Array3<u8>),
    /// 9- to 16-bit samples, in native byte order.
    U16(Array3<u16>),
}

/// A zero-copy `(height, width, channels)` view of the frame's own sample type.
#[derive(Debug, Clone, PartialEq)]
pub enum AnyView<'a> {
    /// 8-bit samples.
    U8(ArrayView3<'a, u8>),
    /// 9- to 16-bit samples, in native byte order.
    U16(ArrayView3<'a, u16>),
}

impl AnyArray {
    /// The sample type held.
    pub fn sample_type(&self) -> SampleType {
        match self {
            AnyArray::U8(_) => SampleType::U8,
            AnyArray::U16(_) => SampleType::U16,
        }
    }

    /// The array's shape `[rows, columns, channels]`.
    pub fn dims(&self) -> [usize; 3] {
        let (h, w, c) = match self {
            AnyArray::U8(a) => a.dim(),
            AnyArray::U16(a) => a.dim(),
        };
        [h, w, c]
    }
}

impl AnyView<'_> {
    /// The sample type held.
    pub fn sample_type(&self) -> SampleType {
        match self {
            AnyView::U8(_) => SampleType::U8,
            AnyView::U16(_) => SampleType::U16,
        }
    }

    /// The view's shape `[rows, columns, channels]`.
    pub fn dims(&self) -> [usize; 3] {
        let (h, w, c) = match self {
            AnyView::U8(v) => v.dim(),
            AnyView::U16(v) => v.dim(),
        };
        [h, w, c]
    }

    /// An owned, contiguous copy.
    pub fn to_owned_array(&self) -> AnyArray {
        match self {
            AnyView::U8(v) => AnyArray::U8(v.to_owned()),
            AnyView::U16(v) => AnyArray::U16(v.to_owned()),
        }
    }
}

impl Frame {
    /// [`to_array`](Frame::to_array) in the format's own sample type.
    ///
    /// # Errors
    /// As [`to_array`](Frame::to_array); [`FrameError::NotRepresentable`] for formats that
    /// are not whole samples.
    pub fn to_any_array(&self) -> Result<AnyArray, FrameError> {
        match self.format_info().sample_type() {
            SampleType::U16 => self.to_array().map(AnyArray::U16),
            // u8, and the formats that are not samples at all: to_array says why.
            _ => self.to_array().map(AnyArray::U8),
        }
    }

    /// [`planes_to_arrays`](Frame::planes_to_arrays) in the format's own sample type.
    ///
    /// # Errors
    /// As [`planes_to_arrays`](Frame::planes_to_arrays).
    pub fn planes_to_any_arrays(&self) -> Result<Vec<AnyArray>, FrameError> {
        match self.format_info().sample_type() {
            SampleType::U16 => Ok(self
                .planes_to_arrays()?
                .into_iter()
                .map(AnyArray::U16)
                .collect()),
            _ => Ok(self
                .planes_to_arrays()?
                .into_iter()
                .map(AnyArray::U8)
                .collect()),
        }
    }

    /// [`view`](Frame::view) in the format's own sample type.
    ///
    /// # Errors
    /// As [`view`](Frame::view).
    pub fn view_any(&self) -> Result<AnyView<'_>, FrameError> {
        match self.format_info().sample_type() {
            SampleType::U16 => self.view().map(AnyView::U16),
            _ => self.view().map(AnyView::U8),
        }
    }

    /// [`planes`](Frame::planes) in the format's own sample type.
    ///
    /// # Errors
    /// As [`planes`](Frame::planes).
    pub fn planes_any(&self) -> Result<Vec<AnyView<'_>>, FrameError> {
        match self.format_info().sample_type() {
            SampleType::U16 => Ok(self.planes()?.into_iter().map(AnyView::U16).collect()),
            _ => Ok(self.planes()?.into_iter().map(AnyView::U8).collect()),
        }
    }
}
