//! The supervisor: one thread owns the description and the current pipeline, rebuilds it when
//! it ends, fails or stalls, and feeds the source's queue through the delivery core.

use crate::backoff::Backoff;
use crate::error::LiveError;
use crate::event::{HealthEvent, LiveFrame, LiveItem, capture_time};
use crate::queue::State;
use gst::prelude::*;
use gstpipe_core::Pipeline;
use gstpipe_core::sync::{Unpoisoned as _, UnpoisonedWait as _};
use gstpipe_frame::Frame;
use gstpipe_sinks::{Consumer, Delivery, End, FrameSink, Policy, Refusal};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The rtspsrc property that makes it attach the sender's NTP time to buffers.
const NTP_META_PROPERTY: &str = "add-reference-timestamp-meta";

pub(crate) type Subscriber = Arc<dyn Fn(&HealthEvent) + Send + Sync>;

thread_local! {
    /// Set while this thread runs event subscribers.
    pub(crate) static IN_SUBSCRIBER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A live source's settings, as its builder checked them.
pub(crate) struct Config {
    pub(crate) description: String,
    pub(crate) appsink: Option<String>,
    pub(crate) backoff: Backoff,
    pub(crate) stall: Duration,
    pub(crate) capacity: usize,
    pub(crate) policy: Policy,
    pub(crate) teardown: Duration,
    pub(crate) state_timeout: Option<Duration>,
    pub(crate) ntp: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            // Passwords in URLs are masked: a Debug print ends up in logs.
            .field("description", &gstpipe_core::echo(&self.description))
            .field("appsink", &self.appsink)
            .field("backoff", &self.backoff)
            .field("stall", &self.stall)
            .field("capacity", &self.capacity)
            .field("policy", &self.policy)
            .field("teardown", &self.teardown)
            .field("ntp", &self.ntp)
            .finish_non_exhaustive()
    }
}

pub(crate) struct Shared {
    pub(crate) config: Config,
    pub(crate) state: Mutex<State>,
    /// Wakes the consumer: an item was queued, or the supervisor finished.
    pub(crate) items: Condvar,
    /// Wakes the supervisor: its pipeline ended, a stop was requested.
    pub(crate) supervisor: Condvar,
    /// Wakes a producer waiting for room ([`Policy::Block`]).
    pub(crate) space: Condvar,
    pub(crate) subscribers: Mutex<Vec<Subscriber>>,
}

/// Why waiting on a generation returned.
pub(crate) enum Ended {
    Stopped,
    Failed(LiveError),
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Every update of the state is complete before anything that can panic.
        self.state.lock_unpoisoned()
    }

    /// Queues `event` and calls the subscribers (outside the state lock).
    /// Calls the subscribers, then queues `event`: whoever takes an event from the stream
    /// knows the subscribers have seen it.
    pub(crate) fn emit(&self, event: HealthEvent) {
        self.notify_subscribers(&event);
        self.lock().push_event(event);
        self.items.notify_all();
    }

    pub(crate) fn notify_subscribers(&self, event: &HealthEvent) {
        tracing::info!(event = event.name(), "live source: {event}");
        let subscribers: Vec<Subscriber> = self.subscribers.lock_unpoisoned().clone();
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
    pub(crate) fn prepare(&self) -> Result<(Pipeline, gst_app::AppSink), LiveError> {
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
                .wait_timeout_unpoisoned(state, deadline - now);
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
    pub(crate) fn supervise(self: Arc<Self>, first: (Pipeline, gst_app::AppSink)) {
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
        let state = self.lock();
        let (state, timed_out) = self.supervisor.wait_while_for(state, delay, |s| !s.stop);
        drop(state);
        timed_out
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
