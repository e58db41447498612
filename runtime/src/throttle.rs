//! Log lines that a peer can cause, rate-limited.
//!
//! A client that floods malformed messages must not flood the log as well: writing to
//! stderr blocks when its reader (journald, a pipe) falls behind, and a blocked writer on the
//! e-stop's thread or on a runtime worker stalls the daemon. A [`Throttle`] lets a burst of
//! lines through, then counts what it holds back and says so in the next line it lets
//! through. Sans-IO: the caller passes the time.

use std::time::{Duration, Instant};

/// A burst of lines per window, then silence (counted).
#[derive(Debug, Clone)]
pub struct Throttle {
    burst: u32,
    window: Duration,
    started: Option<Instant>,
    used: u32,
    held_back: u64,
}

impl Throttle {
    /// At most `burst` lines per `window`.
    pub const fn new(burst: u32, window: Duration) -> Throttle {
        Throttle { burst, window, started: None, used: 0, held_back: 0 }
    }

    /// The daemon's default for peer-caused lines: 20 per 10 s.
    pub const fn for_peers() -> Throttle {
        Throttle::new(20, Duration::from_secs(10))
    }

    /// Whether a line may be written at `now`; if so, a note on how many were held back
    /// since the last one written (empty when none).
    pub fn allow(&mut self, now: Instant) -> Option<String> {
        if self.started.is_none_or(|s| now.duration_since(s) >= self.window) {
            self.started = Some(now);
            self.used = 0;
        }
        if self.used >= self.burst {
            self.held_back += 1;
            return None;
        }
        self.used += 1;
        let note = match std::mem::take(&mut self.held_back) {
            0 => String::new(),
            n => format!(" ({n} similar lines held back)"),
        };
        Some(note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_lines_are_counted_and_reported_later() {
        let t0 = Instant::now();
        let mut t = Throttle::new(3, Duration::from_secs(10));
        let passed: Vec<_> = (0..1000).filter_map(|_| t.allow(t0)).collect();
        assert_eq!(passed, ["", "", ""]);
        assert_eq!(t.allow(t0 + Duration::from_secs(9)), None);
        assert_eq!(t.allow(t0 + Duration::from_secs(10)).as_deref(), Some(" (998 similar lines held back)"));
        assert_eq!(t.allow(t0 + Duration::from_secs(10)).as_deref(), Some(""));
    }
}
