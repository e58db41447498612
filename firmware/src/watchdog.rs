//! Failsafe watchdog: if nobody feeds it within its period, the executor puts every output
//! in its safe state. Sans-IO: the caller passes the time to [`Watchdog::feed`] and
//! [`Watchdog::expired`].

use crate::time::Millis;

/// A software watchdog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watchdog {
    period_ms: u64,
    last_fed: Millis,
}

impl Watchdog {
    /// A watchdog that expires `period_ms` after the last feed; fed at `now`.
    pub const fn new(period_ms: u64, now: Millis) -> Self {
        Watchdog { period_ms, last_fed: now }
    }

    /// Reset the period.
    pub fn feed(&mut self, now: Millis) {
        self.last_fed = now;
    }

    /// True once more than the period has passed since the last feed.
    pub fn expired(&self, now: Millis) -> bool {
        now.since(self.last_fed) > self.period_ms
    }

    /// The period in milliseconds.
    pub const fn period_ms(&self) -> u64 {
        self.period_ms
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expires_only_after_the_period_without_a_feed() {
        let mut w = Watchdog::new(100, Millis(0));
        assert!(!w.expired(Millis(100)));
        assert!(w.expired(Millis(101)));
        w.feed(Millis(101));
        assert!(!w.expired(Millis(200)));
        assert!(w.expired(Millis(202)));
    }
}
