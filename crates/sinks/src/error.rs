//! The error type of gstpipe-sinks.

use gstpipe_core::ElementError;
use gstpipe_frame::FrameError;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong moving frames out of an appsink or into an appsrc. Each
/// variant names the element involved and, where it applies, what was expected and found.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    /// The pipeline failed (an element posted an error, e.g. a demuxer on a truncated file), or
    /// looking up the appsink / appsrc failed (none, several, wrong type).
    #[error(transparent)]
    Pipeline(#[from] gstpipe_core::Error),

    /// A sample could not be turned into a [`Frame`](gstpipe_frame::Frame), or an array into a
    /// buffer (wrong layout or sample type for the format).
    #[error(transparent)]
    Frame(#[from] FrameError),

    /// Nothing happened for too long: no frame arrived although the pipeline neither ended nor
    /// failed (a stalled source), or an appsrc stayed full, or the pipeline did not end after
    /// [`FrameSource::finish`](crate::FrameSource::finish). Waiting again is allowed.
    #[error(
        "{element}: no progress for {waited:?} while waiting for {operation} (the pipeline is stalled or too slow)"
    )]
    Timeout {
        /// The appsink or appsrc that waited.
        element: String,
        /// What was waited for (e.g. `a frame`).
        operation: &'static str,
        /// How long it waited.
        waited: Duration,
    },

    /// The frame size changed in the middle of a batch: a batch is one array, all its frames
    /// must have the same shape.
    #[error(
        "{element}: frame shape changed in the middle of a batch: expected {expected:?}, \
         found {found:?} (height, width, channels)"
    )]
    CapsChanged {
        /// The appsink.
        element: String,
        /// The shape of the batch's first frame.
        expected: [usize; 3],
        /// The shape of the frame that differs.
        found: [usize; 3],
    },

    /// Pushing into the appsrc failed with a flow error: `Flushing` (the pipeline is stopped),
    /// `Eos` (after [`FrameSource::finish`](crate::FrameSource::finish)), `NotNegotiated`, ...
    #[error("{element}: push failed with flow {flow:?}")]
    Flow {
        /// The appsrc.
        element: String,
        /// The flow error.
        flow: gst::FlowError,
    },

    /// The appsink already has a consumer: an appsink feeds exactly one reader (a pull
    /// iterator, a channel, a stream, a callback or a batch slot), so a second one would take
    /// frames from the first without either knowing. Drop the first, or read another appsink
    /// (a `tee` with one appsink per reader).
    #[error(
        "{element}: the appsink already has a consumer ({consumer}); an appsink feeds one \
         reader: drop that one first, or give each reader its own appsink (tee)"
    )]
    Busy {
        /// The appsink's name.
        element: String,
        /// What reads it now (e.g. `frames()`, `channel`, `on_frame`, `batch slot`).
        consumer: &'static str,
    },

    /// A callback given to [`FrameSink::on_frame`](crate::FrameSink::on_frame) returned an
    /// error (or got a frame that could not be mapped); the pipeline was stopped with it.
    /// The callback's own error is the [`source`](std::error::Error::source), and
    /// [`SinkError::callback_error`] gives it for downcasting.
    #[error("{element}: frame callback failed: {error}")]
    Callback {
        /// The appsink the callback ran on.
        element: String,
        /// What the callback returned.
        #[source]
        error: CallbackError,
    },

    /// The array given to [`FrameBatch::stack_into`](crate::FrameBatch::stack_into) does not have the
    /// shape `(frames, height, width, channels)` of the frames to stack.
    #[error("batch array shape mismatch: the frames need {expected:?}, the array is {found:?}")]
    BatchShape {
        /// `(frames, height, width, channels)` of the frames.
        expected: [usize; 4],
        /// The array's shape.
        found: [usize; 4],
    },

    /// An array (or buffer) pushed into a [`FrameSource`](crate::FrameSource) does not match its
    /// `VideoInfo`; nothing was pushed.
    #[error("{element}: {what} mismatch: expected {expected}, found {found}; nothing was pushed")]
    Mismatch {
        /// The appsrc.
        element: String,
        /// What differs: `width`, `height`, `channels`, `sample type`, `planes`, `buffer size`.
        what: &'static str,
        /// What the `VideoInfo` requires.
        expected: String,
        /// What was given.
        found: String,
    },

    /// A [`FrameSource`](crate::FrameSource) was built without a `VideoInfo` and its appsrc
    /// has no raw video caps to take one from.
    #[error(
        "appsrc {element} has no raw video caps: give FrameSourceBuilder::info or caps=video/x-raw,... in the description"
    )]
    NoVideoInfo {
        /// The appsrc.
        element: String,
    },

    /// A second [`FrameSource`](crate::FrameSource) asked for other caps on an appsrc that a
    /// live one already feeds: the first one's pushes would then fail downstream.
    #[error(
        "appsrc {element} already has a frame source for {current}; another one for {requested} \
         would break its pushes: push through the first (or drop it first)"
    )]
    SourceInUse {
        /// The appsrc.
        element: String,
        /// The caps the live frame source set.
        current: String,
        /// The caps the new one asked for.
        requested: String,
    },
}

/// The error a user's frame callback returned, shared so every waiter can see it: the
/// original value, whose type [`CallbackError::get`] + `downcast_ref` recovers.
#[derive(Debug, Clone)]
pub struct CallbackError(Arc<dyn std::error::Error + Send + Sync>);

impl CallbackError {
    /// The callback's error as it returned it (e.g. `e.get().downcast_ref::<MyError>()`).
    pub fn get(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl From<Box<dyn std::error::Error + Send + Sync>> for CallbackError {
    fn from(error: Box<dyn std::error::Error + Send + Sync>) -> Self {
        CallbackError(Arc::from(error))
    }
}

impl std::fmt::Display for CallbackError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for CallbackError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

impl SinkError {
    /// The error a frame callback returned, for downcasting to the callback's own type:
    /// `err.callback_error().and_then(|e| e.downcast_ref::<MyError>())`.
    pub fn callback_error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            SinkError::Callback { error, .. } => Some(error.get()),
            _ => None,
        }
    }

    /// The element error behind this error, when the pipeline failed because an element
    /// posted one.
    pub fn element_error(&self) -> Option<&ElementError> {
        match self {
            SinkError::Pipeline(e) => e.element_error(),
            _ => None,
        }
    }

    /// Whether this is a [`SinkError::Timeout`].
    pub fn is_timeout(&self) -> bool {
        matches!(self, SinkError::Timeout { .. })
    }

    /// The flow error behind this error: the one a push returned ([`SinkError::Flow`]), or the
    /// one a streaming thread stopped with, from the element error's `flow-return` detail
    /// ([`ElementError::flow_return`]).
    pub fn flow(&self) -> Option<gst::FlowError> {
        match self {
            SinkError::Flow { flow, .. } => Some(*flow),
            SinkError::Pipeline(e) => e.element_error()?.flow_return()?.into_result().err(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element_error(details: Option<gst::Structure>) -> SinkError {
        gst::init().unwrap();
        let mut error = ElementError::new(
            "src",
            gst::glib::Error::new(gst::StreamError::Failed, "Internal data stream error."),
        );
        error.details = details;
        SinkError::Pipeline(gstpipe_core::Error::Element(error))
    }

    #[test]
    fn flow_is_read_from_the_flow_return_detail() {
        gst::init().unwrap();
        // As GST_ELEMENT_FLOW_ERROR attaches it.
        let details = |flow: i32| {
            Some(
                gst::Structure::builder("details")
                    .field("flow-return", flow)
                    .build(),
            )
        };
        assert_eq!(
            element_error(details(-4)).flow(),
            Some(gst::FlowError::NotNegotiated)
        );
        assert_eq!(
            element_error(details(-5)).flow(),
            Some(gst::FlowError::Error)
        );
        assert_eq!(element_error(None).flow(), None);
        assert_eq!(element_error(details(-99)).flow(), None);
        let flow = SinkError::Flow {
            element: "src".into(),
            flow: gst::FlowError::Flushing,
        };
        assert_eq!(flow.flow(), Some(gst::FlowError::Flushing));
        assert!(flow.to_string().contains("Flushing"), "{flow}");
    }

    #[test]
    fn callback_errors_keep_their_type() {
        #[derive(Debug, thiserror::Error)]
        #[error("model refused the frame")]
        struct Refused(u32);
        let e = SinkError::Callback {
            element: "sink".into(),
            error: CallbackError::from(Box::new(Refused(7)) as Box<_>),
        };
        assert_eq!(
            e.callback_error()
                .and_then(|e| e.downcast_ref::<Refused>())
                .map(|r| r.0),
            Some(7)
        );
        assert_eq!(
            e.to_string(),
            "sink: frame callback failed: model refused the frame"
        );
        assert!(std::error::Error::source(&e).is_some());
    }

    #[test]
    fn messages_name_expected_and_found() {
        let e = SinkError::Mismatch {
            element: "src".into(),
            what: "width",
            expected: "64".into(),
            found: "63".into(),
        };
        assert_eq!(
            e.to_string(),
            "src: width mismatch: expected 64, found 63; nothing was pushed"
        );
        let e = SinkError::CapsChanged {
            element: "sink".into(),
            expected: [48, 64, 3],
            found: [24, 32, 3],
        };
        assert!(e.to_string().contains("[48, 64, 3]"), "{e}");
        assert!(e.to_string().contains("[24, 32, 3]"), "{e}");
        assert!(!e.is_timeout());
        assert!(e.element_error().is_none());
    }
}
