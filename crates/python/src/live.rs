//! `gstpipe.Live`: a live pipeline that survives (gstpipe-live's `LiveSource`), and its
//! `HealthEvent`s.

use crate::errors::{Result, gave_up_error, guard, live_error, value_error};
use crate::frame::Frame;
use crate::gil::{DropDetached, Step, wait_interruptibly};
use crate::pipeline::timeout_arg;
use gstpipe_live::{Backoff, HealthEvent as RustEvent, LiveError, LiveItem, LiveSource, Policy};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A Python callable shared with the supervisor's threads, which ``stop()`` releases.
use crate::gil::Releasable;

/// A change in a live source's health, in the order it happened.
///
/// ``kind`` is ``"connected"``, ``"disconnected"``, ``"reconnecting"``, ``"reconnected"`` or
/// ``"gave_up"``; the other attributes are set for the kinds they belong to and ``None``
/// otherwise: ``generation`` (connected, disconnected, reconnected), ``attempt``
/// (reconnecting: the attempt number from 1; gave_up: how many attempts were made),
/// ``delay`` (reconnecting: seconds until the pipeline is rebuilt), ``gap`` (reconnected:
/// seconds without frames), ``error`` (disconnected, gave_up: the exception instance saying
/// why the pipeline ended, e.g. a ``PipelineError`` naming the element) and ``reason``
/// (disconnected, gave_up: ``"error"``, ``"eos"`` or ``"stalled"``).
#[pyclass(frozen, module = "gstpipe", name = "HealthEvent")]
pub(crate) struct HealthEvent {
    kind: &'static str,
    generation: Option<u64>,
    attempt: Option<u32>,
    delay: Option<f64>,
    gap: Option<f64>,
    error: Option<Py<PyAny>>,
    reason: Option<&'static str>,
    text: String,
}

/// Why a generation ended, in one word.
fn reason(e: &LiveError) -> &'static str {
    match e {
        LiveError::Eos => "eos",
        LiveError::Stalled { .. } => "stalled",
        _ => "error",
    }
}

impl HealthEvent {
    fn new(py: Python<'_>, event: &RustEvent) -> Self {
        let mut out = HealthEvent {
            kind: event.name(),
            generation: None,
            attempt: None,
            delay: None,
            gap: None,
            error: None,
            reason: None,
            text: event.to_string(),
        };
        let error = |e: &LiveError| Some(live_error(e).value(py).clone().into_any().unbind());
        match event {
            RustEvent::Connected { generation } => out.generation = Some(*generation),
            RustEvent::Disconnected {
                generation,
                error: e,
            } => {
                out.generation = Some(*generation);
                out.error = error(e);
                out.reason = Some(reason(e));
            }
            RustEvent::Reconnecting { attempt, delay } => {
                out.attempt = Some(*attempt);
                out.delay = Some(delay.as_secs_f64());
            }
            RustEvent::Reconnected { generation, gap } => {
                out.generation = Some(*generation);
                out.gap = Some(gap.as_secs_f64());
            }
            RustEvent::GaveUp {
                attempts,
                last_error,
            } => {
                out.attempt = Some(*attempts);
                out.error = error(last_error);
                out.reason = Some(reason(last_error));
            }
            _ => {}
        }
        out
    }
}

#[pymethods]
impl HealthEvent {
    /// ``"connected"``, ``"disconnected"``, ``"reconnecting"``, ``"reconnected"`` or
    /// ``"gave_up"``.
    #[getter]
    fn kind(&self) -> PyResult<&'static str> {
        guard(|| Ok(self.kind))
    }

    /// The pipeline generation (connection number, from 1) the event is about.
    #[getter]
    fn generation(&self) -> PyResult<Option<u64>> {
        guard(|| Ok(self.generation))
    }

    /// Reconnecting: the attempt number since the last frame, from 1. Gave up: the number of
    /// attempts made.
    #[getter]
    fn attempt(&self) -> PyResult<Option<u32>> {
        guard(|| Ok(self.attempt))
    }

    /// Reconnecting: seconds the supervisor waits before rebuilding the pipeline.
    #[getter]
    fn delay(&self) -> PyResult<Option<f64>> {
        guard(|| Ok(self.delay))
    }

    /// Reconnected: seconds without frames, from the last frame before the outage (or the
    /// first failure) to the new generation's first frame.
    #[getter]
    fn gap(&self) -> PyResult<Option<f64>> {
        guard(|| Ok(self.gap))
    }

    /// Disconnected and gave up: why the pipeline ended, as the exception gstpipe would raise
    /// for it (``PipelineError``, ``TimeoutError`` for a stall, ``Error`` for end of stream).
    #[getter]
    fn error(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        guard(|| Ok(self.error.as_ref().map(|e| e.clone_ref(py))))
    }

    /// Disconnected and gave up: ``"error"``, ``"eos"`` (the source ended) or ``"stalled"``
    /// (the watchdog saw no frame in time).
    #[getter]
    fn reason(&self) -> PyResult<Option<&'static str>> {
        guard(|| Ok(self.reason))
    }

    fn __str__(&self) -> PyResult<String> {
        guard(|| Ok(self.text.clone()))
    }

    fn __repr__(&self) -> PyResult<String> {
        guard(|| Ok(format!("<gstpipe.HealthEvent {}>", self.text)))
    }
}

impl crate::gil::StopAtExit for LiveSource {
    fn stop_at_exit(&self) {
        self.stop();
    }
}

/// A callback for health events, run with the GIL on whichever thread saw the event. Its
/// exceptions go to ``sys.unraisablehook``: the source goes on.
fn event_callback(slot: Releasable) -> impl Fn(&RustEvent) + Send + Sync + 'static {
    move |event| {
        crate::gil::attach(|py| {
            let Some(callback) = slot
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .as_ref()
                .map(|c| c.clone_ref(py))
            else {
                return; // released by stop()
            };
            let called = Py::new(py, HealthEvent::new(py, event))
                .and_then(|event| callback.call1(py, (event,)));
            if let Err(e) = called {
                e.write_unraisable(py, Some(callback.bind(py)));
            }
        });
    }
}

/// A live pipeline that survives: rebuilt from its description whenever it fails, ends or
/// stalls, with backoff, while one iterator of frames (and, with ``events=True``, health
/// events) keeps going.
///
/// Iterating gives ``Frame`` objects whose ``index`` keeps counting across reconnections,
/// with their ``generation``, ``after_gap`` and capture time (``wall_ns``, ``wall_time``,
/// ``time_source``). The iteration ends after ``stop()``; when the supervisor gives up
/// (``max_reconnects`` attempts in a row without a frame) it raises ``GaveUpError`` once every
/// frame before was taken. Every wait releases the GIL and lets Ctrl-C through.
#[pyclass(frozen, module = "gstpipe", name = "Live")]
pub(crate) struct Live {
    source: DropDetached<Arc<LiveSource>>,
    events: bool,
    timeout: Option<Duration>,
    /// The supervisor's last words, raised when the iteration reaches its end.
    gave_up: Mutex<Option<(u32, LiveError)>>,
    done: AtomicBool,
    callbacks: Mutex<Vec<Releasable>>,
}

impl Live {
    /// The supervisor, shared (for a `Batcher` that takes the source over).
    pub(crate) fn source(&self) -> Arc<LiveSource> {
        Arc::clone(&self.source)
    }

    fn release_callbacks(&self) {
        crate::gil::release_callables(&self.callbacks);
    }

    fn register(&self, callback: Py<PyAny>) -> Releasable {
        let slot: Releasable = Arc::new(Mutex::new(Some(callback)));
        self.callbacks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(Arc::clone(&slot));
        slot
    }

    /// A setting in seconds, refused (``ValueError`` naming it) when negative or not finite.
    fn seconds(name: &str, value: f64) -> Result<Duration> {
        Duration::try_from_secs_f64(value).map_err(|_| {
            value_error(format!(
                "{name} must be a finite number of seconds >= 0, got {value}"
            ))
        })
    }
}

#[pymethods]
impl Live {
    /// Builds the first pipeline from ``description`` (``ParseError`` for bad syntax, an
    /// unknown element or no appsink) and starts the supervisor, which plays it.
    ///
    /// - ``sink``: the appsink to read when the description has several.
    /// - ``reconnect_delay``: seconds before the first reconnection attempt; each further
    ///   attempt waits ``factor`` times longer, at most ``max_delay``, spread by ``± jitter``
    ///   of itself.
    /// - ``max_reconnects``: give up after that many attempts in a row without a frame
    ///   (``None``: retry forever). The count restarts once a frame arrives.
    /// - ``stall``: the watchdog: no frame for that many seconds tears the pipeline down and
    ///   rebuilds it (a frozen camera posts no error).
    /// - ``latest``: at most ``capacity`` frames wait for you; when ``True`` the oldest is
    ///   dropped for a new one (``stats["dropped"]``), when ``False`` the pipeline waits.
    /// - ``timeout``: ``TimeoutError`` when no item comes for that many seconds (``None``:
    ///   wait as long as the supervisor keeps trying).
    /// - ``events``: also yield ``HealthEvent`` objects, in order with the frames.
    /// - ``on_event``: ``callback(event)`` for every health event from the start, on the
    ///   thread that saw it (keep it short; its exceptions are printed, not raised).
    #[new]
    #[pyo3(signature = (
        description, *, sink=None, reconnect_delay=0.5, max_reconnects=None, max_delay=30.0,
        factor=2.0, jitter=0.1, stall=5.0, latest=true, capacity=4, timeout=None, events=false,
        on_event=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        description: &str,
        sink: Option<&str>,
        reconnect_delay: f64,
        max_reconnects: Option<u32>,
        max_delay: f64,
        factor: f64,
        jitter: f64,
        stall: f64,
        latest: bool,
        capacity: usize,
        timeout: Option<f64>,
        events: bool,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        guard(|| {
            let backoff = Backoff::new(Self::seconds("reconnect_delay", reconnect_delay)?)
                .max(Self::seconds("max_delay", max_delay)?)
                .factor(factor)
                .jitter(jitter)
                .max_attempts(max_reconnects);
            let mut builder = LiveSource::builder(description)
                .backoff(backoff)
                .stall_timeout(Self::seconds("stall", stall)?)
                .capacity(capacity)
                .policy(if latest {
                    Policy::DropOldest
                } else {
                    Policy::Block
                });
            if let Some(sink) = sink {
                builder = builder.appsink(sink);
            }
            let live_timeout = timeout_arg(py, timeout)?;
            let callbacks = Mutex::new(Vec::new());
            if let Some(callback) = on_event {
                let slot: Releasable = Arc::new(Mutex::new(Some(callback)));
                callbacks
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(Arc::clone(&slot));
                builder = builder.on_event(event_callback(slot));
            }
            let source = py.detach(move || builder.build())?;
            let source = Arc::new(source);
            crate::gil::stop_at_exit(&source);
            Ok(Live {
                source: DropDetached::new(source),
                events,
                timeout: live_timeout,
                gave_up: Mutex::new(None),
                done: AtomicBool::new(false),
                callbacks,
            })
        })
    }

    /// The launch description every generation is built from.
    #[getter]
    fn description(&self) -> PyResult<String> {
        guard(|| Ok(self.source.description().to_owned()))
    }

    /// The counters, as a dict: ``frames`` (received over all generations), ``dropped`` (for
    /// newer frames, ``latest=True``), ``reconnects`` (successful ones), ``attempts``
    /// (pipelines rebuilt), ``generation`` (the current one, from 1), ``last_frame_age``
    /// (seconds since the last frame, or ``None``) and ``connected`` (the current generation
    /// delivers frames).
    #[getter]
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        guard(|| {
            let stats = self.source.stats();
            let dict = PyDict::new(py);
            dict.set_item("frames", stats.frames)?;
            dict.set_item("dropped", stats.dropped)?;
            dict.set_item("reconnects", stats.reconnects)?;
            dict.set_item("attempts", stats.attempts)?;
            dict.set_item("generation", stats.generation)?;
            dict.set_item(
                "last_frame_age",
                stats.last_frame_age.map(|d| d.as_secs_f64()),
            )?;
            dict.set_item("connected", stats.connected)?;
            Ok(dict)
        })
    }

    /// Whether the supervisor has ended (stopped or gave up); frames may still be queued.
    #[getter]
    fn finished(&self) -> PyResult<bool> {
        guard(|| Ok(self.source.is_finished()))
    }

    /// Calls ``callback(event)`` for every later ``HealthEvent``, on the thread that saw it
    /// (the supervisor's, or a streaming thread for connected/reconnected), before the event
    /// reaches the iterator. Keep it short; its exceptions go to ``sys.unraisablehook``. Use
    /// the constructor's ``on_event`` to see the first events too.
    fn on_event(&self, callback: Py<PyAny>) -> PyResult<()> {
        guard(|| {
            let slot = self.register(callback);
            self.source.subscribe(event_callback(slot));
            Ok(())
        })
    }

    /// Asks the supervisor to stop and returns at once (safe from any thread and from an
    /// ``on_event`` callback); the iteration ends once the queued frames are taken.
    fn request_stop(&self) -> PyResult<()> {
        guard(|| {
            self.source.request_stop();
            Ok(())
        })
    }

    /// Stops the supervisor and tears the pipeline down (bounded wait, without the GIL). The
    /// iteration ends once the queued frames are taken.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            let source = &*self.source;
            py.detach(|| source.stop());
            self.release_callbacks();
            Ok(())
        })
    }

    fn __iter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guard(|| Ok(slf))
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        guard(|| {
            let start = Instant::now();
            let source = &*self.source;
            loop {
                if self.done.load(Ordering::Acquire) {
                    return Ok(None);
                }
                let remaining = self.timeout.map(|t| t.saturating_sub(start.elapsed()));
                let item =
                    wait_interruptibly(py, remaining, |limit| match source.next_timeout(limit) {
                        Ok(item) => Step::Done(item),
                        Err(_) => Step::Again,
                    })?;
                match item {
                    None => {
                        let what = if self.events {
                            "a frame or event"
                        } else {
                            "a frame"
                        };
                        return Err(gstpipe_core::Error::Timeout {
                            operation: format!("{what} from the live source"),
                            after: self.timeout.unwrap_or_default(),
                        }
                        .into());
                    }
                    Some(None) => {
                        self.done.store(true, Ordering::Release);
                        let gave_up = self
                            .gave_up
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .take();
                        return match gave_up {
                            Some((attempts, last)) => {
                                Err(gave_up_error(py, attempts, &last).into())
                            }
                            None => Ok(None),
                        };
                    }
                    Some(Some(LiveItem::Frame(frame))) => {
                        return Ok(Some(Py::new(py, Frame::from_live(frame))?.into_any()));
                    }
                    Some(Some(LiveItem::Event(event))) => {
                        if let RustEvent::GaveUp {
                            attempts,
                            last_error,
                        } = &event
                        {
                            *self.gave_up.lock().unwrap_or_else(|p| p.into_inner()) =
                                Some((*attempts, last_error.clone()));
                        }
                        if self.events {
                            return Ok(Some(Py::new(py, HealthEvent::new(py, &event))?.into_any()));
                        }
                    }
                    Some(Some(_)) => {}
                }
            }
        })
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guard(|| Ok(slf))
    }

    /// Stops the source (see ``stop``); never raises.
    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        guard(|| {
            Ok({
                self.stop(py)?;
                false
            })
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        guard(|| {
            Ok({
                let stats = self.source.stats();
                format!(
                    "<gstpipe.Live generation {} frames {} {:?}>",
                    stats.generation,
                    stats.frames,
                    self.source.description()
                )
            })
        })
    }
}
