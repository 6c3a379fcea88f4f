//! `GET /api/status`: how the worker is set up and how it is doing — the callback mode and
//! forwarding, stored pushes by state (`forward_failed` among them), when the access_token was
//! fetched (never the token), the account's mass calls of the last minute, the China day and
//! the China month, and core's quota rules against the month's successful sends: each rule's
//! limit, what is used and left, and the sends themselves (`ledger`, core's `SentRecord`s, which
//! the npm package's `planSend(…).summary({ ledger })` reads), and the configuration problems
//! an operator must put right (`configuration`: a master-key variable set but not a key, named,
//! never shown). One read of four queries.

use serde_json::{json, Map, Value};
use worker::Response;
use wxmass::callback::SecurityMode;
use wxmass::plan::{quota_usage, UnixMillis};

use super::reply;
use crate::calls::Ledger;
use crate::ctx::Ctx;
use crate::error::AppError;

pub async fn get(app: &Ctx) -> Result<Response, AppError> {
    let now = app.now();
    let t = UnixMillis(now);
    let read = app
        .store
        .read_status(now - 60_000, t.china_day_start().0, t.china_month_start().0)
        .await?;
    let account = app.acct()?;
    let has_key = account.secrets.encoding_aes_key.is_some();
    let mode = account
        .callback_mode
        .unwrap_or_else(|| SecurityMode::default_for(has_key));
    let events: Map<String, Value> = read
        .events_by_state
        .iter()
        .map(|c| (c.state.clone(), json!(c.n)))
        .collect();
    let forward_failed = read
        .events_by_state
        .iter()
        .find(|c| c.state == "forward_failed")
        .map_or(0, |c| c.n);
    let c = &read.calls;
    // A master key set but unusable is the deployment's configuration error: named here, for
    // every account's status, though only the accounts it seals are affected.
    let configuration: Vec<Value> = crate::secrets::Keys::from_env(&app.env)
        .await
        .problems()
        .into_iter()
        .map(|p| json!({ "variable": p.variable, "problem": p.problem }))
        .collect();
    let ledger = Ledger::new(&[], &read.month_sends);
    reply(
        200,
        &json!({
            "account": { "id": account.id, "appId": account.app_id },
            "accountKind": account.kind.as_str(),
            "callback": {
                "mode": mode.as_str(),
                "forwarding": account.secrets.forward_url.is_some(),
                "forwardAll": app.cfg.forward_all,
                "storeAllPushes": app.cfg.store_all_pushes,
                "eventRetentionDays": app.cfg.event_retention_days,
                "forwardFailed": forward_failed,
            },
            "events": events,
            "token": {
                "fetchedAt": read.token_fetched_at,
                "ageMs": read.token_fetched_at.map(|at| now - at),
                "refreshAt": read.token_refresh_at,
            },
            "calls": {
                "lastMinute": c.last_minute,
                "sendsToday": c.sends_today,
                "sendsThisMonth": c.sends_this_month,
                "toAllToday": c.to_all_today,
                "toAllThisMonth": c.to_all_this_month,
            },
            "quota": quota_usage(account.kind, ledger.sends(), t),
            "ledger": ledger.sends(),
            "configuration": configuration,
        }),
    )
}
