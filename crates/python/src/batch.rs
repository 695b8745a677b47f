//! `gstpipe.Batcher`: one batch across many streams (gstpipe-batch), as numpy arrays.

use crate::errors::{Result, frame_mismatch, guard, stream_failed, type_error, value_error};
use crate::gil::{DropDetached, SIGNAL_CHECK, Step, wait_interruptibly};
use crate::live::{Live, LiveFrames};
use crate::pipeline::{Pipeline, Shared};
use gstpipe_batch::{Ahead, BatchError, Formed, FrameIter, Normalize, StreamEnd, StreamStatus};
use gstpipe_live::LiveSource;
use gstpipe_sinks::FrameSink;
use numpy::{PyArray, PyArray4, PyArrayMethods as _};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyType};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the batches are written as.
enum Layout {
    /// `(N, H, W, C)` `uint8`.
    Nhwc,
    /// `(N, C, H, W)` `float32`, normalised.
    Nchw(Normalize),
}

/// The batcher and the pipelines it built, dropped in that order (the appsinks are released
/// before their pipelines go to Null).
struct State {
    batcher: Option<gstpipe_batch::Batcher>,
    /// Pipelines built from descriptions: the batcher's own, stopped with it.
    owned: Vec<gstpipe_core::Pipeline>,
    /// The streams' counters and the number of batches as they were when the batcher was
    /// stopped.
    last_streams: Option<(Vec<StreamStatus>, u64)>,
    /// A batch taken but not delivered because the caller's `out` array did not fit: the
    /// next call delivers it.
    pending: Option<gstpipe_batch::Batch>,
    /// `Live` sources taken over: stopped with the batcher, so their producer threads end.
    lives: Vec<Arc<LiveSource>>,
}

impl Drop for State {
    fn drop(&mut self) {
        for live in &self.lives {
            live.request_stop();
        }
    }
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
/// A stream that ends or fails keeps an empty slot and never holds the others back; once
/// every stream has ended the iteration stops, raising the first failed stream's error
/// (``PipelineError`` with ``.stream``) if one failed. Every wait releases the GIL.
#[pyclass(frozen, module = "gstpipe", name = "Batcher")]
pub(crate) struct Batcher {
    state: DropDetached<Mutex<State>>,
    /// Pipelines the caller passed in: kept alive, left running (the caller stops them).
    _borrowed: Vec<Shared>,
    layout: Layout,
    stall: Duration,
    names: Vec<String>,
    /// The array every batch is written into, when the caller gave one.
    out: Option<Py<PyAny>>,
    done: AtomicBool,
}

/// The `Ahead` policy from its Python name.
fn ahead_policy(ahead: &str, depth: usize) -> Result<Ahead> {
    match ahead {
        "newest" => Ok(Ahead::KeepNewest),
        "queue" => Ok(Ahead::Queue(depth)),
        "block" => Ok(Ahead::Block(depth)),
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

    /// The next batch from the Rust batcher, waited for in slices (Ctrl-C gets through
    /// between them; a slice lasts at most the batch timeout); `BatchError::Stalled` once no
    /// stream delivered anything for `stall`.
    fn next_rust(
        &self,
        py: Python<'_>,
    ) -> PyResult<Result<Option<gstpipe_batch::Batch>, BatchError>> {
        let start = Instant::now();
        let stall = self.stall;
        let result = wait_interruptibly(py, None, |_| {
            let mut state = self.lock();
            if let Some(batch) = state.pending.take() {
                return Step::Done(Ok(Some(batch)));
            }
            let Some(batcher) = state.batcher.as_mut() else {
                return Step::Done(Ok(None)); // stopped
            };
            match batcher.next_batch() {
                Err(BatchError::Stalled { waiting, .. }) => {
                    let waited = start.elapsed();
                    if waited < stall {
                        Step::Again
                    } else {
                        Step::Done(Err(BatchError::Stalled { waited, waiting }))
                    }
                }
                other => Step::Done(other),
            }
        })?;
        Ok(result.unwrap_or(Ok(None)))
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
                // The first stream that failed, raised once every batch was taken.
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
            streams: self.names.clone(),
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
            let mut batcher = gstpipe_batch::Batcher::builder()
                .timeout(timeout)
                .stall(stall.min(SIGNAL_CHECK))
                .ahead(ahead_policy(ahead, depth)?)
                .build();
            let mut owned = Vec::new();
            let mut borrowed = Vec::new();
            let mut names = Vec::new();
            let mut lives = Vec::new();
            let items = sources.try_iter()?.collect::<PyResult<Vec<_>>>()?;
            if items.is_empty() {
                return Err(value_error("a Batcher needs at least one source"));
            }
            for (i, item) in items.iter().enumerate() {
                let sink = if let Ok(description) = item.extract::<String>() {
                    let pipeline = py.detach(|| gstpipe_core::Pipeline::launch(&description))?;
                    let sink = FrameSink::new(&pipeline)?;
                    owned.push(pipeline);
                    sink
                } else if let Ok(pipeline) = item.cast::<Pipeline>() {
                    let shared = pipeline.get().shared();
                    let sink = FrameSink::new(&shared)?;
                    borrowed.push((shared, pipeline.clone()));
                    sink
                } else if let Ok(live) = item.cast::<Live>() {
                    let source = live.get().source();
                    let name = format!("live{i}");
                    lives.push(Arc::clone(&source));
                    names.push(name.clone());
                    batcher.add(FrameIter::new(&name, LiveFrames(source)))?;
                    continue;
                } else {
                    return Err(type_error(format!(
                        "source {i}: expected a launch description (str), a gstpipe.Pipeline or a \
                         gstpipe.Live, got {}",
                        item.get_type().name()?
                    )));
                };
                names.push(sink.name().to_string());
                batcher.add(sink)?;
            }
            let batcher = Batcher {
                state: DropDetached::new(Mutex::new(State {
                    batcher: Some(batcher),
                    owned,
                    last_streams: None,
                    pending: None,
                    lives,
                })),
                _borrowed: borrowed.iter().map(|(s, _)| s.clone()).collect(),
                layout,
                stall,
                names,
                out,
                done: AtomicBool::new(false),
            };
            // Played once every stream is attached; a pipeline that cannot start is an error
            // (naming its element), and the batcher built so far is torn down without the GIL.
            {
                let state = batcher.lock();
                for pipeline in &state.owned {
                    py.detach(|| pipeline.play())?;
                }
            }
            for (_, pipeline) in &borrowed {
                pipeline.get().start(py)?;
            }
            Ok(batcher)
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

    /// The number of streams (slots per batch).
    fn __len__(&self) -> PyResult<usize> {
        guard(|| Ok(self.names.len()))
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
                for pipeline in state.owned.drain(..) {
                    // A failure was reported with the batches (`ended`, `streams`).
                    let _ = pipeline.stop();
                }
                for live in state.lives.drain(..) {
                    live.stop();
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

    fn __repr__(&self) -> PyResult<String> {
        guard(|| Ok(format!("<gstpipe.Batcher {} streams>", self.names.len())))
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
