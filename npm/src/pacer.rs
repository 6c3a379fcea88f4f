//! Pacing of mass-send calls, for the JS client.
//! Temporary: a sliding window over core's limit until core's `plan::Pacer` (issue 5) lands.

use std::collections::VecDeque;

use wasm_bindgen::prelude::*;
use wxmass::limits::MAX_CALLS_PER_MINUTE;

const WINDOW_MS: f64 = 60_000.0;

/// At most the account's per-minute number of mass-send calls in any sliding minute.
#[wasm_bindgen]
#[derive(Debug, Default)]
pub struct Pacer {
    recent: VecDeque<f64>,
}

#[wasm_bindgen]
impl Pacer {
    /// An empty window.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Pacer {
        Pacer::default()
    }

    /// The earliest time (ms) at which the next call may start.
    #[wasm_bindgen(js_name = nextSlot)]
    pub fn next_slot(&self, now: f64) -> f64 {
        let limit = MAX_CALLS_PER_MINUTE as usize;
        if self.recent.len() < limit {
            return now;
        }
        self.recent
            .get(self.recent.len() - limit)
            .map_or(now, |t| now.max(t + WINDOW_MS))
    }

    /// Records a call started at `at` (ms).
    pub fn record(&mut self, at: f64) {
        self.recent.push_back(at);
        while self.recent.front().is_some_and(|t| *t <= at - WINDOW_MS) {
            self.recent.pop_front();
        }
    }
}
