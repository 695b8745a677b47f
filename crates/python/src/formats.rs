//! The format table: `gstpipe.channels`, `gstpipe.dtype`, `gstpipe.formats`.

use crate::arrays::dtype_of;
use crate::errors::{frame_error, value_error};
use gst_video::VideoFormat;
use gstpipe_frame::{FormatInfo, format_info};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// The `VideoFormat` called `name` (`"RGB"`, `"GRAY16_BE"`, ...), or a `FrameError` naming it.
pub(crate) fn parse(py: Python<'_>, name: &str) -> PyResult<VideoFormat> {
    gstpipe_frame::parse_format(name).map_err(|e| value_error(py, e.to_string()))
}

fn info(py: Python<'_>, name: &str) -> PyResult<FormatInfo> {
    let format = parse(py, name)?;
    format_info(format).map_err(|e| frame_error(py, &e))
}

/// Memory channels of a packed format, the last axis of ``Frame.array``: ``RGB`` 3, ``BGRx``
/// 4 (padding included), ``GRAY8`` 1, ``YUY2`` 2. ``None`` for planar, semi-planar and
/// bit-packed formats (see ``formats()`` for their plane shapes). Raises ``FrameError`` for
/// an unknown format name.
#[pyfunction]
pub(crate) fn channels(py: Python<'_>, format: &str) -> PyResult<Option<usize>> {
    Ok(info(py, format)?.channels())
}

/// The numpy dtype of a format's arrays: ``uint8`` for 8-bit formats, ``uint16`` for 9- to
/// 16-bit little-endian ones, ``>u2`` for big-endian ones (``GRAY16_BE``). Raises
/// ``FrameError`` for unknown formats and formats that are not whole samples (``RGB16``,
/// ``v210``, ...).
#[pyfunction]
pub(crate) fn dtype<'py>(py: Python<'py>, format: &str) -> PyResult<Bound<'py, PyAny>> {
    let info = info(py, format)?;
    match dtype_of(py, info.sample_type(), info.byte_order())? {
        Some(dtype) => Ok(dtype.into_any()),
        None => Err(value_error(
            py,
            format!(
                "{format} is a {} format, not made of whole samples: it has no numpy dtype",
                info.layout()
            ),
        )),
    }
}

/// Every raw video format of the running GStreamer, as dicts: ``name``, ``layout``
/// (``packed``, ``planar``, ``semi-planar``, ``packed-422``, ``paletted``, ``sub-byte``,
/// ``tiled``), ``dtype`` (numpy dtype or ``None``), ``channels`` (packed formats) ,
/// ``planes``, ``components``, ``depth``, ``byte_order``, ``shapes_4x2`` (plane shapes of a
/// 4x2 frame).
#[pyfunction]
pub(crate) fn formats(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let rows = gstpipe_frame::formats()
        .into_iter()
        .map(|info| {
            let d = PyDict::new(py);
            d.set_item("name", info.name())?;
            d.set_item("layout", info.layout().name())?;
            d.set_item(
                "dtype",
                dtype_of(py, info.sample_type(), info.byte_order())?,
            )?;
            d.set_item("channels", info.channels())?;
            d.set_item("planes", info.n_planes())?;
            d.set_item("components", info.n_components())?;
            d.set_item("depth", info.depth())?;
            d.set_item("byte_order", info.byte_order().name())?;
            let shapes: Vec<(usize, usize, usize)> = info
                .plane_shapes(4, 2)
                .into_iter()
                .map(|[h, w, c]| (h, w, c))
                .collect();
            d.set_item("shapes_4x2", shapes)?;
            Ok(d)
        })
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, rows)
}

/// The GStreamer version the module runs against, as ``(major, minor, micro, nano)``.
#[pyfunction]
pub(crate) fn gstreamer_version() -> (u32, u32, u32, u32) {
    gst::version()
}
