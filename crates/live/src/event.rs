//! What a live source delivers: frames with their generation and capture time, and health
//! events.

use crate::error::LiveError;
use gstpipe_frame::Frame;
use std::time::{Duration, SystemTime};

/// A change in a live source's health, in the order it happened. Delivered in the frame stream
/// ([`LiveItem::Event`]) and to subscribers ([`LiveSource::subscribe`](crate::LiveSource::subscribe)).
///
/// A typical outage reads: `Connected`, frames, `Disconnected`, `Reconnecting { attempt: 1 }`,
/// (`Disconnected`, `Reconnecting { attempt: 2 }`, ...), `Reconnected`, frames.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum HealthEvent {
    /// The first frame arrived (generation 1, or the first generation that delivered one).
    Connected {
        /// The pipeline generation, from 1.
        generation: u64,
    },
    /// The pipeline of `generation` ended (error, end of stream or stall) and was torn down.
    Disconnected {
        /// The generation that ended.
        generation: u64,
        /// Why it ended.
        error: LiveError,
    },
    /// A new pipeline will be built after `delay`.
    Reconnecting {
        /// The attempt number since the last frame, from 1.
        attempt: u32,
        /// How long the supervisor waits before building it.
        delay: Duration,
    },
    /// A rebuilt pipeline delivered its first frame.
    Reconnected {
        /// Its generation.
        generation: u64,
        /// How long no frame came: from the last frame before the outage (or from the first
        /// failure, when no frame ever came) to this generation's first frame.
        gap: Duration,
    },
    /// `attempts` attempts in a row delivered no frame: the supervisor stopped. Nothing
    /// follows this event.
    GaveUp {
        /// How many reconnection attempts were made.
        attempts: u32,
        /// The error that ended the last one.
        last_error: LiveError,
    },
}

impl HealthEvent {
    /// The event's name as printed in NDJSON: `connected`, `disconnected`, `reconnecting`,
    /// `reconnected`, `gave_up`.
    pub fn name(&self) -> &'static str {
        match self {
            HealthEvent::Connected { .. } => "connected",
            HealthEvent::Disconnected { .. } => "disconnected",
            HealthEvent::Reconnecting { .. } => "reconnecting",
            HealthEvent::Reconnected { .. } => "reconnected",
            HealthEvent::GaveUp { .. } => "gave_up",
        }
    }
}

impl std::fmt::Display for HealthEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HealthEvent::Connected { generation } => {
                write!(f, "connected (generation {generation})")
            }
            HealthEvent::Disconnected { generation, error } => {
                write!(f, "disconnected (generation {generation}): {error}")
            }
            HealthEvent::Reconnecting { attempt, delay } => {
                write!(
                    f,
                    "reconnecting in {:.3} s (attempt {attempt})",
                    delay.as_secs_f64()
                )
            }
            HealthEvent::Reconnected { generation, gap } => write!(
                f,
                "reconnected (generation {generation}) after {:.3} s without frames",
                gap.as_secs_f64()
            ),
            HealthEvent::GaveUp {
                attempts,
                last_error,
            } => {
                write!(f, "gave up after {attempts} attempts: {last_error}")
            }
        }
    }
}

/// Where a frame's [`LiveFrame::wall_time`] comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeSource {
    /// The sender's clock: an NTP (or UNIX) reference timestamp on the buffer, as rtspsrc and
    /// rtpjitterbuffer attach once an RTCP sender report has mapped RTP time to NTP time.
    SenderNtp,
    /// The pipeline clock at the buffer's running time (base time + running time of its pts),
    /// mapped to the system clock at the moment the frame reached the appsink.
    PipelineClock,
    /// No timestamp to go by (no pts or no clock): the moment the frame reached the appsink.
    Arrival,
}

impl TimeSource {
    /// `sender_ntp`, `pipeline_clock` or `arrival`.
    pub fn name(self) -> &'static str {
        match self {
            TimeSource::SenderNtp => "sender_ntp",
            TimeSource::PipelineClock => "pipeline_clock",
            TimeSource::Arrival => "arrival",
        }
    }
}

/// A frame from a live source, with where and when it came from. Derefs to [`Frame`] for the
/// array views.
#[derive(Debug)]
pub struct LiveFrame {
    /// Boxed: a mapped frame is large, and items move through a queue.
    pub(crate) frame: Box<Frame>,
    pub(crate) index: u64,
    pub(crate) generation: u64,
    pub(crate) after_gap: bool,
    pub(crate) wall_time: SystemTime,
    pub(crate) time_source: TimeSource,
}

impl LiveFrame {
    /// The frame.
    pub fn frame(&self) -> &Frame {
        &self.frame
    }

    /// The frame, owned.
    pub fn into_frame(self) -> Frame {
        *self.frame
    }

    /// The frame's number across all generations, from 0: it keeps counting over reconnects
    /// (frames dropped by the latest-frame policy use numbers too, so a jump means drops).
    pub fn index(&self) -> u64 {
        self.index
    }

    /// The pipeline generation (connection number) the frame came from, from 1.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether the frame is the first one after a reconnection (frames were missed before it).
    pub fn after_gap(&self) -> bool {
        self.after_gap
    }

    /// When the frame was captured, as system (UNIX) time; see [`LiveFrame::time_source`].
    pub fn wall_time(&self) -> SystemTime {
        self.wall_time
    }

    /// [`LiveFrame::wall_time`] as nanoseconds since the UNIX epoch (0 for times before it).
    pub fn wall_ns(&self) -> u64 {
        self.wall_time
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos().try_into().unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    /// Where [`LiveFrame::wall_time`] comes from.
    pub fn time_source(&self) -> TimeSource {
        self.time_source
    }
}

impl std::ops::Deref for LiveFrame {
    type Target = Frame;

    fn deref(&self) -> &Frame {
        &self.frame
    }
}

/// One item of a live source's stream: a frame or a health event, in the order they happened.
#[derive(Debug)]
#[non_exhaustive]
pub enum LiveItem {
    /// A frame.
    Frame(LiveFrame),
    /// A health event.
    Event(HealthEvent),
}

impl LiveItem {
    /// The frame, if this is one.
    pub fn frame(&self) -> Option<&LiveFrame> {
        match self {
            LiveItem::Frame(f) => Some(f),
            LiveItem::Event(_) => None,
        }
    }

    /// The event, if this is one.
    pub fn event(&self) -> Option<&HealthEvent> {
        match self {
            LiveItem::Event(e) => Some(e),
            LiveItem::Frame(_) => None,
        }
    }
}

/// A live source's counters, from [`LiveSource::stats`](crate::LiveSource::stats).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LiveStats {
    /// Frames received from the pipelines, over all generations.
    pub frames: u64,
    /// Frames dropped because the queue was full (latest-frame policy).
    pub dropped: u64,
    /// Successful reconnections (generations after the first that delivered a frame).
    pub reconnects: u64,
    /// Reconnection attempts started (pipelines built after the first).
    pub attempts: u64,
    /// The current (or last) generation, from 1.
    pub generation: u64,
    /// Time since the last frame arrived, if one did.
    pub last_frame_age: Option<Duration>,
    /// Whether the current generation has delivered a frame and is still running.
    pub connected: bool,
}

/// Capture time of a sample: the sender's NTP reference timestamp when the buffer has one,
/// else the pipeline clock at its running time mapped to the system clock now.
pub(crate) fn capture_time(
    appsink: &gst_app::AppSink,
    sample: &gst::Sample,
) -> (SystemTime, TimeSource) {
    use gst::prelude::*;
    if let Some(buffer) = sample.buffer()
        && let Some(t) = reference_time(buffer)
    {
        return (t, TimeSource::SenderNtp);
    }
    let mapped = (|| {
        let pts = sample.buffer()?.pts()?;
        let segment = sample.segment()?.downcast_ref::<gst::ClockTime>()?;
        let running = segment.to_running_time(pts)?;
        let clock = appsink.clock()?;
        let base = appsink.base_time()?;
        let at = base.checked_add(running)?;
        let (clock_now, now) = sample_clocks(&clock);
        Some(if clock_now >= at {
            now.checked_sub(Duration::from_nanos((clock_now - at).nseconds()))?
        } else {
            now.checked_add(Duration::from_nanos((at - clock_now).nseconds()))?
        })
    })();
    match mapped {
        Some(t) => (t, TimeSource::PipelineClock),
        None => (SystemTime::now(), TimeSource::Arrival),
    }
}

/// The pipeline clock and the system clock at the same moment: the clock is read between two
/// system-time readings, three times, and the tightest pair's midpoint is taken, so a
/// preemption between two readings does not skew the mapping.
fn sample_clocks(clock: &gst::Clock) -> (gst::ClockTime, SystemTime) {
    use gst::prelude::*;
    let mut best: Option<(Duration, gst::ClockTime, SystemTime)> = None;
    for _ in 0..3 {
        let before = SystemTime::now();
        let clock_now = clock.time();
        let after = SystemTime::now();
        let width = after.duration_since(before).unwrap_or_default();
        let middle = before + width / 2;
        if best.is_none_or(|(w, _, _)| width < w) {
            best = Some((width, clock_now, middle));
        }
        if width < Duration::from_micros(20) {
            break;
        }
    }
    let (_, clock_now, now) = best.expect("at least one reading");
    (clock_now, now)
}

/// Seconds from the NTP epoch (1900-01-01) to the UNIX epoch (1970-01-01).
pub(crate) const NTP_TO_UNIX_SECS: u64 = 2_208_988_800;

/// The buffer's reference timestamp as system time: `timestamp/x-ntp` (ns since 1900) or
/// `timestamp/x-unix` (ns since 1970).
pub(crate) fn reference_time(buffer: &gst::BufferRef) -> Option<SystemTime> {
    for meta in buffer.iter_meta::<gst::ReferenceTimestampMeta>() {
        let Some(kind) = meta.reference().structure(0).map(|s| s.name().to_string()) else {
            continue;
        };
        let ns = meta.timestamp().nseconds();
        let unix_ns = match kind.as_str() {
            "timestamp/x-ntp" => ns.checked_sub(NTP_TO_UNIX_SECS * 1_000_000_000)?,
            "timestamp/x-unix" => ns,
            _ => continue,
        };
        return SystemTime::UNIX_EPOCH.checked_add(Duration::from_nanos(unix_ns));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ntp_reference_timestamps_become_unix_time() {
        gst::init().unwrap();
        // 2020-09-13T12:26:40Z is 1_600_000_000 s after 1970.
        let unix = 1_600_000_000u64 * 1_000_000_000 + 123_456_789;
        let mut buffer = gst::Buffer::new();
        let caps = gst::Caps::new_empty_simple("timestamp/x-ntp");
        gst::ReferenceTimestampMeta::add(
            buffer.get_mut().unwrap(),
            &caps,
            gst::ClockTime::from_nseconds(unix + NTP_TO_UNIX_SECS * 1_000_000_000),
            gst::ClockTime::NONE,
        );
        let t = reference_time(&buffer).unwrap();
        assert_eq!(
            t.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos(),
            unix as u128
        );

        let mut other = gst::Buffer::new();
        let caps = gst::Caps::new_empty_simple("timestamp/x-something");
        gst::ReferenceTimestampMeta::add(
            other.get_mut().unwrap(),
            &caps,
            gst::ClockTime::from_seconds(5),
            gst::ClockTime::NONE,
        );
        assert_eq!(reference_time(&other), None);
        assert_eq!(reference_time(&gst::Buffer::new()), None);
    }
}
