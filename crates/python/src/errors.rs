//! Rust errors to the package's Python exceptions (classes defined once, in
//! `gstpipe/_errors.py`, and imported here with PyO3's `import_exception!`).
//!
//! Every binding runs its body through [`guard`]: inside it `?` works on the Rust crates'
//! errors (through [`Error`]'s `From` conversions) and on `PyErr`, and a Rust panic becomes
//! `gstpipe.Error` with its message instead of PyO3's `PanicException`.
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
//! | a wrong argument (a negative timeout, `n=0`, a callback that is not callable) | `ValueError` / `TypeError` |
//! | a panic in the bindings (a bug) | `Error` with the panic's message |
//! | anything else (lookups, `Stopped`, `Init`) | `Error` |

use gstpipe_batch::BatchError;
use gstpipe_core::{ElementError, Error as CoreError};
use gstpipe_frame::FrameError;
use gstpipe_live::LiveError;
use gstpipe_media::MediaError;
use gstpipe_sinks::SinkError;
use pyo3::prelude::*;

/// The exception classes of `gstpipe._errors`.
pub(crate) mod exc {
    pyo3::import_exception!(gstpipe._errors, Error);
    pyo3::import_exception!(gstpipe._errors, ParseError);
    pyo3::import_exception!(gstpipe._errors, PipelineError);
    pyo3::import_exception!(gstpipe._errors, GaveUpError);
    pyo3::import_exception!(gstpipe._errors, TimeoutError);
    pyo3::import_exception!(gstpipe._errors, OpenError);
    pyo3::import_exception!(gstpipe._errors, FrameError);
}

/// Anything a binding can fail with: `?` converts the Rust crates' errors and `PyErr` into
/// it, and [`guard`] turns it into the exception the table above names.
#[derive(Debug)]
pub(crate) enum Error {
    /// Already a Python exception.
    Py(PyErr),
    Core(CoreError),
    Sink(SinkError),
    Frame(FrameError),
    Live(LiveError),
    Batch(BatchError),
    Media(MediaError),
}

/// A binding's result.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

macro_rules! from {
    ($($variant:ident($error:ty)),* $(,)?) => {$(
        impl From<$error> for Error {
            fn from(e: $error) -> Self {
                Error::$variant(e)
            }
        }
    )*};
}

from!(
    Py(PyErr),
    Core(CoreError),
    Sink(SinkError),
    Frame(FrameError),
    Live(LiveError),
    Batch(BatchError),
    Media(MediaError),
);

impl From<pyo3::CastError<'_, '_>> for Error {
    fn from(e: pyo3::CastError<'_, '_>) -> Self {
        Error::Py(e.into())
    }
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        match e {
            Error::Py(e) => e,
            Error::Core(e) => core(&e),
            Error::Sink(e) => sink(&e),
            Error::Frame(e) => frame(&e),
            Error::Live(e) => live(&e),
            Error::Batch(e) => batch(&e),
            Error::Media(e) => media(&e),
        }
    }
}

/// Runs a binding's body: its error becomes the matching Python exception, and a Rust panic
/// (a bug in gstpipe) becomes `gstpipe.Error` carrying the panic's message, never a
/// `PanicException` (which `except Exception` does not catch).
pub(crate) fn guard<T>(body: impl FnOnce() -> Result<T>) -> PyResult<T> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(result) => result.map_err(PyErr::from),
        Err(panic) => {
            let cause = panic
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                .unwrap_or("(no message)");
            Err(exc::Error::new_err(format!(
                "internal error in gstpipe (please report it): {cause}"
            )))
        }
    }
}

/// [`guard`] for a body written against `PyResult` (the bindings that raise their exceptions
/// themselves): the same panic net, no conversion.
pub(crate) fn guard_py<T>(body: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    guard(|| Ok(body()?))
}

/// Panics with `message` inside [`guard`]: how the test suite checks that a panic in the
/// bindings reaches Python as `gstpipe.Error` (not part of the API).
#[pyfunction]
pub(crate) fn _panic_for_tests(message: &str) -> PyResult<()> {
    guard(|| panic!("{message}"))
}

/// A `ValueError` for an argument out of its range.
pub(crate) fn value_error(message: impl Into<String>) -> Error {
    Error::Py(pyo3::exceptions::PyValueError::new_err(message.into()))
}

/// A `TypeError` for an argument of the wrong type.
pub(crate) fn type_error(message: impl Into<String>) -> Error {
    Error::Py(pyo3::exceptions::PyTypeError::new_err(message.into()))
}

/// A `FrameError` (a `ValueError`) with a message of the glue's own: an array that does not
/// fit the frame or the caps (a float64 array, a 4-D array).
pub(crate) fn frame_mismatch(message: impl Into<String>) -> Error {
    Error::Py(exc::FrameError::new_err(message.into()))
}

/// A `PipelineError` with an element error's attributes (element, domain, code, debug,
/// path) and `message`.
fn pipeline_error(message: String, e: &ElementError) -> PyErr {
    exc::PipelineError::new_err((
        message,
        e.element.clone(),
        Some(e.domain().to_owned()),
        Some(e.code()),
        e.debug.clone(),
        e.path.clone(),
    ))
}

/// A `PipelineError` naming only an element.
fn pipeline_error_of(message: String, element: &str) -> PyErr {
    exc::PipelineError::new_err((message, element.to_owned()))
}

/// A `FrameError`, its message naming the Python API where the Rust one names its own calls.
fn frame(e: &FrameError) -> PyErr {
    let message = match e {
        FrameError::NotPacked {
            format,
            layout,
            n_planes,
        } => format!(
            "{format} is a {layout} format with {n_planes} planes, not one packed array: use \
             Frame.planes (read-only views) or [p.copy() for p in frame.planes] (copies)"
        ),
        FrameError::NotRepresentable { format, layout } => format!(
            "{format} is a {layout} format, not representable as arrays of uint8/uint16 \
             samples: convert it in the pipeline (videoconvert ! video/x-raw,format=RGB)"
        ),
        FrameError::Misaligned { format, plane } => format!(
            "plane {plane} of {format} is not 2-byte aligned in memory (address or stride), so \
             it cannot be viewed as uint16 without copying: use Frame.copy()"
        ),
        _ => e.to_string(),
    };
    exc::FrameError::new_err(message)
}

fn core(e: &CoreError) -> PyErr {
    match e {
        CoreError::Parse { .. } | CoreError::MissingElement { .. } => {
            exc::ParseError::new_err(e.to_string())
        }
        CoreError::Element(el) => pipeline_error(e.to_string(), el),
        CoreError::StateChange { element, .. } => pipeline_error_of(e.to_string(), element),
        CoreError::Timeout { .. } => exc::TimeoutError::new_err(e.to_string()),
        _ => exc::Error::new_err(e.to_string()),
    }
}

fn sink(e: &SinkError) -> PyErr {
    match e {
        SinkError::Pipeline(c) => core(c),
        SinkError::Frame(f) => frame(f),
        SinkError::Timeout { .. } => exc::TimeoutError::new_err(e.to_string()),
        SinkError::NoVideoInfo { element } => exc::FrameError::new_err(format!(
            "appsrc {element} has no fixed raw video caps: give source(format=..., width=..., \
             height=...) or caps=video/x-raw,format=...,width=...,height=... in the description"
        )),
        SinkError::Mismatch { .. }
        | SinkError::CapsChanged { .. }
        | SinkError::BatchShape { .. } => exc::FrameError::new_err(e.to_string()),
        SinkError::Flow { element, .. } => pipeline_error_of(e.to_string(), element),
        _ => exc::Error::new_err(e.to_string()),
    }
}

fn live(e: &LiveError) -> PyErr {
    match e {
        LiveError::Pipeline(c) => core(c),
        LiveError::Stalled { .. } => exc::TimeoutError::new_err(e.to_string()),
        LiveError::Config(_) => pyo3::exceptions::PyValueError::new_err(e.to_string()),
        _ => exc::Error::new_err(e.to_string()),
    }
}

fn batch(e: &BatchError) -> PyErr {
    match e {
        BatchError::Shape { .. }
        | BatchError::Frame { .. }
        | BatchError::Output { .. }
        | BatchError::Normalize(_) => exc::FrameError::new_err(e.to_string()),
        BatchError::Stalled { .. } => exc::TimeoutError::new_err(e.to_string()),
        _ => exc::Error::new_err(e.to_string()),
    }
}

fn media(e: &MediaError) -> PyErr {
    match e {
        _ if e.is_out_of_range() => pyo3::exceptions::PyIndexError::new_err(e.to_string()),
        MediaError::Open { .. } | MediaError::Uri { .. } => exc::OpenError::new_err(e.to_string()),
        MediaError::Element { error, .. } => pipeline_error(e.to_string(), error),
        MediaError::Pipeline(c) => core(c),
        MediaError::Frame(f) => frame(f),
        MediaError::Batch(s) => sink(s),
        MediaError::Timeout { .. } => exc::TimeoutError::new_err(e.to_string()),
        _ => exc::Error::new_err(e.to_string()),
    }
}

/// The exception for a gstpipe-core error (for errors the caller keeps, e.g. to remember
/// that it was reported).
pub(crate) fn core_error(e: &CoreError) -> PyErr {
    core(e)
}

/// The exception for a gstpipe-sinks error, by reference.
pub(crate) fn sink_error(e: &SinkError) -> PyErr {
    sink(e)
}

/// The exception for a frame error (used by reader.rs).
pub(crate) fn frame_error(_py: Python<'_>, e: &FrameError) -> PyErr {
    frame(e)
}

/// The exception for a gstpipe-media error (used by reader.rs).
pub(crate) fn media_error(_py: Python<'_>, e: &MediaError) -> PyErr {
    media(e)
}

/// The exception for why a live pipeline ended (for health events, which carry it).
pub(crate) fn live_error(e: &LiveError) -> PyErr {
    live(e)
}

/// `GaveUpError`: a live source stopped reconnecting after `attempts` attempts without a
/// frame. A `PipelineError` with the last error's element attributes when an element failed;
/// `.last_error` (also its `__cause__`) is the last error's own exception.
pub(crate) fn gave_up_error(py: Python<'_>, attempts: u32, last: &LiveError) -> PyErr {
    let cause = live(last);
    let message = format!("gave up after {attempts} reconnection attempts: {last}");
    let last_error = cause.value(py).clone().into_any().unbind();
    let element = last.element_error();
    let err = exc::GaveUpError::new_err((
        message,
        attempts,
        last_error,
        element.map(|e| e.element.clone()),
        element.map(|e| e.domain().to_owned()),
        element.map(|e| e.code()),
        element.and_then(|e| e.debug.clone()),
        element.map(|e| e.path.clone()),
    ));
    err.set_cause(py, Some(cause));
    err
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
    let element = error
        .downcast_ref::<CoreError>()
        .and_then(CoreError::element_error)
        .or_else(|| {
            error
                .downcast_ref::<SinkError>()
                .and_then(SinkError::element_error)
        })
        .or_else(|| {
            error
                .downcast_ref::<LiveError>()
                .and_then(LiveError::element_error)
        });
    let err = if let Some(el) = element {
        pipeline_error(message, el)
    } else if matches!(
        error.downcast_ref::<LiveError>(),
        Some(LiveError::Stalled { .. })
    ) {
        exc::TimeoutError::new_err(message)
    } else if error.downcast_ref::<FrameError>().is_some()
        || matches!(error.downcast_ref::<SinkError>(), Some(SinkError::Frame(_)))
    {
        exc::FrameError::new_err(message)
    } else {
        exc::Error::new_err(message)
    };
    // Plain attribute on the instance: which slot failed.
    let _ = err.value(py).setattr("stream", stream);
    err
}
