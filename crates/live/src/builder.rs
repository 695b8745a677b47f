//! [`LiveSourceBuilder`]: a live source's settings, checked, then its supervisor started.

use crate::backoff::Backoff;
use crate::error::LiveError;
use crate::event::HealthEvent;
use crate::live_source::LiveSource;
use crate::queue::State;
use crate::supervisor::{Config, Shared, Subscriber};
use gstpipe_sinks::Policy;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The watchdog's time without a frame unless [`LiveSourceBuilder::stall_timeout`] says
/// otherwise.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How many frames wait for the consumer unless [`LiveSourceBuilder::capacity`] says
/// otherwise.
pub const DEFAULT_CAPACITY: usize = 4;
/// How long tearing a pipeline down (to Null) may take unless
/// [`LiveSourceBuilder::teardown_timeout`] says otherwise.
pub const DEFAULT_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Configures a [`LiveSource`]; from [`LiveSource::builder`].
#[must_use = "a builder does nothing until build() is called"]
pub struct LiveSourceBuilder {
    pub(crate) config: Config,
    pub(crate) subscribers: Vec<Subscriber>,
}

impl std::fmt::Debug for LiveSourceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSourceBuilder")
            .field("config", &self.config)
            .field("subscribers", &self.subscribers.len())
            .finish()
    }
}

impl LiveSourceBuilder {
    /// Reads the appsink called `name` instead of the description's only appsink.
    pub fn appsink(mut self, name: &str) -> Self {
        self.config.appsink = Some(name.into());
        self
    }

    /// When to rebuild and when to give up (default [`Backoff::default`]: 0.5 s doubling to
    /// 30 s, ±10 % jitter, forever).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.config.backoff = backoff;
        self
    }

    /// The watchdog: a pipeline that delivers no frame for this long (counted from its start,
    /// then from its last frame) is torn down and rebuilt. Default [`DEFAULT_STALL_TIMEOUT`].
    pub fn stall_timeout(mut self, stall: Duration) -> Self {
        self.config.stall = stall;
        self
    }

    /// How many frames wait for the consumer (default [`DEFAULT_CAPACITY`]).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.config.capacity = capacity;
        self
    }

    /// What happens to a frame when `capacity` frames already wait: [`Policy::DropOldest`]
    /// (the default: latest frame wins, [`LiveStats::dropped`](crate::LiveStats::dropped) counts the losses) or
    /// [`Policy::Block`] (the pipeline waits for the consumer; while it waits, the watchdog
    /// counts the consumer's progress as the source's).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.config.policy = policy;
        self
    }

    /// How long tearing a pipeline down may take before it is abandoned to a background
    /// thread (default [`DEFAULT_TEARDOWN_TIMEOUT`]).
    pub fn teardown_timeout(mut self, limit: Duration) -> Self {
        self.config.teardown = limit;
        self
    }

    /// How long starting a pipeline (to Playing) may take; default the core's
    /// [`gstpipe_core::DEFAULT_STATE_TIMEOUT`].
    pub fn state_timeout(mut self, limit: Duration) -> Self {
        self.config.state_timeout = Some(limit);
        self
    }

    /// Whether to set `add-reference-timestamp-meta=true` on the description's rtspsrc
    /// elements (and those decodebins create) so frames carry the sender's NTP time. Default
    /// `true`; never overrides a value the description wrote.
    pub fn sender_ntp(mut self, enable: bool) -> Self {
        self.config.ntp = enable;
        self
    }

    /// Calls `subscriber` for every health event from the start (see
    /// [`LiveSource::subscribe`]).
    pub fn on_event<F>(mut self, subscriber: F) -> Self
    where
        F: Fn(&HealthEvent) + Send + Sync + 'static,
    {
        self.subscribers.push(Arc::new(subscriber));
        self
    }

    /// Checks the settings, builds the first pipeline (so a description that cannot work is
    /// refused here) and starts the supervisor thread, which plays it.
    ///
    /// # Errors
    /// [`LiveError::Config`] for out-of-range settings; [`LiveError::Pipeline`] when the
    /// description does not parse, names a missing element, or has no (or several, unnamed)
    /// appsink.
    pub fn build(self) -> Result<LiveSource, LiveError> {
        self.config.backoff.validate()?;
        if self.config.capacity == 0 {
            return Err(LiveError::Config("capacity must be at least 1".into()));
        }
        if self.config.stall.is_zero() {
            return Err(LiveError::Config(
                "the stall timeout must not be zero".into(),
            ));
        }
        let shared = Arc::new(Shared {
            config: self.config,
            state: Mutex::new(State::new()),
            items: Condvar::new(),
            supervisor: Condvar::new(),
            space: Condvar::new(),
            subscribers: Mutex::new(self.subscribers),
        });
        let first = shared.prepare()?;
        let for_thread = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("gstpipe-live".into())
            .spawn(move || for_thread.supervise(first))
            .map_err(|e| LiveError::Config(format!("cannot start the supervisor thread: {e}")))?;
        Ok(LiveSource {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }
}
