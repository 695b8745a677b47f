//! [`Pipeline`]: a GStreamer pipeline with a watched bus, checked state changes and a clean
//! shutdown.

use crate::context::init;
use crate::error::{ElementError, Error, Result};
use gst::glib;
use gst::prelude::*;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

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

type Listener = Box<dyn Fn(&gst::Message) + Send + Sync>;

struct Shared {
    name: String,
    outcome: Mutex<Option<Outcome>>,
    done: Condvar,
    listeners: Mutex<Vec<Listener>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Option<Outcome>> {
        // A panic while holding this lock cannot leave the Option half-written.
        self.outcome.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Records the terminal outcome; the first one wins.
    fn finish(&self, outcome: Outcome) {
        let mut guard = self.lock();
        if guard.is_none() {
            *guard = Some(outcome);
            self.done.notify_all();
        }
    }

    fn handle(&self, msg: &gst::Message) {
        use gst::MessageView;
        let src = msg.src();
        let element = src.map(|s| s.name().to_string()).unwrap_or_default();
        match msg.view() {
            MessageView::Eos(_) => {
                tracing::debug!(pipeline = %self.name, "end of stream");
                self.finish(Outcome::Eos);
            }
            MessageView::Error(err) => {
                let error = ElementError {
                    element: element.clone(),
                    path: src.map(|s| s.path_string().to_string()).unwrap_or_default(),
                    message: err.error().message().to_string(),
                    debug: err.debug().map(|d| d.to_string()),
                };
                tracing::error!(pipeline = %self.name, %element, debug = ?error.debug, "{}", error.message);
                self.finish(Outcome::Error(error));
            }
            MessageView::Warning(w) => {
                tracing::warn!(pipeline = %self.name, %element, debug = ?w.debug(), "{}", w.error());
            }
            MessageView::Info(i) => {
                tracing::info!(pipeline = %self.name, %element, debug = ?i.debug(), "{}", i.error());
            }
            MessageView::StateChanged(s) if src.is_some_and(|s| s.name() == self.name.as_str()) => {
                tracing::debug!(pipeline = %self.name, old = ?s.old(), new = ?s.current(), "state changed");
            }
            _ => {}
        }
        let listeners = self.listeners.lock().unwrap_or_else(|p| p.into_inner());
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
                self.finish(Outcome::Error(ElementError {
                    element: element.clone(),
                    path: src.map(|s| s.path_string().to_string()).unwrap_or_default(),
                    message: format!("message listener panicked: {cause}"),
                    debug: Some(format!(
                        "a Pipeline::on_message listener panicked on a {:?} message",
                        msg.type_()
                    )),
                }));
            }
        }
    }
}

/// A cheap, cloneable handle on a pipeline's outcome, for other threads and adapters that
/// must notice EOS or an error without owning the [`Pipeline`].
#[derive(Clone)]
pub struct Watch {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watch")
            .field("pipeline", &self.shared.name)
            .field("outcome", &*self.shared.lock())
            .finish()
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

    /// Blocks until the pipeline ends: `Ok` at EOS, the element's error otherwise.
    pub fn wait(&self) -> Result<()> {
        let mut guard = self.shared.lock();
        while guard.is_none() {
            guard = self
                .shared
                .done
                .wait(guard)
                .unwrap_or_else(|p| p.into_inner());
        }
        self.result(guard.as_ref())
    }

    /// Like [`Watch::wait`], but returns [`Error::Timeout`] when the pipeline has not ended
    /// within `limit`.
    pub fn wait_timeout(&self, limit: Duration) -> Result<()> {
        let deadline = Instant::now() + limit;
        let mut guard = self.shared.lock();
        while guard.is_none() {
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Timeout {
                    operation: "the pipeline to end".into(),
                    after: limit,
                });
            }
            guard = self
                .shared
                .done
                .wait_timeout(guard, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        self.result(guard.as_ref())
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

/// A GStreamer pipeline whose bus is watched from the moment it is built, without a main
/// loop: EOS and errors are recorded as an [`Outcome`], warnings go to `tracing`.
///
/// Dropping it always sets the pipeline to Null. Frames already taken from it stay valid:
/// they hold their own references to their buffers.
///
/// ```
/// let pipeline = gstpipe_core::Pipeline::launch("videotestsrc num-buffers=10 ! fakesink")?;
/// pipeline.play()?;
/// pipeline.wait_timeout(std::time::Duration::from_secs(10))?; // Ok: end of stream
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Pipeline {
    pipeline: gst::Pipeline,
    watch: Watch,
    state_timeout: Duration,
    stop_timeout: Duration,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("name", &self.watch.shared.name)
            .field("outcome", &self.watch.outcome())
            .finish()
    }
}

/// How long [`Pipeline::play`] and [`Pipeline::pause`] wait for an asynchronous state change.
pub const DEFAULT_STATE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a failed state change waits for the element error that explains it.
const ERROR_GRACE: Duration = Duration::from_millis(500);
/// How long [`Pipeline::stop`] waits for EOS to travel through the pipeline.
pub const DEFAULT_STOP_TIMEOUT: Duration = Duration::from_secs(5);

impl Pipeline {
    /// Builds a pipeline from a `gst-launch-1.0` description. A description that yields a
    /// single element (or a bin) is wrapped in a new pipeline.
    ///
    /// Errors: [`Error::MissingElement`] naming the unknown factory, [`Error::Parse`] with
    /// GStreamer's message for bad syntax (and for a NUL character, which C strings cannot
    /// hold).
    pub fn launch(description: &str) -> Result<Self> {
        init()?;
        let element = crate::launch::parse(description)?;
        Self::from_element(element)
    }

    /// Wraps an element: a `gst::Pipeline` is used as it is; any other element or bin is
    /// put inside a new pipeline.
    pub fn from_element(element: gst::Element) -> Result<Self> {
        init()?;
        match element.downcast::<gst::Pipeline>() {
            Ok(pipeline) => Ok(Self::from_pipeline(pipeline)),
            Err(element) => {
                let pipeline = gst::Pipeline::new();
                pipeline.add(&element).map_err(|e| Error::Parse {
                    description: element.name().to_string(),
                    message: e.to_string(),
                })?;
                Ok(Self::from_pipeline(pipeline))
            }
        }
    }

    /// Takes an existing pipeline and watches its bus. This installs the bus's sync handler
    /// (replacing any other): observe messages with [`Pipeline::on_message`] instead. A
    /// pipeline without a bus (one taken out of another bin) is given a new one.
    pub fn from_pipeline(pipeline: gst::Pipeline) -> Self {
        let shared = Arc::new(Shared {
            name: pipeline.name().to_string(),
            outcome: Mutex::new(None),
            done: Condvar::new(),
            listeners: Mutex::new(Vec::new()),
        });
        let handler = Arc::clone(&shared);
        // A pipeline taken out of another bin has none: give it its own, as a new one has.
        let bus = pipeline.bus().unwrap_or_else(|| {
            let bus = gst::Bus::new();
            pipeline.set_bus(Some(&bus));
            bus
        });
        bus.set_sync_handler(move |_, msg| {
            handler.handle(msg);
            // Handled here: nothing accumulates on the bus when nobody pops it.
            gst::BusSyncReply::Drop
        });
        Pipeline {
            pipeline,
            watch: Watch { shared },
            state_timeout: DEFAULT_STATE_TIMEOUT,
            stop_timeout: DEFAULT_STOP_TIMEOUT,
        }
    }

    /// The underlying `gst::Pipeline`, for anything gstpipe does not wrap.
    pub fn gst(&self) -> &gst::Pipeline {
        &self.pipeline
    }

    /// The pipeline's name (e.g. `pipeline0`).
    pub fn name(&self) -> &str {
        &self.watch.shared.name
    }

    /// A cloneable handle on the outcome, for other threads.
    pub fn watch(&self) -> Watch {
        self.watch.clone()
    }

    /// Sets how long `play` / `pause` wait for an asynchronous state change to complete.
    pub fn set_state_timeout(&mut self, limit: Duration) -> &mut Self {
        self.state_timeout = limit;
        self
    }

    /// Sets how long `stop` waits for EOS before forcing the pipeline to Null.
    pub fn set_stop_timeout(&mut self, limit: Duration) -> &mut Self {
        self.stop_timeout = limit;
        self
    }

    /// Calls `listener` on the bus's posting thread for every message (after gstpipe has
    /// recorded EOS and errors). Keep it short: it runs on streaming threads. A panic in the
    /// listener is caught and becomes the pipeline's error (`message listener panicked: ...`,
    /// from the message's source element) instead of aborting the process.
    pub fn on_message<F>(&self, listener: F)
    where
        F: Fn(&gst::Message) + Send + Sync + 'static,
    {
        self.watch
            .shared
            .listeners
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Box::new(listener));
    }

    /// Sets the pipeline to Playing. A non-live pipeline is first prerolled (Paused), waiting
    /// at most the state timeout; a live one does not preroll and is not waited for. A
    /// failure reports the element's error when one was posted, [`Error::StateChange`]
    /// otherwise, and [`Error::Timeout`] when preroll does not complete in time.
    pub fn play(&self) -> Result<()> {
        let (_, current, pending) = self.pipeline.state(gst::ClockTime::ZERO);
        if current == gst::State::Playing && pending == gst::State::VoidPending {
            return Ok(());
        }
        if current <= gst::State::Ready && pending == gst::State::VoidPending {
            // A fresh start (or a restart after stop): forget the previous run's outcome.
            *self.watch.shared.lock() = None;
        }
        let live = self.set_state(gst::State::Paused)? == gst::StateChangeSuccess::NoPreroll;
        match self.pipeline.set_state(gst::State::Playing) {
            Err(_) => Err(self.state_error(gst::State::Playing)),
            Ok(gst::StateChangeSuccess::Async) if !live => {
                self.complete(gst::State::Playing).map(|_| ())
            }
            Ok(_) => Ok(()),
        }
    }

    /// Sets the pipeline to Paused and waits (bounded) for preroll; a live pipeline does
    /// not preroll and returns at once.
    pub fn pause(&self) -> Result<()> {
        self.set_state(gst::State::Paused).map(|_| ())
    }

    fn set_state(&self, state: gst::State) -> Result<gst::StateChangeSuccess> {
        match self.pipeline.set_state(state) {
            Err(_) => Err(self.state_error(state)),
            Ok(gst::StateChangeSuccess::Async) => self.complete(state),
            Ok(success) => Ok(success),
        }
    }

    /// Waits (bounded) for an asynchronous state change to `state` to complete.
    fn complete(&self, state: gst::State) -> Result<gst::StateChangeSuccess> {
        let failed = || self.state_error(state);
        let timeout = gst::ClockTime::from_nseconds(
            self.state_timeout.as_nanos().try_into().unwrap_or(u64::MAX),
        );
        match self.pipeline.state(timeout) {
            (Err(_), _, _) => Err(failed()),
            (Ok(gst::StateChangeSuccess::Async), _, _) => {
                // Still going: an error may be the reason; otherwise it is a timeout.
                match self.watch.outcome() {
                    Some(Outcome::Error(e)) => Err(Error::Element(e)),
                    _ => Err(Error::Timeout {
                        operation: format!("{} to reach {state:?}", self.name()),
                        after: self.state_timeout,
                    }),
                }
            }
            (Ok(success), _, _) => Ok(success),
        }
    }

    fn state_error(&self, state: gst::State) -> Error {
        // Errors are recorded synchronously by the bus handler, usually before the state
        // change returns; an error from a streaming thread (a demuxer failing during preroll)
        // can trail the failed state change by a little, so give it a moment to arrive.
        let deadline = Instant::now() + ERROR_GRACE;
        loop {
            match self.watch.outcome() {
                Some(Outcome::Error(e)) => return Error::Element(e),
                Some(_) => break,
                None if Instant::now() >= deadline => break,
                None => {
                    let _ = self.watch.wait_timeout(ERROR_GRACE / 10);
                }
            }
        }
        Error::StateChange {
            element: self.name().into(),
            state,
        }
    }

    /// Whether the pipeline has ended (EOS, error or stopped).
    pub fn is_done(&self) -> bool {
        self.watch.is_done()
    }

    /// The terminal outcome, if the pipeline has ended.
    pub fn outcome(&self) -> Option<Outcome> {
        self.watch.outcome()
    }

    /// Blocks until the pipeline ends: `Ok` at EOS, the element's error otherwise. Unbounded:
    /// prefer [`Pipeline::wait_timeout`] for sources that may stall.
    pub fn wait(&self) -> Result<()> {
        self.watch.wait()
    }

    /// Waits at most `limit` for the pipeline to end; [`Error::Timeout`] otherwise.
    pub fn wait_timeout(&self, limit: Duration) -> Result<()> {
        self.watch.wait_timeout(limit)
    }

    /// Stops gracefully: sends EOS, waits (up to the stop timeout) for it to reach the sinks
    /// so muxers finalise their files, then sets Null. Returns what `wait` would: `Ok` when
    /// the pipeline ended in EOS (now or before), the element's error, or
    /// [`Error::Timeout`] when EOS did not arrive in time (the pipeline is in Null anyway).
    ///
    /// Do not call it from a streaming thread (a pad probe or an appsink callback).
    pub fn stop(&self) -> Result<()> {
        let (_, current, pending) = self.pipeline.state(gst::ClockTime::ZERO);
        let running = current >= gst::State::Paused || pending >= gst::State::Paused;
        let result = if self.is_done() {
            self.watch.result(self.watch.outcome().as_ref())
        } else if running {
            let sent = self.send_eos();
            let result = self
                .watch
                .wait_timeout(self.stop_timeout)
                .map_err(|e| match e {
                    Error::Timeout { after, .. } => Error::Timeout {
                        operation: "end of stream after stop".into(),
                        after,
                    },
                    other => other,
                });
            if sent.try_recv().is_err() {
                // The EOS event is stuck in a source whose streaming thread is blocked
                // downstream (e.g. an appsink holding back EOS until its queued samples are
                // pulled, `wait-on-eos`). The thread sending it holds the pipeline's state
                // lock, so going to Null would wait for it forever: release the streaming
                // thread by shutting the sinks down first.
                self.shut_down_sinks();
                if sent.recv_timeout(self.stop_timeout).is_err() {
                    tracing::warn!(pipeline = %self.name(), "EOS still not delivered after shutting the sinks down");
                }
            }
            result
        } else {
            Ok(())
        };
        self.to_null();
        result
    }

    /// Sends EOS into the pipeline from a helper thread (`send_event` blocks until every
    /// source has taken it, which a source whose streaming thread is blocked downstream does
    /// not do); the receiver gets a message once it has been delivered.
    fn send_eos(&self) -> std::sync::mpsc::Receiver<()> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let pipeline = self.pipeline.clone();
        let spawned = std::thread::Builder::new()
            .name("gstpipe-eos".into())
            .spawn(move || {
                pipeline.send_event(gst::event::Eos::new());
                let _ = tx.send(());
            });
        if let Err(e) = spawned {
            tracing::warn!(pipeline = %self.name(), "cannot spawn a thread to send EOS: {e}");
        }
        rx
    }

    /// Sets every sink element (not bins) to Null on its own, which releases streaming threads
    /// blocked in them.
    fn shut_down_sinks(&self) {
        let sinks = self
            .pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| e.element_flags().contains(gst::ElementFlags::SINK) && !e.is::<gst::Bin>());
        for sink in sinks {
            if let Err(e) = sink.set_state(gst::State::Null) {
                tracing::warn!(pipeline = %self.name(), sink = %sink.name(), "cannot shut down: {e}");
            }
        }
    }

    fn to_null(&self) {
        if let Err(e) = self.pipeline.set_state(gst::State::Null) {
            tracing::warn!(pipeline = %self.name(), "setting the pipeline to Null failed: {e}");
        }
        self.watch.shared.finish(Outcome::Stopped);
    }

    /// The element called `name` (searched recursively), as `gst::Element`.
    pub fn by_name(&self, name: &str) -> Option<gst::Element> {
        self.pipeline.by_name(name)
    }

    /// The element called `name`, as type `T` (e.g. `gst_app::AppSink`).
    pub fn element<T>(&self, name: &str) -> Result<T>
    where
        T: IsA<gst::Element> + glib::types::StaticType,
    {
        let element = self.by_name(name).ok_or_else(|| Error::NoSuchElement {
            name: name.into(),
            pipeline: self.name().into(),
        })?;
        let found = element.type_().name().to_string();
        element
            .downcast::<T>()
            .map_err(|_| Error::WrongElementType {
                name: name.into(),
                expected: T::static_type().name().into(),
                found,
            })
    }

    /// Every element of type `T` in the pipeline, in nested bins too.
    pub fn elements<T>(&self) -> Vec<T>
    where
        T: IsA<gst::Element> + glib::types::StaticType,
    {
        let mut out: Vec<T> = Vec::new();
        for element in self.pipeline.iterate_recurse().into_iter().flatten() {
            if let Ok(e) = element.downcast::<T>()
                && !out.contains(&e)
            {
                out.push(e);
            }
        }
        out.sort_by_key(|e| e.upcast_ref::<gst::Element>().name());
        out
    }

    /// The first element of type `T` (by name order), if any.
    pub fn first<T>(&self) -> Option<T>
    where
        T: IsA<gst::Element> + glib::types::StaticType,
    {
        self.elements::<T>().into_iter().next()
    }

    /// The element called `name` as `T` when a name is given, else the only element of type
    /// `T`: [`Error::NoElementOfType`] when there is none, [`Error::Ambiguous`] when several.
    pub fn find<T>(&self, name: Option<&str>) -> Result<T>
    where
        T: IsA<gst::Element> + glib::types::StaticType,
    {
        if let Some(name) = name {
            return self.element(name);
        }
        let mut all = self.elements::<T>();
        match all.len() {
            0 => Err(Error::NoElementOfType {
                kind: T::static_type().name().into(),
                pipeline: self.name().into(),
            }),
            1 => Ok(all.remove(0)),
            _ => Err(Error::Ambiguous {
                kind: T::static_type().name().into(),
                names: all
                    .iter()
                    .map(|e| e.upcast_ref::<gst::Element>().name().to_string())
                    .collect(),
            }),
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        self.to_null();
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
    }
}
