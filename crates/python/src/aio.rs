//! The native half of `Pipeline.aframes()`: frames for asyncio without a thread.
//!
//! Frames go from the appsink's `new-sample` callback into gstpipe-sinks' async
//! [`FrameStream`]. The task's waker is a socket pair: GStreamer's streaming thread (or the
//! stream's clock timer, for the stall timeout) writes one byte into it, and the event loop,
//! which watches the other end with `loop.add_reader`, wakes the waiting task. No GIL is
//! taken on GStreamer's thread and no thread waits per frame. The Python half is
//! `gstpipe/_aio.py`.

use crate::errors::guard_py;
use crate::errors::sink_error;
use crate::frame::Frame;
use crate::gil::DropDetached;
use crate::pipeline::{Pipeline, Shared, timeout_arg};
use crate::sampling::Sampling;
use gstpipe_sinks::{DEFAULT_STREAM_CAPACITY, FrameStream, Policy};
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

/// A waker that makes a socket readable: one byte per wait, however often it is woken.
struct SocketWaker {
    tx: UnixStream,
    /// A byte is in the socket and not yet read.
    armed: AtomicBool,
}

impl Wake for SocketWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.armed.swap(true, Ordering::AcqRel) {
            // Non-blocking: a full socket already says "readable".
            let _ = (&self.tx).write(&[1]);
        }
    }
}

/// The native iterator behind ``Pipeline.aframes()``: ``poll()`` gives a ``Frame`` or
/// ``None`` (nothing yet: wait until ``fileno()`` is readable, then ``clear()`` and poll
/// again).
#[pyclass(frozen, module = "gstpipe._gstpipe", name = "FramePoller")]
pub(crate) struct FramePoller {
    stream: DropDetached<Mutex<Option<FrameStream>>>,
    waker: Arc<SocketWaker>,
    waker_handle: Waker,
    rx: UnixStream,
    sampling: Mutex<Sampling>,
    _pipeline: Shared,
}

impl FramePoller {
    pub(crate) fn new(
        py: Python<'_>,
        pipeline: &Pipeline,
        sink: Option<&str>,
        latest: bool,
        timeout: Option<f64>,
        sampling: Sampling,
    ) -> PyResult<Self> {
        guard_py(|| {
            let timeout = timeout_arg(py, timeout)?;
            let frame_sink = pipeline.sink(sink, timeout)?;
            let (capacity, policy) = if latest {
                (1, Policy::DropOldest)
            } else {
                (DEFAULT_STREAM_CAPACITY, Policy::Block)
            };
            let stream = py.detach(|| frame_sink.stream_with(capacity, policy));
            let (tx, rx) = UnixStream::pair()?;
            tx.set_nonblocking(true)?;
            rx.set_nonblocking(true)?;
            let waker = Arc::new(SocketWaker {
                tx,
                armed: AtomicBool::new(false),
            });
            pipeline.start(py)?;
            Ok(FramePoller {
                stream: DropDetached::new(Mutex::new(Some(stream))),
                waker_handle: Waker::from(Arc::clone(&waker)),
                waker,
                rx,
                sampling: Mutex::new(sampling),
                _pipeline: pipeline.shared(),
            })
        })
    }
}

#[pymethods]
impl FramePoller {
    /// The next wanted frame if one is queued, ``None`` when the task must wait for
    /// ``fileno()``; raises ``StopAsyncIteration`` at the end and the pipeline's error (or
    /// ``TimeoutError`` when it stalls).
    fn poll(&self, py: Python<'_>) -> PyResult<Option<Frame>> {
        guard_py(|| {
            let mut guard = self.stream.lock().unwrap_or_else(|p| p.into_inner());
            let Some(stream) = guard.as_mut() else {
                return Err(PyStopAsyncIteration::new_err(()));
            };
            let mut sampling = self.sampling.lock().unwrap_or_else(|p| p.into_inner());
            let mut cx = Context::from_waker(&self.waker_handle);
            loop {
                let polled = futures_core::Stream::poll_next(Pin::new(&mut *stream), &mut cx);
                match polled {
                    Poll::Pending => return Ok(None),
                    Poll::Ready(Some(Ok(frame))) => {
                        if sampling.keep(&frame) {
                            return Ok(Some(Frame::new(frame)));
                        }
                        // Not wanted: dropped here, before any Python object exists for it.
                        py.detach(|| drop(frame));
                    }
                    Poll::Ready(Some(Err(e))) => {
                        let stream = guard.take();
                        py.detach(|| drop(stream));
                        return Err(sink_error(&e));
                    }
                    Poll::Ready(None) => {
                        let stream = guard.take();
                        py.detach(|| drop(stream));
                        return Err(PyStopAsyncIteration::new_err(()));
                    }
                }
            }
        })
    }

    /// The descriptor that becomes readable when ``poll()`` has something new.
    fn fileno(&self) -> i32 {
        self.rx.as_raw_fd()
    }

    /// Empties the wake-up socket (call before polling again). The waker writes one byte
    /// per wait (it is armed again only here), so one read takes it.
    fn clear(&self) {
        let mut buffer = [0u8; 64];
        loop {
            match (&self.rx).read(&mut buffer) {
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                _ => break,
            }
        }
        self.waker.armed.store(false, Ordering::Release);
    }

    /// Releases the appsink: later frames are discarded; ``poll()`` then ends.
    fn close(&self, py: Python<'_>) {
        let stream = self.stream.lock().unwrap_or_else(|p| p.into_inner()).take();
        py.detach(|| drop(stream));
    }

    /// How many frames ``latest=True`` dropped because a newer one came.
    #[getter]
    fn dropped(&self) -> u64 {
        self.stream
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(0, |s| s.receiver().dropped())
    }
}

/// ``Pipeline.aframes()``'s native part (see ``gstpipe._aio``).
#[pyfunction]
#[pyo3(signature = (pipeline, sink=None, latest=false, timeout=10.0, every=1, max_fps=None))]
pub(crate) fn frame_poller(
    py: Python<'_>,
    pipeline: &Bound<'_, Pipeline>,
    sink: Option<&str>,
    latest: bool,
    timeout: Option<f64>,
    every: u64,
    max_fps: Option<f64>,
) -> PyResult<FramePoller> {
    guard_py(|| {
        let sampling = Sampling::new(every, max_fps)?;
        FramePoller::new(py, pipeline.get(), sink, latest, timeout, sampling)
    })
}

/// Adds the asyncio classes and functions to the extension module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    guard_py(|| {
        m.add_class::<FramePoller>()?;
        m.add_function(wrap_pyfunction!(frame_poller, m)?)?;
        Ok(())
    })
}
