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
//! | file | tables |
//! |---|---|
//! | `db.rs` | none: the [`Store`] handle, bound parameters, one counted round trip, results |
//! | `jobs.rs` | `jobs`, `batches` |
//! | `audiences.rs` | `audiences`, `audience_parts`, `audience_raw`, `audience_chunks` |
//! | `events.rs` | `events`, `push_seen` |
//! | `calls.rs` | `calls` (the ledger) |
//! | `access_token.rs` | `kv`: the access_token and its refresh lock |
//! | `accounts.rs` | `accounts` |
//! | `admin_tokens.rs` | `admin_tokens` |
//! | `test_values.rs` | `kv`: test hooks, never in production |
//! | `run.rs` | a cron run's read (batches, events, calls, token) |
//! | `status.rs` | `GET /api/status`'s read (events, token, calls) |

mod access_token;
mod accounts;
mod admin_tokens;
mod audiences;
mod calls;
mod db;
mod events;
mod jobs;
mod run;
mod status;
mod test_values;

pub use access_token::KvRow;
pub use accounts::AccountRow;
pub use admin_tokens::AdminTokenRow;
pub use audiences::{AudienceRow, NewChunk, PartRow};
pub use calls::{CallRow, NewCall};
pub use db::{changed, Store};
pub use events::{EventRow, NewEvent, PendingResult};
pub use jobs::{claimed, BatchCounts, BatchRow, JobListRow, JobRow, NewBatch};
