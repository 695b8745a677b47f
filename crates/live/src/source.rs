//! [`LiveSource`]: the supervisor. One thread owns the description and the current pipeline,
//! rebuilds it when it ends, fails or stalls, and feeds one queue of frames and events.

use crate::backoff::Backoff;
use crate::error::LiveError;
use crate::event::{HealthEvent, LiveFrame, LiveItem, LiveStats, capture_time};
use gst::prelude::*;
use gstpipe_core::Pipeline;
use gstpipe_core::sync::UnpoisonedWait;
use gstpipe_frame::Frame;
use gstpipe_sinks::{Consumer, Delivery, End, FrameSink, Policy, Refusal};
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The watchdog's time without a frame unless [`LiveSourceBuilder::stall_timeout`] says
/// otherwise.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(5);
/// How many frames wait for the consumer unless [`LiveSourceBuilder::capacity`] says
/// otherwise.
pub const DEFAULT_CAPACITY: usize = 4;
/// How long tearing a pipeline down (to Null) may take unless
/// [`LiveSourceBuilder::teardown_timeout`] says otherwise.
pub const DEFAULT_TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// At most this many health events wait for the consumer; older ones are dropped beyond it
/// (subscribers still see every event).
const MAX_QUEUED_EVENTS: usize = 1024;
/// The rtspsrc property that makes it attach the sender's NTP time to buffers.
const NTP_META_PROPERTY: &str = "add-reference-timestamp-meta";

type Subscriber = Arc<dyn Fn(&HealthEvent) + Send + Sync>;

thread_local! {
    /// Set while this thread runs event subscribers.
    static IN_SUBSCRIBER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Configures a [`LiveSource`]; from [`LiveSource::builder`].
#[must_use = "a builder does nothing until build() is called"]
pub struct LiveSourceBuilder {
    description: String,
    appsink: Option<String>,
    backoff: Backoff,
    stall: Duration,
    capacity: usize,
    policy: Policy,
    teardown: Duration,
    state_timeout: Option<Duration>,
    ntp: bool,
    subscribers: Vec<Subscriber>,
}

impl std::fmt::Debug for LiveSourceBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSourceBuilder")
            .field("description", &self.description)
            .field("appsink", &self.appsink)
            .field("backoff", &self.backoff)
            .field("stall", &self.stall)
            .field("capacity", &self.capacity)
            .field("policy", &self.policy)
            .field("teardown", &self.teardown)
            .field("ntp", &self.ntp)
            .field("subscribers", &self.subscribers.len())
            .finish()
    }
}

impl LiveSourceBuilder {
    /// Reads the appsink called `name` instead of the description's only appsink.
    pub fn appsink(mut self, name: &str) -> Self {
        self.appsink = Some(name.into());
        self
    }

    /// When to rebuild and when to give up (default [`Backoff::default`]: 0.5 s doubling to
    /// 30 s, ±10 % jitter, forever).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The watchdog: a pipeline that delivers no frame for this long (counted from its start,
    /// then from its last frame) is torn down and rebuilt. Default [`DEFAULT_STALL_TIMEOUT`].
    pub fn stall_timeout(mut self, stall: Duration) -> Self {
        self.stall = stall;
        self
    }

    /// How many frames wait for the consumer (default [`DEFAULT_CAPACITY`]).
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity;
        self
    }

    /// What happens to a frame when `capacity` frames already wait: [`Policy::DropOldest`]
    /// (the default: latest frame wins, [`LiveStats::dropped`] counts the losses) or
    /// [`Policy::Block`] (the pipeline waits for the consumer; while it waits, the watchdog
    /// counts the consumer's progress as the source's).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// How long tearing a pipeline down may take before it is abandoned to a background
    /// thread (default [`DEFAULT_TEARDOWN_TIMEOUT`]).
    pub fn teardown_timeout(mut self, limit: Duration) -> Self {
        self.teardown = limit;
        self
    }

    /// How long starting a pipeline (to Playing) may take; default the core's
    /// [`gstpipe_core::DEFAULT_STATE_TIMEOUT`].
    pub fn state_timeout(mut self, limit: Duration) -> Self {
        self.state_timeout = Some(limit);
        self
    }

    /// Whether to set `add-reference-timestamp-meta=true` on the description's rtspsrc
    /// elements (and those decodebins create) so frames carry the sender's NTP time. Default
    /// `true`; never overrides a value the description wrote.
    pub fn sender_ntp(mut self, enable: bool) -> Self {
        self.ntp = enable;
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
        self.backoff.validate()?;
        if self.capacity == 0 {
            return Err(LiveError::Config("capacity must be at least 1".into()));
        }
        if self.stall.is_zero() {
            return Err(LiveError::Config(
                "the stall timeout must not be zero".into(),
            ));
        }
        let shared = Arc::new(Shared {
            config: Config {
                description: self.description,
                appsink: self.appsink,
                backoff: self.backoff,
                stall: self.stall,
                capacity: self.capacity,
                policy: self.policy,
                teardown: self.teardown,
                state_timeout: self.state_timeout,
                ntp: self.ntp,
            },
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

struct Config {
    description: String,
    appsink: Option<String>,
    backoff: Backoff,
    stall: Duration,
    capacity: usize,
    policy: Policy,
    teardown: Duration,
    state_timeout: Option<Duration>,
    ntp: bool,
}

struct State {
    items: VecDeque<LiveItem>,
    queued_frames: usize,
    queued_events: usize,
    /// A stop was requested.
    stop: bool,
    /// The supervisor has ended: nothing more will be queued.
    finished: bool,
    /// The generation whose appsink may deliver (0: none, between pipelines).
    accepting: u64,
    generation: u64,
    /// The current generation's pipeline ended (EOS or error on its bus).
    ended: bool,
    started: Instant,
    generation_frames: u64,
    /// The watchdog's reference: the last frame, or the consumer's last take while a producer
    /// waits for room ([`Policy::Block`]).
    progress: Instant,
    last_frame: Option<Instant>,
    /// When frames stopped: the last frame before an outage, or the first failure.
    outage_since: Option<Instant>,
    connected_once: bool,
    next_index: u64,
    frames: u64,
    dropped: u64,
    reconnects: u64,
    attempts: u64,
    producer_waiting: bool,
}

impl State {
    fn new() -> Self {
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

    fn push_event(&mut self, event: HealthEvent) {
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

    fn drop_oldest_frame(&mut self) {
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

struct Shared {
    config: Config,
    state: Mutex<State>,
    /// Wakes the consumer: an item was queued, or the supervisor finished.
    items: Condvar,
    /// Wakes the supervisor: its pipeline ended, a stop was requested.
    supervisor: Condvar,
    /// Wakes a producer waiting for room ([`Policy::Block`]).
    space: Condvar,
    subscribers: Mutex<Vec<Subscriber>>,
}

/// Why waiting on a generation returned.
enum Ended {
    Stopped,
    Failed(LiveError),
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of the state is complete before anything that can panic.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `event` and calls the subscribers (outside the state lock).
    /// Calls the subscribers, then queues `event`: whoever takes an event from the stream
    /// knows the subscribers have seen it.
    fn emit(&self, event: HealthEvent) {
        self.notify_subscribers(&event);
        self.lock().push_event(event);
        self.items.notify_all();
    }

    fn notify_subscribers(&self, event: &HealthEvent) {
        tracing::info!(event = event.name(), "live source: {event}");
        let subscribers: Vec<Subscriber> = self
            .subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let was = IN_SUBSCRIBER.with(|f| f.replace(true));
        for subscriber in subscribers {
            let caught =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| subscriber(event)));
            if caught.is_err() {
                tracing::error!(
                    event = event.name(),
                    "live source: an event subscriber panicked"
                );
            }
        }
        IN_SUBSCRIBER.with(|f| f.set(was));
    }

    /// Builds a pipeline from the description, with its appsink found and rtspsrc configured
    /// (not yet connected to this source's state).
    fn prepare(&self) -> Result<(Pipeline, gst_app::AppSink), LiveError> {
        let mut pipeline = Pipeline::launch(&self.config.description)?;
        if let Some(limit) = self.config.state_timeout {
            pipeline.set_state_timeout(limit);
        }
        let appsink: gst_app::AppSink = pipeline.find(self.config.appsink.as_deref())?;
        if self.config.ntp {
            for element in pipeline.gst().iterate_recurse().into_iter().flatten() {
                if !pipeline.is_user_set(&element, NTP_META_PROPERTY) {
                    enable_sender_ntp(&element);
                }
            }
            // rtspsrc elements created later (uridecodebin for rtsp:// URIs).
            pipeline
                .gst()
                .connect_deep_element_added(|_, _, element| enable_sender_ntp(element));
        }
        Ok((pipeline, appsink))
    }

    /// Connects a prepared pipeline to generation `generation` and plays it; the pipeline's
    /// end wakes the supervisor while the returned subscription lives.
    fn start(
        self: &Arc<Self>,
        generation: u64,
        pipeline: &Pipeline,
        appsink: &gst_app::AppSink,
    ) -> Result<(gstpipe_core::Subscription, Delivery<GenerationConsumer>), LiveError> {
        {
            let mut state = self.lock();
            state.generation = generation;
            state.accepting = generation;
            state.ended = false;
            state.generation_frames = 0;
            state.started = Instant::now();
            state.progress = state.started;
        }
        let on_end = Arc::downgrade(self);
        let subscription = pipeline.watch().subscribe(move |event| {
            if let gstpipe_core::Event::Ended(_) = event
                && let Some(shared) = on_end.upgrade()
            {
                let mut state = shared.lock();
                if state.generation == generation {
                    state.ended = true;
                }
                drop(state);
                shared.supervisor.notify_all();
            }
        });
        // The delivery core reads the appsink: its one consumer is this generation.
        // A live appsink renders on the clock (GStreamer's `sync=true`) unless the
        // description says otherwise: capture times map a frame's running time to the wall
        // clock at the moment it is rendered.
        let mut builder = FrameSink::builder(pipeline).name(&appsink.name());
        if !pipeline.is_user_set(appsink, "sync") {
            builder = builder.sync(true);
        }
        let delivery = builder.build()?.deliver(GenerationConsumer {
            shared: Arc::downgrade(self),
            generation,
            appsink: appsink.clone(),
        });
        pipeline.play()?;
        Ok((subscription, delivery))
    }

    /// Waits for room in the queue (blocking policy) before the generation's streaming
    /// thread takes its next frame: while it waits, the watchdog does not count a stall.
    fn wait_for_room(&self, generation: u64) {
        if self.config.policy != Policy::Block {
            return;
        }
        let mut state = self.lock();
        while state.queued_frames >= self.config.capacity
            && !state.stop
            && state.accepting == generation
        {
            state.producer_waiting = true;
            state = self.space.wait_unpoisoned(state);
            state.producer_waiting = false;
        }
    }

    /// A frame of generation `generation` from the delivery core: queues it (and the
    /// Connected / Reconnected event its generation's first frame brings).
    fn deliver(
        &self,
        generation: u64,
        appsink: &gst_app::AppSink,
        frame: Frame,
        sample: &gst::Sample,
    ) -> Result<(), Refusal> {
        let (wall_time, time_source) = capture_time(appsink, sample);
        let now = Instant::now();
        let mut state = self.lock();
        if state.stop || state.accepting != generation {
            return Err(Refusal::Stop);
        }
        let event = (state.generation_frames == 0).then(|| {
            if state.connected_once {
                let since = state.outage_since.or(state.last_frame).unwrap_or(now);
                HealthEvent::Reconnected {
                    generation,
                    gap: now.saturating_duration_since(since),
                }
            } else {
                HealthEvent::Connected { generation }
            }
        });
        if event.is_some() {
            state.connected_once = true;
            state.outage_since = None;
            if generation > 1 && matches!(event, Some(HealthEvent::Reconnected { .. })) {
                state.reconnects += 1;
            }
        }
        state.generation_frames += 1;
        state.frames += 1;
        state.last_frame = Some(now);
        state.progress = now;
        if let Some(event) = &event {
            // Subscribers first, outside the lock, then the event ahead of its frame.
            drop(state);
            self.notify_subscribers(event);
            state = self.lock();
            state.push_event(event.clone());
            if state.stop || state.accepting != generation {
                drop(state);
                self.items.notify_all();
                return Err(Refusal::Stop);
            }
        }
        // Room was waited for (blocking policy); otherwise the oldest frames make room.
        while self.config.policy != Policy::Block && state.queued_frames >= self.config.capacity {
            state.drop_oldest_frame();
        }
        let index = state.next_index;
        state.next_index += 1;
        state.items.push_back(LiveItem::Frame(LiveFrame {
            frame: Box::new(frame),
            index,
            generation,
            after_gap: matches!(event, Some(HealthEvent::Reconnected { .. })),
            wall_time,
            time_source,
        }));
        state.queued_frames += 1;
        drop(state);
        self.items.notify_all();
        Ok(())
    }

    /// Waits until the generation's pipeline ends or stalls, or a stop is requested: a bounded
    /// condvar wait up to the watchdog's deadline, never a sleep.
    fn watch(&self) -> Ended {
        let mut state = self.lock();
        loop {
            if state.stop {
                return Ended::Stopped;
            }
            if state.ended {
                return Ended::Failed(LiveError::Eos); // refined by the caller
            }
            let now = Instant::now();
            if state.producer_waiting {
                // The pipeline waits for the consumer (Policy::Block): not a stall.
                state.progress = now;
            }
            let deadline = state.progress + self.config.stall;
            if now >= deadline {
                return Ended::Failed(LiveError::Stalled {
                    after: now - state.progress,
                });
            }
            state = self
                .supervisor
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// Stops accepting frames from the current pipeline and sets it to Null, waiting at most
    /// the teardown timeout (a pipeline that does not get there is left to a background
    /// thread).
    fn tear_down(
        &self,
        pipeline: Pipeline,
        appsink: gst_app::AppSink,
        delivery: Option<Delivery<GenerationConsumer>>,
    ) {
        {
            let mut state = self.lock();
            state.accepting = 0;
        }
        self.space.notify_all();
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<()>(1);
        let name = pipeline.name().to_string();
        let spawned = std::thread::Builder::new()
            .name("gstpipe-live-teardown".into())
            .spawn(move || {
                // The appsink is let go first; dropping the pipeline sets it to Null and
                // detaches its bus handler.
                drop(delivery);
                drop(pipeline);
                drop(appsink);
                let _ = done_tx.send(());
            });
        match spawned {
            Ok(thread) => match done_rx.recv_timeout(self.config.teardown) {
                Ok(()) => {
                    let _ = thread.join();
                }
                Err(_) => tracing::warn!(
                    pipeline = %name,
                    timeout = ?self.config.teardown,
                    "live source: the pipeline did not reach Null in time; left to finish in the background"
                ),
            },
            Err(e) => tracing::error!("live source: cannot spawn the teardown thread: {e}"),
        }
    }

    /// The supervisor thread.
    fn supervise(self: Arc<Self>, first: (Pipeline, gst_app::AppSink)) {
        let mut next = Some(first);
        let mut generation = 0u64;
        let mut attempt = 0u32;
        loop {
            generation += 1;
            let prepared = match next.take() {
                Some(p) => Ok(p),
                None => self.prepare(),
            };
            let failure = match prepared {
                Err(e) => Ended::Failed(e),
                Ok((pipeline, appsink)) => {
                    let mut delivery = None;
                    let ended = match self.start(generation, &pipeline, &appsink) {
                        Err(e) => Ended::Failed(e),
                        Ok((_subscription, running)) => {
                            delivery = Some(running);
                            match self.watch() {
                                Ended::Failed(LiveError::Eos) => {
                                    // Which end: an element's error, or end of stream.
                                    match pipeline.outcome() {
                                        Some(gstpipe_core::Outcome::Error(e)) => {
                                            Ended::Failed(gstpipe_core::Error::Element(e).into())
                                        }
                                        _ => Ended::Failed(LiveError::Eos),
                                    }
                                }
                                other => other,
                            }
                        }
                    };
                    self.tear_down(pipeline, appsink, delivery);
                    ended
                }
            };
            let error = match failure {
                Ended::Stopped => break,
                Ended::Failed(e) => e,
            };
            let delivered = {
                let mut state = self.lock();
                if state.stop {
                    break;
                }
                if state.outage_since.is_none() {
                    state.outage_since = Some(state.last_frame.unwrap_or_else(Instant::now));
                }
                state.generation_frames > 0
            };
            self.emit(HealthEvent::Disconnected {
                generation,
                error: error.clone(),
            });
            if delivered {
                attempt = 0;
            }
            if let Some(limit) = self.config.backoff.attempt_limit()
                && attempt >= limit
            {
                self.emit(HealthEvent::GaveUp {
                    attempts: attempt,
                    last_error: error,
                });
                break;
            }
            attempt += 1;
            let delay = self.config.backoff.jittered_delay(attempt);
            self.emit(HealthEvent::Reconnecting { attempt, delay });
            if !self.pause(delay) {
                break;
            }
            self.lock().attempts += 1;
        }
        self.lock().finished = true;
        self.items.notify_all();
        tracing::debug!(generations = generation, "live source: supervisor ended");
    }

    /// Waits `delay` unless a stop comes first (false then).
    fn pause(&self, delay: Duration) -> bool {
        let deadline = Instant::now() + delay;
        let mut state = self.lock();
        loop {
            if state.stop {
                return false;
            }
            let now = Instant::now();
            if now >= deadline {
                return true;
            }
            state = self
                .supervisor
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// One generation's pipeline as a consumer of the delivery core: its frames go to the
/// source's queue while the generation is the one accepting.
struct GenerationConsumer {
    shared: std::sync::Weak<Shared>,
    generation: u64,
    appsink: gst_app::AppSink,
}

impl Consumer for GenerationConsumer {
    fn label(&self) -> &'static str {
        "live source"
    }

    fn wait_for_room(&self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.wait_for_room(self.generation);
        }
    }

    fn frame(&self, frame: Frame, sample: &gst::Sample, _backlog: bool) -> Result<(), Refusal> {
        let shared = self.shared.upgrade().ok_or(Refusal::Stop)?;
        shared.deliver(self.generation, &self.appsink, frame, sample)
    }

    fn release(&self) {
        if let Some(shared) = self.shared.upgrade() {
            shared.space.notify_all();
        }
    }

    fn end(&self, _end: End) {
        // The supervisor hears the pipeline's end from its own watch subscription.
    }
}

/// Sets `add-reference-timestamp-meta=true` on an rtspsrc.
fn enable_sender_ntp(element: &gst::Element) {
    let is_rtspsrc = element
        .factory()
        .is_some_and(|f| f.name().as_str() == "rtspsrc");
    if is_rtspsrc && element.find_property(NTP_META_PROPERTY).is_some() {
        element.set_property(NTP_META_PROPERTY, true);
        tracing::debug!(element = %element.name(), "live source: sender NTP timestamps on");
    }
}

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
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveSource")
            .field("description", &self.shared.config.description)
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
            description: description.into(),
            appsink: None,
            backoff: Backoff::default(),
            stall: DEFAULT_STALL_TIMEOUT,
            capacity: DEFAULT_CAPACITY,
            policy: Policy::DropOldest,
            teardown: DEFAULT_TEARDOWN_TIMEOUT,
            state_timeout: None,
            ntp: true,
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
                None => shared.items.wait(state).unwrap_or_else(|p| p.into_inner()),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return None;
                    }
                    shared
                        .items
                        .wait_timeout(state, deadline - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0
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
            .lock()
            .unwrap_or_else(|p| p.into_inner())
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
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
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
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        drop(state);
        if let Some(thread) = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take() {
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
    source: &'a LiveSource,
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
