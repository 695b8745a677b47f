//! Locks that survive a panic elsewhere: the one helper every gstpipe crate uses.
//!
//! gstpipe's shared state is always left consistent before anything that can panic (a user's
//! callback runs outside the locks), so a lock poisoned by a panicking thread still guards
//! valid data: taking it anyway is right, and propagating the poison would turn one panic into
//! many.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Duration;

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
