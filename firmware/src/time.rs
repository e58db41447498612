//! Time, passed in: the firmware never reads a clock itself, so tests step a fake clock
//! by hand instead of sleeping.

/// A point on a monotonic millisecond clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Hash)]
pub struct Millis(pub u64);

impl Millis {
    /// `ms` milliseconds later.
    pub const fn after(self, ms: u64) -> Millis {
        Millis(self.0.saturating_add(ms))
    }

    /// Milliseconds since `earlier` (0 if `earlier` is later).
    pub const fn since(self, earlier: Millis) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// Seconds (finite, non-negative) to whole milliseconds, rounded to nearest.
pub(crate) fn secs_to_ms(s: f32) -> u64 {
    if s.is_finite() && s > 0.0 {
        (s * 1000.0 + 0.5) as u64
    } else {
        0
    }
}
