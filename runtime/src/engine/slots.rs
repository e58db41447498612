//! Which KV sequence holds which prompt prefix.
//!
//! Each slot is one llama.cpp sequence id. A prefix is cached *with the adapter set it was
//! evaluated under* (LoRA on q/k/v changes the cached keys and values), so the key is both.
//! A key found in a slot is reused as it is; a new key takes a free slot or the least
//! recently used one.

use super::AdapterId;

/// What a cached prefix was evaluated from: its text and the adapters (id, scale bits)
/// active at the time, zero scales left out.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SlotKey {
    /// The prefix text.
    pub prefix: String,
    /// Active adapters as (id, `f32::to_bits` of the scale), in the job's order.
    pub adapters: Vec<(AdapterId, u32)>,
}

/// The state of one KV sequence.
#[derive(Debug, Default)]
struct Slot {
    /// The key whose prefix tokens fill positions `0..len` of this sequence.
    key: Option<SlotKey>,
    /// Who asked for it (a skill name), for reports.
    label: String,
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

    /// Find the slot for `key`, or choose one to (re)fill.
    pub fn lookup(&mut self, key: &SlotKey) -> Lookup {
        self.clock += 1;
        if let Some((i, s)) = self.slots.iter_mut().enumerate().find(|(_, s)| s.key.as_ref() == Some(key)) {
            s.used = self.clock;
            return Lookup::Hit { seq: i as i32, len: s.len };
        }
        let (i, _) =
            self.slots.iter().enumerate().min_by_key(|(_, s)| (s.key.is_some(), s.used)).expect("at least one slot");
        self.slots[i] = Slot::default();
        Lookup::Miss { seq: i as i32 }
    }

    /// Record that `seq` now holds `key`'s prefix as `len` tokens.
    pub fn fill(&mut self, seq: i32, key: &SlotKey, label: &str, len: usize) {
        self.slots[seq as usize] = Slot { key: Some(key.clone()), label: label.to_owned(), len, used: self.clock };
    }

    /// Forget what `seq` holds (its KV was removed).
    pub fn invalidate(&mut self, seq: i32) {
        self.slots[seq as usize] = Slot::default();
    }

    /// Forget every slot evaluated with adapter `id`; returns their sequence ids.
    pub fn invalidate_adapter(&mut self, id: AdapterId) -> Vec<i32> {
        let mut seqs = Vec::new();
        for (i, s) in self.slots.iter_mut().enumerate() {
            if s.key.as_ref().is_some_and(|k| k.adapters.iter().any(|(a, _)| *a == id)) {
                *s = Slot::default();
                seqs.push(i as i32);
            }
        }
        seqs
    }

    /// (label, prefix tokens) of every filled slot.
    pub fn filled(&self) -> Vec<(String, usize)> {
        self.slots.iter().filter(|s| s.key.is_some()).map(|s| (s.label.clone(), s.len)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(prefix: &str) -> SlotKey {
        SlotKey { prefix: prefix.into(), adapters: vec![] }
    }

    #[test]
    fn same_prefix_hits_its_slot() {
        let mut s = Slots::new(2);
        assert_eq!(s.lookup(&key("a")), Lookup::Miss { seq: 0 });
        s.fill(0, &key("a"), "x", 10);
        assert_eq!(s.lookup(&key("a")), Lookup::Hit { seq: 0, len: 10 });
        assert_eq!(s.filled(), vec![("x".to_owned(), 10)]);
    }

    #[test]
    fn new_prefix_takes_a_free_slot_then_the_least_recently_used() {
        let mut s = Slots::new(2);
        let Lookup::Miss { seq } = s.lookup(&key("a")) else { panic!() };
        s.fill(seq, &key("a"), "", 1);
        assert_eq!(s.lookup(&key("b")), Lookup::Miss { seq: 1 });
        s.fill(1, &key("b"), "", 2);
        // "a" used again, so "b" is the least recently used.
        assert!(matches!(s.lookup(&key("a")), Lookup::Hit { seq: 0, .. }));
        assert_eq!(s.lookup(&key("c")), Lookup::Miss { seq: 1 });
    }

    #[test]
    fn invalidated_slot_misses() {
        let mut s = Slots::new(1);
        s.lookup(&key("a"));
        s.fill(0, &key("a"), "", 5);
        s.invalidate(0);
        assert_eq!(s.lookup(&key("a")), Lookup::Miss { seq: 0 });
    }

    #[test]
    fn same_prefix_under_other_adapters_is_another_entry() {
        let mut s = Slots::new(3);
        let with = |id, scale: f32| SlotKey { prefix: "p".into(), adapters: vec![(id, scale.to_bits())] };
        s.lookup(&key("p"));
        s.fill(0, &key("p"), "base", 5);
        assert_eq!(s.lookup(&with(7, 1.0)), Lookup::Miss { seq: 1 });
        s.fill(1, &with(7, 1.0), "skill", 5);
        assert_eq!(s.lookup(&with(7, 0.5)), Lookup::Miss { seq: 2 });
        s.fill(2, &with(7, 0.5), "half", 5);
        assert_eq!(s.lookup(&with(7, 1.0)), Lookup::Hit { seq: 1, len: 5 });
        // Unloading adapter 7 drops both of its entries, not the base one.
        assert_eq!(s.invalidate_adapter(7), vec![1, 2]);
        assert_eq!(s.lookup(&key("p")), Lookup::Hit { seq: 0, len: 5 });
    }
}
