//! [`FrameSink::channel`]: a bounded queue filled by a pulling thread, with an explicit policy
//! for a consumer slower than the source. The async stream is built on it.

use crate::error::SinkError;
use crate::sink::FrameSink;
use gstpipe_frame::Frame;
use std::collections::VecDeque;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
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

    /// Queues `item` under the policy; false when the receiver is gone.
    fn push(&self, item: Item) -> bool {
        let mut state = self.lock();
        if self.policy == Policy::Block {
            while state.queue.len() >= self.capacity && !state.closed {
                state = self.changed.wait(state).unwrap_or_else(|p| p.into_inner());
            }
        }
        if state.closed {
            return false;
        }
        while state.queue.len() >= self.capacity {
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

/// The pulling thread: forwards every frame, then the end or the error.
fn produce(sink: FrameSink, chan: Arc<Chan>) {
    // Pulls wait in short slices so a dropped receiver is noticed quickly; the stall timeout
    // is counted here, from the last frame the queue took.
    let slice = sink.timeout.min(Duration::from_millis(100));
    let mut quiet_since = Instant::now();
    loop {
        if chan.lock().closed {
            break;
        }
        match sink.pull_timeout(slice) {
            None => break,
            Some(Err(e)) if e.is_timeout() => {
                let waited = quiet_since.elapsed();
                if waited >= sink.timeout {
                    chan.push(Err(SinkError::Timeout {
                        element: sink.name.clone(),
                        operation: "a frame",
                        waited,
                    }));
                    break;
                }
            }
            Some(Err(e)) => {
                chan.push(Err(e));
                break;
            }
            Some(Ok(frame)) => {
                if !chan.push(Ok(frame)) {
                    break;
                }
                quiet_since = Instant::now();
            }
        }
    }
    chan.finish();
    tracing::debug!(appsink = %sink.name, frames = sink.pulled(), "channel producer done");
}

impl FrameSink {
    /// Moves frames into a bounded queue of `capacity` frames (at least 1), filled by a thread
    /// that pulls from the appsink, with `policy` deciding what happens when the receiver
    /// falls behind: [`Policy::Block`] (backpressure, nothing lost) or [`Policy::DropOldest`]
    /// (latest frames win, dropped frames counted).
    ///
    /// The receiver gets every frame, then the end (`None`) at EOS or stop, or the pipeline's
    /// error (or a [`SinkError::Timeout`] when the pipeline stalls for the sink's timeout) as
    /// the last item. Dropping the receiver stops the thread and releases the appsink.
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
        let appsink = self.appsink.clone();
        let name = self.name.clone();
        let producer = Arc::clone(&chan);
        let thread = std::thread::Builder::new()
            .name(format!("gstpipe-{name}"))
            .spawn(move || produce(self, producer));
        let thread = match thread {
            Ok(handle) => Some(handle),
            Err(e) => {
                // No thread: the receiver reports why and ends.
                chan.push(Err(SinkError::Callback(format!(
                    "cannot start the channel thread: {e}"
                ))));
                chan.finish();
                None
            }
        };
        FrameReceiver {
            chan,
            thread,
            appsink,
            name,
        }
    }
}

/// The receiving end of [`FrameSink::channel`]: `Result<Frame, SinkError>` items, then the
/// end. Also a blocking [`Iterator`].
pub struct FrameReceiver {
    chan: Arc<Chan>,
    thread: Option<JoinHandle<()>>,
    appsink: gst_app::AppSink,
    name: String,
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
    /// The next item, waiting as long as the producer runs (which itself gives up after the
    /// sink's stall timeout): `None` once the stream has ended and the queue is empty.
    pub fn recv(&self) -> Option<Item> {
        let mut state = self.chan.lock();
        loop {
            if let Some(item) = self.chan.pop(&mut state) {
                return Some(item);
            }
            if state.finished {
                return None;
            }
            state = self
                .chan
                .changed
                .wait(state)
                .unwrap_or_else(|p| p.into_inner());
        }
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

    #[cfg(feature = "stream")]
    pub(crate) fn poll_recv(
        &self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Item>> {
        let mut state = self.chan.lock();
        if let Some(item) = self.chan.pop(&mut state) {
            return std::task::Poll::Ready(Some(item));
        }
        if state.finished {
            return std::task::Poll::Ready(None);
        }
        state.waker = Some(cx.waker().clone());
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
        self.chan.changed.notify_all();
        // Let the appsink drop frames and pass EOS now, even before the thread notices.
        self.appsink.set_wait_on_eos(false);
        self.appsink.set_max_buffers(1);
        self.appsink.set_drop(true);
        if let Some(thread) = self.thread.take() {
            // The thread notices within one pull slice (100 ms).
            let _ = thread.join();
        }
    }
}
