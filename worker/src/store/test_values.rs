//! Test hooks in `kv` (`TEST_CLOCK=1`, `TEST_COUNTERS=1`; never in production): the test
//! clock's offset and the last cron run's counters. Not counted against the budget: these
//! queries do not exist in production.

use serde::Deserialize;

use super::db::{s, Store};
use crate::error::AppError;

/// A test value in `kv`.
#[derive(Debug, Clone, Deserialize)]
struct KvRow {
    value: String,
}

const TEST_CLOCK_KEY: &str = "test_clock_offset_ms";

impl Store {
    /// The test clock's offset. Not counted: the query does not exist in production.
    pub async fn test_clock_offset(&self) -> i64 {
        let row: Option<KvRow> = match self
            .db
            .prepare("SELECT value, expires_at FROM kv WHERE key = ?1")
            .bind(&[s(TEST_CLOCK_KEY)])
        {
            Ok(stmt) => stmt.first(None).await.ok().flatten(),
            Err(_) => None,
        };
        row.and_then(|r| r.value.parse().ok()).unwrap_or(0)
    }

    /// Writes a test value (the clock offset, the last cron run's counters). Not counted.
    pub async fn put_test_value(&self, key: &str, value: &str) -> Result<(), AppError> {
        self.db
            .prepare("INSERT INTO kv (key, value, expires_at, lock_until, updated_at) VALUES (?1, ?2, 0, 0, 0) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .bind(&[s(key), s(value)])?
            .run()
            .await?;
        Ok(())
    }

    /// Reads a test value. Not counted.
    pub async fn test_value(&self, key: &str) -> Option<String> {
        let row: Option<KvRow> = match self
            .db
            .prepare("SELECT value, expires_at FROM kv WHERE key = ?1")
            .bind(&[s(key)])
        {
            Ok(stmt) => stmt.first(None).await.ok().flatten(),
            Err(_) => None,
        };
        row.map(|r| r.value)
    }

    pub const TEST_CLOCK_KEY: &'static str = TEST_CLOCK_KEY;
}
