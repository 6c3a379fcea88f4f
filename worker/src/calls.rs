//! Pacing and the call ledger: every call to WeChat passes through here, the cron's and the
//! admin API's alike.
//!
//! The ledger (`calls` table) holds every call to a mass endpoint, answered or not: a call
//! whose answer was lost may have reached WeChat, so it counts. Core decides from it: its
//! [`Pacer`] keeps any rolling minute at 60 calls, and its quota rules read the sends of the
//! last China month. A call's ledger row is written in the same commit as the decision about its
//! outcome.
//!
//! Two invocations that read the ledger at the same moment may both take the last slot of a
//! minute; WeChat then answers 45011, which core turns into a wait.
//!
//! **Reads never starve sends.** WeChat counts every `message/mass/*` call, reads included, in
//! one account's 60 a minute. A person's reads (mass/get, speed/get through the admin API) are
//! answered from D1 for [`READ_CACHE_MS`] after WeChat last answered them, and may take at most
//! [`READS_PER_MINUTE`] of the 60 in any rolling minute (beyond: 429 `rate_limited` with
//! `Retry-After`), so the sends and the admin's previews always keep 50.

use serde_json::Value;
use worker::D1PreparedStatement;
use wxmass::endpoint::{parse_any_reply, AnyReply, EndpointName, FramedUpload};
use wxmass::plan::{Pacer, SendKind, SentRecord, UnixMillis};
use wxmass::{ErrorClass, HttpRequest, ReplyError};

use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{CallRow, NewCall, TokenRow};
use crate::token::Token;
use crate::wechat::{Exchange, NoAnswer, PassThrough};

/// What the account has called lately, as core reads it.
pub struct Ledger {
    pacer: Pacer,
    sends: Vec<SentRecord>,
}

impl Ledger {
    /// From the ledger's latest calls (any order) and its sends of the quota window.
    pub fn new(recent: &[CallRow], sends: &[CallRow]) -> Self {
        let mut pacer = Pacer::new();
        for c in recent {
            pacer.record(UnixMillis(c.at));
        }
        Ledger {
            pacer,
            sends: sends.iter().filter_map(sent_record).collect(),
        }
    }

    /// The sends core's quota rules count.
    pub fn sends(&self) -> &[SentRecord] {
        &self.sends
    }

    /// The earliest time at or after `now` when one more mass call keeps the minute's limit.
    pub fn next_slot(&self, now: i64) -> i64 {
        self.pacer.next_slot(UnixMillis(now)).0
    }

    /// Whether the pacer allows a call to `endpoint` at `now` (the cron's turn asks core's
    /// pacer itself).
    pub fn may_call(&self, endpoint: EndpointName, now: i64) -> Result<(), AppError> {
        let slot = self.next_slot(now);
        if endpoint.is_mass_endpoint() && slot > now {
            return Err(AppError::RateLimited {
                retry_after_ms: slot - now,
            });
        }
        Ok(())
    }

    /// The pacer and the sends, for core's cron turn (which records its own calls in them).
    pub fn into_parts(self) -> (Pacer, Vec<SentRecord>) {
        (self.pacer, self.sends)
    }

    /// Adds a call this invocation made, so its later decisions count it.
    pub fn record(&mut self, call: &NewCall) {
        self.pacer.record(UnixMillis(call.at));
        let row = CallRow {
            at: call.at,
            endpoint: call.endpoint.to_owned(),
            to_all: i64::from(call.to_all),
            succeeded: i64::from(call.succeeded),
        };
        if let Some(r) = sent_record(&row) {
            self.sends.push(r);
        }
    }
}

fn sent_record(row: &CallRow) -> Option<SentRecord> {
    Some(SentRecord {
        at: UnixMillis(row.at),
        kind: EndpointName::parse(&row.endpoint).and_then(SendKind::of_endpoint)?,
        to_all: row.to_all != 0,
        succeeded: row.succeeded != 0,
    })
}

/// One call made: the answer, and the ledger row to commit with the decision about it.
pub struct Made {
    pub answer: Result<Exchange, NoAnswer>,
    pub call: NewCall,
}

/// Makes one call at `now`, which the pacer has allowed ([`Ledger::may_call`], or core's cron
/// turn). The caller sets `call.succeeded` from its decision, records `call` in its pacer and
/// commits it with that decision.
pub async fn make(
    app: &Ctx,
    endpoint: EndpointName,
    req: &HttpRequest,
    token: &str,
    now: i64,
) -> Result<Made, AppError> {
    let answer = app.wechat.send(req, Some(token), None).await?;
    let call = call_row(endpoint, now, answer.is_ok());
    Ok(Made { answer, call })
}

/// The ledger row of one call at `now`, not yet decided a success.
fn call_row(endpoint: EndpointName, now: i64, answered: bool) -> NewCall {
    NewCall {
        at: now,
        endpoint: endpoint.as_str(),
        batch_id: None,
        to_all: false,
        succeeded: false,
        answered,
    }
}

/// A call for the admin API: read the token and the ledger, call (refreshing a rejected token
/// once), commit the ledger rows, and hand back core's typed reply.
pub async fn admin_call(
    app: &Ctx,
    endpoint: EndpointName,
    req: &HttpRequest,
) -> Result<AnyReply, AppError> {
    // A new speed is WeChat's from now: the cached speed/get answer goes with the call's row.
    let forget = endpoint == EndpointName::SpeedSet;
    admin_call_with(app, endpoint, req, |_| {
        if forget {
            Ok(vec![app
                .store
                .forget_read(EndpointName::SpeedGet.as_str(), "")?])
        } else {
            Ok(Vec::new())
        }
    })
    .await
}

/// [`admin_call`], committing with the ledger rows what `also` makes of a successful reply (an
/// upload's `media` row), mass call or not.
pub async fn admin_call_with(
    app: &Ctx,
    endpoint: EndpointName,
    req: &HttpRequest,
    also: impl Fn(&AnyReply) -> Result<Vec<D1PreparedStatement>, AppError>,
) -> Result<AnyReply, AppError> {
    let (cached, recent) = read_for_call(app, endpoint).await?;
    call_and_record(app, endpoint, req, cached, &recent, also).await
}

/// [`admin_call_with`] for an upload whose file streams through from the caller (`file`,
/// between `framed`'s head and tail): one call, never repeated, since the stream is consumed.
/// A body that was not its declared length is the caller's 400 and records nothing; a refused
/// access_token is dropped (the next call fetches a new one) and answers
/// [`AppError::UploadAgain`]. Otherwise as `admin_call_with`: what `also` makes of the reply is
/// committed with the ledger row, after WeChat's answer.
pub async fn admin_call_streamed(
    app: &Ctx,
    endpoint: EndpointName,
    framed: &FramedUpload,
    file: PassThrough,
    also: impl Fn(&AnyReply) -> Result<Vec<D1PreparedStatement>, AppError>,
) -> Result<AnyReply, AppError> {
    let (cached, recent) = read_for_call(app, endpoint).await?;
    let now = app.now();
    Ledger::new(&recent, &[]).may_call(endpoint, now)?;
    let tok = Token::new(cached).get(app).await?;
    let (answer, mismatch) = app.wechat.send_streamed(framed, file, &tok).await?;
    if let Some(m) = mismatch {
        worker::console_warn!(
            "{}: the caller's body was not its Content-Length ({} declared, {} arrived): the upload to WeChat was cut off, nothing recorded",
            endpoint.as_str(),
            m.declared,
            m.got
        );
        return Err(m.into());
    }
    let mut call = call_row(endpoint, now, answer.is_ok());
    let result = read_answer(endpoint, answer);
    call.succeeded = result.is_ok();
    let made_calls = if endpoint.is_mass_endpoint() {
        vec![call]
    } else {
        Vec::new()
    };
    let (result, also) = match result {
        Ok(reply) => {
            let also = also(&reply)?;
            (Ok(reply), also)
        }
        Err(AppError::WeChat(e)) if e.class() == ErrorClass::RefreshToken => {
            app.store.expire_token(app.now()).await?;
            (Err(AppError::UploadAgain(e.to_string())), Vec::new())
        }
        Err(e) => (Err(e), Vec::new()),
    };
    record(app, endpoint, &made_calls, also).await?;
    result
}

/// The cached token, and for a mass call the ledger's latest calls (the pacer's).
async fn read_for_call(
    app: &Ctx,
    endpoint: EndpointName,
) -> Result<(Option<TokenRow>, Vec<CallRow>), AppError> {
    if endpoint.is_mass_endpoint() {
        app.store.read_for_call().await
    } else {
        Ok((app.store.read_token().await?, Vec::new()))
    }
}

/// The mass calls a person's reads may take of an account's 60 in any rolling minute; the
/// other 50 are always the sends' and the previews'.
pub const READS_PER_MINUTE: usize = 10;
/// How long WeChat's answer to a read is answered again from D1 (a dashboard that polls every
/// few seconds asks WeChat once a minute).
pub const READ_CACHE_MS: i64 = 60_000;
/// The mass endpoints that only read.
const READ_ENDPOINTS: [EndpointName; 2] = [EndpointName::GetStatus, EndpointName::SpeedGet];
/// The reads that are no mass calls (the material lists, the tags): WeChat limits them by the
/// day, not in the 60 a minute, so they have an allowance of their own, [`READS_PER_MINUTE`] in
/// any rolling minute, counted by the answers WeChat gave them (`wechat_reads`; a read WeChat
/// refused is not cached, and not counted).
pub const PLAIN_READ_ENDPOINTS: [EndpointName; 3] = [
    EndpointName::BatchGetMaterial,
    EndpointName::MaterialCount,
    EndpointName::TagsGet,
];

/// A read's answer: core's reply as JSON, and how old it is (0: WeChat answered just now).
pub struct ReadAnswer {
    pub answer: Value,
    pub age_ms: i64,
}

/// A read for the admin API (mass/get of `key` = the msg_id, speed/get with `key` "", or one
/// of [`PLAIN_READ_ENDPOINTS`]): the cached answer while younger than `max_age_ms` (at most
/// [`READ_CACHE_MS`]; 0 when a cached list lacked what the caller looked for); otherwise, within
/// the reads' allowance, WeChat's, cached with the call's ledger row. One read of D1 (token, the
/// allowance's window, the cached answer).
pub async fn admin_read(
    app: &Ctx,
    endpoint: EndpointName,
    key: &str,
    req: &HttpRequest,
    max_age_ms: i64,
) -> Result<ReadAnswer, AppError> {
    let now = app.now();
    let minute_ago = now - 60_000;
    let (cached_token, recent, reads, cached) = if endpoint.is_mass_endpoint() {
        let (token, recent, cached) = app.store.read_for_read(endpoint.as_str(), key).await?;
        let reads: Vec<i64> = recent
            .iter()
            .filter(|c| READ_ENDPOINTS.iter().any(|e| e.as_str() == c.endpoint))
            .map(|c| c.at)
            .collect();
        (token, recent, reads, cached)
    } else {
        let names: Vec<&str> = PLAIN_READ_ENDPOINTS.iter().map(|e| e.as_str()).collect();
        let (token, reads, cached) = app
            .store
            .read_for_plain_read(endpoint.as_str(), key, minute_ago, &names)
            .await?;
        (token, Vec::new(), reads, cached)
    };
    if let Some(c) = cached.filter(|c| now - c.fetched_at < max_age_ms) {
        if let Ok(answer) = serde_json::from_str(&c.answer_json) {
            return Ok(ReadAnswer {
                answer,
                age_ms: now - c.fetched_at,
            });
        }
    }
    let mut reads: Vec<i64> = reads.into_iter().filter(|at| *at > minute_ago).collect();
    if reads.len() >= READS_PER_MINUTE {
        reads.sort_unstable();
        // The oldest of the minute's reads leaves the window first.
        let frees_at = reads[reads.len() - READS_PER_MINUTE] + 60_000;
        return Err(AppError::ReadsLimited {
            per_minute: READS_PER_MINUTE,
            retry_after_ms: (frees_at - now).max(1),
        });
    }
    let reply = call_and_record(app, endpoint, req, cached_token, &recent, |reply| {
        let json = serde_json::to_string(reply)
            .map_err(|e| AppError::Internal(format!("a read's answer: {e}")))?;
        Ok(vec![app.store.put_read(
            endpoint.as_str(),
            key,
            &json,
            now,
        )?])
    })
    .await?;
    let answer = serde_json::to_value(&reply)
        .map_err(|e| AppError::Internal(format!("a read's answer: {e}")))?;
    Ok(ReadAnswer { answer, age_ms: 0 })
}

/// Calls (refreshing a rejected token once), then commits the ledger rows of a mass call with
/// what `also` adds for a successful reply, and hands back core's typed reply.
async fn call_and_record(
    app: &Ctx,
    endpoint: EndpointName,
    req: &HttpRequest,
    cached: Option<TokenRow>,
    recent: &[CallRow],
    also: impl Fn(&AnyReply) -> Result<Vec<D1PreparedStatement>, AppError>,
) -> Result<AnyReply, AppError> {
    let mass = endpoint.is_mass_endpoint();
    let mut ledger = Ledger::new(recent, &[]);
    let mut token = Token::new(cached);
    let mut tok = token.get(app).await?;
    let mut made_calls = Vec::new();
    let mut result = Err(AppError::Upstream("no call was made".into()));
    for attempt in 0..2 {
        let now = app.now();
        let made = match ledger.may_call(endpoint, now) {
            Ok(()) => make(app, endpoint, req, &tok, now).await,
            Err(e) => Err(e),
        };
        let made = match made {
            Ok(m) => m,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let mut call = made.call;
        ledger.record(&call);
        result = read_answer(endpoint, made.answer);
        call.succeeded = result.is_ok();
        made_calls.push(call);
        let token_refused =
            matches!(&result, Err(AppError::WeChat(e)) if e.class() == ErrorClass::RefreshToken);
        if !(token_refused && attempt == 0) {
            break;
        }
        tok = token.rejected(app, &tok).await?;
    }
    let also = match &result {
        Ok(reply) => also(reply)?,
        Err(_) => Vec::new(),
    };
    // Only mass calls go in the ledger (the pacer's 60 a minute); what goes with a reply is
    // committed either way.
    if !mass {
        made_calls.clear();
    }
    record(app, endpoint, &made_calls, also).await?;
    result
}

/// Core's typed reply to an admin call, or why there is none.
fn read_answer(
    endpoint: EndpointName,
    answer: Result<Exchange, NoAnswer>,
) -> Result<AnyReply, AppError> {
    match answer {
        Err(NoAnswer(e)) => Err(AppError::Upstream(format!(
            "WeChat did not answer {}: {e}",
            endpoint.path()
        ))),
        Ok(ex) if ex.status != 200 => Err(AppError::Upstream(format!(
            "HTTP {} from {}",
            ex.status,
            endpoint.path()
        ))),
        Ok(ex) => match parse_any_reply(endpoint, &ex.body) {
            Ok(reply) => Ok(reply),
            Err(ReplyError::Api(e)) => Err(AppError::WeChat(e)),
            Err(e) => Err(AppError::Upstream(format!(
                "unreadable answer from {}: {e}",
                endpoint.path()
            ))),
        },
    }
}

/// Writes an admin call's mass calls in the ledger, with what goes with a successful reply
/// (`also`: a read's answer kept, a cached answer forgotten, an upload's media row), in one
/// commit. WeChat has acted,
/// so its answer goes back even if the rows cannot be written.
async fn record(
    app: &Ctx,
    endpoint: EndpointName,
    made_calls: &[NewCall],
    also: Vec<D1PreparedStatement>,
) -> Result<(), AppError> {
    if made_calls.is_empty() && also.is_empty() {
        return Ok(());
    }
    let mut stmts = made_calls
        .iter()
        .map(|c| app.store.insert_call(c))
        .collect::<Result<Vec<_>, _>>()?;
    stmts.extend(also);
    if let Err(e) = app.store.commit(stmts).await {
        worker::console_error!(
            "recording a {} call in the ledger failed: {e:?}",
            endpoint.as_str()
        );
    }
    Ok(())
}
