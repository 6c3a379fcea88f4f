//! Send planning: batches, idempotency keys, quotas, pacing, retry decisions. (Issue 5.)
