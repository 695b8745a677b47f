//! Typed errors for pipelines: what failed, where, and what GStreamer said.

use gst::glib::translate::IntoGlib;
use gst::prelude::*;
use std::time::Duration;

/// A result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An error an element posted on the pipeline's bus: which element, GStreamer's structured
/// error (`glib::Error` domain and code, e.g. `gst::ResourceError::NotFound`), the details
/// structure some elements attach (`flow-return` for a streaming failure), and the debug text
/// (source file, function, element path, OS error).
///
/// ```
/// use gstpipe_core::{Error, Pipeline};
///
/// let pipeline = Pipeline::launch("filesrc location=/nonexistent ! fakesink")?;
/// let Err(Error::Element(e)) = pipeline.play() else { panic!("expected an element error") };
/// assert_eq!(e.kind::<gst::ResourceError>(), Some(gst::ResourceError::NotFound));
/// assert_eq!(e.element, "filesrc0");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ElementError {
    /// The name of the element that posted the error (e.g. `filesrc0`).
    pub element: String,
    /// The element's path in the pipeline (e.g. `/GstPipeline:pipeline0/GstFileSrc:filesrc0`).
    pub path: String,
    /// GStreamer's message (e.g. `Could not open file "/nonexistent" for reading.`).
    pub message: String,
    /// GStreamer's debug string, when the element gave one.
    pub debug: Option<String>,
    /// The structured error: domain (`gst::ResourceError`, `gst::StreamError`, ...) and code.
    pub error: gst::glib::Error,
    /// The details structure the element attached to its error message, if any (GStreamer
    /// puts `flow-return` there when a streaming thread stops on a flow error).
    pub details: Option<gst::Structure>,
}

impl PartialEq for ElementError {
    fn eq(&self, other: &Self) -> bool {
        self.element == other.element
            && self.path == other.path
            && self.message == other.message
            && self.debug == other.debug
            && self.error.domain() == other.error.domain()
            && self.code() == other.code()
            && self.details == other.details
    }
}

impl Eq for ElementError {}

impl ElementError {
    /// An error as `element` would post it: `error` is GStreamer's structured error
    /// (e.g. `glib::Error::new(gst::ResourceError::NotFound, "...")`), whose message becomes
    /// [`ElementError::message`].
    pub fn new(element: impl Into<String>, error: gst::glib::Error) -> Self {
        let element = element.into();
        ElementError {
            path: element.clone(),
            element,
            message: error.message().to_string(),
            debug: None,
            error,
            details: None,
        }
    }

    /// The error a bus message carries, naming the element that posted it.
    pub fn from_message(msg: &gst::message::Error) -> Self {
        let src = msg.src();
        ElementError {
            element: src.map(|s| s.name().to_string()).unwrap_or_default(),
            path: src.map(|s| s.path_string().to_string()).unwrap_or_default(),
            message: msg.error().message().to_string(),
            debug: msg.debug().map(|d| d.to_string()),
            error: msg.error(),
            details: msg.details().map(|d| d.to_owned()),
        }
    }

    /// The error's code as `T` when it is of that domain: e.g.
    /// `e.kind::<gst::ResourceError>() == Some(gst::ResourceError::NotFound)`.
    pub fn kind<T: gst::glib::error::ErrorDomain>(&self) -> Option<T> {
        self.error.kind::<T>()
    }

    /// The error domain's name, e.g. `gst-resource-error-quark`.
    pub fn domain(&self) -> &str {
        self.error.domain().as_str()
    }

    /// The error's code within its domain (e.g. 3 for `gst::ResourceError::NotFound`).
    pub fn code(&self) -> i32 {
        self.error.code()
    }

    /// The flow return a streaming thread stopped with, from the message's `flow-return`
    /// detail (`GST_ELEMENT_FLOW_ERROR`): e.g. `gst::FlowReturn::NotNegotiated`.
    pub fn flow_return(&self) -> Option<gst::FlowReturn> {
        let details = self.details.as_ref()?;
        if let Ok(flow) = details.get::<gst::FlowReturn>("flow-return") {
            return Some(flow);
        }
        let value = details.get::<i32>("flow-return").ok()?;
        let flows = [
            gst::FlowReturn::Ok,
            gst::FlowReturn::NotLinked,
            gst::FlowReturn::Flushing,
            gst::FlowReturn::Eos,
            gst::FlowReturn::NotNegotiated,
            gst::FlowReturn::Error,
            gst::FlowReturn::NotSupported,
        ];
        flows.into_iter().find(|f| f.into_glib() == value)
    }

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
    /// The launch description is not valid syntax. The message shows the description
    /// [`echo`](crate::echo)ed: passwords masked, cut after 200 characters.
    #[error("cannot parse pipeline {:?}: {message}", crate::echo(.description))]
    Parse {
        /// The description as given.
        description: String,
        /// GStreamer's parser message.
        message: String,
    },
    /// The description names an element factory that is not installed. The message shows
    /// the description [`echo`](crate::echo)ed: passwords masked, cut after 200 characters.
    #[error(
        "no element {factory:?} (unknown element or missing plugin) in pipeline {:?}",
        crate::echo(.description)
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
    /// `play()` after a stop on a pipeline that cannot run twice: `element`'s output pads
    /// appear at run time and the launch parser linked them once.
    #[error(
        "pipeline {pipeline} cannot be played again after it ended: {element} links its \
         output pads once; build a new pipeline from the description (Pipeline::relaunch)"
    )]
    NotReplayable {
        /// The pipeline's name.
        pipeline: String,
        /// The element whose pads are linked once (e.g. `decodebin0`).
        element: String,
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
