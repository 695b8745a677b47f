//! [`LiveSource`]: the handle a consumer reads frames and events from.

use crate::backoff::Backoff;
use crate::builder::LiveSourceBuilder;
use crate::builder::{DEFAULT_CAPACITY, DEFAULT_STALL_TIMEOUT, DEFAULT_TEARDOWN_TIMEOUT};
use crate::error::LiveError;
use crate::event::{HealthEvent, LiveItem, LiveStats};
use crate::supervisor::{Config, IN_SUBSCRIBER, Shared};
use gstpipe_core::sync::{Unpoisoned as _, UnpoisonedWait as _};
use gstpipe_sinks::Policy;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A live pipeline that survives: rebuilt from its description whenever it fails, ends or
/// stalls, with backoff, while one stream of frames and health events keeps going.
///
/// Read it as an iterator ([`LiveSource::next`], `for item in &source`), which yields
/// [`LiveItem`]s and ends after [`HealthEvent::GaveUp`] or [`LiveSource::stop`]; subscribe to
/// health events with [`LiveSource::subscribe`]; read the counters with [`LiveSource::stats`].
/// Dropping it stops the supervisor and tears the pipeline down.
///
/// A pipeline is never re-played: each generation is built anew from the description (a
/// decodebin links its pads once).
pub struct LiveSource {
    pub(crate) shared: Arc<Shared>,
    pub(crate) thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field(
                "description",
                &gstpipe_core::echo(&self.shared.config.description),
            )
            .field("stats", &self.stats())
            .finish()
    }
}

/// A wait for the next item ran out ([`LiveSource::next_timeout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no item from the live source within {0:?}")]
pub struct TimedOut(pub Duration);

impl LiveSource {
    /// A builder for a live source reading `description`'s appsink.
    pub fn builder(description: impl Into<String>) -> LiveSourceBuilder {
        LiveSourceBuilder {
            config: Config {
                description: description.into(),
                appsink: None,
                backoff: Backoff::default(),
                stall: DEFAULT_STALL_TIMEOUT,
                capacity: DEFAULT_CAPACITY,
                policy: Policy::DropOldest,
                teardown: DEFAULT_TEARDOWN_TIMEOUT,
                state_timeout: None,
                ntp: true,
            },
            subscribers: Vec::new(),
        }
    }

    /// A live source with the default settings.
    ///
    /// # Errors
    /// As [`LiveSourceBuilder::build`].
    pub fn new(description: impl Into<String>) -> Result<Self, LiveError> {
        Self::builder(description).build()
    }

    /// The launch description every generation is built from.
    pub fn description(&self) -> &str {
        &self.shared.config.description
    }

    /// The next frame or event, waiting as long as it takes; `None` once the supervisor has
    /// ended (after [`HealthEvent::GaveUp`] or [`LiveSource::stop`]) and everything queued was
    /// taken.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&self) -> Option<LiveItem> {
        self.take(None).unwrap_or(None)
    }

    /// Like [`LiveSource::next`], but waits at most `limit`.
    ///
    /// # Errors
    /// [`TimedOut`] when nothing came in time (the source is still running).
    pub fn next_timeout(&self, limit: Duration) -> Result<Option<LiveItem>, TimedOut> {
        self.take(Some(Instant::now() + limit))
            .ok_or(TimedOut(limit))
    }

    /// `None` on timeout, `Some(None)` at the end.
    fn take(&self, deadline: Option<Instant>) -> Option<Option<LiveItem>> {
        let shared = &self.shared;
        let mut state = shared.lock();
        loop {
            if let Some(item) = state.items.pop_front() {
                match item {
                    LiveItem::Frame(_) => {
                        state.queued_frames -= 1;
                        if state.producer_waiting {
                            // The pipeline waits on the consumer, not the other way round.
                            state.progress = Instant::now();
                        }
                    }
                    LiveItem::Event(_) => state.queued_events -= 1,
                }
                drop(state);
                shared.space.notify_all();
                return Some(Some(item));
            }
            if state.finished {
                return Some(None);
            }
            state = match deadline {
                None => shared.items.wait_unpoisoned(state),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    shared.items.wait_timeout_unpoisoned(state, deadline - now)
                }
            };
        }
    }

    /// A blocking iterator over the items (also `for item in &source`).
    pub fn iter(&self) -> Iter<'_> {
        Iter { source: self }
    }

    /// Calls `subscriber` for every later health event, on the thread that saw it (the
    /// supervisor's, or a streaming thread for `Connected` / `Reconnected`), before the event
    /// is queued in the stream. Keep it short; a panic in it is caught and logged. Subscribers stay for the source's lifetime; use
    /// [`LiveSourceBuilder::on_event`] to see the first events too.
    pub fn subscribe<F>(&self, subscriber: F)
    where
        F: Fn(&HealthEvent) + Send + Sync + 'static,
    {
        self.shared
            .subscribers
            .lock_unpoisoned()
            .push(Arc::new(subscriber));
    }

    /// The counters.
    pub fn stats(&self) -> LiveStats {
        let state = self.shared.lock();
        LiveStats {
            frames: state.frames,
            dropped: state.dropped,
            reconnects: state.reconnects,
            attempts: state.attempts,
            generation: state.generation,
            last_frame_age: state.last_frame.map(|t| t.elapsed()),
            connected: state.accepting != 0
                && state.generation_frames > 0
                && !state.ended
                && !state.finished,
        }
    }

    /// Whether the supervisor has ended (gave up or stopped); items may still be queued.
    pub fn is_finished(&self) -> bool {
        self.shared.lock().finished
    }

    /// Asks the supervisor to stop and returns at once: the current pipeline is torn down, no
    /// reconnection follows, and the iterator ends once the items already queued are taken.
    /// Callable from anywhere, including event subscribers.
    pub fn request_stop(&self) {
        {
            let mut state = self.shared.lock();
            state.stop = true;
        }
        self.shared.supervisor.notify_all();
        self.shared.space.notify_all();
    }

    /// Stops the supervisor as [`LiveSource::request_stop`] does, and waits until it has
    /// ended: the pipeline is torn down (bounded by the teardown timeout). Returns after the
    /// teardown timeout plus the state timeout at the latest (the supervisor then ends in the
    /// background). From an event subscriber it only requests the stop (waiting there would
    /// wait for the very thread that runs the subscriber).
    pub fn stop(&self) {
        self.request_stop();
        let on_our_threads = {
            let current = std::thread::current();
            current
                .name()
                .is_some_and(|n| n.starts_with("gstpipe-live"))
                || self
                    .thread
                    .lock_unpoisoned()
                    .as_ref()
                    .is_some_and(|t| t.thread().id() == current.id())
                || IN_SUBSCRIBER.with(std::cell::Cell::get)
        };
        if on_our_threads {
            return;
        }
        let limit = self.shared.config.teardown
            + self
                .shared
                .config
                .state_timeout
                .unwrap_or(gstpipe_core::DEFAULT_STATE_TIMEOUT)
            + Duration::from_secs(1);
        let deadline = Instant::now() + limit;
        let mut state = self.shared.lock();
        while !state.finished {
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(?limit, "live source: the supervisor did not stop in time");
                return;
            }
            state = self
                .shared
                .items
                .wait_timeout_unpoisoned(state, deadline - now);
        }
        drop(state);
        if let Some(thread) = self.thread.lock_unpoisoned().take() {
            let _ = thread.join();
        }
    }
}

impl Drop for LiveSource {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The blocking iterator of [`LiveSource::iter`].
#[derive(Debug)]
#[must_use = "iterators do nothing unless consumed"]
pub struct Iter<'a> {
    pub(crate) source: &'a LiveSource,
}

impl Iterator for Iter<'_> {
    type Item = LiveItem;

    fn next(&mut self) -> Option<LiveItem> {
        self.source.next()
    }
}

impl<'a> IntoIterator for &'a LiveSource {
    type Item = LiveItem;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}
