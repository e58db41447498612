//! Which KV sequence holds which prompt prefix.
//!
//! Each slot is one llama.cpp sequence id. A prefix found in a slot is reused as it is;
//! a new prefix takes a free slot or the least recently used one.

/// The state of one KV sequence.
#[derive(Debug, Default)]
struct Slot {
    /// The prefix text whose tokens fill positions `0..len` of this sequence.
    prefix: Option<String>,
    /// Number of prefix tokens in the sequence.
    len: usize,
    /// Logical time of last use.
    used: u64,
}

/// What to do for a job's prefix.
#[derive(Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The prefix is cached in `seq` with `len` tokens.
    Hit { seq: i32, len: usize },
    /// Evaluate the prefix into `seq` (cleared first), then [`Slots::fill`] it.
    Miss { seq: i32 },
}

/// The prefix cache's bookkeeping (no llama calls: the worker does those).
#[derive(Debug)]
pub struct Slots {
    slots: Vec<Slot>,
    clock: u64,
}

impl Slots {
    /// `n` slots, sequence ids `0..n`.
    pub fn new(n: usize) -> Self {
        Slots { slots: (0..n.max(1)).map(|_| Slot::default()).collect(), clock: 0 }
    }

    /// Find the slot for `prefix`, or choose one to (re)fill.
    pub fn lookup(&mut self, prefix: &str) -> Lookup {
        self.clock += 1;
        if let Some((i, s)) = self.slots.iter_mut().enumerate().find(|(_, s)| s.prefix.as_deref() == Some(prefix)) {
            s.used = self.clock;
            return Lookup::Hit { seq: i as i32, len: s.len };
        }
        let (i, _) =
            self.slots.iter().enumerate().min_by_key(|(_, s)| (s.prefix.is_some(), s.used)).expect("at least one slot");
        self.slots[i] = Slot::default();
        Lookup::Miss { seq: i as i32 }
    }

    /// Record that `seq` now holds `prefix` as `len` tokens.
    pub fn fill(&mut self, seq: i32, prefix: &str, len: usize) {
        self.slots[seq as usize] = Slot { prefix: Some(prefix.to_owned()), len, used: self.clock };
    }

    /// Forget what `seq` holds (its KV was removed).
    pub fn invalidate(&mut self, seq: i32) {
        self.slots[seq as usize] = Slot::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_prefix_hits_its_slot() {
        let mut s = Slots::new(2);
        assert_eq!(s.lookup("a"), Lookup::Miss { seq: 0 });
        s.fill(0, "a", 10);
        assert_eq!(s.lookup("a"), Lookup::Hit { seq: 0, len: 10 });
    }

    #[test]
    fn new_prefix_takes_a_free_slot_then_the_least_recently_used() {
        let mut s = Slots::new(2);
        let Lookup::Miss { seq } = s.lookup("a") else { panic!() };
        s.fill(seq, "a", 1);
        assert_eq!(s.lookup("b"), Lookup::Miss { seq: 1 });
        s.fill(1, "b", 2);
        // "a" used again, so "b" is the least recently used.
        assert!(matches!(s.lookup("a"), Lookup::Hit { seq: 0, .. }));
        assert_eq!(s.lookup("c"), Lookup::Miss { seq: 1 });
    }

    #[test]
    fn invalidated_slot_misses() {
        let mut s = Slots::new(1);
        s.lookup("a");
        s.fill(0, "a", 5);
        s.invalidate(0);
        assert_eq!(s.lookup("a"), Lookup::Miss { seq: 0 });
    }
}
