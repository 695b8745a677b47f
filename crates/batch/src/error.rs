//! The error type of gstpipe-batch, and how a stream ends.

use gstpipe_frame::FrameError;
use std::sync::Arc;
use std::time::Duration;

/// Everything that can go wrong forming batches or writing them into arrays. Each variant
/// names the stream (slot index and name) it is about.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// A frame's shape differs from the batch's: every stream must deliver frames of one size
    /// and format. Put `videoscale ! video/x-raw,width=W,height=H` (and `videoconvert !
    /// video/x-raw,format=RGB`) before each appsink so the pipelines scale their frames.
    #[error(
        "stream {stream} ({name}): frame of shape {found:?} (height, width, channels) while the \
         batch is {expected:?}, set by stream {reference} ({reference_name}): give every stream \
         the same size and format, e.g. `videoscale ! videoconvert ! \
         video/x-raw,format=RGB,width=W,height=H` before its appsink"
    )]
    Shape {
        /// The slot of the stream whose frame differs.
        stream: usize,
        /// Its name.
        name: String,
        /// The shape of its frame, `[height, width, channels]`.
        found: [usize; 3],
        /// The batch's frame shape.
        expected: [usize; 3],
        /// The stream whose first frame set the batch's shape.
        reference: usize,
        /// Its name.
        reference_name: String,
    },

    /// A stream's frame is not one packed array of `u8` samples (a planar format such as
    /// I420, or 16-bit samples): convert it in the pipeline (`videoconvert !
    /// video/x-raw,format=RGB`).
    #[error(
        "stream {stream} ({name}): {source} (add `videoconvert ! video/x-raw,format=RGB` before its appsink)"
    )]
    Frame {
        /// The slot of the stream.
        stream: usize,
        /// Its name.
        name: String,
        /// Why the frame cannot be read as `u8` samples.
        #[source]
        source: FrameError,
    },

    /// The array given to write a batch into has the wrong shape or is not contiguous
    /// (standard layout). The `&mut Array4` variants reshape it instead.
    #[error(
        "output array of shape {found:?} (standard layout: {standard}) cannot hold a batch of \
         shape {expected:?}: pass a contiguous array of that shape"
    )]
    Output {
        /// The shape the batch needs.
        expected: [usize; 4],
        /// The array's shape.
        found: [usize; 4],
        /// Whether the array was in standard (C, contiguous) layout.
        standard: bool,
    },

    /// The normalisation does not fit the frames (`mean`/`std` lengths other than 1 or the
    /// number of channels), or divides by zero.
    #[error("normalisation: {0}")]
    Normalize(String),

    /// No stream delivered a frame for the batcher's stall time while some streams were still
    /// running (none ended, none failed). Waiting again is allowed.
    #[error(
        "no frame from any stream for {waited:?}; still waiting for {}",
        waiting.join(", ")
    )]
    Stalled {
        /// How long the call waited.
        waited: Duration,
        /// The streams that have neither ended nor delivered, as `index (name)`.
        waiting: Vec<String>,
    },

    /// Every stream of the batcher failed: nothing more can come. Each entry names the
    /// stream and its error.
    #[error("every stream failed: {}", failures.join("; "))]
    AllFailed {
        /// `slot (name): error` for each stream.
        failures: Vec<String>,
    },

    /// No stream has this slot number (never added, or removed already).
    #[error("no stream in slot {stream}")]
    NoSuchStream {
        /// The slot number asked for.
        stream: usize,
    },

    /// The batcher has no stream: add sources before asking for batches.
    #[error("the batcher has no stream: add at least one source")]
    NoStreams,

    /// A source could not be attached to the batcher.
    #[error("stream {stream} ({name}): cannot attach the source: {message}")]
    Attach {
        /// The slot it was given.
        stream: usize,
        /// Its name.
        name: String,
        /// What went wrong.
        message: String,
    },
}

/// How a stream ended. Its slot stays empty from then on; the other streams go on.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum StreamEnd {
    /// End of stream (this appsink's EOS, the iterator's end, [`Feed::end`](crate::Feed::end)),
    /// or its pipeline was stopped.
    Eos,
    /// The stream failed: its pipeline posted an error, or the source reported one.
    Failed(Arc<dyn std::error::Error + Send + Sync>),
    /// Every [`Feed`](crate::Feed) of the stream was dropped without saying why.
    Detached,
}

impl StreamEnd {
    /// Whether the stream failed.
    pub fn is_failure(&self) -> bool {
        matches!(self, StreamEnd::Failed(_))
    }

    /// The error, when the stream failed.
    pub fn error(&self) -> Option<&(dyn std::error::Error + Send + Sync + 'static)> {
        match self {
            StreamEnd::Failed(e) => Some(&**e),
            _ => None,
        }
    }
}

impl std::fmt::Display for StreamEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamEnd::Eos => f.write_str("end of stream"),
            StreamEnd::Failed(e) => write!(f, "failed: {e}"),
            StreamEnd::Detached => f.write_str("source detached"),
        }
    }
}
