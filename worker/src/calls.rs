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

use wxmass::endpoint::{parse_any_reply, AnyReply, EndpointName};
use wxmass::plan::{Pacer, SendKind, SentRecord, UnixMillis};
use wxmass::{ErrorClass, HttpRequest, ReplyError};

use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::{CallRow, NewCall};
use crate::token::Token;
use crate::wechat::{Exchange, NoAnswer};

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
    let call = NewCall {
        at: now,
        endpoint: endpoint.as_str(),
        batch_id: None,
        to_all: false,
        succeeded: false,
        answered: answer.is_ok(),
    };
    Ok(Made { answer, call })
}

/// A call for the admin API: read the token and the ledger, call (refreshing a rejected token
/// once), commit the ledger rows, and hand back core's typed reply.
pub async fn admin_call(
    app: &Ctx,
    endpoint: EndpointName,
    req: &HttpRequest,
) -> Result<AnyReply, AppError> {
    let mass = endpoint.is_mass_endpoint();
    let (cached, recent) = if mass {
        app.store.read_for_call().await?
    } else {
        (app.store.read_token().await?, Vec::new())
    };
    let mut ledger = Ledger::new(&recent, &[]);
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
    if mass {
        record(app, endpoint, &made_calls).await?;
    }
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

/// Writes an admin call's mass calls in the ledger. WeChat has acted, so its answer goes back
/// even if the rows cannot be written.
async fn record(app: &Ctx, endpoint: EndpointName, made_calls: &[NewCall]) -> Result<(), AppError> {
    if made_calls.is_empty() {
        return Ok(());
    }
    let stmts = made_calls
        .iter()
        .map(|c| app.store.insert_call(c))
        .collect::<Result<Vec<_>, _>>()?;
    if let Err(e) = app.store.commit(stmts).await {
        worker::console_error!(
            "recording a {} call in the ledger failed: {e:?}",
            endpoint.as_str()
        );
    }
    Ok(())
}
