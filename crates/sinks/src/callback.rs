//! [`FrameSink::on_frame`]: a callback on the streaming thread, the `new-sample` model.

use crate::error::{CallbackError, SinkError};
use crate::sink::{FrameSink, InfoCache};
use gst::prelude::*;
use gstpipe_core::{Event, Outcome, Subscription};
use gstpipe_frame::Frame;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[derive(Default)]
struct State {
    eos: bool,
    ended: Option<Outcome>,
    error: Option<CallbackError>,
}

struct Shared {
    frames: AtomicU64,
    /// Nanoseconds since `epoch` of the last frame.
    last_frame: AtomicU64,
    epoch: Instant,
    state: Mutex<State>,
    changed: Condvar,
}

impl Shared {
    fn since_epoch(&self) -> u64 {
        self.epoch
            .elapsed()
            .as_nanos()
            .try_into()
            .unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn update(&self, f: impl FnOnce(&mut State)) {
        f(&mut self.lock());
        self.changed.notify_all();
    }
}

impl FrameSink {
    /// Runs `callback` on the streaming thread for every frame, as the appsink's `new-sample`
    /// callback: no queue, no extra thread; the pipeline waits while it runs.
    ///
    /// An `Err` returned by the callback (or a frame that cannot be mapped) posts an element
    /// error from the appsink, so the pipeline stops with it: [`CallbackHandle::wait`] then
    /// returns [`SinkError::Callback`] carrying the callback's own error (downcast it with
    /// [`SinkError::callback_error`]) and the pipeline's own `wait` the element error. A panic
    /// in the callback is caught by gstreamer-rs and also fails the pipeline. Once the pipeline
    /// has failed, later frames are refused and the callback is not called again.
    ///
    /// The callback keeps running until the pipeline ends, whether or not the handle is kept;
    /// the handle only observes. Do not stop the pipeline from inside the callback.
    ///
    /// Installed after [`Pipeline::play`](gstpipe_core::Pipeline::play), frames the appsink
    /// had already queued are handed to the callback first, in order, on the calling thread
    /// before `on_frame` returns (the appsink only signals frames queued after the callback
    /// exists, and a full queue would otherwise hold the pipeline forever).
    ///
    /// ```
    /// use gstpipe_core::Pipeline;
    /// use gstpipe_sinks::FrameSink;
    ///
    /// let pipeline = Pipeline::launch("videotestsrc num-buffers=3 ! appsink")?;
    /// let handle = FrameSink::new(&pipeline)?.on_frame(|frame| {
    ///     println!("{}x{} at {:?}", frame.width(), frame.height(), frame.pts());
    ///     Ok::<(), std::convert::Infallible>(())
    /// })?;
    /// pipeline.play()?;
    /// assert_eq!(handle.wait()?, 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// None today; the `Result` leaves room for refusing a sink that cannot take callbacks.
    pub fn on_frame<F, E>(self, callback: F) -> Result<CallbackHandle, SinkError>
    where
        F: FnMut(Frame) -> Result<(), E> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let shared = Arc::new(Shared {
            frames: AtomicU64::new(0),
            last_frame: AtomicU64::new(0),
            epoch: Instant::now(),
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let cache = Arc::new(Mutex::new(InfoCache::default()));
        // Taking the oldest queued sample and running the callback on it is one step under
        // this lock, so frames stay in order when the catch-up below and the streaming thread
        // both deliver.
        let callback = Arc::new(Mutex::new(callback));
        let on_sample = Arc::clone(&shared);
        let on_eos = Arc::clone(&shared);
        let streaming = Arc::clone(&callback);
        let streaming_cache = Arc::clone(&cache);
        let callbacks = gst_app::AppSinkCallbacks::builder()
            .new_sample(move |appsink| {
                let mut callback = streaming.lock().unwrap_or_else(|p| p.into_inner());
                if matches!(on_sample.lock().ended, Some(Outcome::Error(_))) {
                    return Err(gst::FlowError::Error);
                }
                // Not a blocking pull: the catch-up may have taken this sample already.
                match appsink.try_pull_sample(gst::ClockTime::ZERO) {
                    Some(sample) => {
                        let mut cache = streaming_cache.lock().unwrap_or_else(|p| p.into_inner());
                        deliver(&mut *callback, appsink, &sample, &on_sample, &mut cache)
                    }
                    None => Ok(gst::FlowSuccess::Ok),
                }
            })
            .eos(move |_| on_eos.update(|s| s.eos = true))
            .build();
        let subscription = {
            let shared = Arc::clone(&shared);
            self.watch.subscribe(move |event| {
                if let Event::Ended(outcome) = event {
                    let outcome = outcome.clone();
                    shared.update(|s| s.ended = Some(outcome));
                }
            })
        };
        self.appsink.set_callbacks(callbacks);
        // Installed after play, the appsink may already hold frames: `new-sample` is only
        // called for frames queued from now on, and with a full queue upstream would wait
        // forever. Hand those to the callback here, oldest first.
        loop {
            let mut guard = callback.lock().unwrap_or_else(|p| p.into_inner());
            if matches!(shared.lock().ended, Some(Outcome::Error(_))) {
                break;
            }
            let Some(sample) = self.appsink.try_pull_sample(gst::ClockTime::ZERO) else {
                break;
            };
            let appsink = &self.appsink;
            let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
                deliver(&mut *guard, appsink, &sample, &shared, &mut cache)
            }));
            match delivered {
                Ok(Ok(_)) => {}
                Ok(Err(_)) => break,
                Err(panic) => {
                    // As gstreamer-rs does for a panic on the streaming thread.
                    let cause = panic
                        .downcast_ref::<&str>()
                        .copied()
                        .or_else(|| panic.downcast_ref::<String>().map(String::as_str));
                    let message = match cause {
                        Some(cause) => format!("Panicked: {cause}"),
                        None => "Panicked".to_string(),
                    };
                    appsink.post_error_message(gst::error_msg!(
                        gst::LibraryError::Failed,
                        ("{}", message)
                    ));
                    break;
                }
            }
        }
        Ok(CallbackHandle {
            sink: self,
            shared,
            _subscription: subscription,
        })
    }
}

/// Runs the callback on one sample: counts it, or records the callback's error and posts it
/// from the appsink so the pipeline fails with it.
fn deliver<F, E>(
    callback: &mut F,
    appsink: &gst_app::AppSink,
    sample: &gst::Sample,
    shared: &Shared,
    cache: &mut InfoCache,
) -> Result<gst::FlowSuccess, gst::FlowError>
where
    F: FnMut(Frame) -> Result<(), E>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let result: Result<(), CallbackError> = match cache.frame(sample) {
        Ok(frame) => callback(frame).map_err(|e| CallbackError::from(e.into())),
        Err(e) => Err(CallbackError::from(Box::new(e) as Box<_>)),
    };
    match result {
        Ok(()) => {
            shared.frames.fetch_add(1, Ordering::Relaxed);
            shared
                .last_frame
                .store(shared.since_epoch(), Ordering::Relaxed);
            Ok(gst::FlowSuccess::Ok)
        }
        Err(error) => {
            tracing::error!(appsink = %appsink.name(), "frame callback failed: {error}");
            let message = error.to_string();
            shared.update(|s| s.error = Some(error));
            appsink.post_error_message(gst::error_msg!(
                gst::CoreError::Failed,
                ("frame callback failed: {}", message)
            ));
            Err(gst::FlowError::Error)
        }
    }
}

/// Observes a callback installed by [`FrameSink::on_frame`]: frames handled, and the end.
pub struct CallbackHandle {
    sink: FrameSink,
    shared: Arc<Shared>,
    _subscription: Subscription,
}

impl std::fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackHandle")
            .field("appsink", &self.sink.name)
            .field("frames", &self.frames())
            .field("eos", &self.shared.lock().eos)
            .finish()
    }
}

impl CallbackHandle {
    /// How many frames the callback has handled successfully.
    pub fn frames(&self) -> u64 {
        self.shared.frames.load(Ordering::Relaxed)
    }

    /// The appsink the callback runs on.
    pub fn appsink(&self) -> &gst_app::AppSink {
        &self.sink.appsink
    }

    /// Whether the stream has ended: EOS reached this appsink, or the pipeline ended.
    pub fn is_done(&self) -> bool {
        let state = self.shared.lock();
        state.eos || state.ended.is_some()
    }

    /// Waits until the stream ends and returns the number of frames handled: `Ok` at this
    /// appsink's EOS (or the pipeline's, or when it was stopped); [`SinkError::Callback`] when
    /// the callback failed; the pipeline's error when an element failed;
    /// [`SinkError::Timeout`] when no frame came for the sink's timeout while the pipeline
    /// neither ended nor failed.
    pub fn wait(&self) -> Result<u64, SinkError> {
        self.wait_until(None)
    }

    /// Like [`wait`](CallbackHandle::wait), but gives up after `limit` in all
    /// ([`SinkError::Timeout`]).
    pub fn wait_timeout(&self, limit: Duration) -> Result<u64, SinkError> {
        self.wait_until(Some(Instant::now() + limit))
    }

    fn wait_until(&self, deadline: Option<Instant>) -> Result<u64, SinkError> {
        let started = Instant::now();
        let stall = self.sink.timeout;
        let mut state = self.shared.lock();
        loop {
            if let Some(error) = &state.error {
                return Err(SinkError::Callback {
                    element: self.sink.name.clone(),
                    error: error.clone(),
                });
            }
            match &state.ended {
                Some(Outcome::Error(e)) => {
                    return Err(SinkError::Pipeline(gstpipe_core::Error::Element(e.clone())));
                }
                Some(_) => return Ok(self.frames()),
                None if state.eos => return Ok(self.frames()),
                None => {}
            }
            let now = Instant::now();
            // The stall clock runs from the later of the wait's start and the last frame.
            let last = self.shared.last_frame.load(Ordering::Relaxed);
            let last = (self.shared.epoch + Duration::from_nanos(last)).max(started);
            let quiet = now - last;
            if quiet >= stall {
                return Err(self.timeout(quiet));
            }
            let mut wake_at = last + stall;
            if let Some(deadline) = deadline {
                if now >= deadline {
                    return Err(self.timeout(now - started));
                }
                wake_at = wake_at.min(deadline);
            }
            // Woken by the end, an error or the callback failing; otherwise at the time the
            // stall (or the deadline) would be reached, to look at the last frame's time.
            state = self
                .shared
                .changed
                .wait_timeout(state, wake_at - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn timeout(&self, waited: Duration) -> SinkError {
        SinkError::Timeout {
            element: self.sink.name.clone(),
            operation: "the end of the stream",
            waited,
        }
    }
}
