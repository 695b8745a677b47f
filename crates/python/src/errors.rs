//! Rust errors to the package's Python exceptions (defined in `gstpipe/_errors.py`).
//!
//! | Rust | Python |
//! |---|---|
//! | `Error::Parse`, `Error::MissingElement` | `ParseError` |
//! | `Error::Element`, `Error::StateChange`, push flow errors | `PipelineError` (`.element`, `.domain`, `.code`, `.debug`) |
//! | `Error::Timeout`, `SinkError::Timeout` | `TimeoutError` (also the builtin `TimeoutError`) |
//! | `FrameError`, `SinkError::Mismatch` / `CapsChanged` / `NoVideoInfo` | `FrameError` (also `ValueError`) |
//! | anything else (lookups, `Stopped`, `Init`) | `Error` |

use gstpipe_core::{ElementError, Error as CoreError};
use gstpipe_frame::FrameError;
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
    let kwargs: Vec<(&str, Py<PyAny>)> = kwargs
        .into_iter()
        .filter_map(|(k, v)| v.ok().map(|v| (k, v)))
        .collect();
    raise(py, "PipelineError", e.to_string(), &kwargs)
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
