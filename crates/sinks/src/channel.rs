//! [`FrameSink::channel`]: the delivery core's frames in its one bounded queue
//! ([`BoundedQueue`]), filled on the streaming thread (no thread of its own), with an explicit
//! policy for a consumer slower than the source. The async stream is built on it.

use crate::delivery::{Consumer, Delivery, End, Refusal};
use crate::error::SinkError;
use crate::queue::{BoundedQueue, Policy, Pushed, QueuePolicy};
use crate::sink::FrameSink;
use gstpipe_frame::Frame;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

type Item = Result<Frame, SinkError>;

/// The channel as a [`Consumer`]: frames into the queue, the end (an error as the last item)
/// after them.
#[derive(Debug)]
pub(crate) struct ChannelConsumer {
    queue: BoundedQueue<Item>,
}

impl Consumer for ChannelConsumer {
    fn label(&self) -> &'static str {
        "channel"
    }

    fn wait_for_room(&self) {
        self.queue.wait_for_room();
    }

    fn frame(&self, frame: Frame, _sample: &gst::Sample, _backlog: bool) -> Result<(), Refusal> {
        // A refused frame (the receiver is gone, or the stream ended) is dropped: the
        // pipeline keeps flowing, like a fakesink, so it can still end or be stopped.
        if let Pushed::Queued { evicted } = self.queue.push(Ok(frame), false) {
            drop(evicted);
        }
        Ok(())
    }

    fn release(&self) {
        self.queue.release();
        self.queue.finish();
    }

    fn end(&self, end: End) {
        if let End::Failed(e) = end {
            // The error is the last item: a full queue still takes it.
            let _ = self.queue.push(Err(e), false);
        }
        self.queue.finish();
    }
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
    /// the pipeline can still end or be stopped. Frames the appsink held before may exceed the
    /// capacity by at most the appsink's own queue length.
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
        self.queue(QueuePolicy::new(policy, capacity))
    }

    /// [`channel`](FrameSink::channel) with the bound as one value
    /// ([`QueuePolicy::keep_newest`] for the latest frame only).
    pub fn queue(self, policy: QueuePolicy) -> FrameReceiver {
        let name = self.name.clone();
        let timeout = self.timeout;
        let delivery = self.deliver(ChannelConsumer {
            queue: BoundedQueue::new(policy),
        });
        FrameReceiver {
            delivery,
            name,
            timeout,
            received: AtomicU64::new(0),
        }
    }
}

/// The receiving end of [`FrameSink::channel`]: an iterator of `Result<Frame, SinkError>`
/// (each `next` waits at most the sink's timeout), plus non-blocking and timed receives and
/// the count of dropped frames.
pub struct FrameReceiver {
    delivery: Delivery<ChannelConsumer>,
    name: String,
    timeout: Duration,
    /// Frames received (not the error that may end the stream).
    received: AtomicU64,
}

impl std::fmt::Debug for FrameReceiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameReceiver")
            .field("appsink", &self.name)
            .field("policy", &self.queue().policy())
            .field("len", &self.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl FrameReceiver {
    fn queue(&self) -> &BoundedQueue<Item> {
        &self.delivery.consumer().queue
    }

    /// Counts a received frame.
    fn count(&self, item: Option<Item>) -> Option<Item> {
        if let Some(Ok(_)) = &item {
            self.received.fetch_add(1, Ordering::Relaxed);
        }
        item
    }

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
        match self.queue().pop_timeout(timeout) {
            Ok(item) => self.count(item),
            Err(waited) => Some(Err(self.timed_out("a frame from the channel", waited))),
        }
    }

    fn timed_out(&self, operation: &'static str, waited: Duration) -> SinkError {
        SinkError::Timeout {
            element: self.name.clone(),
            operation,
            waited,
        }
    }

    /// The next item if one is queued now; `None` when the queue is empty (see
    /// [`is_ended`](FrameReceiver::is_ended) to tell a finished stream from a slow one).
    pub fn try_recv(&self) -> Option<Item> {
        self.count(self.queue().try_pop())
    }

    /// Whether the stream has ended and everything queued has been received.
    pub fn is_ended(&self) -> bool {
        self.queue().is_ended()
    }

    /// How many frames [`Policy::DropOldest`] has dropped so far.
    pub fn dropped(&self) -> u64 {
        self.queue().dropped()
    }

    /// How many frames have been received so far.
    pub fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// How many items are queued now (never more than the capacity, but for frames the
    /// appsink held before the channel existed).
    pub fn len(&self) -> usize {
        self.queue().len()
    }

    /// Whether nothing is queued now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The queue's capacity.
    pub fn capacity(&self) -> usize {
        self.queue().policy().depth()
    }

    /// The queue's policy.
    pub fn policy(&self) -> Policy {
        self.queue().policy().overflow()
    }

    /// The appsink the frames come from.
    pub fn appsink(&self) -> &gst_app::AppSink {
        self.delivery.sink().appsink()
    }

    /// Polls for the next item from async code, with the sink's stall timeout measured by a
    /// GStreamer system-clock timer (`deadline`, owned by the caller, holds it between polls).
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
        if let std::task::Poll::Ready(item) = self.queue().poll_pop(cx) {
            clear(deadline);
            return std::task::Poll::Ready(self.count(item));
        }
        let now = Instant::now();
        match deadline {
            Some((at, _)) if now >= *at => {
                clear(deadline);
                return std::task::Poll::Ready(Some(Err(
                    self.timed_out("a frame from the stream", self.timeout)
                )));
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
        // Wakes a streaming thread waiting for room; from now on its frames are discarded.
        drop(self.queue().close());
    }
}
