//! The error type of gstpipe-sinks.

use gstpipe_core::ElementError;
use gstpipe_frame::FrameError;
use std::time::Duration;

/// Everything that can go wrong moving frames out of an appsink or into an appsrc. Each
/// variant names the element involved and, where it applies, what was expected and found.
#[derive(Debug, thiserror::Error)]
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

    /// A callback given to [`FrameSink::on_frame`](crate::FrameSink::on_frame) returned an
    /// error; the pipeline was stopped with it.
    #[error("frame callback failed: {0}")]
    Callback(String),

    /// The array given to [`Batch::stack_into`](crate::Batch::stack_into) does not have the
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
}

impl SinkError {
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
    /// one a streaming thread stopped with, as GStreamer reports it in an element error's
    /// debug text (`streaming stopped, reason not-negotiated (-4)`).
    pub fn flow(&self) -> Option<gst::FlowError> {
        match self {
            SinkError::Flow { flow, .. } => Some(*flow),
            SinkError::Pipeline(e) => {
                let debug = e.element_error()?.debug.as_deref()?;
                flow_from_debug(debug)
            }
            _ => None,
        }
    }
}

/// Reads `reason <name> (<code>)` from a `gst_base_src_loop` error's debug string.
fn flow_from_debug(debug: &str) -> Option<gst::FlowError> {
    let reason = &debug[debug.find("reason ")? + "reason ".len()..];
    let name = reason.split_whitespace().next()?;
    Some(match name {
        "not-linked" => gst::FlowError::NotLinked,
        "flushing" => gst::FlowError::Flushing,
        "eos" => gst::FlowError::Eos,
        "not-negotiated" => gst::FlowError::NotNegotiated,
        "error" => gst::FlowError::Error,
        "not-supported" => gst::FlowError::NotSupported,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn element_error(debug: &str) -> SinkError {
        SinkError::Pipeline(gstpipe_core::Error::Element(ElementError {
            element: "src".into(),
            path: "/GstPipeline:pipeline0/GstAppSrc:src".into(),
            message: "Internal data stream error.".into(),
            debug: Some(debug.into()),
        }))
    }

    #[test]
    fn flow_is_read_from_the_streaming_error() {
        let e = element_error(
            "../libs/gst/base/gstbasesrc.c(3132): gst_base_src_loop (): \
             /GstPipeline:pipeline0/GstAppSrc:src:\nstreaming stopped, reason not-negotiated (-4)",
        );
        assert_eq!(e.flow(), Some(gst::FlowError::NotNegotiated));
        assert_eq!(
            element_error("streaming stopped, reason error (-5)").flow(),
            Some(gst::FlowError::Error)
        );
        assert_eq!(element_error("no reason given").flow(), None);
        assert_eq!(element_error("reason unknown-thing (-99)").flow(), None);
        let flow = SinkError::Flow {
            element: "src".into(),
            flow: gst::FlowError::Flushing,
        };
        assert_eq!(flow.flow(), Some(gst::FlowError::Flushing));
        assert!(flow.to_string().contains("Flushing"), "{flow}");
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
