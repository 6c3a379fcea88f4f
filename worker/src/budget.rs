//! What one invocation may spend: D1 queries and subrequests, counted in one place.
//!
//! Cloudflare's Free plan allows 50 D1 queries and 50 subrequests per Worker invocation (Paid:
//! 1,000 and 10,000); past them the runtime throws in the middle of whatever was running. So the
//! store counts every statement (each statement of a `db.batch` is a query) and the transport
//! every fetch, and the cron asks [`Budget::can_afford`] before it starts a step, so a run ends
//! between steps instead of inside one. `[vars]` `D1_QUERIES_PER_INVOCATION` and
//! `SUBREQUESTS_PER_INVOCATION` set the limits (default 50 each, the Free plan).

use std::cell::Cell;

use crate::error::AppError;

/// Free plan: D1 queries per Worker invocation.
pub const FREE_D1_QUERIES: u32 = 50;
/// Free plan: subrequests (fetch) per Worker invocation.
pub const FREE_SUBREQUESTS: u32 = 50;

/// The limits of one invocation and what it has spent.
#[derive(Debug)]
pub struct Budget {
    max_queries: u32,
    max_subrequests: u32,
    queries: Cell<u32>,
    subrequests: Cell<u32>,
}

impl Budget {
    pub fn new(max_queries: u32, max_subrequests: u32) -> Self {
        Budget {
            max_queries,
            max_subrequests,
            queries: Cell::new(0),
            subrequests: Cell::new(0),
        }
    }

    /// Whether `queries` more D1 queries and `subrequests` more fetches stay within the limits.
    pub fn can_afford(&self, queries: u32, subrequests: u32) -> bool {
        self.queries.get().saturating_add(queries) <= self.max_queries
            && self.subrequests.get().saturating_add(subrequests) <= self.max_subrequests
    }

    /// Counts `n` D1 queries, or refuses them if they would go over the limit.
    pub fn spend_queries(&self, n: u32) -> Result<(), AppError> {
        if !self.can_afford(n, 0) {
            return Err(AppError::OverBudget(format!(
                "{n} more D1 queries would exceed {} per invocation ({} spent)",
                self.max_queries,
                self.queries.get()
            )));
        }
        self.queries.set(self.queries.get() + n);
        Ok(())
    }

    /// Counts one subrequest, or refuses it if it would go over the limit.
    pub fn spend_subrequest(&self) -> Result<(), AppError> {
        if !self.can_afford(0, 1) {
            return Err(AppError::OverBudget(format!(
                "one more subrequest would exceed {} per invocation",
                self.max_subrequests
            )));
        }
        self.subrequests.set(self.subrequests.get() + 1);
        Ok(())
    }

    /// D1 queries spent so far.
    pub fn queries(&self) -> u32 {
        self.queries.get()
    }

    /// Subrequests spent so far.
    pub fn subrequests(&self) -> u32 {
        self.subrequests.get()
    }

    /// The D1 query limit.
    pub fn max_queries(&self) -> u32 {
        self.max_queries
    }

    /// The subrequest limit.
    pub fn max_subrequests(&self) -> u32 {
        self.max_subrequests
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_would_go_over_and_counts_nothing_then() {
        let b = Budget::new(3, 1);
        assert!(b.spend_queries(2).is_ok());
        assert!(b.spend_queries(2).is_err());
        assert_eq!(b.queries(), 2);
        assert!(b.spend_queries(1).is_ok());
        assert!(!b.can_afford(1, 0));
        assert!(b.spend_subrequest().is_ok());
        assert!(b.spend_subrequest().is_err());
        assert_eq!(b.subrequests(), 1);
    }
}
