//! Every SQL statement of the worker, and nothing else, one file per table (or per read that
//! spans tables), each statement next to the typed rows it reads or writes. The schema is
//! `worker/migrations/`.
//!
//! Handlers read what a step needs in one round trip (`read_*`: one `db.batch` of SELECTs), let
//! core decide, and write the outcome with [`Store::commit`]: one `db.batch`, which D1 runs as a
//! transaction. A commit that changes a batch row is guarded by the row's version
//! ([`Store::update_batch`]), and what must only happen with it (an event marked applied) is
//! conditional on that update having matched (`WHERE changes() = 1`), so of two runs that read
//! the same row only one applies its decision, whole.
//!
//! Every statement counts against the invocation's [`Budget`](crate::budget::Budget) (each statement of a batch is a
//! D1 query). Rows are typed: D1 hands integers to JavaScript as doubles, which serde reads
//! into `i64` exactly below 2^53 (times in ms, counts); WeChat's 64-bit msg ids are TEXT.
//!
//! ## Layers
//!
//! Each file imports only files below it (checked by `worker/tests/layers.rs`):
//!
//! 1. `mod.rs`: the names the rest of the worker imports
//! 2. `run.rs`, `status.rs`: reads that span tables (a cron run's; `GET /api/status`'s)
//! 3. `jobs.rs`: `jobs` and `batches`
//! 4. `audiences.rs`, `events.rs`, `calls.rs`, `accounts.rs`, `admin_tokens.rs`, `test_values.rs`:
//!    `audiences` and their parts and chunks; `events` and `push_seen`; the `calls` ledger (and
//!    the reads that decide from it); `accounts`; `admin_tokens`; the test hooks in `kv`
//! 5. `media.rs`: the media ids the worker made
//! 6. `access_token.rs`, `wechat_reads.rs`: each account's access_token (sealed) and its refresh
//!    lock; WeChat's last answers to reads
//! 7. `db.rs`: the [`Store`] handle, bound parameters, one counted round trip, results

mod access_token;
mod accounts;
mod admin_tokens;
mod audiences;
mod calls;
mod db;
mod events;
mod jobs;
mod media;
mod run;
mod status;
mod test_values;
mod wechat_reads;

pub use access_token::TokenRow;
pub use accounts::{AccountRow, DueAccount};
pub use admin_tokens::AdminTokenRow;
pub use audiences::{AudienceRow, NewChunk, NewPage, NewSource, PartRow};
pub use calls::{CallRow, NewCall};
pub use db::{changed, returned_ids, Store};
pub use events::{EventRow, NewEvent};
pub use jobs::{
    claimed, outcome_json, outcome_of_result, BatchCancel, BatchCounts, BatchRow, JobListRow,
    JobRow, NewBatch, QueuedSend,
};
pub use media::MediaRow;
pub use run::PendingResult;
