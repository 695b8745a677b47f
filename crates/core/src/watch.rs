//! The bus watch: a pipeline's outcome (end of stream, error, stopped), the events its
//! subscribers hear, and the bus messages behind them, apart from the pipeline's lifecycle
//! ([`crate::Pipeline`]: launch, play, stop).

#[cfg(doc)]
use crate::Pipeline;
use crate::error::{ElementError, Error, Result};
use crate::sync::{Unpoisoned as _, UnpoisonedWait as _};
use gst::glib;
use gst::prelude::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

/// How a pipeline ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Every sink reached end of stream.
    Eos,
    /// An element posted an error; the pipeline will produce nothing more.
    Error(ElementError),
    /// The pipeline was set to Null (by [`Pipeline::stop`] or drop) before EOS or an error.
    Stopped,
}

/// What a [`Watch::subscribe`] callback is told.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// [`Pipeline::stop`] (or drop) has begun: anything that holds the pipeline back (an
    /// appsink waiting to be drained before it lets EOS through) should let go now.
    Stopping,
    /// The pipeline ended: EOS, an element's error, or stopped. Sent once per run.
    Ended(Outcome),
    /// [`Pipeline::play`] started a new run after the pipeline had ended or been stopped:
    /// adapters start over (their frame sinks read again).
    Restarted,
}

/// What a [`Watch::subscribe_bus`] callback is told: every end of stream, segment end and
/// error the bus carries, each time one comes. Unlike [`Event::Ended`], which is told once per
/// run, these repeat: a pipeline seeked back after an end of stream (a file reader) ends
/// again.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BusEvent {
    /// An end-of-stream message.
    Eos,
    /// A segment-done message (the end of a segment seek).
    SegmentDone,
    /// An element's error message.
    Error(ElementError),
}

type Listener = Box<dyn Fn(&gst::Message) + Send + Sync>;
type Subscriber = Arc<dyn Fn(&Event) + Send + Sync>;
type BusSubscriber = Arc<dyn Fn(&BusEvent) + Send + Sync>;

/// The subscribers, and the outcome they have been told (under one lock, so a subscriber
/// registered while an end is being announced is told it too).
#[derive(Default)]
pub(crate) struct Subscribers {
    pub(crate) list: Vec<(u64, Subscriber)>,
    pub(crate) ended: Option<Outcome>,
    /// The end is being told to the subscribers: `wait` returns once they have heard it.
    pub(crate) telling: bool,
}

pub(crate) struct Shared {
    pub(crate) name: String,
    pub(crate) outcome: Mutex<Option<Outcome>>,
    pub(crate) done: Condvar,
    pub(crate) listeners: Mutex<Vec<Listener>>,
    pub(crate) subscribers: Mutex<Subscribers>,
    pub(crate) bus_subscribers: Mutex<Vec<(u64, BusSubscriber)>>,
    pub(crate) next_subscriber: AtomicU64,
    pub(crate) pipeline: glib::WeakRef<gst::Pipeline>,
    /// The pipeline's streaming threads, as they announce themselves (stream-status
    /// `Enter`/`Leave`, posted by the streaming thread itself): [`Pipeline::stop`] called on
    /// one of them must not wait for it.
    pub(crate) streaming: Mutex<Vec<std::thread::ThreadId>>,
    /// The EOS sent into the sources in this run (see [`Shared::send_eos`]), and its change.
    pub(crate) eos_sends: Mutex<EosSends>,
    pub(crate) eos_sent: Condvar,
}

/// The end of stream a run of the pipeline sent into its sources.
#[derive(Debug, Default)]
pub(crate) struct EosSends {
    /// How many threads are sending EOS into the sources right now (0 or 1).
    pub(crate) in_flight: u32,
    /// Whether this run has sent it already: a source takes EOS once. A second EOS sent
    /// into a `GstBaseSrc` while its streaming thread acts on the first flushes the first
    /// away under it, and GStreamer 1.22 aborts the process (`gst_base_src_loop: assertion
    /// failed: has_pending_eos`): `request_eos()` from every frame's callback did it.
    pub(crate) sent: bool,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Option<Outcome>> {
        // A panic while holding this lock cannot leave the Option half-written.
        self.outcome.lock_unpoisoned()
    }

    pub(crate) fn subscribers(&self) -> MutexGuard<'_, Subscribers> {
        self.subscribers.lock_unpoisoned()
    }

    pub(crate) fn streaming(&self) -> MutexGuard<'_, Vec<std::thread::ThreadId>> {
        self.streaming.lock_unpoisoned()
    }

    /// Sends EOS to the pipeline's sources ([`send_eos_to_sources`]), once a run (see
    /// [`EosSends::sent`]; a second call does nothing) and counted: a source may hold its
    /// state lock for as long as its streaming thread takes to pick the event up, so state
    /// changes wait for the send in flight first ([`Shared::wait_for_eos_sends`]). The send
    /// runs on a thread of its own (`send_event` returns only once every source has taken the
    /// event); it is counted from before that thread starts, so that a state change right
    /// after sees it.
    pub(crate) fn send_eos(self: &Arc<Self>, pipeline: gst::Pipeline) {
        {
            let mut sends = self.eos_sends.lock_unpoisoned();
            if sends.sent {
                return;
            }
            sends.sent = true;
            sends.in_flight += 1;
        }
        let shared = Arc::clone(self);
        let done = move || {
            let mut sends = shared.eos_sends.lock_unpoisoned();
            sends.in_flight -= 1;
            shared.eos_sent.notify_all();
        };
        let spawned = std::thread::Builder::new()
            .name("gstpipe-eos".into())
            .spawn({
                let done = done.clone();
                move || {
                    send_eos_to_sources(&pipeline);
                    done();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(pipeline = %self.name, "cannot spawn a thread to send EOS: {e}");
            done();
        }
    }

    /// Waits (at most `limit`) until no EOS is being sent into the sources. A state change
    /// made meanwhile would wait for a source's state lock that the send holds, while the
    /// source's streaming thread may wait for that very state change (a live sink prerolling
    /// on its way to Playing): a deadlock.
    pub(crate) fn wait_for_eos_sends(&self, limit: Duration) -> bool {
        let sends = self.eos_sends.lock_unpoisoned();
        let (sends, _) = self
            .eos_sent
            .wait_while_for(sends, limit, |s| s.in_flight > 0);
        sends.in_flight == 0
    }

    /// Whether the calling thread is one of the pipeline's streaming threads.
    pub(crate) fn on_streaming_thread(&self) -> bool {
        self.streaming().contains(&std::thread::current().id())
    }

    /// Records the terminal outcome (the first one wins) and tells the subscribers, which can
    /// already read it; `wait` and friends return only once every subscriber has heard it, so
    /// an adapter has seen the end before anyone waiting on the pipeline goes on.
    pub(crate) fn finish(&self, outcome: Outcome) {
        let subscribers: Vec<Subscriber> = {
            let mut subscribers = self.subscribers();
            if subscribers.ended.is_some() {
                return;
            }
            subscribers.ended = Some(outcome.clone());
            subscribers.telling = true;
            subscribers
                .list
                .iter()
                .map(|(_, s)| Arc::clone(s))
                .collect()
        };
        {
            let mut guard = self.lock();
            if guard.is_none() {
                *guard = Some(outcome.clone());
            }
        }
        self.call(&subscribers, &Event::Ended(outcome));
        self.subscribers().telling = false;
        // Taking the outcome lock orders this after any waiter's check of `telling`.
        let _guard = self.lock();
        self.done.notify_all();
    }

    /// Whether the subscribers are still being told the end (see [`Shared::finish`]).
    pub(crate) fn telling(&self) -> bool {
        self.subscribers().telling
    }

    /// Forgets the outcome for a new run; returns the previous one.
    pub(crate) fn reset(&self) -> Option<Outcome> {
        // One lock at a time: waiters take the outcome lock, then the subscribers'.
        self.eos_sends.lock_unpoisoned().sent = false;
        self.subscribers().ended = None;
        self.lock().take()
    }

    /// Puts back an outcome [`Shared::reset`] took.
    pub(crate) fn restore(&self, outcome: Outcome) {
        self.subscribers().ended = Some(outcome.clone());
        let mut guard = self.lock();
        *guard = Some(outcome);
    }

    /// Calls every subscriber with `event`, outside any lock (a subscriber may subscribe or
    /// unsubscribe).
    pub(crate) fn notify(&self, event: &Event) {
        let subscribers: Vec<Subscriber> = self
            .subscribers()
            .list
            .iter()
            .map(|(_, s)| Arc::clone(s))
            .collect();
        self.call(&subscribers, event);
    }

    pub(crate) fn call(&self, subscribers: &[Subscriber], event: &Event) {
        for subscriber in subscribers {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| subscriber(event))).is_err()
            {
                tracing::error!(pipeline = %self.name, ?event, "a watch subscriber panicked");
            }
        }
    }

    /// Tells the [`Watch::subscribe_bus`] subscribers, outside the lock.
    pub(crate) fn tell_bus(&self, event: &BusEvent) {
        let subscribers: Vec<BusSubscriber> = self
            .bus_subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(_, s)| Arc::clone(s))
            .collect();
        for subscriber in subscribers {
            if std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| subscriber(event))).is_err()
            {
                tracing::error!(pipeline = %self.name, ?event, "a bus subscriber panicked");
            }
        }
    }

    pub(crate) fn handle(&self, msg: &gst::Message) {
        use gst::MessageView;
        let src = msg.src();
        let element = src.map(|s| s.name().to_string()).unwrap_or_default();
        match msg.view() {
            MessageView::Eos(_) => self.tell_bus(&BusEvent::Eos),
            MessageView::SegmentDone(_) => self.tell_bus(&BusEvent::SegmentDone),
            MessageView::Error(err) => {
                self.tell_bus(&BusEvent::Error(ElementError::from_message(err)))
            }
            _ => {}
        }
        match msg.view() {
            MessageView::Eos(_) => {
                tracing::debug!(pipeline = %self.name, "end of stream");
                self.finish(Outcome::Eos);
            }
            MessageView::Error(err) => {
                let error = ElementError::from_message(err);
                tracing::error!(pipeline = %self.name, %element, debug = ?error.debug, "{}", error.message);
                self.finish(Outcome::Error(error));
            }
            MessageView::Warning(w) => {
                tracing::warn!(pipeline = %self.name, %element, debug = ?w.debug(), "{}", w.error());
            }
            MessageView::Info(i) => {
                tracing::info!(pipeline = %self.name, %element, debug = ?i.debug(), "{}", i.error());
            }
            MessageView::StreamStatus(status) => {
                // Posted synchronously by the streaming thread itself as it starts and ends.
                let me = std::thread::current().id();
                let mut streaming = self.streaming();
                match status.get().0 {
                    gst::StreamStatusType::Enter if !streaming.contains(&me) => streaming.push(me),
                    gst::StreamStatusType::Leave => streaming.retain(|t| *t != me),
                    _ => {}
                }
            }
            MessageView::StateChanged(s) if src.is_some_and(|s| s.name() == self.name.as_str()) => {
                tracing::debug!(pipeline = %self.name, old = ?s.old(), new = ?s.current(), "state changed");
            }
            _ => {}
        }
        let listeners = self.listeners.lock_unpoisoned();
        for listener in listeners.iter() {
            // This runs inside GStreamer's C bus handler: a panic unwinding out of it aborts
            // the process. Catch it and make it the pipeline's error instead.
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener(msg)));
            if let Err(panic) = caught {
                let cause = panic
                    .downcast_ref::<&str>()
                    .copied()
                    .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
                    .unwrap_or("(no message)");
                tracing::error!(pipeline = %self.name, %element, "message listener panicked: {cause}");
                let mut error = ElementError::new(
                    element.clone(),
                    glib::Error::new(
                        gst::CoreError::Failed,
                        &format!("message listener panicked: {cause}"),
                    ),
                );
                error.path = src.map(|s| s.path_string().to_string()).unwrap_or_default();
                error.debug = Some(format!(
                    "a Pipeline::on_message listener panicked on a {:?} message",
                    msg.type_()
                ));
                drop(listeners);
                self.finish(Outcome::Error(error));
                return;
            }
        }
    }
}

/// A cheap, cloneable handle on a pipeline's outcome, for other threads and adapters that
/// must notice EOS or an error without owning the [`Pipeline`].
#[derive(Clone)]
pub struct Watch {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("pipeline", &self.shared.name)
            .field("outcome", &*self.shared.lock())
            .finish()
    }
}

/// A [`Watch::subscribe`] registration: the callback is called until this is dropped.
#[must_use = "dropping a Subscription unsubscribes at once"]
pub struct Subscription {
    shared: std::sync::Weak<Shared>,
    id: u64,
    /// From [`Watch::subscribe_bus`].
    bus: bool,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription")
            .field("id", &self.id)
            .finish()
    }
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(shared) = self.shared.upgrade() {
            if self.bus {
                shared
                    .bus_subscribers
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .retain(|(id, _)| *id != self.id);
            } else {
                shared.subscribers().list.retain(|(id, _)| *id != self.id);
            }
        }
    }
}

impl Watch {
    /// The terminal outcome, if the pipeline has ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.shared.lock().clone()
    }

    /// Whether the pipeline has ended (EOS, error or stopped). Cheap: one uncontended lock.
    pub fn is_done(&self) -> bool {
        self.shared.lock().is_some()
    }

    /// The pipeline's name.
    pub fn pipeline_name(&self) -> &str {
        &self.shared.name
    }

    /// Calls `callback` when the pipeline ends ([`Event::Ended`], at once if it already has)
    /// and when it is being stopped ([`Event::Stopping`]), until the returned
    /// [`Subscription`] is dropped. This is how adapters wake on events instead of polling.
    ///
    /// The callback runs on the thread that caused the event (a streaming thread posting an
    /// error, or the thread calling `stop`): keep it short and never block in it (waits on
    /// the pipeline return only after every subscriber has heard the end). It may read the
    /// outcome, subscribe or unsubscribe.
    ///
    /// ```
    /// use gstpipe_core::{Event, Outcome, Pipeline};
    /// use std::sync::mpsc;
    ///
    /// let pipeline = Pipeline::launch("videotestsrc num-buffers=3 ! fakesink")?;
    /// let (tx, rx) = mpsc::channel();
    /// let _subscription = pipeline.watch().subscribe(move |event| {
    ///     let _ = tx.send(event.clone());
    /// });
    /// pipeline.play()?;
    /// let event = rx.recv_timeout(std::time::Duration::from_secs(10))?;
    /// assert_eq!(event, Event::Ended(Outcome::Eos));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe<F>(&self, callback: F) -> Subscription
    where
        F: Fn(&Event) + Send + Sync + 'static,
    {
        let id = self.shared.next_subscriber.fetch_add(1, Ordering::Relaxed);
        let callback: Subscriber = Arc::new(callback);
        let ended = {
            let mut subscribers = self.shared.subscribers();
            subscribers.list.push((id, Arc::clone(&callback)));
            subscribers.ended.clone()
        };
        // Registered and the announced outcome read under one lock: an end is told exactly
        // once, by `finish` or here.
        if let Some(outcome) = ended {
            callback(&Event::Ended(outcome));
        }
        Subscription {
            shared: Arc::downgrade(&self.shared),
            id,
            bus: false,
        }
    }

    /// Calls `callback` for every end of stream, segment end and error message on the bus
    /// ([`BusEvent`]), each time one comes (the outcome, by contrast, is decided by the first),
    /// until the returned [`Subscription`] is dropped: for adapters that seek a pipeline back
    /// after its end and must hear the next end or error without polling. Runs on the thread
    /// that posts the message (often a streaming thread); keep it short and never block in it.
    ///
    /// ```
    /// use gstpipe_core::{BusEvent, Pipeline};
    /// use std::sync::mpsc;
    ///
    /// let pipeline = Pipeline::launch("videotestsrc num-buffers=3 ! fakesink")?;
    /// let (tx, rx) = mpsc::channel();
    /// let _subscription = pipeline.watch().subscribe_bus(move |event| {
    ///     let _ = tx.send(event.clone());
    /// });
    /// pipeline.play()?;
    /// let event = rx.recv_timeout(std::time::Duration::from_secs(10))?;
    /// assert_eq!(event, BusEvent::Eos);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn subscribe_bus<F>(&self, callback: F) -> Subscription
    where
        F: Fn(&BusEvent) + Send + Sync + 'static,
    {
        let id = self.shared.next_subscriber.fetch_add(1, Ordering::Relaxed);
        self.shared
            .bus_subscribers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((id, Arc::new(callback)));
        Subscription {
            shared: Arc::downgrade(&self.shared),
            id,
            bus: true,
        }
    }

    /// Asks the pipeline to end gracefully: sends EOS from a thread of its own and returns
    /// at once, so it can be called from any thread, a Ctrl-C handler or an appsink callback.
    /// The pipeline then ends as it would at the end of its input (muxers finish their
    /// files); wait for it with [`Watch::wait_timeout`]. Does nothing once the pipeline has
    /// ended or is gone, or when this run has sent its EOS already: calling it again (from
    /// every frame's callback, say) is harmless.
    pub fn request_eos(&self) {
        if self.is_done() {
            return;
        }
        let Some(pipeline) = self.shared.pipeline.upgrade() else {
            return;
        };
        self.shared.send_eos(pipeline);
    }

    /// Blocks until the pipeline ends: `Ok` at EOS, the element's error otherwise.
    pub fn wait(&self) -> Result<()> {
        let mut guard = self.shared.lock();
        while guard.is_none() || self.shared.telling() {
            guard = self.shared.done.wait_unpoisoned(guard);
        }
        self.result(guard.as_ref())
    }

    /// Like [`Watch::wait`], but returns [`Error::Timeout`] when the pipeline has not ended
    /// within `limit`.
    pub fn wait_timeout(&self, limit: Duration) -> Result<()> {
        match self.wait_outcome(limit) {
            Some(outcome) => self.result(Some(&outcome)),
            None => Err(Error::Timeout {
                operation: "the pipeline to end".into(),
                after: limit,
            }),
        }
    }

    /// Waits at most `limit` for the pipeline to end and returns how it ended, or `None`.
    pub fn wait_outcome(&self, limit: Duration) -> Option<Outcome> {
        let guard = self.shared.lock();
        let (guard, timed_out) = self.shared.done.wait_while_for(guard, limit, |outcome| {
            outcome.is_none() || self.shared.telling()
        });
        if timed_out { None } else { guard.clone() }
    }

    /// Turns an outcome into the `wait` result.
    fn result(&self, outcome: Option<&Outcome>) -> Result<()> {
        match outcome {
            Some(Outcome::Eos) => Ok(()),
            Some(Outcome::Error(e)) => Err(Error::Element(e.clone())),
            Some(Outcome::Stopped) | None => Err(Error::Stopped {
                pipeline: self.shared.name.clone(),
            }),
        }
    }
}

/// Sends EOS to each of the pipeline's source elements, as the pipeline's own `send_event`
/// would, but without holding the pipeline's state lock meanwhile: a source waits (in
/// `send_event`) for its streaming thread, which may itself wait for a state change of the
/// pipeline (a live source's sink prerolling on its way to Playing). Holding the pipeline's
/// lock there deadlocked `play()` after `request_eos()` (issue 20).
pub(crate) fn send_eos_to_sources(pipeline: &gst::Pipeline) {
    let sources: Vec<gst::Element> = pipeline.iterate_sources().into_iter().flatten().collect();
    for source in sources {
        if !source.send_event(gst::event::Eos::new()) {
            tracing::debug!(source = %source.name(), "EOS not taken");
        }
    }
}
