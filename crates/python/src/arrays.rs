//! Describing a frame's planes to numpy: read-only arrays over the mapped memory, whose base
//! object is the Python `Frame` that keeps the memory mapped.

use gstpipe_frame::{ByteOrder, Frame, FrameError, SampleType, SampleValue};
use numpy::npyffi::{self, PY_ARRAY_API, npy_intp};
use numpy::{PyArrayDescr, PyArrayDescrMethods as _};
use pyo3::prelude::*;

/// Where a plane's samples are and how they are laid out.
pub(crate) struct PlaneLayout {
    data: *const u8,
    /// `(rows, columns, channels)`.
    shape: [usize; 3],
    /// Byte strides of the three axes.
    strides: [usize; 3],
    sample: SampleType,
    order: ByteOrder,
}

fn from_view<T: SampleValue>(view: ndarray::ArrayView3<'_, T>, order: ByteOrder) -> PlaneLayout {
    let size = T::TYPE.size_bytes();
    let (h, w, c) = view.dim();
    let s = view.strides();
    PlaneLayout {
        data: view.as_ptr().cast(),
        shape: [h, w, c],
        // Views of frames have positive strides.
        strides: [
            s[0] as usize * size,
            s[1] as usize * size,
            s[2] as usize * size,
        ],
        sample: T::TYPE,
        order,
    }
}

fn views<T: SampleValue>(frame: &Frame, packed: bool) -> Result<Vec<PlaneLayout>, FrameError> {
    let order = frame.format_info().byte_order();
    if packed {
        Ok(vec![from_view(frame.view::<T>()?, order)])
    } else {
        Ok(frame
            .planes::<T>()?
            .into_iter()
            .map(|v| from_view(v, order))
            .collect())
    }
}

/// Planes whose samples the Rust views refuse only because of their memory (big-endian
/// `u16`, or `u16` at an odd address): numpy describes both (`>u2`, unaligned arrays), so
/// they are laid out from the frame's plane bytes, strides and shapes. Formats, shapes and
/// sample types were already checked by the refused view.
fn raw_planes(frame: &Frame, packed: bool) -> Result<Vec<PlaneLayout>, FrameError> {
    let info = frame.format_info();
    let shapes = frame.plane_shapes();
    let n = if packed { 1 } else { shapes.len() };
    let size = info.sample_type().size_bytes();
    (0..n)
        .map(|p| {
            let [h, w, c] = shapes[p];
            let bytes = frame.plane_bytes(p)?;
            let stride = frame.stride(p)?;
            let needed = h.saturating_sub(1) * stride + w * c * size;
            if bytes.len() < needed || stride < w * c * size {
                return Err(FrameError::BufferTooSmall {
                    format: frame.format(),
                    expected: needed,
                    found: bytes.len(),
                });
            }
            Ok(PlaneLayout {
                data: bytes.as_ptr(),
                shape: [h, w, c],
                strides: [stride, c * size, size],
                sample: info.sample_type(),
                order: info.byte_order(),
            })
        })
        .collect()
}

/// The layout of every plane (`packed`: the one array of a packed format), or the Rust
/// crate's error saying why the frame is not that (planar, sub-byte, ...).
pub(crate) fn layouts(frame: &Frame, packed: bool) -> Result<Vec<PlaneLayout>, FrameError> {
    match frame.format_info().sample_type() {
        SampleType::U16 => match views::<u16>(frame, packed) {
            Err(FrameError::ForeignByteOrder { .. } | FrameError::Misaligned { .. }) => {
                raw_planes(frame, packed)
            }
            other => other,
        },
        // u8, and the formats that are not samples at all: the view reports why.
        _ => views::<u8>(frame, packed),
    }
}

/// The numpy dtype of samples of `sample` type in `order`: `uint8`, `uint16` (native) or
/// `>u2` / `<u2` for a foreign byte order.
pub(crate) fn dtype_of<'py>(
    py: Python<'py>,
    sample: SampleType,
    order: ByteOrder,
) -> PyResult<Option<Bound<'py, PyArrayDescr>>> {
    Ok(match sample {
        SampleType::U8 => Some(numpy::dtype::<u8>(py)),
        SampleType::U16 if order.is_native() => Some(numpy::dtype::<u16>(py)),
        SampleType::U16 => {
            let swapped = numpy::dtype::<u16>(py).call_method1("newbyteorder", ("S",))?;
            Some(swapped.cast_into::<PyArrayDescr>()?)
        }
        _ => None,
    })
}

/// A read-only numpy array over `layout`, with `owner` as its base object.
///
/// `layout` must describe memory that stays valid and unchanged while `owner` is alive: the
/// caller takes it from the `Frame` that `owner` holds (a mapped, readable video frame).
pub(crate) fn borrowed_array<'py>(
    owner: &Bound<'py, PyAny>,
    layout: &PlaneLayout,
) -> PyResult<Bound<'py, PyAny>> {
    let py = owner.py();
    let descr = dtype_of(py, layout.sample, layout.order)?
        .ok_or_else(|| pyo3::exceptions::PyValueError::new_err("no numpy dtype"))?;
    let mut dims: [npy_intp; 3] = layout.shape.map(|d| d as npy_intp);
    let mut strides: [npy_intp; 3] = layout.strides.map(|s| s as npy_intp);
    // SAFETY: `descr` is a valid dtype whose reference PyArray_NewFromDescr steals; `dims` and
    // `strides` hold 3 entries each; `data` points at memory that stays mapped, readable and
    // unchanged as long as `owner` lives (see above), which the array keeps alive as its base
    // object. Flags 0 (no NPY_ARRAY_WRITEABLE) make the array read-only: nothing can write
    // into the mapped buffer through it.
    unsafe {
        let array = PY_ARRAY_API.PyArray_NewFromDescr(
            py,
            npyffi::get_type_object(py, npyffi::NpyTypes::PyArray_Type),
            descr.into_dtype_ptr(),
            3,
            dims.as_mut_ptr(),
            strides.as_mut_ptr(),
            layout.data as *mut std::ffi::c_void,
            0,
            std::ptr::null_mut(),
        );
        let array = Bound::from_owned_ptr_or_err(py, array)?;
        // Steals the reference to the owner, even when it fails.
        let base = owner.clone().into_ptr();
        if PY_ARRAY_API.PyArray_SetBaseObject(py, array.as_ptr().cast(), base) != 0 {
            return Err(PyErr::fetch(py));
        }
        Ok(array)
    }
}
