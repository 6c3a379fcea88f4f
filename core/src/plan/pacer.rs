//! Pacing: at most 60 calls in any rolling minute across all mass-send endpoints.
//!
//! WeChat answers the 61st call in a minute with 45011. A rolling window is stricter than a
//! calendar minute (any 60 seconds hold at most 60 calls, so every calendar minute does too),
//! which is what makes it safe when WeChat's own minute boundaries are unknown. The state is a
//! small serde value so the worker can keep it in D1 between cron runs; record every call to
//! any mass endpoint (send, sendall, preview, get, delete, speed), not just sends.

use serde::{Deserialize, Serialize};

use super::china_time::UnixMillis;
use crate::limits::{MAX_CALLS_PER_MINUTE, PACER_WINDOW_MS};

/// Times of recent calls, and the limit per rolling minute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "PacerRepr")]
pub struct Pacer {
    /// Calls allowed in any window of [`PACER_WINDOW_MS`].
    limit: u32,
    /// The most recent calls (at most `limit`), oldest first.
    recent: Vec<UnixMillis>,
}

/// What is stored; normalized (sorted, trimmed) when read back, so a hand-edited or stale row
/// cannot break [`Pacer::next_slot`].
#[derive(Deserialize)]
struct PacerRepr {
    #[serde(default = "default_limit")]
    limit: u32,
    #[serde(default)]
    recent: Vec<UnixMillis>,
}

fn default_limit() -> u32 {
    MAX_CALLS_PER_MINUTE
}

impl From<PacerRepr> for Pacer {
    fn from(r: PacerRepr) -> Self {
        // Recorded one by one (sorted in, trimmed to the limit as it goes) rather than sorted
        // with std's sort, which would link ~3 KB into the npm package's WebAssembly.
        let mut p = Pacer::with_limit(r.limit);
        for at in r.recent {
            p.record(at);
        }
        p
    }
}

impl Default for Pacer {
    fn default() -> Self {
        Pacer::new()
    }
}

impl Pacer {
    /// A pacer at WeChat's limit of [`MAX_CALLS_PER_MINUTE`] calls a minute.
    pub fn new() -> Self {
        Pacer::with_limit(MAX_CALLS_PER_MINUTE)
    }

    /// A pacer at a lower limit (headroom for other tools calling the same account). A limit
    /// of 0 or above WeChat's is clamped to 1..=60.
    pub fn with_limit(limit: u32) -> Self {
        Pacer {
            limit: limit.clamp(1, MAX_CALLS_PER_MINUTE),
            recent: Vec::new(),
        }
    }

    /// The limit per rolling minute.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// The recorded calls still relevant, oldest first.
    pub fn recent(&self) -> &[UnixMillis] {
        &self.recent
    }

    /// The earliest time at or after `now` when one more call keeps every rolling minute at or
    /// under the limit.
    pub fn next_slot(&self, now: UnixMillis) -> UnixMillis {
        let limit = self.limit as usize;
        if self.recent.len() < limit {
            return now;
        }
        // The call `limit` places back must have left the window: a call at c is in the window
        // (t - 60 s, t] until t = c + 60 s.
        match self.recent.get(self.recent.len() - limit) {
            Some(oldest) => now.max(oldest.plus_millis(PACER_WINDOW_MS)),
            None => now,
        }
    }

    /// Whether a call may be made at `now`.
    pub fn may_call(&self, now: UnixMillis) -> bool {
        self.next_slot(now) <= now
    }

    /// Records a call made at `at` (calls may be recorded out of order).
    pub fn record(&mut self, at: UnixMillis) {
        let i = self.recent.partition_point(|t| *t <= at);
        self.recent.insert(i, at);
        self.trim();
    }

    /// Keeps the last `limit` calls: older ones can no longer decide a slot.
    fn trim(&mut self) {
        let limit = self.limit as usize;
        if self.recent.len() > limit {
            self.recent.drain(..self.recent.len() - limit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixty_calls_a_rolling_minute() {
        let mut p = Pacer::new();
        let t0 = UnixMillis(1_000_000);
        for i in 0..60 {
            let t = t0.plus_millis(i * 100);
            assert_eq!(p.next_slot(t), t, "call {i}");
            p.record(t);
        }
        // The 61st waits until the first leaves the window.
        let t = t0.plus_millis(6_000);
        assert_eq!(p.next_slot(t), t0.plus_millis(60_000));
        assert!(!p.may_call(t0.plus_millis(59_999)));
        assert!(p.may_call(t0.plus_millis(60_000)));
        p.record(t0.plus_millis(60_000));
        assert_eq!(p.next_slot(t), t0.plus_millis(60_100));
        assert_eq!(p.recent().len(), 60);
    }

    #[test]
    fn any_sequence_of_next_slots_keeps_every_window_under_the_limit() {
        let mut p = Pacer::with_limit(5);
        let mut calls = Vec::new();
        let mut now = UnixMillis(0);
        for step in 0..200i64 {
            let slot = p.next_slot(now);
            p.record(slot);
            calls.push(slot.0);
            now = slot.plus_millis(step % 7 * 1_000);
        }
        for (i, &c) in calls.iter().enumerate() {
            let in_window = calls[i..]
                .iter()
                .filter(|&&d| d < c + PACER_WINDOW_MS)
                .count();
            assert!(in_window <= 5, "window at {c} holds {in_window}");
        }
    }

    #[test]
    fn state_round_trips_and_is_normalized_when_read() {
        let mut p = Pacer::with_limit(3);
        for t in [5, 1, 3, 4] {
            p.record(UnixMillis(t));
        }
        assert_eq!(p.recent(), &[UnixMillis(3), UnixMillis(4), UnixMillis(5)]);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(json, r#"{"limit":3,"recent":[3,4,5]}"#);
        assert_eq!(serde_json::from_str::<Pacer>(&json).unwrap(), p);
        let messy: Pacer = serde_json::from_str(r#"{"limit":2,"recent":[9,1,7]}"#).unwrap();
        assert_eq!(messy.recent(), &[UnixMillis(7), UnixMillis(9)]);
        let clamped: Pacer = serde_json::from_str(r#"{"limit":0}"#).unwrap();
        assert_eq!(clamped.limit(), 1);
        assert_eq!(serde_json::from_str::<Pacer>("{}").unwrap(), Pacer::new());
    }
}
