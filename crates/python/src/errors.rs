//! Rust errors to the package's Python exceptions (defined in `gstpipe/_errors.py`).
//!
//! | Rust | Python |
//! |---|---|
//! | `Error::Parse`, `Error::MissingElement` | `ParseError` |
//! | `Error::Element`, `Error::StateChange`, push flow errors | `PipelineError` (`.element`, `.domain`, `.code`, `.debug`) |
//! | `Error::Timeout`, `SinkError::Timeout` | `TimeoutError` (also the builtin `TimeoutError`) |
//! | `FrameError`, `SinkError::Mismatch` / `CapsChanged` / `NoVideoInfo` | `FrameError` (also `ValueError`) |
//! | `LiveError::Pipeline` | as the core error it holds |
//! | `LiveError::Stalled`, `BatchError::Stalled` | `TimeoutError` |
//! | `LiveError::Eos` | `Error` |
//! | `LiveError::Config` | `ValueError` |
//! | a live source that gave up | `GaveUpError` (a `PipelineError`, `.attempts`, `.last_error`) |
//! | `BatchError::Shape` / `Frame` / `Output` / `Normalize` | `FrameError` (also `ValueError`) |
//! | `MediaError::OutOfRange` / `TimeOutOfRange` | `IndexError` |
//! | `MediaError::Open` / `Uri` | `OpenError` (also `OSError`) |
//! | `MediaError::Element` | `PipelineError` |
//! | `MediaError::Timeout` | `TimeoutError` |
//! | anything else (lookups, `Stopped`, `Init`) | `Error` |

use gstpipe_batch::BatchError;
use gstpipe_core::{ElementError, Error as CoreError};
use gstpipe_frame::FrameError;
use gstpipe_live::LiveError;
use gstpipe_media::MediaError;
use gstpipe_sinks::SinkError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// An instance of the exception class `name` of `gstpipe._errors`, with keyword attributes.
fn raise(py: Python<'_>, name: &str, message: String, kwargs: &[(&str, Py<PyAny>)]) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let class = py.import("gstpipe._errors")?.getattr(name)?;
        let kw = PyDict::new(py);
        for (key, value) in kwargs {
            kw.set_item(key, value)?;
        }
        Ok(PyErr::from_value(
            class.call((message.clone(),), Some(&kw))?,
        ))
    };
    // The classes are plain Python; failing to build one (the package is broken) still
    // reports the message.
    build().unwrap_or_else(|e| {
        pyo3::exceptions::PyRuntimeError::new_err(format!("{message} (and raising it failed: {e})"))
    })
}

/// The glib error domain (`gst-resource-error-quark`) and code of an element error.
fn glib_error(e: &ElementError) -> (Option<String>, Option<i32>) {
    (Some(e.domain().to_owned()), Some(e.code()))
}

/// A `PipelineError` for an element error.
pub(crate) fn element_error(py: Python<'_>, e: &ElementError) -> PyErr {
    raise(py, "PipelineError", e.to_string(), &element_kwargs(py, e))
}

/// The keyword attributes of a `PipelineError` about `e`: element, domain, code, debug, path.
fn element_kwargs(py: Python<'_>, e: &ElementError) -> Vec<(&'static str, Py<PyAny>)> {
    let (domain, code) = glib_error(e);
    let kwargs = [
        (
            "element",
            e.element
                .clone()
                .into_pyobject(py)
                .map(|v| v.into_any().unbind()),
        ),
        (
            "domain",
            domain.into_pyobject(py).map(|v| v.into_any().unbind()),
        ),
        (
            "code",
            code.into_pyobject(py).map(|v| v.into_any().unbind()),
        ),
        (
            "debug",
            e.debug
                .clone()
                .into_pyobject(py)
                .map(|v| v.into_any().unbind()),
        ),
        (
            "path",
            e.path
                .clone()
                .into_pyobject(py)
                .map(|v| v.into_any().unbind()),
        ),
    ];
    kwargs
        .into_iter()
        .filter_map(|(k, v)| v.ok().map(|v| (k, v)))
        .collect()
}

/// The exception for a gstpipe-core error.
pub(crate) fn core_error_py(py: Python<'_>, e: &CoreError) -> PyErr {
    match e {
        CoreError::Parse { .. } | CoreError::MissingElement { .. } => {
            raise(py, "ParseError", e.to_string(), &[])
        }
        CoreError::Element(el) => element_error(py, el),
        CoreError::StateChange { element, .. } => {
            let element = element
                .clone()
                .into_pyobject(py)
                .map(|v| v.into_any().unbind());
            let kwargs: Vec<(&str, Py<PyAny>)> =
                element.ok().map(|v| ("element", v)).into_iter().collect();
            raise(py, "PipelineError", e.to_string(), &kwargs)
        }
        CoreError::Timeout { .. } => raise(py, "TimeoutError", e.to_string(), &[]),
        _ => raise(py, "Error", e.to_string(), &[]),
    }
}

/// The exception for a gstpipe-core error, taking the GIL (for module set-up).
pub(crate) fn core_error(e: CoreError) -> PyErr {
    Python::attach(|py| core_error_py(py, &e))
}

/// The exception for a frame error: `FrameError`, a `ValueError`.
pub(crate) fn frame_error(py: Python<'_>, e: &FrameError) -> PyErr {
    raise(py, "FrameError", e.to_string(), &[])
}

/// A `FrameError` (a `ValueError`) with a message of the glue's own, for arguments the Rust
/// API cannot even be called with (a float64 array, a 4-D array).
pub(crate) fn value_error(py: Python<'_>, message: String) -> PyErr {
    raise(py, "FrameError", message, &[])
}

/// The exception for a gstpipe-sinks error.
pub(crate) fn sink_error(py: Python<'_>, e: &SinkError) -> PyErr {
    match e {
        SinkError::Pipeline(core) => core_error_py(py, core),
        SinkError::Frame(frame) => frame_error(py, frame),
        SinkError::Timeout { .. } => raise(py, "TimeoutError", e.to_string(), &[]),
        SinkError::Mismatch { .. }
        | SinkError::CapsChanged { .. }
        | SinkError::BatchShape { .. }
        | SinkError::NoVideoInfo { .. } => raise(py, "FrameError", e.to_string(), &[]),
        SinkError::Flow { element, .. } => {
            let element = element
                .clone()
                .into_pyobject(py)
                .map(|v| v.into_any().unbind());
            let kwargs: Vec<(&str, Py<PyAny>)> =
                element.ok().map(|v| ("element", v)).into_iter().collect();
            raise(py, "PipelineError", e.to_string(), &kwargs)
        }
        _ => raise(py, "Error", e.to_string(), &[]),
    }
}

/// The exception for why a live pipeline ended or could not start (gstpipe-live).
pub(crate) fn live_error(py: Python<'_>, e: &LiveError) -> PyErr {
    match e {
        LiveError::Pipeline(core) => core_error_py(py, core),
        LiveError::Stalled { .. } => raise(py, "TimeoutError", e.to_string(), &[]),
        LiveError::Config(_) => pyo3::exceptions::PyValueError::new_err(e.to_string()),
        _ => raise(py, "Error", e.to_string(), &[]),
    }
}

/// `GaveUpError`: a live source stopped reconnecting after `attempts` attempts without a
/// frame. A `PipelineError` with the last error's element attributes when an element failed;
/// `.last_error` (also its `__cause__`) is the last error's own exception.
pub(crate) fn gave_up_error(py: Python<'_>, attempts: u32, last: &LiveError) -> PyErr {
    let cause = live_error(py, last);
    let mut kwargs = last
        .element_error()
        .map(|el| element_kwargs(py, el))
        .unwrap_or_default();
    let Ok(n) = attempts.into_pyobject(py);
    kwargs.push(("attempts", n.into_any().unbind()));
    kwargs.push(("last_error", cause.value(py).clone().into_any().unbind()));
    let err = raise(
        py,
        "GaveUpError",
        format!("gave up after {attempts} reconnection attempts: {last}"),
        &kwargs,
    );
    err.set_cause(py, Some(cause));
    err
}

/// The exception for a gstpipe-batch error.
pub(crate) fn batch_error(py: Python<'_>, e: &BatchError) -> PyErr {
    match e {
        BatchError::Shape { .. }
        | BatchError::Frame { .. }
        | BatchError::Output { .. }
        | BatchError::Normalize(_) => raise(py, "FrameError", e.to_string(), &[]),
        BatchError::Stalled { .. } => raise(py, "TimeoutError", e.to_string(), &[]),
        _ => raise(py, "Error", e.to_string(), &[]),
    }
}

/// The exception for a batched stream that failed: the pipeline's own exception when the
/// failure is a gstpipe error, else `Error`; with `.stream` set to the slot and the message
/// naming it.
pub(crate) fn stream_failed(
    py: Python<'_>,
    stream: usize,
    name: &str,
    error: &(dyn std::error::Error + Send + Sync + 'static),
) -> PyErr {
    let message = format!("stream {stream} ({name}) failed: {error}");
    let err = if let Some(core) = error.downcast_ref::<CoreError>() {
        match core {
            CoreError::Element(el) => raise(py, "PipelineError", message, &element_kwargs(py, el)),
            _ => raise(py, "Error", message, &[]),
        }
    } else if let Some(sink) = error.downcast_ref::<SinkError>() {
        match sink {
            SinkError::Pipeline(CoreError::Element(el)) => {
                raise(py, "PipelineError", message, &element_kwargs(py, el))
            }
            SinkError::Frame(_) => raise(py, "FrameError", message, &[]),
            _ => raise(py, "Error", message, &[]),
        }
    } else if let Some(live) = error.downcast_ref::<LiveError>() {
        // A live source that gave up: its last error.
        match (live, live.element_error()) {
            (_, Some(el)) => raise(py, "PipelineError", message, &element_kwargs(py, el)),
            (LiveError::Stalled { .. }, None) => raise(py, "TimeoutError", message, &[]),
            _ => raise(py, "Error", message, &[]),
        }
    } else if error.downcast_ref::<FrameError>().is_some() {
        raise(py, "FrameError", message, &[])
    } else {
        raise(py, "Error", message, &[])
    };
    // Plain attribute on the instance: which slot failed.
    let _ = err.value(py).setattr("stream", stream);
    err
}

/// The exception for a gstpipe-media error (opening, indexing or reading a file).
pub(crate) fn media_error(py: Python<'_>, e: &MediaError) -> PyErr {
    match e {
        _ if e.is_out_of_range() => pyo3::exceptions::PyIndexError::new_err(e.to_string()),
        MediaError::Open { .. } | MediaError::Uri { .. } => {
            raise(py, "OpenError", e.to_string(), &[])
        }
        MediaError::Element { error, .. } => raise(
            py,
            "PipelineError",
            e.to_string(),
            &element_kwargs(py, error),
        ),
        MediaError::Pipeline(core) => core_error_py(py, core),
        MediaError::Frame(frame) => frame_error(py, frame),
        MediaError::Batch(sink) => sink_error(py, sink),
        MediaError::Timeout { .. } => raise(py, "TimeoutError", e.to_string(), &[]),
        _ => raise(py, "Error", e.to_string(), &[]),
    }
}
