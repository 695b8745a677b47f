//! Which frames of a stream the user asked for (`every=`, `max_fps=`): decided on the Rust
//! side, before a Python `Frame` (or any copy) is made for a frame that is not wanted.

use pyo3::prelude::*;

/// Slack for pts rounding: 30 fps pts are multiples of 33 333 333 ns, so three of them fall
/// 1 ns short of 100 ms.
const PTS_SLACK: gst::ClockTime = gst::ClockTime::from_mseconds(1);

/// Keeps every `every`-th frame (the first, then one in `every`), and of those at most
/// `max_fps` per second of stream time (by pts; frames without pts are kept).
#[derive(Debug)]
pub(crate) struct Sampling {
    every: u64,
    gap: Option<gst::ClockTime>,
    seen: u64,
    /// The pts from which the next frame may be kept (`max_fps`).
    due: Option<gst::ClockTime>,
}

impl Sampling {
    /// The sampling for `every` and `max_fps`, refused with ``ValueError`` when `every` is 0
    /// or `max_fps` is not a positive finite number.
    pub(crate) fn new(every: u64, max_fps: Option<f64>) -> PyResult<Self> {
        if every == 0 {
            return Err(
                crate::errors::value_error("every must be >= 1 (1 keeps every frame)").into(),
            );
        }
        let gap = match max_fps {
            None => None,
            Some(fps) if fps.is_finite() && fps > 0.0 => {
                Some(gst::ClockTime::from_nseconds((1e9 / fps).round() as u64))
            }
            Some(fps) => {
                return Err(crate::errors::value_error(format!(
                    "max_fps must be a positive number of frames per second, got {fps}"
                ))
                .into());
            }
        };
        Ok(Sampling {
            every,
            gap,
            seen: 0,
            due: None,
        })
    }

    /// Whether `frame`, the next frame of the stream, is wanted.
    pub(crate) fn keep(&mut self, frame: &gstpipe_frame::Frame) -> bool {
        let n = self.seen;
        self.seen += 1;
        if !n.is_multiple_of(self.every) {
            return false;
        }
        let (Some(gap), Some(pts)) = (self.gap, frame.pts()) else {
            return true;
        };
        match self.due {
            // A pts going backwards (a new segment, a reconnection) starts over.
            Some(due) if pts + PTS_SLACK < due && pts + gap >= due => false,
            Some(due) if pts + gap >= due && pts < due + gap => {
                self.due = Some(due + gap);
                true
            }
            // The first frame, a jump forward (a gap in the stream) or backwards.
            _ => {
                self.due = Some(pts + gap);
                true
            }
        }
    }
}
