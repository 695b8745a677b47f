//! `gstpipe.Frame`: one mapped video frame, as zero-copy numpy views and copies.

use crate::arrays::{borrowed_array, layouts};
use crate::errors::{guard, value_error};
use gstpipe_frame::Detection;
use numpy::PyArray;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// One video frame out of a pipeline, mapped for reading.
///
/// ``array`` is a read-only numpy view of the frame's memory (no copy) whose base object is
/// this frame: the view stays valid after the frame, its iterator and its pipeline are gone.
/// ``copy()`` makes an owned, contiguous copy. While a frame (or a view of it) is alive its
/// buffer does not go back to the upstream buffer pool: holding many frames from a camera or
/// a decoder can stall it, so copy the frames you keep.
///
/// Frames from ``Live`` also say where and when they came from: ``index``, ``generation``,
/// ``after_gap``, ``wall_ns``, ``wall_time`` and ``time_source`` (``None`` on other frames).
#[pyclass(frozen, module = "gstpipe", name = "Frame")]
pub(crate) struct Frame {
    pub(crate) frame: gstpipe_frame::Frame,
    /// What a live source adds (gstpipe-live's `LiveFrame`).
    live: Option<LiveInfo>,
}

/// A live frame's origin and capture time.
struct LiveInfo {
    index: u64,
    generation: u64,
    after_gap: bool,
    wall_ns: u64,
    time_source: &'static str,
}

impl Frame {
    pub(crate) fn new(frame: gstpipe_frame::Frame) -> Self {
        Frame { frame, live: None }
    }

    /// A frame of a live source, with its index, generation and capture time.
    pub(crate) fn from_live(frame: gstpipe_live::LiveFrame) -> Self {
        let live = LiveInfo {
            index: frame.index(),
            generation: frame.generation(),
            after_gap: frame.after_gap(),
            wall_ns: frame.wall_ns(),
            time_source: frame.time_source().name(),
        };
        Frame {
            frame: frame.into_frame(),
            live: Some(live),
        }
    }
}

fn seconds(t: Option<gst::ClockTime>) -> Option<f64> {
    t.map(|t| t.nseconds() as f64 / 1e9)
}

/// A detection as the dict Python sees: ``x``, ``y``, ``w``, ``h``, ``confidence``,
/// ``class_name``, ``track_id``.
pub(crate) fn detection_dict<'py>(py: Python<'py>, d: &Detection) -> PyResult<Bound<'py, PyDict>> {
    let dict = PyDict::new(py);
    dict.set_item("x", d.x)?;
    dict.set_item("y", d.y)?;
    dict.set_item("w", d.w)?;
    dict.set_item("h", d.h)?;
    dict.set_item("confidence", d.confidence)?;
    dict.set_item("class_name", &d.class_name)?;
    dict.set_item("track_id", d.track_id)?;
    Ok(dict)
}

/// An owned numpy array from a Rust copy, made without the GIL.
/// A copy made by gstpipe-frame, handed to numpy without another copy.
pub(crate) fn any_array(py: Python<'_>, array: gstpipe_frame::AnyArray) -> Bound<'_, PyAny> {
    match array {
        gstpipe_frame::AnyArray::U16(a) => PyArray::from_owned_array(py, a).into_any(),
        gstpipe_frame::AnyArray::U8(a) => PyArray::from_owned_array(py, a).into_any(),
    }
}

#[pymethods]
impl Frame {
    /// The frame as a read-only numpy array ``(height, width, channels)`` over its memory (no
    /// copy; row padding is skipped by the strides). Packed formats only (``RGB``, ``BGRx``,
    /// ``GRAY8``, ``GRAY16_LE``, ``YUY2``, ...); planar formats raise ``FrameError`` (use
    /// ``planes``). Big-endian formats give a ``>u2`` array. Each access returns a new view of
    /// the same memory.
    #[getter]
    fn array<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let layout = layouts(&slf.get().frame, true)?;
            Ok(borrowed_array(slf.as_any(), &layout[0])?)
        })
    }

    /// Read-only numpy views of every plane in memory order (``I420``: Y ``(h, w, 1)``, U
    /// and V ``(ceil(h/2), ceil(w/2), 1)``; ``NV12``: Y and interleaved UV ``(ceil(h/2),
    /// ceil(w/2), 2)``); one view for packed formats.
    #[getter]
    fn planes<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let py = slf.py();
            let layouts = layouts(&slf.get().frame, false)?;
            let views = layouts
                .iter()
                .map(|l| borrowed_array(slf.as_any(), l))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, views)?)
        })
    }

    /// An owned, contiguous copy ``(height, width, channels)`` in native byte order (one copy,
    /// made without the GIL). Packed formats only; copy planes with ``[p.copy() for p in
    /// frame.planes]``.
    fn copy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let frame = &self.frame;
            Ok(any_array(py, py.detach(|| frame.to_any_array())?))
        })
    }

    /// Presentation timestamp in seconds, or ``None``.
    #[getter]
    fn pts(&self) -> PyResult<Option<f64>> {
        guard(|| Ok(seconds(self.frame.pts())))
    }

    /// Presentation timestamp in nanoseconds, or ``None``.
    #[getter]
    fn pts_ns(&self) -> PyResult<Option<u64>> {
        guard(|| Ok(self.frame.pts().map(|t| t.nseconds())))
    }

    /// Duration in seconds, or ``None``.
    #[getter]
    fn duration(&self) -> PyResult<Option<f64>> {
        guard(|| Ok(seconds(self.frame.duration())))
    }

    /// Duration in nanoseconds, or ``None``.
    #[getter]
    fn duration_ns(&self) -> PyResult<Option<u64>> {
        guard(|| Ok(self.frame.duration().map(|t| t.nseconds())))
    }

    /// The GStreamer format name (``"RGB"``, ``"I420"``, ``"GRAY16_BE"``, ...).
    #[getter]
    fn format(&self) -> PyResult<&'static str> {
        guard(|| Ok(self.frame.format_info().name()))
    }

    /// Width in pixels.
    #[getter]
    fn width(&self) -> PyResult<u32> {
        guard(|| Ok(self.frame.width()))
    }

    /// Height in pixels.
    #[getter]
    fn height(&self) -> PyResult<u32> {
        guard(|| Ok(self.frame.height()))
    }

    /// The array shapes ``(rows, columns, channels)`` of every plane.
    #[getter]
    fn shapes(&self) -> PyResult<Vec<(usize, usize, usize)>> {
        guard(|| {
            Ok({
                self.frame
                    .plane_shapes()
                    .into_iter()
                    .map(|[h, w, c]| (h, w, c))
                    .collect()
            })
        })
    }

    /// Size of the frame in bytes as its caps describe it (all planes, row padding
    /// included).
    #[getter]
    fn nbytes(&self) -> PyResult<usize> {
        guard(|| Ok(self.frame.info().size()))
    }

    /// Bytes of each plane (``stride * rows``), for every format, including the bit-packed
    /// ones that have no array view.
    #[getter]
    fn plane_nbytes(&self) -> PyResult<Vec<usize>> {
        guard(|| {
            (0..self.frame.n_planes())
                .map(|p| {
                    self.frame
                        .plane_bytes(p)
                        .map(|b| b.len())
                        .map_err(Into::into)
                })
                .collect()
        })
    }

    /// Object detections carried by the frame (region-of-interest metas): a list of dicts
    /// with ``x``, ``y``, ``w``, ``h`` (pixels), ``confidence`` (float or ``None``),
    /// ``class_name`` and ``track_id`` (int or ``None``).
    #[getter]
    fn detections<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            let dicts = self
                .frame
                .detections()
                .iter()
                .map(|d| detection_dict(py, d))
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, dicts)?)
        })
    }

    /// numpy's conversion protocol: the read-only view (``copy=True``: an owned copy; a
    /// ``dtype`` other than the frame's converts, which copies).
    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        slf: &Bound<'py, Self>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let array = if copy == Some(true) {
                slf.get().copy(slf.py())?
            } else {
                Frame::array(slf)?
            };
            match dtype {
                None => Ok(array),
                Some(dtype) => {
                    let same = array.getattr("dtype")?.eq(&dtype)?;
                    if same {
                        Ok(array)
                    } else if copy == Some(false) {
                        Err(value_error(format!(
                            "a {} frame cannot be viewed as {dtype} without a copy",
                            slf.get().frame.format_info().name()
                        )))
                    } else {
                        Ok(array.call_method1("astype", (dtype,))?)
                    }
                }
            }
        })
    }

    /// DLPack export of the read-only view (numpy, PyTorch, JAX take it without a copy).
    /// Delegates to numpy, which marks the tensor read-only when the consumer asks for a
    /// versioned (DLPack >= 1.0) capsule.
    #[pyo3(signature = (**kwargs))]
    fn __dlpack__<'py>(
        slf: &Bound<'py, Self>,
        kwargs: Option<&Bound<'py, PyDict>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| Ok(Frame::array(slf)?.call_method("__dlpack__", (), kwargs)?))
    }

    /// The DLPack device: ``(1, 0)``, CPU memory.
    fn __dlpack_device__(&self) -> PyResult<(i32, i32)> {
        guard(|| Ok((1, 0)))
    }

    /// Live frames: the frame's number across every reconnection, from 0 (frames dropped
    /// for newer ones use numbers too, so a jump means drops). ``None`` on other frames.
    #[getter]
    fn index(&self) -> PyResult<Option<u64>> {
        guard(|| Ok(self.live.as_ref().map(|l| l.index)))
    }

    /// Live frames: the pipeline generation (connection number) it came from, from 1.
    #[getter]
    fn generation(&self) -> PyResult<Option<u64>> {
        guard(|| Ok(self.live.as_ref().map(|l| l.generation)))
    }

    /// Live frames: whether it is the first frame after a reconnection (frames were missed).
    #[getter]
    fn after_gap(&self) -> PyResult<Option<bool>> {
        guard(|| Ok(self.live.as_ref().map(|l| l.after_gap)))
    }

    /// Live frames: capture time as nanoseconds since the UNIX epoch (see ``time_source``).
    #[getter]
    fn wall_ns(&self) -> PyResult<Option<u64>> {
        guard(|| Ok(self.live.as_ref().map(|l| l.wall_ns)))
    }

    /// Live frames: capture time as UNIX seconds (a float, like ``time.time()``).
    #[getter]
    fn wall_time(&self) -> PyResult<Option<f64>> {
        guard(|| Ok(self.live.as_ref().map(|l| l.wall_ns as f64 / 1e9)))
    }

    /// Live frames: where the capture time comes from: ``"sender_ntp"`` (the sender's NTP
    /// time from RTCP), ``"pipeline_clock"`` (the pipeline clock at the frame's running time,
    /// mapped to the system clock) or ``"arrival"`` (when it reached the appsink).
    #[getter]
    fn time_source(&self) -> PyResult<Option<&'static str>> {
        guard(|| Ok(self.live.as_ref().map(|l| l.time_source)))
    }

    fn __repr__(&self) -> PyResult<String> {
        guard(|| {
            Ok({
                let pts = match self.frame.pts() {
                    Some(t) => t.to_string(),
                    None => "none".into(),
                };
                let live = match &self.live {
                    Some(l) => format!(" index {} generation {}", l.index, l.generation),
                    None => String::new(),
                };
                format!(
                    "<gstpipe.Frame {} {}x{} pts {}{live}>",
                    self.frame.format_info().name(),
                    self.frame.width(),
                    self.frame.height(),
                    pts
                )
            })
        })
    }
}
