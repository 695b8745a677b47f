//! [`FrameSink::channel`]: a bounded queue filled by the appsink's `new-sample` callback on
//! the streaming thread (no thread of its own), with an explicit policy for a consumer slower
//! than the source. The async stream is built on it.

use crate::error::SinkError;
use crate::sink::{FrameSink, InfoCache, release};
use gstpipe_core::{Event, Outcome, Subscription};
use gstpipe_frame::Frame;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a [`FrameReceiver`] does when its queue is full and another frame arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Policy {
    /// Wait for room: backpressure reaches the pipeline (a file is read more slowly, a live
    /// source's frames pile up upstream); nothing is lost.
    Block,
    /// Drop the oldest queued frame: the receiver always gets the most recent frames (latest
    /// frame wins, for live sources); [`FrameReceiver::dropped`] counts the losses. Memory
    /// stays bounded by the capacity.
    DropOldest,
}

type Item = Result<Frame, SinkError>;

struct State {
    queue: VecDeque<Item>,
    /// The producer is done: nothing more will be queued.
    finished: bool,
    /// The receiver is gone: the producer must stop.
    closed: bool,
    dropped: u64,
    received: u64,
    #[cfg(feature = "stream")]
    waker: Option<std::task::Waker>,
}

pub(crate) struct Chan {
    state: Mutex<State>,
    changed: Condvar,
    capacity: usize,
    policy: Policy,
}

impl Chan {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `item` under the policy; false when the receiver is gone or the stream has
    /// ended. With `Policy::Block` and `wait` it waits for room (backpressure on the
    /// streaming thread) until the receiver takes a frame, goes away, or the pipeline stops.
    fn push(&self, item: Item, wait: bool) -> bool {
        let mut state = self.lock();
        if self.policy == Policy::Block && wait {
            while state.queue.len() >= self.capacity && !state.closed && !state.finished {
                state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        }
        if state.closed || state.finished {
            return false;
        }
        while self.policy == Policy::DropOldest && state.queue.len() >= self.capacity {
            // DropOldest: the oldest queued frame goes (an error is always the last item, so
            // only frames are ever dropped).
            state.queue.pop_front();
            state.dropped += 1;
        }
        state.queue.push_back(item);
        self.notify(state);
        true
    }

    fn finish(&self) {
        let mut state = self.lock();
        state.finished = true;
        self.notify(state);
    }

    /// Wakes blocking receivers and the producer, and the async task waiting, if any.
    fn notify(&self, #[allow(unused_mut)] mut state: MutexGuard<'_, State>) {
        #[cfg(feature = "stream")]
        let waker = state.waker.take();
        drop(state);
        self.changed.notify_all();
        #[cfg(feature = "stream")]
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Takes the next item, if one is queued, and makes room for the producer.
    fn pop(&self, state: &mut State) -> Option<Item> {
        let item = state.queue.pop_front()?;
        if item.is_ok() {
            state.received += 1;
        }
        self.changed.notify_all();
        Some(item)
    }
}

/// Takes every sample the appsink holds now into the queue: what `new-sample` announced, and
/// at EOS or install time what is left. Returns the flow for the streaming thread.
fn drain(
    appsink: &gst_app::AppSink,
    chan: &Chan,
    cache: &Mutex<InfoCache>,
    wait: bool,
) -> Result<gst::FlowSuccess, gst::FlowError> {
    while let Some(sample) = appsink.try_pull_sample(gst::ClockTime::ZERO) {
        let frame = cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .frame(&sample);
        let failed = frame.is_err();
        if !chan.push(frame, wait) {
            // The receiver is gone or the stream ended: keep the pipeline flowing, like a
            // fakesink, so it can still end or be stopped.
            continue;
        }
        if failed {
            chan.finish();
            return Err(gst::FlowError::Error);
        }
        if !wait {
            continue;
        }
        // One sample per `new-sample`: the next one is announced by its own callback.
        break;
    }
    Ok(gst::FlowSuccess::Ok)
}

impl FrameSink {
    /// Moves frames into a bounded queue of `capacity` frames (at least 1), filled by the
    /// appsink's `new-sample` callback on the streaming thread (no thread of its own), with
    /// `policy` deciding what happens when the receiver falls behind: [`Policy::Block`]
    /// (backpressure: the streaming thread waits for room, nothing lost) or
    /// [`Policy::DropOldest`] (latest frames win, dropped frames counted).
    ///
    /// The receiver gets every frame, then the end (`None`) at EOS or stop, or the pipeline's
    /// error (or a [`SinkError::Timeout`] when the pipeline stalls for the sink's timeout) as
    /// the last item. Dropping the receiver releases the appsink: later frames are discarded and
    /// the pipeline can still end or be stopped.
    ///
    /// ```
    /// use gstpipe_core::Pipeline;
    /// use gstpipe_sinks::{FrameSink, Policy};
    ///
    /// let pipeline = Pipeline::launch("videotestsrc num-buffers=20 ! appsink")?;
    /// let frames = FrameSink::new(&pipeline)?.channel(4, Policy::Block);
    /// pipeline.play()?;
    /// assert_eq!(frames.map(|f| f.map(|_| ())).collect::<Result<Vec<_>, _>>()?.len(), 20);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn channel(self, capacity: usize, policy: Policy) -> FrameReceiver {
        let capacity = capacity.max(1);
        let chan = Arc::new(Chan {
            state: Mutex::new(State {
                queue: VecDeque::with_capacity(capacity),
                finished: false,
                closed: false,
                dropped: 0,
                received: 0,
                #[cfg(feature = "stream")]
                waker: None,
            }),
            changed: Condvar::new(),
            capacity,
            policy,
        });
        let cache = Arc::new(Mutex::new(InfoCache::default()));
        let appsink = self.appsink.clone();
        let name = self.name.clone();
        // The pipeline's end, error and stop reach the queue through the watch.
        let subscription = {
            let chan = Arc::clone(&chan);
            let appsink = appsink.clone();
            let cache = Arc::clone(&cache);
            self.watch.subscribe(move |event| match event {
                Event::Stopping => {
                    release(&appsink);
                    chan.finish();
                }
                Event::Ended(Outcome::Error(e)) => {
                    chan.push(
                        Err(SinkError::Pipeline(gstpipe_core::Error::Element(e.clone()))),
                        false,
                    );
                    chan.finish();
                }
                Event::Ended(Outcome::Eos) => {
                    // Whatever the appsink still holds comes first.
                    let _ = drain(&appsink, &chan, &cache, false);
                    chan.finish();
                }
                _ => chan.finish(),
            })
        };
        let on_sample = (Arc::clone(&chan), Arc::clone(&cache));
        let on_eos = (Arc::clone(&chan), Arc::clone(&cache));
        let callbacks = gst_app::AppSinkCallbacks::builder()
            .new_sample(move |appsink| drain(appsink, &on_sample.0, &on_sample.1, true))
            .eos(move |appsink| {
                let _ = drain(appsink, &on_eos.0, &on_eos.1, false);
                on_eos.0.finish();
            })
            .build();
        self.appsink.set_callbacks(callbacks);
        // Frames the appsink queued before the callbacks existed are not announced again:
        // take them now (a full appsink queue would otherwise hold the pipeline forever).
        // They may exceed the capacity by at most the appsink's own queue length.
        let _ = drain(&appsink, &chan, &cache, false);
        FrameReceiver {
            chan,
            appsink,
            name,
            timeout: self.timeout,
            _subscription: subscription,
            _sink: self,
        }
    }
}

/// The receiving end of [`FrameSink::channel`]: `Result<Frame, SinkError>` items, then the
/// end. Also a blocking [`Iterator`].
pub struct FrameReceiver {
    chan: Arc<Chan>,
    appsink: gst_app::AppSink,
    name: String,
    timeout: Duration,
    _subscription: Subscription,
    /// Keeps the sink (and its appsink's configuration) for the receiver's lifetime; its
    /// drop releases the appsink.
    _sink: FrameSink,
}

impl std::fmt::Debug for FrameReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReceiver")
            .field("appsink", &self.name)
            .field("capacity", &self.chan.capacity)
            .field("policy", &self.chan.policy)
            .field("len", &self.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl FrameReceiver {
    /// The next item, waiting at most the sink's stall timeout
    /// ([`FrameSinkBuilder::timeout`](crate::FrameSinkBuilder::timeout)) for one:
    /// `None` once the stream has ended and the queue is empty; [`SinkError::Timeout`] when
    /// nothing came in time (the receiver stays usable).
    pub fn recv(&self) -> Option<Item> {
        self.recv_timeout(self.timeout)
    }

    /// Like [`recv`](FrameReceiver::recv), waiting at most `timeout`: then
    /// `Some(Err(SinkError::Timeout))`, after which the receiver is still usable.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Item> {
        let started = Instant::now();
        let mut state = self.chan.lock();
        loop {
            if let Some(item) = self.chan.pop(&mut state) {
                return Some(item);
            }
            if state.finished {
                return None;
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Some(Err(SinkError::Timeout {
                    element: self.name.clone(),
                    operation: "a frame from the channel",
                    waited,
                }));
            }
            state = self
                .chan
                .changed
                .wait_timeout(state, timeout - waited)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    /// The next item if one is queued now; `None` when the queue is empty (see
    /// [`is_ended`](FrameReceiver::is_ended) to tell a finished stream from a slow one).
    pub fn try_recv(&self) -> Option<Item> {
        let mut state = self.chan.lock();
        self.chan.pop(&mut state)
    }

    /// Whether the stream has ended and everything queued has been received.
    pub fn is_ended(&self) -> bool {
        let state = self.chan.lock();
        state.finished && state.queue.is_empty()
    }

    /// How many frames [`Policy::DropOldest`] has dropped so far.
    pub fn dropped(&self) -> u64 {
        self.chan.lock().dropped
    }

    /// How many frames have been received so far.
    pub fn received(&self) -> u64 {
        self.chan.lock().received
    }

    /// How many items are queued now (never more than the capacity).
    pub fn len(&self) -> usize {
        self.chan.lock().queue.len()
    }

    /// Whether nothing is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.chan.capacity
    }

    /// The queue's policy.
    pub fn policy(&self) -> Policy {
        self.chan.policy
    }

    /// The appsink the frames come from.
    pub fn appsink(&self) -> &gst_app::AppSink {
        &self.appsink
    }

    /// The async side of [`recv`](FrameReceiver::recv): ready with an item, the end, or a
    /// [`SinkError::Timeout`] once `deadline` passed; otherwise the task is woken by the
    /// producer or, at `deadline`, by a GStreamer system clock timer (no thread, no polling).
    #[cfg(feature = "stream")]
    pub(crate) fn poll_recv(
        &self,
        cx: &mut std::task::Context<'_>,
        deadline: &mut Option<(Instant, gst::SingleShotClockId)>,
    ) -> std::task::Poll<Option<Item>> {
        use gst::prelude::*;
        // The wait ended (an item, the end or the timeout): its timer is not needed.
        let clear = |deadline: &mut Option<(Instant, gst::SingleShotClockId)>| {
            if let Some((_, id)) = deadline.take() {
                id.unschedule();
            }
        };
        let mut state = self.chan.lock();
        if let Some(item) = self.chan.pop(&mut state) {
            clear(deadline);
            return std::task::Poll::Ready(Some(item));
        }
        if state.finished {
            clear(deadline);
            return std::task::Poll::Ready(None);
        }
        state.waker = Some(cx.waker().clone());
        drop(state);
        let now = Instant::now();
        match deadline {
            Some((at, _)) if now >= *at => {
                clear(deadline);
                return std::task::Poll::Ready(Some(Err(SinkError::Timeout {
                    element: self.name.clone(),
                    operation: "a frame from the stream",
                    waited: self.timeout,
                })));
            }
            Some(_) => {}
            None => {
                let clock = gst::SystemClock::obtain();
                let at = now + self.timeout;
                let wake_at = clock.time().saturating_add(gst::ClockTime::from_nseconds(
                    self.timeout.as_nanos().try_into().unwrap_or(u64::MAX),
                ));
                let id = clock.new_single_shot_id(wake_at);
                let waker = cx.waker().clone();
                if id.wait_async(move |_, _, _| waker.wake_by_ref()).is_err() {
                    cx.waker().wake_by_ref();
                }
                *deadline = Some((at, id));
            }
        }
        std::task::Poll::Pending
    }
}

impl Iterator for FrameReceiver {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        self.recv()
    }
}

impl Drop for FrameReceiver {
    fn drop(&mut self) {
        {
            let mut state = self.chan.lock();
            state.closed = true;
            state.queue.clear();
        }
        // Wakes a streaming thread waiting for room; from now on its frames are discarded.
        self.chan.changed.notify_all();
        release(&self.appsink);
    }
}
