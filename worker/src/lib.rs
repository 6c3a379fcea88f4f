//! # wxmass-worker — WeChat mass sending at the edge
//!
//! A Cloudflare Worker (workers-rs) that is only a shell over the `wxmass` core: every WeChat
//! rule (field names, limits, signatures, batching, clientmsgids, quotas, retry decisions) comes
//! from core. Every handler and every cron step has the same shape: read what it needs from D1
//! in one round trip, let core decide, write the outcome in one guarded commit.
//!
//! | route | what | file |
//! |---|---|---|
//! | `GET  /wechat/callback` | URL verification (echo `echostr`) | `callback.rs` |
//! | `POST /wechat/callback` | pushes: results stored, then `success`; the rest forwarded | `callback.rs` |
//! | `POST /api/jobs`, `GET /api/jobs`, `GET /api/jobs/{id}`, `POST /api/jobs/{id}/cancel` | jobs | `admin/jobs.rs` |
//! | `POST /api/audiences`, `…/{id}/openids?part=N`, `…/{id}/seal`; `GET/DELETE /api/audiences/{id}` | audiences uploaded in parts, or collected from WeChat (a tag's followers, every follower) by the cron | `admin/audiences.rs`, `collect.rs` |
//! | `GET  /api/events` | stored pushes | `admin/events.rs` |
//! | `GET  /api/status` | callback mode, forwarding, pushes by state, token age, calls | `admin/status.rs` |
//! | `POST /api/media/uploadimg`, `/uploadnews`, `/uploadvideo`, `/upload?type=`; `POST /api/material?type=` | media made (recorded in `media`) | `admin/media.rs` |
//! | `GET /api/material?type=`, `/api/material/count`, `/api/tags` | materials and tags, read through the cache | `admin/material.rs` |
//! | `POST /api/messages/delete`, `/preview`; `GET /api/messages/{msg_id}`; `GET/POST /api/speed` | sent messages, speed | `admin/messages.rs` |
//! | `/api/accounts/{id}/…`, `/wechat/callback/{id}` | the routes above, for account `id` | `account.rs` |
//! | `GET/POST /api/accounts`, `GET/PATCH /api/accounts/{id}`, `POST /api/master-key/rotate` | accounts, sealed secrets | `admin/accounts.rs`, `secrets.rs` |
//! | `GET/POST /api/tokens`, `DELETE /api/tokens/{id}` | scoped admin tokens | `admin/tokens.rs` |
//! | cron | due batches, overdue results, then audiences collecting from WeChat, every account in turn | `cron.rs`, `collect.rs` |
//!
//! ## Layers
//!
//! The files read top-down: each imports only files below it, so there is no circle (checked
//! by `worker/tests/layers.rs`, which reads this list; `store/mod.rs` and `admin/mod.rs` list
//! their own files the same way).
//!
//! 1. `lib.rs`: the route table (`Route`) and the `#[event]` entry points, nothing else
//! 2. `admin/`: the admin API, a file per resource
//! 3. `cron.rs`: the cron run, account after account
//! 4. `callback.rs`, `collect.rs`: `/wechat/callback` (the cron applies early results the same
//!    way); audiences collected from WeChat a page at a time, and the seal of every audience
//! 5. `calls.rs`: every WeChat call goes through it: pacing and the call ledger
//! 6. `token.rs`: the access_token, cached in D1 behind a refresh lock
//! 7. `ctx.rs`: `Ctx`, what every handler needs for one invocation
//! 8. `account.rs`: the official account a request acts for, its secrets opened
//! 9. `store/`: all SQL, a file per table, beside its typed rows
//! 10. `secrets.rs`: account secrets sealed at rest (Web Crypto)
//! 11. `wechat.rs`: the transport to WeChat and to the account's own server: bytes only
//! 12. `config.rs`: `[vars]` and secrets
//! 13. `budget.rs`: D1 queries and subrequests per invocation
//! 14. `error.rs`: `AppError`, and how each becomes an answer
//! 15. `random.rs`: random bytes from the runtime

use serde_json::{json, Value};
use worker::{event, Context, Env, Method, Request, Response, ScheduleContext, ScheduledEvent};

mod account;
mod admin;
mod budget;
mod callback;
mod calls;
mod collect;
mod config;
mod cron;
mod ctx;
mod error;
mod random;
mod secrets;
mod store;
mod token;
mod wechat;

use account::Account;
use admin::{Action, Principal, Role};
use config::{Config, DEFAULT_ACCOUNT};
use ctx::Ctx;
use error::AppError;

/// Largest admin JSON body: a job of 25,000+ OpenIDs is about 800 KB.
const MAX_ADMIN_BODY_BYTES: usize = 4 * 1024 * 1024;

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    let app = match Ctx::new(env).await {
        Ok(app) => app,
        Err(e) => return e.into_response(),
    };
    let mut resp = match route(req, &app).await {
        Ok(resp) => resp,
        Err(e) => e.into_response()?,
    };
    if app.cfg.test_counters {
        let h = resp.headers_mut();
        h.set("x-wxmass-d1-queries", &app.budget.queries().to_string())?;
        h.set(
            "x-wxmass-subrequests",
            &app.budget.subrequests().to_string(),
        )?;
    }
    Ok(resp)
}

/// The routes: a path, then the methods it takes (another method answers 405 with `Allow`).
enum Route<'a> {
    Callback,
    Jobs,
    Job(&'a str),
    JobCancel(&'a str),
    Events,
    UploadImg,
    UploadNews,
    UploadVideo,
    MediaUpload,
    Material,
    MaterialCount,
    Tags,
    MessageDelete,
    MessagePreview,
    MessageStatus(&'a str),
    Speed,
    Status,
    Audiences,
    Audience(&'a str),
    AudienceParts(&'a str),
    AudienceSeal(&'a str),
    Accounts,
    Account(&'a str),
    RotateMasterKey,
    Tokens,
    Token(&'a str),
    TestClock,
    TestLastCron,
}

impl<'a> Route<'a> {
    /// The route of a path, and the account it names: `/api/accounts/{id}/<route>` and
    /// `/wechat/callback/{id}` are account `id`'s, the same paths without it the default
    /// account's; the routes that manage accounts and tokens are no account's.
    fn find(segments: &[&'a str], cfg: &Config) -> Option<(Route<'a>, Option<&'a str>)> {
        match segments {
            ["wechat", "callback", id] => return Some((Route::Callback, Some(id))),
            ["api", "accounts"] => return Some((Route::Accounts, None)),
            ["api", "accounts", id] => return Some((Route::Account(id), None)),
            ["api", "master-key", "rotate"] => return Some((Route::RotateMasterKey, None)),
            ["api", "tokens"] => return Some((Route::Tokens, None)),
            ["api", "tokens", id] => return Some((Route::Token(id), None)),
            ["__test", "last-cron"] if cfg.test_counters => {
                return Some((Route::TestLastCron, None))
            }
            ["api", "accounts", id, rest @ ..] => {
                let mut inner = vec!["api"];
                inner.extend_from_slice(rest);
                return Route::for_account(&inner, cfg).map(|r| (r, Some(*id)));
            }
            _ => {}
        }
        Route::for_account(segments, cfg).map(|r| (r, Some(DEFAULT_ACCOUNT)))
    }

    /// The routes that act for one account.
    fn for_account(segments: &[&'a str], cfg: &Config) -> Option<Route<'a>> {
        Some(match segments {
            ["wechat", "callback"] => Route::Callback,
            ["api", "jobs"] => Route::Jobs,
            ["api", "jobs", id] => Route::Job(id),
            ["api", "jobs", id, "cancel"] => Route::JobCancel(id),
            ["api", "events"] => Route::Events,
            ["api", "media", "uploadimg"] => Route::UploadImg,
            ["api", "media", "uploadnews"] => Route::UploadNews,
            ["api", "media", "uploadvideo"] => Route::UploadVideo,
            ["api", "media", "upload"] => Route::MediaUpload,
            ["api", "material"] => Route::Material,
            ["api", "material", "count"] => Route::MaterialCount,
            ["api", "tags"] => Route::Tags,
            ["api", "messages", "delete"] => Route::MessageDelete,
            ["api", "messages", "preview"] => Route::MessagePreview,
            ["api", "messages", msg_id] => Route::MessageStatus(msg_id),
            ["api", "speed"] => Route::Speed,
            ["api", "status"] => Route::Status,
            ["api", "audiences"] => Route::Audiences,
            ["api", "audiences", id] => Route::Audience(id),
            ["api", "audiences", id, "openids"] => Route::AudienceParts(id),
            ["api", "audiences", id, "seal"] => Route::AudienceSeal(id),
            ["api", "test", "clock"] if cfg.test_clock => Route::TestClock,
            _ => return None,
        })
    }

    fn methods(&self) -> &'static [Method] {
        match self {
            Route::Callback
            | Route::Jobs
            | Route::Speed
            | Route::Accounts
            | Route::Tokens
            | Route::Material => &[Method::Get, Method::Post],
            Route::Audience(_) => &[Method::Get, Method::Delete],
            Route::Account(_) => &[Method::Get, Method::Patch],
            Route::Token(_) => &[Method::Delete],
            Route::Job(_)
            | Route::Events
            | Route::MessageStatus(_)
            | Route::Status
            | Route::MaterialCount
            | Route::Tags
            | Route::TestLastCron => &[Method::Get],
            _ => &[Method::Post],
        }
    }

    fn is_admin(&self) -> bool {
        !matches!(self, Route::Callback | Route::TestLastCron)
    }

    /// What the caller must be allowed, for the route's account (`None`: the routes that manage
    /// accounts and tokens, whose handlers check what their body asks for on top).
    fn action(&self, method: &Method, account: Option<&'a str>) -> Action<'a> {
        let need = match self {
            Route::Speed if *method == Method::Post => Role::Admin,
            _ if *method == Method::Get => Role::Viewer,
            _ => Role::Operator,
        };
        match (self, account) {
            // The test clock moves every account's time; the master key seals every account.
            (Route::TestClock | Route::RotateMasterKey, _) => Action::Deployment,
            (Route::Accounts, _) if *method == Method::Post => Action::Deployment,
            (Route::Account(id), _) => Action::OnAccount {
                need: Role::Admin,
                account: id,
            },
            (Route::Accounts | Route::Tokens | Route::Token(_), _) => Action::ListAsAdmin,
            (_, Some(account)) => Action::OnAccount { need, account },
            // Every other route names its account; one that did not would act for none.
            (_, None) => Action::Deployment,
        }
    }
}

/// Finds the route, checks the method and the caller, and chooses the account it acts for.
async fn route(req: Request, base: &Ctx) -> Result<Response, AppError> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method();
    let Some((route, account_id)) = Route::find(&segments, &base.cfg) else {
        return Err(AppError::NotFound(format!("no route {method} {path}")));
    };
    if !route.methods().contains(&method) {
        let allow: Vec<String> = route.methods().iter().map(|m| m.to_string()).collect();
        return Err(AppError::MethodNotAllowed {
            method: method.to_string(),
            allow: allow.join(", "),
        });
    }
    let who = if route.is_admin() {
        let who = admin::authorize(&req, base).await?;
        who.require(route.action(&method, account_id))?;
        Some(who)
    } else {
        None
    };
    // The account the route acts for, loaded (its secrets opened) only once the caller may.
    let scoped;
    let app = match account_id {
        Some(id) => {
            scoped = base.with_account(Account::load(id, &base.env, &base.store).await?);
            &scoped
        }
        None => base,
    };
    dispatch(route, method, req, app, &who).await
}

/// Hands the request to its handler.
async fn dispatch(
    route: Route<'_>,
    method: Method,
    mut req: Request,
    app: &Ctx,
    who: &Option<Principal>,
) -> Result<Response, AppError> {
    match (route, method) {
        (Route::Callback, Method::Get) => callback::verify(&req, app),
        (Route::Callback, _) => callback::receive(req, app).await,
        (Route::Jobs, Method::Get) => admin::jobs::list(&req, app).await,
        (Route::Jobs, _) => {
            let key = req.headers().get("idempotency-key")?;
            let body = json(&mut req).await?;
            admin::jobs::create(body, key, app, caller(who)?).await
        }
        (Route::Job(id), _) => admin::jobs::get(id, app).await,
        (Route::JobCancel(id), _) => admin::jobs::cancel(id, app).await,
        (Route::Events, _) => admin::events::list(&req, app).await,
        (Route::UploadImg, _) => admin::media::upload_img(req, app).await,
        (Route::UploadNews, _) => admin::media::upload_news(json(&mut req).await?, app).await,
        (Route::UploadVideo, _) => admin::media::upload_video(json(&mut req).await?, app).await,
        (Route::MediaUpload, _) => admin::media::upload_temporary(req, app).await,
        (Route::Material, Method::Get) => admin::material::list(&req, app).await,
        (Route::Material, _) => admin::media::add_material(req, app).await,
        (Route::MaterialCount, _) => admin::material::count(app).await,
        (Route::Tags, _) => admin::material::tags(app).await,
        (Route::MessageDelete, _) => admin::messages::delete(json(&mut req).await?, app).await,
        (Route::MessagePreview, _) => admin::messages::preview(json(&mut req).await?, app).await,
        (Route::MessageStatus(msg_id), _) => admin::messages::status(msg_id, app).await,
        (Route::Speed, Method::Get) => admin::messages::speed_get(app).await,
        (Route::Speed, _) => admin::messages::speed_set(json(&mut req).await?, app).await,
        (Route::Status, _) => admin::status::get(app).await,
        (Route::Audiences, _) => admin::audiences::create(json(&mut req).await?, app).await,
        (Route::Audience(id), Method::Get) => admin::audiences::get(id, app).await,
        (Route::Audience(id), _) => admin::audiences::delete(id, app).await,
        (Route::AudienceParts(id), _) => {
            let body = bytes(&mut req).await?;
            admin::audiences::add_part(&req, id, body, app).await
        }
        (Route::AudienceSeal(id), _) => admin::audiences::seal(id, app).await,
        (Route::Accounts, Method::Get) => admin::accounts::list(app, caller(who)?).await,
        (Route::Accounts, _) => admin::accounts::create(json(&mut req).await?, app).await,
        (Route::Account(id), Method::Get) => admin::accounts::get(id, app).await,
        (Route::Account(id), _) => {
            let body = json(&mut req).await?;
            admin::accounts::update(id, body, app, caller(who)?).await
        }
        (Route::RotateMasterKey, _) => admin::accounts::rotate(&req, app).await,
        (Route::Tokens, Method::Get) => admin::tokens::list(app, caller(who)?).await,
        (Route::Tokens, _) => {
            let body = json(&mut req).await?;
            admin::tokens::create(body, app, caller(who)?).await
        }
        (Route::Token(id), _) => admin::tokens::revoke(id, app, caller(who)?).await,
        (Route::TestClock, _) => admin::test_clock(json(&mut req).await?, app).await,
        (Route::TestLastCron, _) => last_cron_run(app).await,
    }
}

/// The caller of an admin route (authorized above).
fn caller(who: &Option<Principal>) -> Result<&Principal, AppError> {
    who.as_ref()
        .ok_or_else(|| AppError::Internal("an admin route without its caller".into()))
}

/// `GET /__test/last-cron` (`TEST_COUNTERS=1`): the last cron run's report and counters.
async fn last_cron_run(app: &Ctx) -> Result<Response, AppError> {
    let report = app.store.test_value(cron::LAST_RUN_KEY).await;
    let report: Value = report
        .and_then(|r| serde_json::from_str(&r).ok())
        .unwrap_or(Value::Null);
    admin::reply(200, &json!({ "lastRun": report }))
}

/// Reads a body of at most [`MAX_ADMIN_BODY_BYTES`].
async fn bytes(req: &mut Request) -> Result<Vec<u8>, AppError> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if declared > MAX_ADMIN_BODY_BYTES {
        return Err(AppError::TooLarge {
            limit: MAX_ADMIN_BODY_BYTES,
        });
    }
    let bytes = req.bytes().await?;
    if bytes.len() > MAX_ADMIN_BODY_BYTES {
        return Err(AppError::TooLarge {
            limit: MAX_ADMIN_BODY_BYTES,
        });
    }
    Ok(bytes)
}

/// Reads a JSON body of at most [`MAX_ADMIN_BODY_BYTES`].
async fn json(req: &mut Request) -> Result<Value, AppError> {
    let bytes = bytes(req).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad("json", "", format!("the body is not JSON: {e}")))
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    let app = match Ctx::new(env).await {
        Ok(app) => app,
        Err(e) => {
            worker::console_error!("cron: {e:?}");
            return;
        }
    };
    let report = cron::run(&app).await;
    worker::console_log!(
        "cron run: {report} ({} of {} D1 queries, {} of {} subrequests)",
        app.budget.queries(),
        app.budget.max_queries(),
        app.budget.subrequests(),
        app.budget.max_subrequests()
    );
    if app.cfg.test_counters {
        let mut v = report.to_json();
        v["d1Queries"] = json!(app.budget.queries());
        v["subrequests"] = json!(app.budget.subrequests());
        let _ = app
            .store
            .put_test_value(cron::LAST_RUN_KEY, &v.to_string())
            .await;
    }
}
