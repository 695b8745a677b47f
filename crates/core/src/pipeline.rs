//! [`Pipeline`]: a GStreamer pipeline with a watched bus, checked state changes and a clean
//! shutdown.

use crate::context::init;
use crate::description::{Written, written};
use crate::error::{Error, Result};
use crate::sync::Unpoisoned as _;
use gst::glib;
use gst::prelude::*;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::watch::{Event, Outcome, Shared, Subscribers, Watch};

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
    /// The launch description, when the pipeline was built from one.
    description: Option<String>,
    /// What the description wrote, element by element.
    written: Vec<Written>,
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
        let mut pipeline = Self::from_element(element)?;
        pipeline.written = written(description);
        pipeline.description = Some(description.to_owned());
        Ok(pipeline)
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
            subscribers: Mutex::new(Subscribers::default()),
            bus_subscribers: Mutex::new(Vec::new()),
            next_subscriber: AtomicU64::new(0),
            pipeline: pipeline.downgrade(),
            streaming: Mutex::new(Vec::new()),
            eos_sends: Mutex::new(Default::default()),
            eos_sent: Condvar::new(),
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
            description: None,
            written: Vec::new(),
        }
    }

    /// The launch description the pipeline was built from ([`Pipeline::launch`]), if any.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// Whether the user set `property` on `element`: the launch description wrote it
    /// (`appsink sync=true`, even when that is GStreamer's default), or its value differs
    /// from the element's default (set in code before gstpipe saw it). gstpipe's adapters
    /// apply their own defaults only where this is false: what the user wrote is theirs.
    ///
    /// ```
    /// use gstpipe_core::Pipeline;
    ///
    /// let pipeline = Pipeline::launch("videotestsrc ! fakesink name=out sync=true")?;
    /// let sink = pipeline.by_name("out").unwrap();
    /// assert!(pipeline.is_user_set(&sink, "sync")); // written, though it is the default
    /// assert!(!pipeline.is_user_set(&sink, "async"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_user_set(&self, element: &impl IsA<gst::Element>, property: &str) -> bool {
        let element = element.upcast_ref::<gst::Element>();
        if self
            .written_on(element)
            .is_some_and(|w| w.properties.iter().any(|p| p == property))
        {
            return true;
        }
        differs_from_default(element, property)
    }

    /// The description's entry for `element`: by its `name=`, or else the k-th unnamed
    /// element of its factory in description order, matched with the k-th element of that
    /// factory GStreamer created (auto-named in creation order, `appsink0`, `appsink1`, ...).
    fn written_on(&self, element: &gst::Element) -> Option<&Written> {
        let name = element.name();
        if let Some(w) = self
            .written
            .iter()
            .find(|w| w.name.as_deref() == Some(name.as_str()))
        {
            return Some(w);
        }
        let factory = element.factory()?.name();
        let unnamed: Vec<&Written> = self
            .written
            .iter()
            .filter(|w| w.factory == factory.as_str() && w.name.is_none())
            .collect();
        let named: Vec<&str> = self
            .written
            .iter()
            .filter_map(|w| w.name.as_deref())
            .collect();
        let mut created: Vec<(u64, gst::Element)> = self
            .pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| e.factory().is_some_and(|f| f.name() == factory))
            .filter(|e| !named.contains(&e.name().as_str()))
            .filter_map(|e| {
                let n = e.name().strip_prefix(factory.as_str())?.parse().ok()?;
                Some((n, e))
            })
            .collect();
        if created.len() != unnamed.len() {
            // Elements the description did not create by name (bins' children, URIs):
            // no sound match.
            return None;
        }
        created.sort_by_key(|(n, _)| *n);
        let at = created.iter().position(|(_, e)| e == element)?;
        Some(unnamed[at])
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
            .lock_unpoisoned()
            .push(Box::new(listener));
    }

    /// Sets the pipeline to Playing. A non-live pipeline is first prerolled (Paused), waiting
    /// at most the state timeout; a live one does not preroll and is not waited for. A
    /// failure reports the element's error when one was posted, [`Error::StateChange`]
    /// otherwise, and [`Error::Timeout`] when preroll does not complete in time.
    ///
    /// After the pipeline ended or was stopped, `play` runs it again from the start (its
    /// frame sinks read again), except for pipelines with elements whose output pads appear at
    /// run time (`decodebin`, demuxers): the launch parser links those once, so a second run
    /// could only fail with `not-linked`. For those it returns [`Error::NotReplayable`]
    /// naming the element; build a new pipeline with [`Pipeline::relaunch`].
    pub fn play(&self) -> Result<()> {
        let (_, current, pending) = self.pipeline.state(gst::ClockTime::ZERO);
        if (current == gst::State::Playing && pending == gst::State::VoidPending)
            || pending == gst::State::Playing
        {
            // Playing, or on its way there (a live pipeline completes it in the background):
            // changing the state again would only wait behind that change, and behind any
            // EOS being sent meanwhile, whose source waits for that change to complete.
            return Ok(());
        }
        if current <= gst::State::Ready && pending == gst::State::VoidPending {
            // A fresh start (or a restart after stop): forget the previous run's outcome.
            let previous = self.watch.shared.reset();
            if let Some(previous) = previous {
                if let Some(element) = self.once_linked_element() {
                    // Put the outcome back: nothing was restarted.
                    self.watch.shared.restore(previous);
                    return Err(Error::NotReplayable {
                        pipeline: self.name().into(),
                        element,
                    });
                }
                self.watch.shared.notify(&Event::Restarted);
            }
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

    /// The first element whose output pads appear at run time (`decodebin`, `uridecodebin`,
    /// demuxers): the launch parser links those pads once, so a second run finds them
    /// unlinked (`not-linked`).
    fn once_linked_element(&self) -> Option<String> {
        self.pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| {
                // Children of bins that manage their own pads (decodebin's insides) relink
                // themselves; only elements the pipeline links matter.
                e.parent().as_ref() == Some(self.pipeline.upcast_ref::<gst::Object>())
            })
            .find(|e| {
                e.pad_template_list().iter().any(|t| {
                    t.direction() == gst::PadDirection::Src
                        && t.presence() == gst::PadPresence::Sometimes
                })
            })
            .map(|e| e.name().to_string())
    }

    /// A new pipeline built from the same launch description, for a pipeline that cannot be
    /// played again ([`Error::NotReplayable`]); `None` for a pipeline not built by
    /// [`Pipeline::launch`]. The new pipeline keeps this one's timeouts.
    pub fn relaunch(&self) -> Option<Result<Pipeline>> {
        let description = self.description.as_deref()?;
        Some(Pipeline::launch(description).map(|mut p| {
            p.state_timeout = self.state_timeout;
            p.stop_timeout = self.stop_timeout;
            p
        }))
    }

    /// Sets the pipeline to Paused and waits (bounded) for preroll; a live pipeline does
    /// not preroll and returns at once. An EOS still being sent into the sources
    /// ([`Pipeline::request_eos`]) is waited for first (at most the state timeout, else
    /// [`Error::Timeout`]): a source holds its state lock until its streaming thread takes it.
    pub fn pause(&self) -> Result<()> {
        self.wait_for_eos_sends()?;
        self.set_state(gst::State::Paused).map(|_| ())
    }

    /// Waits (at most the state timeout) for EOS sends in flight ([`Pipeline::request_eos`])
    /// before a state change: [`Error::Timeout`] when one is still stuck.
    fn wait_for_eos_sends(&self) -> Result<()> {
        if self.watch.shared.wait_for_eos_sends(self.state_timeout) {
            Ok(())
        } else {
            Err(Error::Timeout {
                operation: format!(
                    "{} to deliver the end of stream sent to its sources before changing state",
                    self.name()
                ),
                after: self.state_timeout,
            })
        }
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
        // can trail the failed state change by a little, so wait (bounded) for it.
        if let Some(Outcome::Error(e)) = self.watch.wait_outcome(ERROR_GRACE) {
            return Error::Element(e);
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

    /// Asks the pipeline to end gracefully and returns at once: EOS is sent from a thread of
    /// its own, so this is safe from any thread, a Ctrl-C handler or a streaming callback.
    /// See [`Watch::request_eos`]; [`Pipeline::stop`] does this and then waits.
    pub fn request_eos(&self) {
        self.watch.request_eos();
    }

    /// Stops gracefully, from any state, and always within its bounded time: tells gstpipe's
    /// adapters to let go ([`Event::Stopping`]: frame sinks nobody drains stop holding EOS
    /// back), sends EOS and waits (up to the stop timeout) for it to reach the sinks so muxers
    /// finalise their files, then sets Null.
    ///
    /// Returns `Ok` for a pipeline that did not fail (it ended, was never started, or did not
    /// finish its EOS in time, which is logged as a warning) and the element's error for one
    /// that failed, now or before.
    ///
    /// It may be called from one of the pipeline's own streaming threads (an appsink
    /// callback, a pad probe): the state change would wait for that very thread, so there it
    /// sends EOS and returns at once, and a thread of its own finishes the stop (the bounded
    /// wait for EOS, then Null) once the callback has returned. [`Pipeline::wait`] and
    /// friends see the end as usual.
    pub fn stop(&self) -> Result<()> {
        if self.watch.shared.on_streaming_thread() {
            if let Some(Outcome::Error(e)) = self.watch.outcome() {
                return Err(Error::Element(e));
            }
            self.stop_in_background();
            return Ok(());
        }
        self.stopper().run()
    }

    /// Starts what [`Pipeline::stop`] does on a thread of its own and returns at once: for a
    /// caller that the stop would wait for, such as a frame callback that an adapter runs on
    /// the caller's thread while it holds the frame flow back. [`Pipeline::wait`] and friends
    /// see the end as usual.
    pub fn stop_in_background(&self) {
        let stopper = self.stopper();
        let spawned = std::thread::Builder::new()
            .name("gstpipe-stop".into())
            .spawn(move || {
                let _ = stopper.run();
            });
        if let Err(e) = spawned {
            tracing::warn!(pipeline = %self.name(), "cannot spawn a thread to stop: {e}");
            self.request_eos();
        }
    }

    fn stopper(&self) -> Stopper {
        let appsinks = self
            .pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| e.factory().is_some_and(|f| f.name() == "appsink"))
            .map(|e| {
                let written = self.is_user_set(&e, "sync");
                (e, written)
            })
            .collect();
        Stopper {
            pipeline: self.pipeline.clone(),
            watch: self.watch.clone(),
            stop_timeout: self.stop_timeout,
            appsinks,
        }
    }

    fn to_null(&self) {
        self.stopper().to_null();
    }

    /// The stream's duration, when the pipeline knows it (files; not live sources).
    pub fn duration(&self) -> Option<gst::ClockTime> {
        self.pipeline.query_duration::<gst::ClockTime>()
    }

    /// The current playback position, when the pipeline knows it.
    pub fn position(&self) -> Option<gst::ClockTime> {
        self.pipeline.query_position::<gst::ClockTime>()
    }

    /// How many frames the pipeline will produce, when that is known: the smallest
    /// `num-buffers` set on a source element (`videotestsrc num-buffers=100`), else the
    /// duration times `fps` (the frame rate of the frames read, e.g. `frame.info().fps()`).
    /// `None` for live or unbounded sources.
    ///
    /// ```
    /// let pipeline = gstpipe_core::Pipeline::launch("videotestsrc num-buffers=42 ! fakesink")?;
    /// assert_eq!(pipeline.expected_frames(None), Some(42));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expected_frames(&self, fps: Option<gst::Fraction>) -> Option<u64> {
        let from_sources = self
            .pipeline
            .iterate_recurse()
            .into_iter()
            .flatten()
            .filter(|e| e.num_sink_pads() == 0 && e.num_src_pads() > 0)
            .filter_map(|e| {
                e.find_property("num-buffers")
                    .filter(|p| p.value_type() == i32::static_type())
                    .map(|_| e.property::<i32>("num-buffers"))
            })
            .filter(|&n| n > 0)
            .map(|n| n as u64)
            .min();
        from_sources.or_else(|| {
            let fps = fps.filter(|f| f.numer() > 0 && f.denom() > 0)?;
            let duration = self.duration()?;
            let frames = duration.nseconds() as u128 * fps.numer() as u128
                / (fps.denom() as u128 * 1_000_000_000);
            u64::try_from(frames).ok().filter(|&n| n > 0)
        })
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
        // Adapters waiting on the streaming thread (a full channel) let go first: going to
        // Null waits for the streaming threads.
        self.watch.shared.notify(&Event::Stopping);
        if self.watch.shared.on_streaming_thread() {
            // Dropped on one of its own streaming threads (the last reference let go inside
            // a frame callback, e.g. by a garbage collector running there): going to Null
            // would wait for this very thread. A thread of its own does it once the callback
            // has returned; the sync handler goes with the pipeline.
            let stopper = self.stopper();
            let spawned = std::thread::Builder::new()
                .name("gstpipe-drop".into())
                .spawn(move || stopper.to_null());
            if let Err(e) = spawned {
                tracing::warn!(pipeline = %self.name(), "cannot spawn a thread to stop: {e}");
            }
            return;
        }
        self.to_null();
        if let Some(bus) = self.pipeline.bus() {
            bus.unset_sync_handler();
        }
    }
}

/// What [`Pipeline::stop`] needs, so that it can run on a thread of its own.
struct Stopper {
    pipeline: gst::Pipeline,
    watch: Watch,
    stop_timeout: Duration,
    /// The pipeline's appsinks, and whether the description wrote their `sync`.
    appsinks: Vec<(gst::Element, bool)>,
}

impl Stopper {
    fn name(&self) -> &str {
        &self.watch.shared.name
    }

    /// The stop itself (see [`Pipeline::stop`]), on a thread that is not streaming.
    fn run(&self) -> Result<()> {
        self.watch.shared.notify(&Event::Stopping);
        self.release_appsinks();
        let (_, current, pending) = self.pipeline.state(gst::ClockTime::ZERO);
        let running = current >= gst::State::Paused || pending >= gst::State::Paused;
        if running && !self.watch.is_done() {
            self.watch.shared.send_eos(self.pipeline.clone());
            if self.watch.wait_outcome(self.stop_timeout).is_none() {
                tracing::warn!(
                    pipeline = %self.name(),
                    timeout = ?self.stop_timeout,
                    "end of stream did not reach the sinks in time; stopping anyway"
                );
            }
            if !self.watch.shared.wait_for_eos_sends(Duration::ZERO) {
                // The EOS event is stuck in a source whose streaming thread is blocked
                // downstream (e.g. an appsink of the user's holding back EOS until its queued
                // samples are pulled, `wait-on-eos`). The thread sending it holds the
                // pipeline's state lock, so going to Null would wait for it forever: release
                // the streaming thread by shutting the sinks down first.
                self.shut_down_sinks();
                if !self.watch.shared.wait_for_eos_sends(self.stop_timeout) {
                    tracing::warn!(pipeline = %self.name(), "EOS still not delivered after shutting the sinks down");
                }
            }
        }
        let outcome = self.watch.outcome();
        self.to_null();
        match outcome {
            Some(Outcome::Error(e)) => Err(Error::Element(e)),
            _ => Ok(()),
        }
    }

    /// Lets every appsink drop what it queues and pass EOS without being read (see
    /// [`release_appsink`]), so an appsink nobody attached to (never read, or one branch of a
    /// `tee` among many) cannot hold the stop's EOS back.
    fn release_appsinks(&self) {
        for (appsink, sync_written) in &self.appsinks {
            release_appsink(appsink);
            // Stopping: a frame that will be dropped need not wait for its time on the clock,
            // unless the description asked for the pacing (then it is the user's).
            if !sync_written {
                appsink.set_property("sync", false);
            }
        }
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
        if !self.watch.shared.wait_for_eos_sends(Duration::ZERO) {
            // An EOS send in flight holds a source's state lock until the source's streaming
            // thread takes the event, and that thread may be blocked in a sink (prerolling in
            // a paused pipeline, or in a full appsink): release it first, or going to Null
            // waits for that lock forever.
            self.shut_down_sinks();
            if !self.watch.shared.wait_for_eos_sends(self.stop_timeout) {
                tracing::warn!(pipeline = %self.name(), "EOS still being sent after shutting the sinks down");
            }
        }
        if let Err(e) = self.pipeline.set_state(gst::State::Null) {
            tracing::warn!(pipeline = %self.name(), "setting the pipeline to Null failed: {e}");
        }
        self.watch.shared.finish(Outcome::Stopped);
    }
}

/// Makes an appsink let go of a pipeline that is being stopped, or whose frames nobody will
/// read: it drops what it queues (`max-buffers=1 drop=true`) and passes EOS without being
/// drained (`wait-on-eos=false`). Its `sync` stays as it was (the description's, if it wrote
/// one). [`Pipeline::stop`] does this to every appsink of the pipeline, and also stops their
/// pacing to the clock (`sync=false`) where the description did not write `sync`;
/// gstpipe-sinks does it when its reader goes away. Does nothing to an element that is not an
/// appsink.
pub fn release_appsink(appsink: &gst::Element) {
    if appsink.factory().is_none_or(|f| f.name() != "appsink") {
        return;
    }
    appsink.set_property("wait-on-eos", false);
    appsink.set_property("max-buffers", 1u32);
    appsink.set_property("drop", true);
}

/// Whether `element`'s `property` holds another value than a fresh element of its factory.
fn differs_from_default(element: &gst::Element, property: &str) -> bool {
    let Some(spec) = element.find_property(property) else {
        return false;
    };
    let current = element.property_value(property);
    let default = spec.default_value();
    if let (Ok(current), Ok(default)) = (
        current.get::<Option<gst::Caps>>(),
        default.get::<Option<gst::Caps>>(),
    ) {
        return current != default;
    }
    current.serialize().ok() != default.serialize().ok()
}
