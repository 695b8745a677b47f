//! [`Backoff`]: how long to wait before each reconnection attempt, and when to give up.

use crate::error::LiveError;
use std::hash::{BuildHasher as _, Hasher as _};
use std::time::Duration;

/// The delay before reconnection attempt `n` (from 1) is `initial * factor^(n-1)`, capped at
/// `max`, then spread by up to `± jitter` of itself (so that many clients of one camera do not
/// reconnect in lockstep) and capped at `max` again. The attempt count restarts at 1 once a rebuilt pipeline delivers a
/// frame. With `max_attempts = Some(n)`, the supervisor gives up after `n` attempts in a row
/// that delivered no frame ([`HealthEvent::GaveUp`](crate::HealthEvent::GaveUp)).
///
/// ```
/// use gstpipe_live::Backoff;
/// use std::time::Duration;
///
/// let backoff = Backoff::new(Duration::from_millis(100))
///     .factor(2.0)
///     .max(Duration::from_millis(350))
///     .jitter(0.0)
///     .max_attempts(Some(5));
/// assert_eq!(backoff.delay(1), Duration::from_millis(100));
/// assert_eq!(backoff.delay(2), Duration::from_millis(200));
/// assert_eq!(backoff.delay(3), Duration::from_millis(350)); // capped
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    initial: Duration,
    factor: f64,
    max: Duration,
    jitter: f64,
    max_attempts: Option<u32>,
}

/// The first reconnection delay unless [`Backoff::new`] says otherwise.
pub const DEFAULT_INITIAL_DELAY: Duration = Duration::from_millis(500);
/// The longest reconnection delay unless [`Backoff::max`] says otherwise.
pub const DEFAULT_MAX_DELAY: Duration = Duration::from_secs(30);

impl Default for Backoff {
    /// 0.5 s, doubling, at most 30 s, ±10 % jitter, forever.
    fn default() -> Self {
        Backoff {
            initial: DEFAULT_INITIAL_DELAY,
            factor: 2.0,
            max: DEFAULT_MAX_DELAY,
            jitter: 0.1,
            max_attempts: None,
        }
    }
}

impl Backoff {
    /// Starts at `initial`, otherwise as [`Backoff::default`]; `max` is raised to `initial`
    /// when it is smaller.
    pub fn new(initial: Duration) -> Self {
        Backoff {
            initial,
            max: DEFAULT_MAX_DELAY.max(initial),
            ..Backoff::default()
        }
    }

    /// How much each delay grows over the previous one (at least 1.0; default 2.0).
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// The longest delay (default 30 s).
    pub fn max(mut self, max: Duration) -> Self {
        self.max = max;
        self
    }

    /// The random spread, as a fraction of the delay, from 0.0 (none) to 1.0 (default 0.1).
    pub fn jitter(mut self, jitter: f64) -> Self {
        self.jitter = jitter;
        self
    }

    /// Give up after this many attempts in a row without a frame; `None` (the default)
    /// retries forever.
    pub fn max_attempts(mut self, max_attempts: Option<u32>) -> Self {
        self.max_attempts = max_attempts;
        self
    }

    /// The first delay.
    pub fn initial_delay(&self) -> Duration {
        self.initial
    }

    /// The longest delay.
    pub fn max_delay(&self) -> Duration {
        self.max
    }

    /// The growth factor.
    pub fn growth(&self) -> f64 {
        self.factor
    }

    /// The jitter fraction.
    pub fn jitter_fraction(&self) -> f64 {
        self.jitter
    }

    /// The attempt limit, if any.
    pub fn attempt_limit(&self) -> Option<u32> {
        self.max_attempts
    }

    /// The delay before attempt `attempt` (from 1) without jitter.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exponent = attempt.saturating_sub(1).min(1024) as i32;
        let scaled = self.initial.as_secs_f64() * self.factor.powi(exponent);
        let capped = scaled.min(self.max.as_secs_f64());
        Duration::try_from_secs_f64(capped).unwrap_or(self.max)
    }

    /// The delay before attempt `attempt` with a random jitter applied, at most `max`.
    pub fn jittered_delay(&self, attempt: u32) -> Duration {
        let base = self.delay(attempt);
        if self.jitter <= 0.0 {
            return base;
        }
        // A random number in [-1, 1] from std's randomly keyed hasher: good enough to spread
        // reconnections, and no dependency.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(attempt);
        let unit = (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64;
        let spread = (unit * 2.0 - 1.0) * self.jitter;
        Duration::try_from_secs_f64(base.as_secs_f64() * (1.0 + spread))
            .unwrap_or(base)
            .min(self.max)
    }

    /// Checks the values: a finite factor of at least 1.0, a jitter within [0, 1], `max` not
    /// below `initial`, and an attempt limit of at least 1.
    pub fn validate(&self) -> Result<(), LiveError> {
        let bad = |what: String| Err(LiveError::Config(what));
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            return bad(format!(
                "backoff factor must be a finite number >= 1.0, not {}",
                self.factor
            ));
        }
        if !(0.0..=1.0).contains(&self.jitter) {
            return bad(format!(
                "backoff jitter must be within 0.0..=1.0, not {}",
                self.jitter
            ));
        }
        if self.max < self.initial {
            return bad(format!(
                "the maximum backoff delay ({:?}) is below the initial delay ({:?})",
                self.max, self.initial
            ));
        }
        if self.max_attempts == Some(0) {
            return bad("max_attempts must be at least 1 (None retries forever)".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_cap() {
        let b = Backoff::new(Duration::from_millis(10))
            .factor(3.0)
            .max(Duration::from_millis(100))
            .jitter(0.0);
        let delays: Vec<u128> = (1..=5).map(|n| b.delay(n).as_millis()).collect();
        assert_eq!(delays, [10, 30, 90, 100, 100]);
        assert_eq!(b.delay(u32::MAX), Duration::from_millis(100));
    }

    #[test]
    fn jitter_stays_within_its_fraction() {
        let b = Backoff::new(Duration::from_millis(1000)).jitter(0.25);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            let d = b.jittered_delay(1).as_secs_f64();
            assert!((0.75..=1.25).contains(&d), "{d}");
            seen.insert((d * 1e6) as u64);
        }
        assert!(
            seen.len() > 100,
            "jitter is not random: {} values",
            seen.len()
        );
    }

    #[test]
    fn jitter_never_exceeds_the_maximum() {
        let b = Backoff::new(Duration::from_millis(100))
            .max(Duration::from_millis(100))
            .jitter(1.0);
        for attempt in 1..200 {
            assert!(b.jittered_delay(attempt) <= Duration::from_millis(100));
        }
    }

    #[test]
    fn bad_values_are_named() {
        let err = Backoff::default().factor(0.5).validate().unwrap_err();
        assert!(err.to_string().contains("factor"), "{err}");
        let err = Backoff::default().jitter(2.0).validate().unwrap_err();
        assert!(err.to_string().contains("jitter"), "{err}");
        let err = Backoff::new(Duration::from_secs(5))
            .max(Duration::from_secs(1))
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("maximum"), "{err}");
        let err = Backoff::default()
            .max_attempts(Some(0))
            .validate()
            .unwrap_err();
        assert!(err.to_string().contains("max_attempts"), "{err}");
        Backoff::default().validate().unwrap();
    }
}
