//! [`LiveError`]: why a generation of a live pipeline ended, or why a source could not start.

use std::sync::Arc;
use std::time::Duration;

/// Why a live pipeline was torn down ([`HealthEvent::Disconnected`](crate::HealthEvent)), why
/// the supervisor gave up, or why [`LiveSourceBuilder::build`](crate::LiveSourceBuilder::build)
/// refused to start. Cheap to clone: events carry it to every subscriber.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// The pipeline failed: an element posted an error (`rtspsrc0 failed: Could not open
    /// resource ...`), a state change failed or timed out, or (from `build`) the description
    /// does not parse, names a missing element or has no appsink to read.
    #[error(transparent)]
    Pipeline(Arc<gstpipe_core::Error>),
    /// The source ended (end of stream): a file ran out, a server closed the session.
    #[error("the source ended (end of stream)")]
    Eos,
    /// No frame arrived for the watchdog's time although the pipeline neither ended nor
    /// failed (a frozen camera or server).
    #[error("no frame for {after:?}: the source stalled")]
    Stalled {
        /// How long no frame came.
        after: Duration,
    },
    /// A setting of the builder is out of range; nothing was started.
    #[error("invalid live source setting: {0}")]
    Config(String),
}

impl LiveError {
    /// The element error behind this error, when an element reported one.
    pub fn element_error(&self) -> Option<&gstpipe_core::ElementError> {
        match self {
            LiveError::Pipeline(e) => e.element_error(),
            _ => None,
        }
    }

    /// The pipeline error behind this error, if any.
    pub fn pipeline_error(&self) -> Option<&gstpipe_core::Error> {
        match self {
            LiveError::Pipeline(e) => Some(e),
            _ => None,
        }
    }
}

impl From<gstpipe_core::Error> for LiveError {
    fn from(e: gstpipe_core::Error) -> Self {
        LiveError::Pipeline(Arc::new(e))
    }
}

impl From<gstpipe_sinks::SinkError> for LiveError {
    /// Reading the appsink failed to start: the lookup's own error, or what else the sink
    /// said (e.g. the appsink already has a consumer) as a setting error.
    fn from(e: gstpipe_sinks::SinkError) -> Self {
        match e {
            gstpipe_sinks::SinkError::Pipeline(e) => e.into(),
            other => LiveError::Config(other.to_string()),
        }
    }
}
