//! `gstpipe.Pipeline` and the iterators and callback handle it hands out.

use crate::errors::{Result, core_error, guard, sink_error, type_error, value_error};
use crate::frame::Frame;
use crate::gil::{DropDetached, Step, wait_interruptibly};
use crate::source::Source;
use gst::prelude::*;
use gstpipe_frame::SampleType;
use gstpipe_sinks::{FrameReceiver, FrameSink, Policy, SinkError};
use numpy::PyArray;
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

/// The pipeline as shared by the Python objects that use it; dropped without the GIL.
pub(crate) type Shared = Arc<DropDetached<gstpipe_core::Pipeline>>;

thread_local! {
    /// How many ``on_frame`` callbacks are running on this thread (they may nest: a callback
    /// that installs another pipeline's callback).
    static IN_CALLBACK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Where the exception an ``on_frame`` callback raised is kept: one slot per Python object
/// (the pipeline, each callback handle), which shows its own reference, and only that one, to
/// the garbage collector.
type ExceptionSlot = Arc<Mutex<Option<Py<pyo3::exceptions::PyBaseException>>>>;

/// Empties an exception slot when its Python owner (a `Pipeline` or a `Callback`) goes: the
/// callback closure that GStreamer keeps shares the slot, and a reference left there would
/// be one the garbage collector cannot see (it could keep the exception's traceback, and
/// every object its frames hold, alive for good).
fn empty_slot(slot: &ExceptionSlot) {
    use gstpipe_core::sync::Unpoisoned as _;
    let exception = slot.lock_unpoisoned().take();
    drop(exception);
}

/// The exception a callback raised, kept in `slot`, to raise again.
fn stored_exception(py: Python<'_>, slot: &ExceptionSlot) -> Option<PyErr> {
    use gstpipe_core::sync::Unpoisoned as _;
    slot.lock_unpoisoned()
        .as_ref()
        .map(|e| PyErr::from_value(e.bind(py).clone().into_any()))
}

/// Shows the exception in `slot` to the garbage collector. The slot's lock is only taken with
/// the GIL held, which the collector holds: `try_lock` never misses one in use.
fn visit_slot(
    slot: &ExceptionSlot,
    visit: &pyo3::PyVisit<'_>,
) -> Result<(), pyo3::PyTraverseError> {
    if let Ok(slot) = slot.try_lock()
        && let Some(error) = slot.as_ref()
    {
        visit.call(error)?;
    }
    Ok(())
}

/// A Python callable shared with a GStreamer callback, which stop() can release.
use crate::gil::Releasable;

/// "Wait forever" for the Rust adapters' own stall timeouts: a year.
const NO_TIMEOUT: Duration = Duration::from_secs(365 * 24 * 3600);

/// A timeout in seconds from Python: `None` waits without limit.
/// `float("inf")` means no limit too.
pub(crate) fn timeout_arg(_py: Python<'_>, seconds: Option<f64>) -> PyResult<Option<Duration>> {
    match seconds {
        None => Ok(None),
        Some(s) if s == f64::INFINITY => Ok(None),
        Some(s) => Duration::try_from_secs_f64(s).map(Some).map_err(|_| {
            value_error(format!(
                "timeout must be a number of seconds >= 0 (None or inf: no limit), got {s}"
            ))
            .into()
        }),
    }
}

/// Plays `pipeline` unless it is already running or has ended (what ``frames()`` and a
/// source's first push do). `wait_for_preroll: false` only asks for Playing: a non-live appsrc
/// prerolls on the frame about to be pushed, so waiting for it first would wait forever.
pub(crate) fn start(
    py: Python<'_>,
    pipeline: &gstpipe_core::Pipeline,
    wait_for_preroll: bool,
) -> Result<(), gstpipe_core::Error> {
    let (_, current, pending) = pipeline.gst().state(gst::ClockTime::ZERO);
    if current >= gst::State::Paused || pending >= gst::State::Paused || pipeline.is_done() {
        return Ok(());
    }
    if wait_for_preroll {
        return py.detach(|| pipeline.play());
    }
    match pipeline.gst().set_state(gst::State::Playing) {
        Ok(_) => Ok(()),
        Err(_) => Err(pipeline
            .outcome()
            .and_then(|o| match o {
                gstpipe_core::Outcome::Error(e) => Some(gstpipe_core::Error::Element(e)),
                _ => None,
            })
            .unwrap_or_else(|| gstpipe_core::Error::StateChange {
                element: pipeline.name().to_owned(),
                state: gst::State::Playing,
            })),
    }
}

/// A GStreamer pipeline from a ``gst-launch-1.0`` description.
///
/// Use it as a context manager: leaving the ``with`` block stops it gracefully (end of
/// stream so files are finalised, a bounded wait, then the Null state). ``frames()``,
/// ``batches()`` and ``on_frame()`` read its appsink; ``source()`` writes into its appsrc.
/// Every wait releases the GIL.
#[pyclass(frozen, weakref, module = "gstpipe", name = "Pipeline")]
pub(crate) struct Pipeline {
    inner: Shared,
    description: String,
    /// The exception a Python ``on_frame`` callback raised, re-raised by ``wait``.
    callback_error: ExceptionSlot,
    /// Set once the pipeline's error has been raised to the user (by ``wait``, an iterator
    /// or a callback handle): leaving the ``with`` block does not raise it again.
    reported: Arc<AtomicBool>,
    /// The Python callables given to ``on_frame``, released when the pipeline is stopped: a
    /// callback that refers to its pipeline would otherwise keep both alive (GStreamer's
    /// callbacks are invisible to Python's garbage collector).
    callbacks: Mutex<Vec<Releasable>>,
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        empty_slot(&self.callback_error);
    }
}

impl Pipeline {
    pub(crate) fn sink(&self, name: Option<&str>, timeout: Option<Duration>) -> Result<FrameSink> {
        let mut builder = FrameSink::builder(&self.inner).timeout(timeout.unwrap_or(NO_TIMEOUT));
        if let Some(name) = name {
            builder = builder.name(name);
        }
        Ok(builder.build()?)
    }

    /// The pipeline, shared (for a ``Batcher`` reading it).
    pub(crate) fn shared(&self) -> Shared {
        Arc::clone(&self.inner)
    }

    /// Plays the pipeline unless it is already running or has ended.
    pub(crate) fn start(&self, py: Python<'_>) -> Result<()> {
        start(py, &self.inner, true).map_err(|e| self.raise(py, &e).into())
    }

    /// The exception for an error of the pipeline raised to the user now: remembered as
    /// reported, so that leaving the ``with`` block does not raise it again.
    fn raise(&self, py: Python<'_>, e: &gstpipe_core::Error) -> PyErr {
        if e.element_error().is_some() {
            self.reported.store(true, Ordering::Release);
        }
        self.take_callback_error(py)
            .unwrap_or_else(|| core_error(e))
    }

    /// Drops the ``on_frame`` callables (after the pipeline has stopped).
    fn release_callbacks(&self) {
        crate::gil::release_callables(&self.callbacks);
    }

    fn take_callback_error(&self, py: Python<'_>) -> Option<PyErr> {
        stored_exception(py, &self.callback_error)
    }
}

#[pymethods]
impl Pipeline {
    /// Parses ``description`` (``gst-launch-1.0`` syntax). Raises ``ParseError`` for bad
    /// syntax or an unknown element.
    #[new]
    fn new(py: Python<'_>, description: &str) -> PyResult<Self> {
        guard(|| {
            let owned = description.to_owned();
            let inner = py.detach(move || gstpipe_core::Pipeline::launch(&owned))?;
            let inner = Arc::new(DropDetached::new(inner));
            crate::gil::stop_at_exit(&inner);
            Ok(Pipeline {
                inner,
                description: description.to_owned(),
                callback_error: Arc::new(Mutex::new(None)),
                reported: Arc::new(AtomicBool::new(false)),
                callbacks: Mutex::new(Vec::new()),
            })
        })
    }

    /// The description the pipeline was built from.
    #[getter]
    fn description(&self) -> PyResult<&str> {
        guard(|| Ok(self.description.as_str()))
    }

    /// The pipeline's name (``pipeline0``, ...).
    #[getter]
    fn name(&self) -> PyResult<String> {
        guard(|| Ok(self.inner.name().to_owned()))
    }

    /// The names of the pipeline's appsinks (what ``frames(sink=...)`` can read).
    #[getter]
    fn appsinks(&self) -> PyResult<Vec<String>> {
        guard(|| {
            Ok({
                self.inner
                    .elements::<gst_app::AppSink>()
                    .iter()
                    .map(|a| a.name().to_string())
                    .collect()
            })
        })
    }

    /// Whether the pipeline has ended (end of stream, error or stopped).
    #[getter]
    fn done(&self) -> PyResult<bool> {
        guard(|| Ok(self.inner.is_done()))
    }

    /// Starts the pipeline (Playing), waiting (bounded) for a non-live pipeline to preroll.
    /// Raises ``PipelineError`` naming the element when it fails to start.
    fn play(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            let inner = &self.inner;
            Ok(py.detach(|| inner.play()).map_err(|e| self.raise(py, &e))?)
        })
    }

    /// Stops gracefully: end of stream, a bounded wait for it (so muxers finalise files), then
    /// Null. Raises the pipeline's error if it failed, ``TimeoutError`` if end of stream did
    /// not arrive in time (the pipeline is stopped anyway); an error ``frames()``, ``wait()``
    /// or a callback handle already raised is not raised again. Called from an ``on_frame``
    /// callback it sends end of stream and returns at once; the stop completes once the
    /// callback has returned.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            let inner = &self.inner;
            let result = if IN_CALLBACK.with(|depth| depth.get() > 0) {
                // An on_frame callback run on this thread (as a handle's catch-up does on the
                // thread that called on_frame) holds the frame flow: stopping here would wait
                // for it.
                inner.stop_in_background();
                match inner.outcome() {
                    Some(gstpipe_core::Outcome::Error(e)) => Err(gstpipe_core::Error::Element(e)),
                    _ => Ok(()),
                }
            } else {
                py.detach(|| inner.stop())
            };
            self.release_callbacks();
            match result {
                // Raised already (by frames(), wait() or a callback handle): once is enough.
                Err(e) if e.element_error().is_some() && self.reported.load(Ordering::Acquire) => {
                    Ok(())
                }
                other => Ok(other.map_err(|e| self.raise(py, &e))?),
            }
        })
    }

    /// Asks the pipeline to finish: sends end of stream and returns at once (safe from any
    /// thread, a frame callback included). ``wait()`` then returns when it has reached the
    /// sinks. A run sends it once: calling it again is harmless.
    fn request_eos(&self) -> PyResult<()> {
        guard(|| {
            self.inner.request_eos();
            Ok(())
        })
    }

    /// Waits until the pipeline ends: returns at end of stream, raises its error
    /// (``PipelineError``, or the exception an ``on_frame`` callback raised) or
    /// ``TimeoutError`` after ``timeout`` seconds. ``None`` waits without limit (Ctrl-C
    /// interrupts it).
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<()> {
        guard(|| {
            let total = timeout_arg(py, timeout)?;
            let inner = &self.inner;
            let result = wait_interruptibly(py, total, |limit| match inner.wait_timeout(limit) {
                Err(gstpipe_core::Error::Timeout { .. }) => Step::Again,
                other => Step::Done(other),
            })?;
            match result {
                Some(Ok(())) => Ok(()),
                Some(Err(e)) => Err(self.raise(py, &e).into()),
                None => Err(gstpipe_core::Error::Timeout {
                    operation: format!("{} to end", self.inner.name()),
                    after: total.unwrap_or_default(),
                }
                .into()),
            }
        })
    }

    /// Frames from the pipeline's appsink (``sink``: by name, when there are several), as
    /// an iterator of ``Frame``. It starts the pipeline if it is not running, ends at end of
    /// stream and raises the pipeline's error; ``TimeoutError`` when no frame comes for
    /// ``timeout`` seconds (``None``: no limit). ``latest=True`` keeps only the newest frame
    /// while you are busy (live sources): the iterator's ``dropped`` counts the others.
    /// ``every=k`` keeps one frame in ``k`` and ``max_fps`` at most that many per second of
    /// stream time (by pts): the others are dropped before a ``Frame`` is made.
    #[pyo3(signature = (sink=None, latest=false, timeout=10.0, every=1, max_fps=None))]
    fn frames(
        &self,
        py: Python<'_>,
        sink: Option<&str>,
        latest: bool,
        timeout: Option<f64>,
        every: u64,
        max_fps: Option<f64>,
    ) -> PyResult<Frames> {
        guard(|| {
            let sampling = Mutex::new(crate::sampling::Sampling::new(every, max_fps)?);
            let timeout = timeout_arg(py, timeout)?;
            let frame_sink = self.sink(sink, timeout)?;
            let reader = if latest {
                let receiver = py.detach(|| frame_sink.channel(1, Policy::DropOldest));
                Reader::Latest(receiver)
            } else {
                Reader::Pull(Box::new(frame_sink))
            };
            self.start(py)?;
            Ok(Frames {
                reader: DropDetached::new(reader),
                _pipeline: Arc::clone(&self.inner),
                timeout,
                done: AtomicBool::new(false),
                delivered: AtomicU64::new(0),
                reported: Arc::clone(&self.reported),
                sampling,
            })
        })
    }

    /// Batches of ``n`` frames as numpy arrays ``(n, height, width, channels)`` (each frame
    /// copied once, without the GIL; ``uint8``, or ``uint16`` for 9- to 16-bit formats, in
    /// native byte order); the last batch is shorter when the stream ends. Packed formats
    /// only; a change of frame size in the middle of a batch raises ``FrameError``. Starts
    /// the pipeline if it is not running.
    #[pyo3(signature = (n, sink=None, timeout=10.0))]
    fn batches(
        &self,
        py: Python<'_>,
        n: usize,
        sink: Option<&str>,
        timeout: Option<f64>,
    ) -> PyResult<Batches> {
        guard(|| {
            if n == 0 {
                return Err(value_error("a batch holds at least one frame (n >= 1)"));
            }
            let timeout = timeout_arg(py, timeout)?;
            let frame_sink = self.sink(sink, timeout)?;
            self.start(py)?;
            Ok(Batches {
                sink: DropDetached::new(frame_sink),
                pipeline: Arc::clone(&self.inner),
                n,
                done: AtomicBool::new(false),
                reported: Arc::clone(&self.reported),
            })
        })
    }

    /// Calls ``callback(frame)`` on GStreamer's streaming thread for every frame (the
    /// ``new-sample`` model; the pipeline waits while it runs, and it holds the GIL only
    /// around the call). An exception in the callback stops the pipeline; ``wait()``
    /// re-raises it. Returns a handle counting the frames. Call ``play()`` (or ``wait()``)
    /// afterwards.
    #[pyo3(signature = (callback, sink=None))]
    fn on_frame(
        &self,
        py: Python<'_>,
        callback: Py<PyAny>,
        sink: Option<&str>,
    ) -> PyResult<Callback> {
        guard(|| {
            if !callback.bind(py).is_callable() {
                return Err(type_error(format!(
                    "on_frame takes a callable (called with each Frame), got {}",
                    callback.bind(py).get_type().name()?
                )));
            }
            let frame_sink = self.sink(sink, None)?;
            // The pipeline's slot and the handle's own: each holds its own reference and shows
            // only that one to the garbage collector.
            let slot = Arc::clone(&self.callback_error);
            let handle_slot: ExceptionSlot = Arc::new(Mutex::new(None));
            let handle_copy = Arc::clone(&handle_slot);
            let callback: Releasable = Arc::new(Mutex::new(Some(callback)));
            self.callbacks
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(Arc::clone(&callback));
            let run = move |frame: gstpipe_frame::Frame| -> Result<(), Raised> {
                // The GIL is taken only around the user's function (and the Frame it gets); once
                // the interpreter is ending the frame is dropped without calling Python.
                crate::gil::attach(|py| {
                    let Some(callback) = callback
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .as_ref()
                        .map(|c| c.clone_ref(py))
                    else {
                        return Ok(()); // released by stop(): the pipeline is ending
                    };
                    IN_CALLBACK.with(|depth| depth.set(depth.get() + 1));
                    let called = Py::new(py, Frame::new(frame))
                        .and_then(|frame| callback.call1(py, (frame,)));
                    IN_CALLBACK.with(|depth| depth.set(depth.get() - 1));
                    called.map(|_| ()).map_err(|e| {
                        // Kept for Pipeline.wait(), whose error is the appsink's.
                        let raised = e.value(py);
                        *slot.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(raised.clone().unbind());
                        *handle_copy.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(raised.clone().unbind());
                        Raised::new(py, &e)
                    })
                })
                .unwrap_or(Ok(()))
            };
            let handle = py.detach(move || frame_sink.on_frame(run))?;
            Ok(Callback {
                handle: DropDetached::new(handle),
                reported: Arc::clone(&self.reported),
                callback_error: handle_slot,
            })
        })
    }

    /// An appsrc to push numpy arrays into (``name``: by name, when there are several).
    /// ``format``, ``width``, ``height`` and ``fps`` set its caps; without them the caps
    /// written in the description are used as they are, and frames are stamped with their
    /// framerate, or ``fps`` (default 30) when they have none. A second source on the same
    /// appsrc with other caps, while the first is alive, raises ``Error``.
    #[pyo3(signature = (name=None, format=None, width=None, height=None, fps=None))]
    fn source(
        &self,
        py: Python<'_>,
        name: Option<&str>,
        format: Option<&str>,
        width: Option<u32>,
        height: Option<u32>,
        fps: Option<Bound<'_, PyAny>>,
    ) -> PyResult<Source> {
        guard(|| Source::build(py, &self.inner, name, format, width, height, fps))
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guard(|| Ok(slf))
    }

    /// Shows Python's garbage collector the objects the pipeline holds from Rust (the
    /// ``on_frame`` callables and the exception one raised, whose traceback may lead back to
    /// the pipeline), so that such cycles are collected. The locks are only ever taken with
    /// the GIL held, which the collector holds: `try_lock` never misses one in use.
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit_slot(&self.callback_error, &visit)?;
        if let Ok(callbacks) = self.callbacks.try_lock() {
            for callback in callbacks.iter() {
                if let Ok(callback) = callback.try_lock()
                    && let Some(callback) = callback.as_ref()
                {
                    visit.call(callback)?;
                }
            }
        }
        Ok(())
    }

    /// Breaks the cycles ``__traverse__`` reported: drops the callables and the exception.
    fn __clear__(&self) {
        self.release_callbacks();
        self.callback_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// Stops the pipeline (see ``stop``). When the block raised, that exception wins;
    /// otherwise the pipeline's own error is raised. A stop that timed out is not an error
    /// here: the pipeline is in Null either way.
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<Bound<'_, PyType>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        guard(|| {
            let inner = &self.inner;
            let result = py.detach(|| inner.stop());
            self.release_callbacks();
            match result {
                Err(e)
                    if exc_type.is_none()
                        && e.element_error().is_some()
                        && !self.reported.load(Ordering::Acquire) =>
                {
                    Err(self.raise(py, &e).into())
                }
                _ => Ok(false),
            }
        })
    }

    fn __repr__(&self) -> PyResult<String> {
        guard(|| {
            Ok({
                format!(
                    "<gstpipe.Pipeline {} {:?}>",
                    self.inner.name(),
                    self.description
                )
            })
        })
    }
}

enum Reader {
    Pull(Box<FrameSink>),
    Latest(FrameReceiver),
}

/// The iterator of ``Pipeline.frames()``: ``Frame`` objects until end of stream.
#[pyclass(frozen, module = "gstpipe", name = "Frames")]
pub(crate) struct Frames {
    reader: DropDetached<Reader>,
    /// Keeps the pipeline alive while its frames are read.
    _pipeline: Shared,
    timeout: Option<Duration>,
    done: AtomicBool,
    delivered: AtomicU64,
    reported: Arc<AtomicBool>,
    sampling: Mutex<crate::sampling::Sampling>,
}

#[pymethods]
impl Frames {
    fn __iter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guard(|| Ok(slf))
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Frame>> {
        guard(|| {
            if self.done.load(Ordering::Acquire) {
                return Ok(None);
            }
            let reader = &*self.reader;
            let mut sampling = self.sampling.lock().unwrap_or_else(|p| p.into_inner());
            let item = loop {
                let item = wait_interruptibly(py, self.timeout, |limit| {
                    let item = match reader {
                        Reader::Pull(sink) => sink.pull_timeout(limit),
                        Reader::Latest(receiver) => receiver.recv_timeout(limit),
                    };
                    match item {
                        Some(Err(e)) if e.is_timeout() => Step::Again,
                        other => Step::Done(other),
                    }
                })?;
                match &item {
                    // A frame not wanted (every=, max_fps=): dropped before a Frame exists.
                    Some(Some(Ok(frame))) if !sampling.keep(frame) => {}
                    _ => break item,
                }
            };
            match item {
                Some(Some(Ok(frame))) => {
                    self.delivered.fetch_add(1, Ordering::Relaxed);
                    Ok(Some(Frame::new(frame)))
                }
                Some(None) => {
                    self.done.store(true, Ordering::Release);
                    Ok(None)
                }
                Some(Some(Err(e))) => {
                    self.done.store(true, Ordering::Release);
                    self.reported.store(true, Ordering::Release);
                    Err(e.into())
                }
                None => {
                    let element = match reader {
                        Reader::Pull(sink) => sink.name().to_owned(),
                        Reader::Latest(receiver) => receiver.appsink().name().to_string(),
                    };
                    Err(SinkError::Timeout {
                        element,
                        operation: "a frame",
                        waited: self.timeout.unwrap_or_default(),
                    }
                    .into())
                }
            }
        })
    }

    /// How many frames ``latest=True`` dropped because a newer one came (0 otherwise).
    #[getter]
    fn dropped(&self) -> PyResult<u64> {
        guard(|| {
            Ok({
                match &*self.reader {
                    Reader::Pull(_) => 0,
                    Reader::Latest(receiver) => receiver.dropped(),
                }
            })
        })
    }

    /// How many frames the iterator has returned.
    #[getter]
    fn count(&self) -> PyResult<u64> {
        guard(|| Ok(self.delivered.load(Ordering::Relaxed)))
    }
}

/// The iterator of ``Pipeline.batches()``: numpy arrays ``(n, height, width, channels)``.
#[pyclass(frozen, module = "gstpipe", name = "Batches")]
pub(crate) struct Batches {
    sink: DropDetached<FrameSink>,
    pipeline: Shared,
    n: usize,
    done: AtomicBool,
    reported: Arc<AtomicBool>,
}

/// The sample type of the caps negotiated on `pad`, if any yet.
fn caps_sample_type(pad: &gst::Pad) -> Option<SampleType> {
    let caps = pad.current_caps()?;
    let info = gst_video::VideoInfo::from_caps(&caps).ok()?;
    Some(
        gstpipe_frame::format_info(info.format())
            .ok()?
            .sample_type(),
    )
}

/// The sample type of the frames the appsink has negotiated. A live source may negotiate
/// after the batches are asked for: then this waits (woken by the pad's caps notification,
/// bounded by the sink's timeout) for the caps. `u8` when the pipeline ends first or has no
/// video caps: the batch itself then reports why.
fn negotiated_sample_type(
    py: Python<'_>,
    sink: &FrameSink,
    pipeline: &gstpipe_core::Pipeline,
) -> PyResult<SampleType> {
    let Some(pad) = sink.appsink().static_pad("sink") else {
        return Ok(SampleType::U8);
    };
    if let Some(sample) = caps_sample_type(&pad) {
        return Ok(sample);
    }
    let signal = Arc::new((Mutex::new(()), Condvar::new()));
    let notify = Arc::clone(&signal);
    let id = pad.connect_notify(Some("caps"), move |_, _| {
        let _guard = notify.0.lock().unwrap_or_else(|p| p.into_inner());
        notify.1.notify_all();
    });
    let waited = wait_interruptibly(py, Some(sink.timeout()), |limit| {
        let guard = signal.0.lock().unwrap_or_else(|p| p.into_inner());
        // Checked under the lock the notification takes: no wake-up is lost.
        if let Some(sample) = caps_sample_type(&pad) {
            return Step::Done(sample);
        }
        if pipeline.is_done() {
            return Step::Done(SampleType::U8);
        }
        drop(signal.1.wait_timeout(guard, limit));
        match caps_sample_type(&pad) {
            Some(sample) => Step::Done(sample),
            None => Step::Again,
        }
    });
    pad.disconnect(id);
    Ok(waited?.unwrap_or(SampleType::U8))
}

#[pymethods]
impl Batches {
    fn __iter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guard(|| Ok(slf))
    }

    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        guard(|| {
            if self.done.load(Ordering::Acquire) {
                return Ok(None);
            }
            let sink = &*self.sink;
            let n = self.n;
            let finish = |done: bool| self.done.store(done, Ordering::Release);
            let batch = match negotiated_sample_type(py, sink, &self.pipeline)? {
                SampleType::U16 => py.detach(|| sink.batches::<u16>(n).next()).map(|b| {
                    b.map(|b| {
                        let len = b.len();
                        (PyArray::from_owned_array(py, b.array).into_any(), len)
                    })
                }),
                _ => py.detach(|| sink.batches::<u8>(n).next()).map(|b| {
                    b.map(|b| {
                        let len = b.len();
                        (PyArray::from_owned_array(py, b.array).into_any(), len)
                    })
                }),
            };
            match batch {
                None => {
                    finish(true);
                    Ok(None)
                }
                Some(Ok((array, len))) => {
                    // A short batch is the last one: the stream has ended.
                    finish(len < n);
                    Ok(Some(array))
                }
                Some(Err(e)) => {
                    finish(true);
                    self.reported.store(true, Ordering::Release);
                    Err(e.into())
                }
            }
        })
    }
}

/// That an ``on_frame`` callback raised, with the exception's text taken while the GIL was
/// held: gstpipe-sinks formats it on the streaming thread, where a `PyErr` would need the
/// interpreter (gone at exit). The exception itself is kept by the pipeline, where the
/// garbage collector sees it (its traceback may lead back to the pipeline).
#[derive(Debug)]
pub(crate) struct Raised {
    text: String,
}

impl Raised {
    fn new(py: Python<'_>, error: &PyErr) -> Self {
        let text = error
            .value(py)
            .str()
            .map(|s| {
                format!(
                    "{}: {s}",
                    error
                        .get_type(py)
                        .name()
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                )
            })
            .unwrap_or_else(|_| "the callback raised".to_owned());
        Raised { text }
    }
}

impl std::fmt::Display for Raised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::error::Error for Raised {}

/// The handle ``Pipeline.on_frame()`` returns: counts frames, waits for the end.
#[pyclass(frozen, module = "gstpipe", name = "Callback")]
pub(crate) struct Callback {
    handle: DropDetached<gstpipe_sinks::CallbackHandle>,
    reported: Arc<AtomicBool>,
    /// The handle's own reference to the exception the callback raised.
    callback_error: ExceptionSlot,
}

impl Drop for Callback {
    fn drop(&mut self) {
        empty_slot(&self.callback_error);
    }
}

#[pymethods]
impl Callback {
    /// Shows the garbage collector the exception the callback raised (see
    /// ``Pipeline.__traverse__``).
    fn __traverse__(&self, visit: pyo3::PyVisit<'_>) -> Result<(), pyo3::PyTraverseError> {
        visit_slot(&self.callback_error, &visit)
    }

    /// Drops the exception: breaks the cycle ``__traverse__`` reported.
    fn __clear__(&self) {
        self.callback_error
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
    }

    /// How many frames the callback has been given.
    #[getter]
    fn frames(&self) -> PyResult<u64> {
        guard(|| Ok(self.handle.frames()))
    }

    /// Waits until the stream ends and returns the number of frames; raises the exception
    /// the callback raised, the pipeline's error, or ``TimeoutError`` after ``timeout``
    /// seconds (``None``: no limit).
    #[pyo3(signature = (timeout=None))]
    fn wait(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<u64> {
        guard(|| {
            let total = timeout_arg(py, timeout)?;
            let handle = &*self.handle;
            let result = wait_interruptibly(py, total, |limit| match handle.wait_timeout(limit) {
                Err(e) if e.is_timeout() => Step::Again,
                other => Step::Done(other),
            })?;
            match result {
                Some(Ok(frames)) => Ok(frames),
                Some(Err(e)) => {
                    self.reported.store(true, Ordering::Release);
                    // The callback's own exception, as gstpipe-sinks keeps it.
                    let raised = e
                        .callback_error()
                        .and_then(|c| c.downcast_ref::<Raised>())
                        .and_then(|_| stored_exception(py, &self.callback_error));
                    Err(raised.unwrap_or_else(|| sink_error(&e)).into())
                }
                None => Err(SinkError::Timeout {
                    element: handle.appsink().name().to_string(),
                    operation: "the end of the stream",
                    waited: total.unwrap_or_default(),
                }
                .into()),
            }
        })
    }
}
