//! The live source's one queue: frames and health events in order, frames bounded by the
//! capacity (the oldest *frame* goes under `DropOldest`), events never dropped for frames.

use crate::event::{HealthEvent, LiveItem};
use std::collections::VecDeque;
use std::time::Instant;

/// At most this many health events wait for the consumer; older ones are dropped beyond it
/// (subscribers still see every event).
const MAX_QUEUED_EVENTS: usize = 1024;

/// The source's state behind its lock: the queue of frames and events, and the supervisor's
/// and the watchdog's bookkeeping.
pub(crate) struct State {
    pub(crate) items: VecDeque<LiveItem>,
    pub(crate) queued_frames: usize,
    pub(crate) queued_events: usize,
    /// A stop was requested.
    pub(crate) stop: bool,
    /// The supervisor has ended: nothing more will be queued.
    pub(crate) finished: bool,
    /// The generation whose appsink may deliver (0: none, between pipelines).
    pub(crate) accepting: u64,
    pub(crate) generation: u64,
    /// The current generation's pipeline ended (EOS or error on its bus).
    pub(crate) ended: bool,
    pub(crate) started: Instant,
    pub(crate) generation_frames: u64,
    /// The watchdog's reference: the last frame, or the consumer's last take while a producer
    /// waits for room ([`Policy::Block`]).
    pub(crate) progress: Instant,
    pub(crate) last_frame: Option<Instant>,
    /// When frames stopped: the last frame before an outage, or the first failure.
    pub(crate) outage_since: Option<Instant>,
    pub(crate) connected_once: bool,
    pub(crate) next_index: u64,
    pub(crate) frames: u64,
    pub(crate) dropped: u64,
    pub(crate) reconnects: u64,
    pub(crate) attempts: u64,
    pub(crate) producer_waiting: bool,
}

impl State {
    pub(crate) fn new() -> Self {
        let now = Instant::now();
        State {
            items: VecDeque::new(),
            queued_frames: 0,
            queued_events: 0,
            stop: false,
            finished: false,
            accepting: 0,
            generation: 0,
            ended: false,
            started: now,
            generation_frames: 0,
            progress: now,
            last_frame: None,
            outage_since: None,
            connected_once: false,
            next_index: 0,
            frames: 0,
            dropped: 0,
            reconnects: 0,
            attempts: 0,
            producer_waiting: false,
        }
    }

    pub(crate) fn push_event(&mut self, event: HealthEvent) {
        if self.queued_events >= MAX_QUEUED_EVENTS
            && let Some(i) = self
                .items
                .iter()
                .position(|item| matches!(item, LiveItem::Event(_)))
        {
            self.items.remove(i);
            self.queued_events -= 1;
            tracing::warn!("live source: health event queue full, the oldest event was dropped");
        }
        self.items.push_back(LiveItem::Event(event));
        self.queued_events += 1;
    }

    pub(crate) fn drop_oldest_frame(&mut self) {
        if let Some(i) = self
            .items
            .iter()
            .position(|item| matches!(item, LiveItem::Frame(_)))
        {
            self.items.remove(i);
            self.queued_frames -= 1;
            self.dropped += 1;
        }
    }
}
