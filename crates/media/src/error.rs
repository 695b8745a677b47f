//! The error type of gstpipe-media.

use gstpipe_core::ElementError;
use gstpipe_frame::FrameError;
use std::time::Duration;

/// Everything that can go wrong opening, indexing or reading a video file. Each variant names
/// what was wrong: the file, the frame index and the frame count, the element and its message.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The path does not exist or cannot be read.
    #[error("cannot open {path}: {reason}")]
    Open {
        /// The path as given.
        path: String,
        /// What the operating system said.
        reason: String,
    },
    /// The argument is neither an existing path nor a URI GStreamer can read.
    #[error("{input:?} is not a path or URI GStreamer can read: {reason}")]
    Uri {
        /// The path or URI as given.
        input: String,
        /// Why it was refused.
        reason: String,
    },
    /// The file has no video stream (audio only, or not a media file GStreamer knows).
    #[error("{uri} has no video stream")]
    NoVideo {
        /// The file's URI.
        uri: String,
    },
    /// The file has fewer video streams than the one asked for.
    #[error("{uri} has no video stream {stream}: it has {videos} (numbered from 0)")]
    NoStream {
        /// The file's URI.
        uri: String,
        /// The video stream asked for.
        stream: usize,
        /// How many video streams the file has.
        videos: usize,
    },
    /// A frame index at or past the end of the file.
    #[error("frame index {index} is out of range: the video has {frames} frames (indices 0 to {last})", last = frames.saturating_sub(1))]
    OutOfRange {
        /// The index asked for.
        index: usize,
        /// How many frames the video has.
        frames: usize,
    },
    /// A time at or past the end of the video's last frame.
    #[error("time {time:?} is past the end of the video (its last frame ends at {end:?})")]
    TimeOutOfRange {
        /// The time asked for.
        time: Duration,
        /// The end of the last frame, in the stream's pts time.
        end: Duration,
    },
    /// The frame is in the file's index but the decoder did not produce it (corrupt or
    /// truncated data): the frames around it may still decode.
    #[error("frame {index} (pts {pts:?}) did not decode: {reason}")]
    NotDecoded {
        /// The frame's index.
        index: usize,
        /// Its presentation timestamp.
        pts: Duration,
        /// What happened instead (end of stream, a later frame came first, ...).
        reason: String,
    },
    /// The stream's frames have no usable presentation timestamps (missing or repeated), so
    /// frames cannot be addressed exactly.
    #[error("{uri}: cannot index the frames: {reason}")]
    Unindexable {
        /// The file's URI.
        uri: String,
        /// What was wrong with the timestamps.
        reason: String,
    },
    /// GStreamer refused a seek.
    #[error("{uri}: seek to {pts:?} failed")]
    Seek {
        /// The file's URI.
        uri: String,
        /// The position asked for.
        pts: Duration,
    },
    /// Nothing happened for too long while decoding or scanning (a stalled pipeline).
    #[error("{uri}: no progress for {waited:?} while {operation}")]
    Timeout {
        /// The file's URI.
        uri: String,
        /// What was waited for.
        operation: &'static str,
        /// How long it waited.
        waited: Duration,
    },
    /// An element failed (demuxer on a truncated file, decoder on corrupt data, missing
    /// plugin, ...).
    #[error("{uri}: {error}")]
    Element {
        /// The file's URI.
        uri: String,
        /// The element's error (boxed: it carries GStreamer's structured error and details).
        error: Box<ElementError>,
    },
    /// A clip sampler's arguments do not fit the video (a zero count, a range outside it,
    /// a clip past the end under the `error` policy).
    #[error("cannot sample clips: {reason}")]
    Sampling {
        /// What is wrong.
        reason: String,
    },
    /// Building or running a pipeline failed.
    #[error(transparent)]
    Pipeline(#[from] gstpipe_core::Error),
    /// A decoded sample could not be mapped as a frame.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// Frames could not be stacked into one array (a planar format, frames of different
    /// sizes).
    #[error(transparent)]
    Batch(#[from] gstpipe_sinks::SinkError),
}

impl MediaError {
    /// The element error behind this error, when an element reported one.
    pub fn element_error(&self) -> Option<&ElementError> {
        match self {
            MediaError::Element { error, .. } => Some(error.as_ref()),
            MediaError::Pipeline(e) => e.element_error(),
            _ => None,
        }
    }

    /// Whether this is [`MediaError::OutOfRange`] or [`MediaError::TimeOutOfRange`].
    pub fn is_out_of_range(&self) -> bool {
        matches!(
            self,
            MediaError::OutOfRange { .. } | MediaError::TimeOutOfRange { .. }
        )
    }
}
