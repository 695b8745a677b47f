//! `gstpipe.Batcher`: one batch across many streams (gstpipe-batch), as numpy arrays.

use crate::errors::{Result, frame_mismatch, guard, stream_failed, type_error, value_error};
use crate::gil::{DropDetached, Step, wait_interruptibly};
use crate::live::Live;
use crate::pipeline::{Pipeline, Shared};
use gstpipe_batch::{BatchError, Formed, Normalize, QueuePolicy, StreamEnd, StreamStatus, Waited};
use gstpipe_sinks::FrameSink;
use numpy::{PyArray, PyArray4, PyArrayMethods as _};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// What the batches are written as.
enum Layout {
    /// `(N, H, W, C)` `uint8`.
    Nhwc,
    /// `(N, C, H, W)` `float32`, normalised.
    Nchw(Normalize),
}

/// The batcher (which owns the pipelines it built from descriptions and the live sources it
/// took over) and what it leaves behind when stopped.
struct State {
    batcher: Option<gstpipe_batch::Batcher>,
    /// The streams' counters and the number of batches as they were when the batcher was
    /// stopped.
    last_streams: Option<(Vec<StreamStatus>, u64)>,
    /// A batch taken but not delivered because the caller's `out` array did not fit: the
    /// next call delivers it.
    pending: Option<gstpipe_batch::Batch>,
}

/// Forms batches across several pipelines: one slot per stream, a batch as soon as every
/// running stream has a frame, or when ``timeout`` seconds have passed since the batch's
/// first frame (the other slots are then empty, i.e. zeros, and ``filled`` says so).
///
/// Iterating yields ``Batch`` objects whose ``array`` is ``(N, H, W, C)`` ``uint8``
/// (``layout="nhwc"``) or ``(N, C, H, W)`` ``float32`` normalised as ``(x * scale - mean[c])
/// / std[c]`` in the same pass (``layout="nchw"``). Every stream must deliver packed ``uint8``
/// frames of one size: end each pipeline with ``videoscale ! videoconvert !
/// video/x-raw,format=RGB,width=W,height=H ! appsink``; another shape raises ``FrameError``.
///
/// A stream that ends or fails (at start or later) keeps an empty slot and never holds the
/// others back; the batch after its end lists it in ``ended`` (with its exception). Once
/// every stream has ended the iteration stops; only when every stream failed does it raise
/// (the first stream's error, ``PipelineError`` with ``.stream``). Streams can be added and
/// removed while batches are formed (``add``, ``remove``). Every wait releases the GIL.
#[pyclass(frozen, module = "gstpipe", name = "Batcher")]
pub(crate) struct Batcher {
    state: DropDetached<Mutex<State>>,
    /// Pipelines the caller passed in: kept alive, left running (the caller stops them).
    _borrowed: Mutex<Vec<Shared>>,
    /// Adds and removes streams while another thread waits for a batch.
    handle: gstpipe_batch::BatcherHandle,
    layout: Layout,
    /// The array every batch is written into, when the caller gave one.
    out: Option<Py<PyAny>>,
    done: AtomicBool,
}

/// The stream queues' `QueuePolicy` from its Python name.
fn ahead_policy(ahead: &str, depth: usize) -> Result<QueuePolicy> {
    match ahead {
        "newest" => Ok(QueuePolicy::keep_newest()),
        "queue" => Ok(QueuePolicy::drop_oldest(depth)),
        "block" => Ok(QueuePolicy::block(depth)),
        other => Err(value_error(format!(
            "ahead must be \"newest\", \"queue\" or \"block\", got {other:?}"
        ))),
    }
}

/// A per-channel statistic: `None` (the neutral value), one number, or a sequence.
fn per_channel(name: &str, value: Option<&Bound<'_, PyAny>>, neutral: f32) -> Result<Vec<f32>> {
    let values = match value {
        None => vec![neutral],
        Some(v) => match v.extract::<f32>() {
            Ok(x) => vec![x],
            Err(_) => v.extract::<Vec<f32>>()?,
        },
    };
    match values.iter().find(|v| !v.is_finite()) {
        Some(bad) => Err(value_error(format!(
            "{name} must be finite numbers, got {bad}"
        ))),
        None => Ok(values),
    }
}

/// How a stream ended, for Python: `"eos"`, `"failed"` or `"detached"`.
fn end_name(end: &StreamEnd) -> &'static str {
    match end {
        StreamEnd::Failed(_) => "failed",
        StreamEnd::Detached => "detached",
        _ => "eos",
    }
}

/// The exception of a stream's end (`None` unless it failed).
fn end_error(py: Python<'_>, stream: usize, name: &str, end: &StreamEnd) -> Option<Py<PyAny>> {
    end.error().map(|e| {
        stream_failed(py, stream, name, e)
            .value(py)
            .clone()
            .into_any()
            .unbind()
    })
}

impl Batcher {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn batches_formed(&self) -> u64 {
        let state = self.lock();
        match (&state.batcher, &state.last_streams) {
            (Some(b), _) => b.batches(),
            (None, Some((_, batches))) => *batches,
            (None, None) => 0,
        }
    }

    fn statuses(&self) -> Vec<StreamStatus> {
        let state = self.lock();
        match (&state.batcher, &state.last_streams) {
            (Some(b), _) => b.streams(),
            (None, Some((last, _))) => last.clone(),
            (None, None) => Vec::new(),
        }
    }

    /// The next batch from the Rust batcher, waited for in bounded slices (Ctrl-C gets
    /// through between them); the batcher keeps the stall clock across them.
    fn next_rust(
        &self,
        py: Python<'_>,
    ) -> PyResult<Result<Option<gstpipe_batch::Batch>, BatchError>> {
        let result = wait_interruptibly(py, None, |limit| {
            let mut state = self.lock();
            if let Some(batch) = state.pending.take() {
                return Step::Done(Ok(Some(batch)));
            }
            let Some(batcher) = state.batcher.as_mut() else {
                return Step::Done(Ok(None)); // stopped
            };
            match batcher.next_batch_timeout(limit) {
                Ok(Waited::Batch(batch)) => Step::Done(Ok(Some(batch))),
                Ok(Waited::NotYet) => Step::Again,
                Ok(_) => Step::Done(Ok(None)),
                Err(e) => Step::Done(Err(e)),
            }
        })?;
        Ok(result.unwrap_or(Ok(None)))
    }

    /// How many slots were ever added (the number a new source gets).
    fn next_slot(&self, py: Python<'_>) -> usize {
        let handle = &self.handle;
        py.detach(|| handle.streams().len())
    }

    /// Adds one source (the `i`-th, for errors): a description is launched (a syntax error
    /// raises; a pipeline that cannot start fails its own slot), a `Pipeline` read and played
    /// (a start failure reaches the slot through the pipeline's watch), a `Live` taken over.
    fn add_source(&self, py: Python<'_>, item: &Bound<'_, PyAny>, i: usize) -> Result<usize> {
        let handle = &self.handle;
        if let Ok(description) = item.extract::<String>() {
            let pipeline = py.detach(|| gstpipe_core::Pipeline::launch(&description))?;
            return Ok(py.detach(|| handle.add_pipeline(pipeline, None)));
        }
        if let Ok(pipeline) = item.cast::<Pipeline>() {
            let shared = pipeline.get().shared();
            let sink = FrameSink::new(&shared)?;
            let slot = py.detach(|| handle.add(sink))?;
            self._borrowed
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(shared);
            // A start failure reaches the slot through the pipeline's watch (its error ends
            // the stream), so it is not raised here.
            let _ = pipeline.get().start(py);
            return Ok(slot);
        }
        if let Ok(live) = item.cast::<Live>() {
            let source = live.get().source();
            let name = format!("live{}", self.next_slot(py));
            return Ok(py.detach(|| handle.add(gstpipe_batch::Named(name, source)))?);
        }
        Err(type_error(format!(
            "source {i}: expected a launch description (str), a gstpipe.Pipeline or a \
             gstpipe.Live, got {}",
            item.get_type().name()?
        )))
    }

    /// Refuses an `out` array of the wrong dtype, dimensions or a read-only one before a
    /// batch is taken.
    fn check_out(&self, out: &Bound<'_, PyAny>) -> Result<()> {
        let fits = match &self.layout {
            Layout::Nhwc => out.cast::<PyArray4<u8>>().is_ok(),
            Layout::Nchw(_) => out.cast::<PyArray4<f32>>().is_ok(),
        };
        if !fits {
            let (dtype, shape) = match &self.layout {
                Layout::Nhwc => ("uint8", "(N, H, W, C)"),
                Layout::Nchw(_) => ("float32", "(N, C, H, W)"),
            };
            return Err(frame_mismatch(out_message(out, dtype, shape)));
        }
        let writeable: bool = out.getattr("flags")?.getattr("writeable")?.extract()?;
        if !writeable {
            return Err(frame_mismatch(
                "out cannot be written: it is a read-only array",
            ));
        }
        Ok(())
    }

    /// Writes `batch` as the layout says: into `out` when given, else into a new array.
    fn write<'py>(
        &self,
        py: Python<'py>,
        batch: &gstpipe_batch::Batch,
        out: Option<&Bound<'py, PyAny>>,
    ) -> Result<Bound<'py, PyAny>> {
        match (&self.layout, out) {
            (Layout::Nhwc, None) => {
                let array = py.detach(|| batch.to_nhwc())?;
                Ok(PyArray::from_owned_array(py, array).into_any())
            }
            (Layout::Nchw(normalize), None) => {
                let array = py.detach(|| batch.to_nchw(normalize))?;
                Ok(PyArray::from_owned_array(py, array).into_any())
            }
            (Layout::Nhwc, Some(out)) => {
                let array = out
                    .cast::<PyArray4<u8>>()
                    .map_err(|_| frame_mismatch(out_message(out, "uint8", "(N, H, W, C)")))?;
                let mut rw = array
                    .try_readwrite()
                    .map_err(|e| frame_mismatch(format!("out cannot be written: {e}")))?;
                let view = rw.as_array_mut();
                py.detach(|| batch.write_nhwc(view))?;
                Ok(out.clone())
            }
            (Layout::Nchw(normalize), Some(out)) => {
                let array = out
                    .cast::<PyArray4<f32>>()
                    .map_err(|_| frame_mismatch(out_message(out, "float32", "(N, C, H, W)")))?;
                let mut rw = array
                    .try_readwrite()
                    .map_err(|e| frame_mismatch(format!("out cannot be written: {e}")))?;
                let view = rw.as_array_mut();
                py.detach(|| batch.write_nchw(view, normalize))?;
                Ok(out.clone())
            }
        }
    }

    fn next_py<'py>(
        &self,
        py: Python<'py>,
        out: Option<&Bound<'py, PyAny>>,
    ) -> Result<Option<Batch>> {
        if self.done.load(Ordering::Acquire) {
            return Ok(None);
        }
        if let Some(out) = out {
            self.check_out(out)?;
        }
        let batch = match self.next_rust(py)? {
            Ok(Some(batch)) => batch,
            Ok(None) => {
                self.done.store(true, Ordering::Release);
                return Ok(None);
            }
            Err(BatchError::AllFailed { .. }) => {
                self.done.store(true, Ordering::Release);
                // Every stream failed: the first one's error, raised once every batch was
                // taken.
                let failed = self.statuses().into_iter().find_map(|s| match &s.end {
                    Some(end @ StreamEnd::Failed(_)) => {
                        Some((s.stream, s.name.clone(), end.clone()))
                    }
                    _ => None,
                });
                return match failed {
                    Some((stream, name, end)) => Err(end
                        .error()
                        .map(|e| stream_failed(py, stream, &name, e))
                        .unwrap_or_else(|| {
                            crate::errors::exc::Error::new_err(format!(
                                "stream {stream} ({name}) failed"
                            ))
                        })
                        .into()),
                    None => Ok(None),
                };
            }
            Err(e) => return Err(e.into()),
        };
        let array = match self.write(py, &batch, out) {
            Ok(array) => array.unbind(),
            Err(e) => {
                // The caller's array did not fit: the batch waits for the next call.
                if out.is_some() {
                    self.lock().pending = Some(batch);
                }
                return Err(e);
            }
        };
        let slots = &batch.slots;
        let ended = batch
            .ended
            .iter()
            .map(|(stream, end)| {
                let name = batch.stream_name(*stream).unwrap_or_default();
                (*stream, end_error(py, *stream, name, end))
            })
            .collect();
        Ok(Some(Batch {
            array,
            index: batch.index,
            filled: batch.filled(),
            pts_ns: slots
                .iter()
                .map(|s| s.as_ref().and_then(|s| s.pts).map(|t| t.nseconds()))
                .collect(),
            indices: slots.iter().map(|s| s.as_ref().map(|s| s.index)).collect(),
            streams: batch
                .streams
                .iter()
                .map(|&n| batch.stream_name(n).unwrap_or_default().to_string())
                .collect(),
            slots: batch.streams.clone(),
            formed: match batch.formed {
                Formed::Complete => "complete",
                Formed::Timeout => "timeout",
            },
            ended,
        }))
    }
}

/// Why an `out` array does not do, naming what it is.
fn out_message(out: &Bound<'_, PyAny>, dtype: &str, shape: &str) -> String {
    let what = match (out.getattr("dtype"), out.getattr("shape")) {
        (Ok(d), Ok(s)) => format!("an array of dtype {d} and shape {s}"),
        _ => format!(
            "a {}",
            out.get_type()
                .name()
                .map(|n| n.to_string())
                .unwrap_or_default()
        ),
    };
    format!("out must be a writable {dtype} numpy array {shape}, got {what}")
}

#[pymethods]
impl Batcher {
    /// Batches across ``sources``: launch descriptions (``str``, each ending in an appsink;
    /// the batcher builds, plays and stops them), ``Pipeline`` objects (played if not
    /// running; you stop them) or ``Live`` sources (taken over: their frames fill the slot
    /// across reconnections, do not iterate them yourself; stopped with the batcher). One
    /// slot per source, in order.
    ///
    /// - ``timeout``: seconds a batch waits, from its first frame, for the other streams.
    /// - ``ahead``: a stream that is ahead keeps only its ``"newest"`` frame (live cameras),
    ///   or ``"queue"``s up to ``depth`` frames (the oldest dropped beyond), or is made to
    ///   wait (``"block"``) beyond ``depth`` frames (files: nothing dropped).
    /// - ``stall``: ``TimeoutError`` when no stream delivers anything for that many seconds.
    /// - ``layout``: ``"nhwc"`` (``uint8``) or ``"nchw"`` (``float32``, ``(x * scale -
    ///   mean[c]) / std[c]``; ``mean`` and ``std``: one value or one per channel).
    /// - ``out``: a C-contiguous, writable array of the batch's shape and dtype that every
    ///   batch is written into (no allocation per batch); otherwise each batch is a new array.
    #[new]
    #[pyo3(signature = (
        sources, *, timeout=0.04, ahead="newest", depth=4, stall=10.0, layout="nhwc",
        scale=1.0 / 255.0, mean=None, std=None, out=None,
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        sources: &Bound<'_, PyAny>,
        timeout: f64,
        ahead: &str,
        depth: usize,
        stall: f64,
        layout: &str,
        scale: f32,
        mean: Option<&Bound<'_, PyAny>>,
        std: Option<&Bound<'_, PyAny>>,
        out: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        guard(|| {
            let seconds = |name: &str, v: f64| {
                Duration::try_from_secs_f64(v).map_err(|_| {
                    value_error(format!(
                        "{name} must be a finite number of seconds >= 0, got {v}"
                    ))
                })
            };
            let timeout = seconds("timeout", timeout)?;
            let stall = seconds("stall", stall)?;
            if stall.is_zero() {
                return Err(value_error("stall must be more than 0 seconds"));
            }
            let layout = match layout {
                "nhwc" if mean.is_none() && std.is_none() => Layout::Nhwc,
                "nhwc" => {
                    return Err(value_error(
                        "mean and std apply to layout=\"nchw\" (float32); \"nhwc\" is uint8 as decoded",
                    ));
                }
                "nchw" if !scale.is_finite() => {
                    return Err(value_error(format!(
                        "scale must be a finite number, got {scale}"
                    )));
                }
                "nchw" => Layout::Nchw(Normalize::new(
                    scale,
                    per_channel("mean", mean, 0.0)?,
                    per_channel("std", std, 1.0)?,
                )),
                other => {
                    return Err(value_error(format!(
                        "layout must be \"nhwc\" or \"nchw\", got {other:?}"
                    )));
                }
            };
            let batcher = gstpipe_batch::Batcher::builder()
                .timeout(timeout)
                .stall(stall)
                .ahead(ahead_policy(ahead, depth)?)
                .build();
            let handle = batcher.handle();
            let items = sources.try_iter()?.collect::<PyResult<Vec<_>>>()?;
            if items.is_empty() {
                return Err(value_error("a Batcher needs at least one source"));
            }
            let this = Batcher {
                state: DropDetached::new(Mutex::new(State {
                    batcher: Some(batcher),
                    last_streams: None,
                    pending: None,
                })),
                _borrowed: Mutex::new(Vec::new()),
                handle,
                layout,
                out,
                done: AtomicBool::new(false),
            };
            for (i, item) in items.iter().enumerate() {
                this.add_source(py, item, i)?;
            }
            Ok(this)
        })
    }

    /// The next batch, written into ``out`` when given (else the constructor's ``out``, else
    /// a new array); ``None`` once every stream has ended.
    #[pyo3(signature = (out=None))]
    fn next_batch<'py>(
        &self,
        py: Python<'py>,
        out: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Option<Batch>> {
        guard(|| {
            let out = out.or_else(|| self.out.as_ref().map(|o| o.bind(py).clone()));
            self.next_py(py, out.as_ref())
        })
    }

    /// The number of streams (slots per batch) now.
    fn __len__(&self, py: Python<'_>) -> PyResult<usize> {
        let handle = &self.handle;
        guard(|| Ok(py.detach(|| handle.streams().iter().filter(|s| !s.removed).count())))
    }

    /// Adds a stream while batches are formed (from any thread) and returns its slot number:
    /// a launch description, a ``Pipeline`` or a ``Live`` source, as in the constructor. The
    /// next batches have one slot more; other slots keep their numbers.
    fn add(&self, py: Python<'_>, source: &Bound<'_, PyAny>) -> PyResult<usize> {
        guard(|| self.add_source(py, source, self.next_slot(py)))
    }

    /// Takes stream ``slot`` out (from any thread): its pipeline is stopped if the batcher
    /// built it, a ``Live`` source is stopped, and the next batches have one slot fewer;
    /// other slots keep their numbers. ``IndexError`` for a slot that is not in the batcher.
    fn remove(&self, py: Python<'_>, slot: usize) -> PyResult<()> {
        let handle = &self.handle;
        guard(|| {
            py.detach(|| handle.remove(slot))
                .map_err(|e| pyo3::exceptions::PyIndexError::new_err(e.to_string()).into())
        })
    }

    /// Each stream's counters and state, in slot order: dicts with ``stream``, ``name``,
    /// ``received``, ``batched``, ``dropped`` (frames replaced by newer ones), ``end``
    /// (``None`` while running, ``"eos"``, ``"failed"`` or ``"detached"``) and ``error`` (the
    /// exception of a failed stream, else ``None``).
    #[getter]
    fn streams<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        guard(|| {
            // Taken without the GIL: a `next_batch` in another thread holds the lock while it waits.
            let statuses = py.detach(|| self.statuses());
            let dicts = statuses
                .iter()
                .map(|s| {
                    let dict = PyDict::new(py);
                    dict.set_item("stream", s.stream)?;
                    dict.set_item("name", &s.name)?;
                    dict.set_item("received", s.received)?;
                    dict.set_item("batched", s.batched)?;
                    dict.set_item("dropped", s.dropped)?;
                    dict.set_item("end", s.end.as_ref().map(end_name))?;
                    dict.set_item(
                        "error",
                        s.end
                            .as_ref()
                            .and_then(|end| end_error(py, s.stream, &s.name, end)),
                    )?;
                    Ok(dict)
                })
                .collect::<PyResult<Vec<_>>>()?;
            Ok(PyList::new(py, dicts)?)
        })
    }

    /// How many batches were formed so far.
    #[getter]
    fn batches(&self, py: Python<'_>) -> PyResult<u64> {
        guard(|| Ok(py.detach(|| self.batches_formed())))
    }

    /// Stops: releases the appsinks, then stops the pipelines the batcher built from
    /// descriptions (end of stream, bounded wait, Null; without the GIL). ``Pipeline`` objects
    /// passed in are left to you. The iteration ends.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        guard(|| {
            let state = &self.state;
            py.detach(|| {
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(batcher) = state.batcher.take() {
                    state.last_streams = Some((batcher.streams(), batcher.batches()));
                    state.pending = None;
                    drop(batcher);
                }
            });
            self.done.store(true, Ordering::Release);
            Ok(())
        })
    }

    fn __iter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guard(|| Ok(slf))
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Option<Batch>> {
        guard(|| {
            let out = self.out.as_ref().map(|o| o.bind(py).clone());
            self.next_py(py, out.as_ref())
        })
    }

    fn __enter__(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        guard(|| Ok(slf))
    }

    /// Stops (see ``stop``); never raises.
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

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("<gstpipe.Batcher {} streams>", self.__len__(py)?))
    }
}

/// One batch of a ``Batcher``: ``array`` and, per slot, whether it is filled and its frame's
/// pts and index in its stream.
#[pyclass(frozen, module = "gstpipe", name = "Batch")]
pub(crate) struct Batch {
    array: Py<PyAny>,
    index: u64,
    filled: Vec<bool>,
    pts_ns: Vec<Option<u64>>,
    indices: Vec<Option<u64>>,
    streams: Vec<String>,
    slots: Vec<usize>,
    formed: &'static str,
    ended: Vec<(usize, Option<Py<PyAny>>)>,
}

#[pymethods]
impl Batch {
    /// The batch: ``(N, H, W, C)`` ``uint8`` or ``(N, C, H, W)`` ``float32``, one slot per
    /// stream; empty slots are zeros.
    #[getter]
    fn array(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        guard(|| Ok(self.array.clone_ref(py)))
    }

    /// The batch's number, from 0.
    #[getter]
    fn index(&self) -> PyResult<u64> {
        guard(|| Ok(self.index))
    }

    /// Which slots hold a frame.
    #[getter]
    fn filled(&self) -> PyResult<Vec<bool>> {
        guard(|| Ok(self.filled.clone()))
    }

    /// Each slot's presentation timestamp in seconds (``None`` for empty slots and frames
    /// without one).
    #[getter]
    fn pts(&self) -> PyResult<Vec<Option<f64>>> {
        guard(|| {
            Ok({
                self.pts_ns
                    .iter()
                    .map(|t| t.map(|t| t as f64 / 1e9))
                    .collect()
            })
        })
    }

    /// Each slot's presentation timestamp in nanoseconds.
    #[getter]
    fn pts_ns(&self) -> PyResult<Vec<Option<u64>>> {
        guard(|| Ok(self.pts_ns.clone()))
    }

    /// Each slot's frame number in its stream, from 0 (counting frames dropped for newer ones,
    /// so a jump means drops); ``None`` for empty slots.
    #[getter]
    fn indices(&self) -> PyResult<Vec<Option<u64>>> {
        guard(|| Ok(self.indices.clone()))
    }

    /// The streams' names (their appsinks'), one per slot.
    #[getter]
    fn streams(&self) -> PyResult<Vec<String>> {
        guard(|| Ok(self.streams.clone()))
    }

    /// Each entry's slot number, as ``Batcher.add`` returned it: slot numbers never change,
    /// so after ``Batcher.remove`` they are no longer ``0..N``.
    #[getter]
    fn slots(&self) -> PyResult<Vec<usize>> {
        guard(|| Ok(self.slots.clone()))
    }

    /// ``"complete"`` (every running stream had a frame) or ``"timeout"`` (some slots empty).
    #[getter]
    fn formed(&self) -> PyResult<&'static str> {
        guard(|| Ok(self.formed))
    }

    /// Streams that ended since the previous batch: ``(stream, error)`` pairs, ``error`` being
    /// ``None`` for an end of stream or the exception of a failure.
    #[getter]
    fn ended(&self, py: Python<'_>) -> PyResult<Vec<(usize, Option<Py<PyAny>>)>> {
        guard(|| {
            Ok({
                self.ended
                    .iter()
                    .map(|(s, e)| (*s, e.as_ref().map(|e| e.clone_ref(py))))
                    .collect()
            })
        })
    }

    fn __len__(&self) -> PyResult<usize> {
        guard(|| Ok(self.filled.len()))
    }

    #[pyo3(signature = (dtype=None, copy=None))]
    fn __array__<'py>(
        &self,
        py: Python<'py>,
        dtype: Option<Bound<'py, PyAny>>,
        copy: Option<bool>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let array = self.array.bind(py).clone();
            let array = match copy {
                Some(true) => array.call_method0("copy")?,
                _ => array,
            };
            match dtype {
                None => Ok(array),
                Some(dtype) => Ok(array.call_method1("astype", (dtype,))?),
            }
        })
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        guard(|| {
            Ok({
                let shape = self
                    .array
                    .bind(py)
                    .getattr("shape")
                    .map(|s| s.to_string())
                    .unwrap_or_default();
                let filled = self.filled.iter().filter(|f| **f).count();
                format!(
                    "<gstpipe.Batch {} shape {shape} filled {filled}/{} ({})>",
                    self.index,
                    self.filled.len(),
                    self.formed
                )
            })
        })
    }
}
