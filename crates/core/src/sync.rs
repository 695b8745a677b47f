//! Locks that survive a panic elsewhere, and [`Signal`], the one wake-up for threads that wait
//! on state no lock of theirs guards (an appsink's queue, a pipeline's bus).
//!
//! gstpipe's shared state is always left consistent before anything that can panic (a user's
//! callback runs outside the locks), so a lock poisoned by a panicking thread still guards
//! valid data: taking it anyway is right, and propagating the poison would turn one panic into
//! many.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// [`Mutex::lock`] and [`Condvar`] waits that ignore poisoning (see the module docs).
///
/// ```
/// use gstpipe_core::sync::Unpoisoned;
/// use std::sync::Mutex;
///
/// let m = Mutex::new(1);
/// *m.lock_unpoisoned() += 1;
/// assert_eq!(*m.lock_unpoisoned(), 2);
/// ```
pub trait Unpoisoned<T> {
    /// Locks, taking the data even when another thread panicked while holding the lock.
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T>;
}

impl<T> Unpoisoned<T> for Mutex<T> {
    fn lock_unpoisoned(&self) -> MutexGuard<'_, T> {
        self.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Condvar waits that ignore poisoning, as [`Unpoisoned`].
pub trait UnpoisonedWait {
    /// [`Condvar::wait`], unpoisoned.
    fn wait_unpoisoned<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T>;

    /// [`Condvar::wait_timeout`], unpoisoned: for a wait whose condition is outside the
    /// guarded data (an appsink's queue, a clock), looked at again after every wake-up.
    fn wait_timeout_unpoisoned<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        limit: Duration,
    ) -> MutexGuard<'a, T>;

    /// [`Condvar::wait_timeout_while`], unpoisoned: waits while `condition` holds, at most
    /// `limit`; returns the guard and whether the wait ended by timeout (the condition still
    /// holding).
    fn wait_while_for<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        limit: Duration,
        condition: impl FnMut(&mut T) -> bool,
    ) -> (MutexGuard<'a, T>, bool);
}

impl UnpoisonedWait for Condvar {
    fn wait_unpoisoned<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
        self.wait(guard).unwrap_or_else(|p| p.into_inner())
    }

    fn wait_timeout_unpoisoned<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        limit: Duration,
    ) -> MutexGuard<'a, T> {
        self.wait_timeout(guard, limit)
            .unwrap_or_else(|p| p.into_inner())
            .0
    }

    fn wait_while_for<'a, T>(
        &self,
        guard: MutexGuard<'a, T>,
        limit: Duration,
        condition: impl FnMut(&mut T) -> bool,
    ) -> (MutexGuard<'a, T>, bool) {
        let (guard, result) = self
            .wait_timeout_while(guard, limit, condition)
            .unwrap_or_else(|p| p.into_inner());
        (guard, result.timed_out())
    }
}

/// A wake-up for threads waiting on state outside any lock of theirs (an appsink's queue, a
/// pipeline's end): whatever changes that state calls [`notify`](Signal::notify); a waiter
/// reads [`generation`](Signal::generation) *before* it looks, then sleeps in
/// [`wait_past`](Signal::wait_past) until a notification after that. A change between the
/// look and the sleep is never missed, and nothing polls.
///
/// `notify` costs two atomic operations while nobody waits, and takes the lock only when
/// someone does: it runs on streaming threads for every frame.
///
/// ```
/// use gstpipe_core::sync::Signal;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::time::{Duration, Instant};
///
/// let signal = Arc::new(Signal::default());
/// let ready = Arc::new(AtomicBool::new(false));
/// let producer = {
///     let (signal, ready) = (Arc::clone(&signal), Arc::clone(&ready));
///     std::thread::spawn(move || {
///         ready.store(true, Ordering::SeqCst);
///         signal.notify();
///     })
/// };
/// let deadline = Instant::now() + Duration::from_secs(10);
/// loop {
///     let seen = signal.generation();
///     if ready.load(Ordering::SeqCst) {
///         break;
///     }
///     assert!(signal.wait_past(seen, deadline), "no notification within 10 s");
/// }
/// producer.join().unwrap();
/// ```
#[derive(Debug, Default)]
pub struct Signal {
    generation: AtomicU64,
    waiters: AtomicUsize,
    lock: Mutex<()>,
    cond: Condvar,
}

impl Signal {
    /// Something a waiter may wait for happened: wakes every waiter.
    pub fn notify(&self) {
        // SeqCst with the waiter's `waiters` increment and `generation` load: either this
        // sees the waiter (and wakes it under the lock) or the waiter sees this generation.
        self.generation.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock_unpoisoned();
            self.cond.notify_all();
        }
    }

    /// How many notifications there have been: read it before looking at what is waited for.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// Sleeps until a notification after `seen` (a [`generation`](Signal::generation)) or
    /// until `deadline`; whether a notification came.
    pub fn wait_past(&self, seen: u64, deadline: Instant) -> bool {
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let mut guard = self.lock.lock_unpoisoned();
        let notified = loop {
            if self.generation.load(Ordering::SeqCst) != seen {
                break true;
            }
            let now = Instant::now();
            if now >= deadline {
                break false;
            }
            guard = self.cond.wait_timeout_unpoisoned(guard, deadline - now);
        };
        drop(guard);
        self.waiters.fetch_sub(1, Ordering::SeqCst);
        notified
    }
}
