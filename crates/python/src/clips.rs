//! Clip samplers of `gstpipe.VideoReader` (gstpipe-media's `clips_at_*`), and `Clips`.
//!
//! The functions take the reader as their first argument; `gstpipe/_clips.py` makes them
//! `VideoReader` methods.

use crate::errors::guard_py;
use crate::errors::{frame_error, media_error};
use crate::reader::VideoReader;
use gstpipe_frame::SampleType;
use gstpipe_media::{ClipPlan, ClipPolicy, ClipRange, MediaError};
use numpy::PyArray;
use pyo3::prelude::*;

/// Clips sampled from a video: ``data`` ``(num_clips, frames_per_clip, height, width,
/// channels)``, and ``pts`` (seconds), ``pts_ns`` and ``indices``, each
/// ``(num_clips, frames_per_clip)``: ``data[c, k]`` is frame ``indices[c, k]`` of the file.
#[pyclass(frozen, module = "gstpipe", name = "Clips")]
pub(crate) struct Clips {
    data: Py<PyAny>,
    pts_ns: Py<PyAny>,
    indices: Py<PyAny>,
}

#[pymethods]
impl Clips {
    /// The frames, ``(num_clips, frames_per_clip, height, width, channels)``.
    #[getter]
    fn data(&self, py: Python<'_>) -> Py<PyAny> {
        self.data.clone_ref(py)
    }

    /// Each frame's pts in seconds (``float64``), ``(num_clips, frames_per_clip)``.
    #[getter]
    fn pts<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        guard_py(|| self.pts_ns.bind(py).call_method1("__truediv__", (1e9,)))
    }

    /// Each frame's pts in nanoseconds (``uint64``), ``(num_clips, frames_per_clip)``.
    #[getter]
    fn pts_ns(&self, py: Python<'_>) -> Py<PyAny> {
        self.pts_ns.clone_ref(py)
    }

    /// Each frame's index in the file (``int64``), ``(num_clips, frames_per_clip)``.
    #[getter]
    fn indices(&self, py: Python<'_>) -> Py<PyAny> {
        self.indices.clone_ref(py)
    }

    /// The number of clips.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        guard_py(|| self.indices.bind(py).len())
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        guard_py(|| {
            let shape = self.data.bind(py).getattr("shape")?;
            Ok(format!("<gstpipe.Clips {shape}>"))
        })
    }
}

/// A sampler's error: ``ValueError`` for arguments that do not fit, else as any media error.
fn sample_error(py: Python<'_>, e: &MediaError) -> PyErr {
    match e {
        MediaError::Sampling { .. } => pyo3::exceptions::PyValueError::new_err(e.to_string()),
        _ => media_error(py, e),
    }
}

/// Decodes `plan` (without the GIL) into a `Clips`.
fn decode(py: Python<'_>, reader: &VideoReader, plan: &ClipPlan) -> PyResult<Clips> {
    guard_py(|| {
        let format = reader.lock().info().format;
        let sample = gstpipe_frame::format_info(format)
            .map_err(|e| frame_error(py, &e))?
            .sample_type();
        let (data, pts) = match sample {
            SampleType::U16 => {
                let clips = py
                    .detach(|| reader.lock().decode_clips::<u16>(plan))
                    .map_err(|e| media_error(py, &e))?;
                (
                    PyArray::from_owned_array(py, clips.data).into_any(),
                    clips.pts,
                )
            }
            _ => {
                let clips = py
                    .detach(|| reader.lock().decode_clips::<u8>(plan))
                    .map_err(|e| media_error(py, &e))?;
                (
                    PyArray::from_owned_array(py, clips.data).into_any(),
                    clips.pts,
                )
            }
        };
        let pts_ns = PyArray::from_owned_array(py, pts.mapv(|t| t.nseconds()));
        let indices = PyArray::from_owned_array(py, plan.indices.mapv(|i| i as i64));
        Ok(Clips {
            data: data.unbind(),
            pts_ns: pts_ns.into_any().unbind(),
            indices: indices.into_any().unbind(),
        })
    })
}

/// Where clips may start, with the policy named `policy` (``ValueError`` for another name).
fn range<T>(
    py: Python<'_>,
    start: Option<T>,
    end: Option<T>,
    policy: &str,
) -> PyResult<ClipRange<T>> {
    guard_py(|| {
        Ok(ClipRange {
            start,
            end,
            policy: ClipPolicy::from_name(policy).map_err(|e| sample_error(py, &e))?,
        })
    })
}

/// The clips `plan` picks from `reader`, decoded.
fn sample(
    py: Python<'_>,
    reader: &Bound<'_, VideoReader>,
    plan: impl FnOnce(&gstpipe_media::VideoReader) -> Result<ClipPlan, MediaError>,
) -> PyResult<Clips> {
    guard_py(|| {
        let reader = reader.get();
        let plan = plan(&reader.lock()).map_err(|e| sample_error(py, &e))?;
        decode(py, reader, &plan)
    })
}

/// ``VideoReader.clips_at_random_indices`` (see ``gstpipe._clips``).
#[pyfunction]
#[pyo3(signature = (reader, num_clips, frames_per_clip, step, seed, start, end, policy))]
#[allow(clippy::too_many_arguments)]
fn clips_at_random_indices(
    py: Python<'_>,
    reader: &Bound<'_, VideoReader>,
    num_clips: usize,
    frames_per_clip: usize,
    step: usize,
    seed: Option<u64>,
    start: isize,
    end: Option<isize>,
    policy: &str,
) -> PyResult<Clips> {
    guard_py(|| {
        let range = range(py, Some(start), end, policy)?;
        sample(py, reader, |r| {
            r.clips_at_random_indices(num_clips, frames_per_clip, step, &range, seed)
        })
    })
}

/// ``VideoReader.clips_at_regular_indices`` (see ``gstpipe._clips``).
#[pyfunction]
#[pyo3(signature = (reader, num_clips, frames_per_clip, step, start, end, policy))]
#[allow(clippy::too_many_arguments)]
fn clips_at_regular_indices(
    py: Python<'_>,
    reader: &Bound<'_, VideoReader>,
    num_clips: usize,
    frames_per_clip: usize,
    step: usize,
    start: isize,
    end: Option<isize>,
    policy: &str,
) -> PyResult<Clips> {
    guard_py(|| {
        let range = range(py, Some(start), end, policy)?;
        sample(py, reader, |r| {
            r.clips_at_regular_indices(num_clips, frames_per_clip, step, &range)
        })
    })
}

/// ``VideoReader.clips_at_random_timestamps`` (see ``gstpipe._clips``).
#[pyfunction]
#[pyo3(signature = (reader, num_clips, frames_per_clip, seconds_between_frames, seed, start, end, policy))]
#[allow(clippy::too_many_arguments)]
fn clips_at_random_timestamps(
    py: Python<'_>,
    reader: &Bound<'_, VideoReader>,
    num_clips: usize,
    frames_per_clip: usize,
    seconds_between_frames: Option<f64>,
    seed: Option<u64>,
    start: Option<f64>,
    end: Option<f64>,
    policy: &str,
) -> PyResult<Clips> {
    guard_py(|| {
        let range = range(py, start, end, policy)?;
        sample(py, reader, |r| {
            r.clips_at_random_timestamps(
                num_clips,
                frames_per_clip,
                seconds_between_frames,
                &range,
                seed,
            )
        })
    })
}

/// ``VideoReader.clips_at_regular_timestamps`` (see ``gstpipe._clips``).
#[pyfunction]
#[pyo3(signature = (reader, seconds_between_clip_starts, frames_per_clip, seconds_between_frames, start, end, policy))]
#[allow(clippy::too_many_arguments)]
fn clips_at_regular_timestamps(
    py: Python<'_>,
    reader: &Bound<'_, VideoReader>,
    seconds_between_clip_starts: f64,
    frames_per_clip: usize,
    seconds_between_frames: Option<f64>,
    start: Option<f64>,
    end: Option<f64>,
    policy: &str,
) -> PyResult<Clips> {
    guard_py(|| {
        let range = range(py, start, end, policy)?;
        sample(py, reader, |r| {
            r.clips_at_regular_timestamps(
                seconds_between_clip_starts,
                frames_per_clip,
                seconds_between_frames,
                &range,
            )
        })
    })
}

/// Adds `Clips` and the sampler functions to the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    guard_py(|| {
        m.add_class::<Clips>()?;
        m.add_function(wrap_pyfunction!(clips_at_random_indices, m)?)?;
        m.add_function(wrap_pyfunction!(clips_at_regular_indices, m)?)?;
        m.add_function(wrap_pyfunction!(clips_at_random_timestamps, m)?)?;
        m.add_function(wrap_pyfunction!(clips_at_regular_timestamps, m)?)?;
        Ok(())
    })
}
