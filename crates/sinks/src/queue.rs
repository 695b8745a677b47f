//! The one bounded queue between a streaming thread and a consumer, with its overflow policy
//! as a value: [`QueuePolicy`] (block, drop-oldest, keep-newest; a depth). The channel, the
//! async stream and the batcher's slots all queue through it.

use gstpipe_core::sync::{Unpoisoned, UnpoisonedWait};
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// What a queue does when it is full and another frame arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Policy {
    /// Wait for room: backpressure reaches the pipeline (a file is read more slowly, a live
    /// source's frames pile up upstream); nothing is lost.
    Block,
    /// Drop the oldest queued frame: the consumer always gets the most recent frames (latest
    /// frame wins, for live sources); the queue counts the losses. Memory stays bounded by
    /// the depth.
    DropOldest,
}

/// A queue's bound: how many frames wait at most, and what happens to one more.
///
/// ```
/// use gstpipe_sinks::{Policy, QueuePolicy};
///
/// assert_eq!(QueuePolicy::keep_newest(), QueuePolicy::drop_oldest(1));
/// assert_eq!(QueuePolicy::block(4).overflow(), Policy::Block);
/// assert_eq!(QueuePolicy::block(0).depth(), 1); // a queue holds at least one frame
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct QueuePolicy {
    overflow: Policy,
    depth: usize,
}

impl QueuePolicy {
    /// `depth` frames at most (at least 1), then `overflow` decides.
    pub const fn new(overflow: Policy, depth: usize) -> Self {
        let depth = if depth == 0 { 1 } else { depth };
        QueuePolicy { overflow, depth }
    }

    /// Backpressure after `depth` frames.
    pub const fn block(depth: usize) -> Self {
        Self::new(Policy::Block, depth)
    }

    /// The oldest of `depth` frames makes room for a new one.
    pub const fn drop_oldest(depth: usize) -> Self {
        Self::new(Policy::DropOldest, depth)
    }

    /// Only the newest frame waits: a newer one replaces it (drop-oldest with depth 1).
    pub const fn keep_newest() -> Self {
        Self::drop_oldest(1)
    }

    /// What happens to a frame that finds the queue full.
    pub const fn overflow(&self) -> Policy {
        self.overflow
    }

    /// How many frames wait at most.
    pub const fn depth(&self) -> usize {
        self.depth
    }
}

/// What [`BoundedQueue::push`] did with an item.
#[derive(Debug)]
#[must_use = "a refused item was not queued"]
pub enum Pushed<T> {
    /// Queued; `evicted` holds what drop-oldest removed to make room (dropped by the caller,
    /// outside the queue's lock).
    Queued {
        /// The items that made room, oldest first.
        evicted: Vec<T>,
    },
    /// Not queued: the queue was finished or closed. The item comes back.
    Refused(T),
}

/// The state behind a [`BoundedQueue`]'s lock.
#[derive(Debug)]
struct State<T> {
    items: VecDeque<T>,
    /// The producer is done: nothing more will be queued.
    finished: bool,
    /// The consumer is gone: producers must stop.
    closed: bool,
    /// Blocking producers stop waiting (the pipeline is stopping): the queue drops the
    /// oldest instead.
    released: bool,
    dropped: u64,
    #[cfg(feature = "stream")]
    waker: Option<std::task::Waker>,
}

/// A bounded FIFO between producers (streaming threads) and one consumer, with a
/// [`QueuePolicy`], a dropped counter, an end, and wake-ups for blocking, async and external
/// waiters. Nothing polls: waits are condvar waits bounded by a deadline.
pub struct BoundedQueue<T> {
    state: Mutex<State<T>>,
    changed: Condvar,
    policy: QueuePolicy,
    /// Called after every change that a consumer waiting elsewhere must see (an item, the
    /// end), outside the queue's lock.
    on_change: Option<Box<dyn Fn() + Send + Sync>>,
}

impl<T> std::fmt::Debug for BoundedQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("BoundedQueue")
            .field("policy", &self.policy)
            .field("len", &state.items.len())
            .field("dropped", &state.dropped)
            .field("finished", &state.finished)
            .finish_non_exhaustive()
    }
}

impl<T> BoundedQueue<T> {
    /// An empty queue.
    pub fn new(policy: QueuePolicy) -> Self {
        Self::build(policy, None)
    }

    /// An empty queue that calls `on_change` (outside its lock) after an item is queued and
    /// when it ends: for a consumer that waits on several queues at once (the batcher).
    pub fn with_notify(policy: QueuePolicy, on_change: impl Fn() + Send + Sync + 'static) -> Self {
        Self::build(policy, Some(Box::new(on_change)))
    }

    fn build(policy: QueuePolicy, on_change: Option<Box<dyn Fn() + Send + Sync>>) -> Self {
        BoundedQueue {
            state: Mutex::new(State {
                items: VecDeque::with_capacity(policy.depth()),
                finished: false,
                closed: false,
                released: false,
                dropped: 0,
                #[cfg(feature = "stream")]
                waker: None,
            }),
            changed: Condvar::new(),
            policy,
            on_change,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock_unpoisoned()
    }

    /// The queue's bound.
    pub fn policy(&self) -> QueuePolicy {
        self.policy
    }

    /// Under [`Policy::Block`], waits until there is room for one more item (or the queue is
    /// closed, finished or released); returns at once under [`Policy::DropOldest`]. For a
    /// single producer that must not hold its own locks while it waits.
    pub fn wait_for_room(&self) {
        drop(self.room(self.lock()));
    }

    /// The lock, once a blocking queue has room (or is closed, finished or released).
    fn room<'a>(&self, state: MutexGuard<'a, State<T>>) -> MutexGuard<'a, State<T>> {
        if self.policy.overflow() != Policy::Block {
            return state;
        }
        let depth = self.policy.depth();
        self.changed
            .wait_while_for(state, Duration::MAX, |s| {
                s.items.len() >= depth && !s.closed && !s.finished && !s.released
            })
            .0
    }

    /// Queues `item`. Under [`Policy::Block`] with `wait`, waits for room first (until the
    /// consumer takes an item, closes, or the queue is released or finished); without `wait`
    /// the item is queued even beyond the depth (frames an appsink held before the queue
    /// existed). Under [`Policy::DropOldest`] the oldest items make room.
    pub fn push(&self, item: T, wait: bool) -> Pushed<T> {
        let mut state = self.lock();
        if wait {
            state = self.room(state);
        }
        if state.closed || state.finished {
            return Pushed::Refused(item);
        }
        let mut evicted = Vec::new();
        let drops = self.policy.overflow() == Policy::DropOldest || state.released;
        while drops && state.items.len() >= self.policy.depth() {
            if let Some(oldest) = state.items.pop_front() {
                evicted.push(oldest);
                state.dropped += 1;
            }
        }
        state.items.push_back(item);
        self.notify(state);
        Pushed::Queued { evicted }
    }

    /// The producer is done: waiters wake, later pushes are refused, queued items stay.
    pub fn finish(&self) {
        let mut state = self.lock();
        if !state.finished {
            state.finished = true;
            self.notify(state);
        }
    }

    /// The consumer is gone: queued items are dropped (returned), producers stop waiting and
    /// later pushes are refused.
    pub fn close(&self) -> Vec<T> {
        let mut state = self.lock();
        state.closed = true;
        let items = state.items.drain(..).collect();
        drop(state);
        self.changed.notify_all();
        items
    }

    /// Producers stop waiting for room from now on: the pipeline is stopping, and a blocked
    /// streaming thread would hold it back. The queue drops its oldest item instead.
    pub fn release(&self) {
        self.lock().released = true;
        self.changed.notify_all();
    }

    /// Takes the oldest item without waiting.
    pub fn try_pop(&self) -> Option<T> {
        let mut state = self.lock();
        self.take(&mut state)
    }

    fn take(&self, state: &mut State<T>) -> Option<T> {
        let item = state.items.pop_front()?;
        // Room for a blocked producer.
        self.changed.notify_all();
        Some(item)
    }

    /// The oldest item, waiting at most `limit` for one: `Ok(Some(item))`, `Ok(None)` when the
    /// queue is finished and empty, `Err(waited)` on timeout.
    pub fn pop_timeout(&self, limit: Duration) -> Result<Option<T>, Duration> {
        let started = Instant::now();
        let state = self.lock();
        let (mut state, timed_out) = self
            .changed
            .wait_while_for(state, limit, |s| s.items.is_empty() && !s.finished);
        if let Some(item) = self.take(&mut state) {
            return Ok(Some(item));
        }
        if timed_out {
            return Err(started.elapsed());
        }
        Ok(None)
    }

    /// Looks at the oldest item without taking it.
    pub fn with_front<R>(&self, f: impl FnOnce(Option<&T>) -> R) -> R {
        f(self.lock().items.front())
    }

    /// How many items wait.
    pub fn len(&self) -> usize {
        self.lock().items.len()
    }

    /// Whether no item waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the producer is done and every item has been taken.
    pub fn is_ended(&self) -> bool {
        let state = self.lock();
        state.finished && state.items.is_empty()
    }

    /// Whether the producer is done (items may still wait).
    pub fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// How many items drop-oldest (or a release) removed.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// Polls for the oldest item from async code: `Ready(Some)`, `Ready(None)` at the end,
    /// `Pending` after registering the task's waker.
    #[cfg(feature = "stream")]
    pub fn poll_pop(&self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Option<T>> {
        let mut state = self.lock();
        if let Some(item) = self.take(&mut state) {
            return std::task::Poll::Ready(Some(item));
        }
        if state.finished {
            return std::task::Poll::Ready(None);
        }
        state.waker = Some(cx.waker().clone());
        std::task::Poll::Pending
    }

    fn notify(&self, #[allow(unused_mut)] mut state: MutexGuard<'_, State<T>>) {
        #[cfg(feature = "stream")]
        let waker = state.waker.take();
        drop(state);
        self.changed.notify_all();
        #[cfg(feature = "stream")]
        if let Some(waker) = waker {
            waker.wake();
        }
        if let Some(on_change) = &self.on_change {
            on_change();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn queued<T>(p: Pushed<T>) -> Vec<T> {
        match p {
            Pushed::Queued { evicted } => evicted,
            Pushed::Refused(_) => panic!("refused"),
        }
    }

    #[test]
    fn drop_oldest_keeps_the_newest_and_counts() {
        let q = BoundedQueue::new(QueuePolicy::drop_oldest(2));
        for i in 0..5 {
            queued(q.push(i, true));
        }
        assert_eq!(q.dropped(), 3);
        assert_eq!(q.try_pop(), Some(3));
        assert_eq!(q.try_pop(), Some(4));
        assert_eq!(q.try_pop(), None);
    }

    #[test]
    fn keep_newest_replaces_the_waiting_item() {
        let q = BoundedQueue::new(QueuePolicy::keep_newest());
        assert!(queued(q.push(1, true)).is_empty());
        assert_eq!(queued(q.push(2, true)), vec![1]);
        assert_eq!(q.len(), 1);
    }

    #[test]
    fn block_waits_for_room_and_release_lets_go() {
        let q = Arc::new(BoundedQueue::new(QueuePolicy::block(1)));
        queued(q.push(0, true));
        let producer = {
            let q = Arc::clone(&q);
            std::thread::spawn(move || queued(q.push(1, true)))
        };
        // The consumer takes one: the producer's item goes in.
        assert_eq!(q.pop_timeout(Duration::from_secs(5)), Ok(Some(0)));
        assert!(producer.join().unwrap().is_empty());
        // A blocked producer is let go by a release, which drops the oldest.
        let producer = {
            let q = Arc::clone(&q);
            std::thread::spawn(move || queued(q.push(2, true)))
        };
        q.release();
        assert_eq!(producer.join().unwrap(), vec![1]);
        assert_eq!(q.try_pop(), Some(2));
    }

    #[test]
    fn finish_ends_after_the_queued_items_and_refuses_more() {
        let q = BoundedQueue::new(QueuePolicy::block(4));
        queued(q.push(7, true));
        q.finish();
        assert!(matches!(q.push(8, true), Pushed::Refused(8)));
        assert_eq!(q.pop_timeout(Duration::from_secs(1)), Ok(Some(7)));
        assert_eq!(q.pop_timeout(Duration::from_secs(1)), Ok(None));
        assert!(q.is_ended());
    }

    #[test]
    fn pop_times_out_when_nothing_comes() {
        let q = BoundedQueue::<u8>::new(QueuePolicy::block(1));
        let waited = q.pop_timeout(Duration::from_millis(20)).unwrap_err();
        assert!(waited >= Duration::from_millis(20));
    }

    #[test]
    fn notify_hook_sees_items_and_the_end() {
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = Arc::clone(&count);
        let q = BoundedQueue::with_notify(QueuePolicy::keep_newest(), move || {
            seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        });
        queued(q.push(1, true));
        q.finish();
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
