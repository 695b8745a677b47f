//! Typed errors for pipelines: what failed, where, and what GStreamer said.

use std::time::Duration;

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error an element posted on the pipeline's bus: which element, what it said, and the
/// debug details GStreamer attached (source file, function, element path, OS error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementError {
    /// The name of the element that posted the error (e.g. `filesrc0`).
    pub element: String,
    /// The element's path in the pipeline (e.g. `/GstPipeline:pipeline0/GstFileSrc:filesrc0`).
    pub path: String,
    /// GStreamer's message (e.g. `Could not open file "/nonexistent" for reading.`).
    pub message: String,
    /// GStreamer's debug string, when the element gave one.
    pub debug: Option<String>,
}

impl ElementError {
    /// The human-readable part of the debug string: what follows the element path GStreamer
    /// puts first (e.g. `No such file "/nonexistent"` for a missing `filesrc` file).
    pub fn detail(&self) -> Option<&str> {
        let debug = self.debug.as_deref()?;
        let detail = match debug.rfind(":\n") {
            Some(i) => &debug[i + 2..],
            None => debug,
        };
        let detail = detail.trim();
        (!detail.is_empty()).then_some(detail)
    }
}

impl std::fmt::Display for ElementError {
    /// `element filesrc0 failed: Resource not found. (No such file "/nonexistent")`; the
    /// alternate form (`{:#}`) prints the whole debug string instead of its last part.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "element {} failed: {}", self.element, self.message)?;
        if f.alternate() {
            if let Some(debug) = &self.debug {
                write!(f, " ({debug})")?;
            }
        } else if let Some(detail) = self.detail() {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ElementError {}

/// Everything that can go wrong building, running or stopping a pipeline.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `gst::init` failed (GStreamer missing or broken).
    #[error("cannot initialise GStreamer: {0}")]
    Init(String),
    /// The launch description is not valid syntax.
    #[error("cannot parse pipeline {description:?}: {message}")]
    Parse {
        /// The description as given.
        description: String,
        /// GStreamer's parser message.
        message: String,
    },
    /// The description names an element factory that is not installed.
    #[error(
        "no element {factory:?} (unknown element or missing plugin) in pipeline {description:?}"
    )]
    MissingElement {
        /// The factory name that was not found (e.g. `nosuchelement`).
        factory: String,
        /// The description as given.
        description: String,
    },
    /// An element posted an error on the bus.
    #[error(transparent)]
    Element(#[from] ElementError),
    /// A state change failed without an element saying why.
    #[error("cannot set {element} to {state:?}")]
    StateChange {
        /// The pipeline or element whose state change failed.
        element: String,
        /// The target state.
        state: gst::State,
    },
    /// A bounded wait ran out.
    #[error("timed out after {after:?} waiting for {operation}")]
    Timeout {
        /// What was waited for (e.g. `end of stream`).
        operation: String,
        /// How long it waited.
        after: Duration,
    },
    /// The pipeline was stopped (set to Null) before it reached end of stream or an error.
    #[error("pipeline {pipeline} was stopped before end of stream")]
    Stopped {
        /// The pipeline's name.
        pipeline: String,
    },
    /// No element of that name is in the pipeline.
    #[error("no element named {name:?} in pipeline {pipeline}")]
    NoSuchElement {
        /// The name looked up.
        name: String,
        /// The pipeline's name.
        pipeline: String,
    },
    /// An element was found by name but is of another type than asked for.
    #[error("element {name:?} is a {found}, not a {expected}")]
    WrongElementType {
        /// The element's name.
        name: String,
        /// The type asked for (e.g. `GstAppSink`).
        expected: String,
        /// The element's type (e.g. `GstFakeSink`).
        found: String,
    },
    /// No element of the asked type is in the pipeline.
    #[error("pipeline {pipeline} has no {kind} element")]
    NoElementOfType {
        /// The type asked for.
        kind: String,
        /// The pipeline's name.
        pipeline: String,
    },
    /// Several elements of the asked type exist and no name was given to choose one.
    #[error("pipeline has {} {kind} elements ({}); name the one to use", names.len(), names.join(", "))]
    Ambiguous {
        /// The type asked for.
        kind: String,
        /// The names of the candidates.
        names: Vec<String>,
    },
}

impl Error {
    /// The element error behind this error, if an element reported one.
    pub fn element_error(&self) -> Option<&ElementError> {
        match self {
            Error::Element(e) => Some(e),
            _ => None,
        }
    }

    /// Whether this is a [`Error::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }
}
