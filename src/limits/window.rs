//! A rate count over time: fixed or sliding windows, in steps.
//!
//! A period is cut into steps ([`Window::steps`]: 1 for a fixed window, 10
//! for a sliding one), aligned to the Unix epoch. The count remembers what
//! was charged in each of the last `steps` steps. Invariant: the ledger
//! charges only while [`Count::used`] plus the charge stays within the
//! limit, so any `steps` consecutive steps hold at most the limit. For a
//! fixed window that is "at most the limit per period"; for a sliding one,
//! "at most the limit over the last period, rounded to tenths of it".
//! A clock that steps backwards is read as the latest time seen; times are
//! clamped to 1970-9999, so no step arithmetic overflows.

use super::calendar::clamp;

/// How a rate limit's period is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// Periods aligned to the epoch, each counted alone.
    Fixed,
    /// The last period, counted in steps of a tenth of it.
    Sliding,
}

/// Steps per period of a sliding window.
pub const SLIDING_STEPS: usize = 10;

impl Window {
    /// How many steps a period is cut into.
    pub fn steps(self) -> usize {
        match self {
            Window::Fixed => 1,
            Window::Sliding => SLIDING_STEPS,
        }
    }
}

/// What was charged in each of the last `steps` steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Count {
    step_ms: i64,
    /// Ring of per-step counts, indexed by step modulo its length.
    ring: Vec<u64>,
    /// The latest step seen.
    step: i64,
}

impl Count {
    /// An empty count for `period_ms` (at least the window's steps, in
    /// whole milliseconds per step) at `now`.
    pub fn new(period_ms: i64, window: Window, now: i64) -> Self {
        let steps = window.steps();
        let step_ms = (period_ms / steps as i64).max(1);
        Count {
            step_ms,
            ring: vec![0; steps],
            step: clamp(now).div_euclid(step_ms),
        }
    }

    /// Milliseconds per step.
    pub fn step_ms(&self) -> i64 {
        self.step_ms
    }

    /// The step `now` falls in.
    pub fn step_of(&self, now: i64) -> i64 {
        clamp(now).div_euclid(self.step_ms)
    }

    /// The latest step seen.
    pub fn step(&self) -> i64 {
        self.step
    }

    /// When the latest step ends (exclusive), Unix milliseconds.
    pub fn step_end(&self) -> i64 {
        self.step.saturating_add(1).saturating_mul(self.step_ms)
    }

    fn len(&self) -> i64 {
        self.ring.len() as i64
    }

    fn slot(&mut self, step: i64) -> Option<&mut u64> {
        let index = usize::try_from(step.rem_euclid(self.len())).ok()?;
        self.ring.get_mut(index)
    }

    /// Moves to `now`'s step, forgetting steps that left the window.
    pub fn advance(&mut self, now: i64) {
        let to = self.step_of(now);
        if to <= self.step {
            return;
        }
        let gone = (to - self.step).min(self.len());
        for i in 1..=gone {
            if let Some(slot) = self.slot(self.step + i) {
                *slot = 0;
            }
        }
        self.step = to;
    }

    /// What the window holds: the last `steps` steps, the latest included.
    pub fn used(&self) -> u64 {
        self.ring.iter().fold(0u64, |sum, n| sum.saturating_add(*n))
    }

    /// Charges `n` to the latest step.
    pub fn charge(&mut self, n: u64) {
        let step = self.step;
        if let Some(slot) = self.slot(step) {
            *slot = slot.saturating_add(n);
        }
    }

    /// Takes back `n` charged in `step`, if that step is still in the
    /// window (what left it is no longer counted anyway).
    pub fn uncharge(&mut self, step: i64, n: u64) {
        if step > self.step || step <= self.step - self.len() {
            return;
        }
        if let Some(slot) = self.slot(step) {
            *slot = slot.saturating_sub(n);
        }
    }

    /// When, from the latest step, the window will have room for `cost`
    /// under `limit` by steps leaving it alone (Unix milliseconds);
    /// `None` if it never will.
    pub fn room_at(&self, limit: u64, cost: u64) -> Option<i64> {
        let used = self.used();
        if used.saturating_add(cost) <= limit {
            return Some(self.step.saturating_mul(self.step_ms));
        }
        let mut left = used;
        for oldest in (self.step - self.len() + 1)..=self.step {
            let index = usize::try_from(oldest.rem_euclid(self.len())).ok()?;
            left = left.saturating_sub(*self.ring.get(index)?);
            if left.saturating_add(cost) <= limit {
                // `oldest` leaves the window when step `oldest + len` begins.
                return Some((oldest + self.len()).saturating_mul(self.step_ms));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_window_forgets_at_the_period_boundary() {
        let mut count = Count::new(1_000, Window::Fixed, 5_500);
        count.charge(7);
        assert_eq!(count.used(), 7);
        assert_eq!(count.step_end(), 6_000);
        count.advance(5_999);
        assert_eq!(count.used(), 7);
        count.advance(6_000);
        assert_eq!(count.used(), 0);
        // A clock stepping backwards changes nothing.
        count.charge(1);
        count.advance(5_000);
        assert_eq!(count.used(), 1);
    }

    #[test]
    fn sliding_window_forgets_a_tenth_at_a_time() {
        let mut count = Count::new(10_000, Window::Sliding, 0);
        count.charge(3);
        count.advance(1_000);
        count.charge(4);
        count.advance(9_999);
        assert_eq!(count.used(), 7);
        count.advance(10_000);
        assert_eq!(count.used(), 4);
        count.advance(11_000);
        assert_eq!(count.used(), 0);
        count.charge(2);
        count.advance(1_000_000);
        assert_eq!(count.used(), 0);
    }

    #[test]
    fn uncharge_only_touches_steps_in_the_window() {
        let mut count = Count::new(10_000, Window::Sliding, 0);
        count.charge(5);
        count.advance(3_000);
        count.uncharge(0, 2);
        assert_eq!(count.used(), 3);
        count.advance(10_000);
        count.charge(1);
        // Step 0 left; its slot now holds step 10's count.
        count.uncharge(0, 1);
        assert_eq!(count.used(), 1);
    }

    #[test]
    fn room_at_is_when_old_steps_leave() {
        let mut count = Count::new(10_000, Window::Sliding, 0);
        count.charge(6);
        count.advance(2_000);
        count.charge(4);
        assert_eq!(count.room_at(10, 0), Some(2_000));
        assert_eq!(count.room_at(10, 1), Some(10_000));
        assert_eq!(count.room_at(10, 7), Some(12_000));
        assert_eq!(count.room_at(10, 11), None);
    }
}
