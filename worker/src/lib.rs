//! # wxmass-worker — WeChat mass sending at the edge
//!
//! A Cloudflare Worker (workers-rs) that is only a transport over the `wxmass` core: every
//! WeChat rule (field names, limits, signatures, batching, clientmsgids, quotas, retry
//! decisions) comes from core; this crate moves bytes between HTTP, D1 and WeChat.
//!
//! | route | what | file |
//! |---|---|---|
//! | `GET  /wechat/callback` | URL verification (echo `echostr`) | `callback.rs` |
//! | `POST /wechat/callback` | pushes in plain, compatible or safe mode; MASSSENDJOBFINISH recorded once | `callback.rs` |
//! | `POST /api/media/uploadimg` | multipart image → uploadimg | `admin/media.rs` |
//! | `POST /api/media/uploadnews`, `/api/media/uploadvideo` | JSON → uploadnews / uploadvideo | `admin/media.rs` |
//! | `POST /api/jobs` | create a job (`Idempotency-Key` makes it safe to retry) | `admin/jobs.rs` |
//! | `GET  /api/jobs`, `GET /api/jobs/{id}` | list jobs, one job with batches and results | `admin/jobs.rs` |
//! | `POST /api/jobs/{id}/cancel` | cancel the batches not yet sent | `admin/jobs.rs` |
//! | `POST /api/messages/delete`, `/api/messages/preview` | mass/delete, mass/preview | `admin/messages.rs` |
//! | `GET  /api/messages/{msg_id}` | mass/get (status) | `admin/messages.rs` |
//! | `GET/POST /api/speed` | speed/get, speed/set | `admin/messages.rs` |
//! | `GET  /api/events` | the latest pushes | `admin/jobs.rs` |
//! | cron | claim due batches, send, follow core's decisions | `cron.rs` |
//!
//! Every `/api` route needs `Authorization: Bearer <ADMIN_TOKEN>`; errors are
//! `{ "error": { "code", "message", "path" } }` (see `error.rs`).

use serde_json::Value;
use worker::{
    event, Context, D1Database, Date, Env, Method, Request, Response, ScheduleContext,
    ScheduledEvent,
};
use wxmass::plan::AccountKind;
use wxmass::ApiBase;

mod admin;
mod callback;
mod cron;
mod error;
mod store;
mod token;
mod wechat;

use error::AppError;

/// Largest admin JSON body: a job of 25,000+ OpenIDs is about 800 KB.
pub(crate) const MAX_ADMIN_BODY_BYTES: usize = 4 * 1024 * 1024;

/// Settings read from the environment on each request.
pub(crate) struct Config {
    pub base: ApiBase,
    pub app_id: String,
    pub account: AccountKind,
    /// An operator's token service, instead of calling stable_token.
    pub token_url: Option<String>,
    /// `TEST_CLOCK=1`: the cron's clock can be moved forward through `/api/test/clock` (local
    /// tests only; a retry WeChat wants a minute later need not take a minute).
    pub test_clock: bool,
}

/// What every handler needs.
pub(crate) struct Ctx {
    pub env: Env,
    pub db: D1Database,
    pub cfg: Config,
}

fn var(env: &Env, name: &str) -> Option<String> {
    env.var(name)
        .ok()
        .map(|v| v.to_string())
        .filter(|v| !v.is_empty())
}

/// A secret (`wrangler secret put`), or a var of the same name in local development.
pub(crate) fn secret(env: &Env, name: &str) -> Result<String, AppError> {
    env.secret(name)
        .ok()
        .map(|v| v.to_string())
        .or_else(|| var(env, name))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            AppError::Config(format!(
                "secret {name} is not set (wrangler secret put {name})"
            ))
        })
}

impl Ctx {
    fn new(env: Env) -> Result<Ctx, AppError> {
        let base = match var(&env, "WECHAT_API_BASE") {
            Some(url) => ApiBase::parse(&url).map_err(|e| AppError::Config(e.to_string()))?,
            None => ApiBase::default(),
        };
        let account = match var(&env, "ACCOUNT_KIND").as_deref() {
            None | Some("service") => AccountKind::Service,
            Some("subscription") => AccountKind::Subscription,
            Some(other) => {
                return Err(AppError::Config(format!(
                    "ACCOUNT_KIND must be service or subscription, not {other:?}"
                )))
            }
        };
        let cfg = Config {
            base,
            app_id: var(&env, "APP_ID")
                .ok_or_else(|| AppError::Config("APP_ID is not set".into()))?,
            account,
            token_url: var(&env, "TOKEN_URL"),
            test_clock: var(&env, "TEST_CLOCK").as_deref() == Some("1"),
        };
        let db = env.d1("DB")?;
        Ok(Ctx { env, db, cfg })
    }

    /// Now, in ms: the runtime's clock, plus the test offset when `TEST_CLOCK=1`.
    pub async fn now(&self) -> i64 {
        let real = Date::now().as_millis() as i64;
        if !self.cfg.test_clock {
            return real;
        }
        match store::kv_get(&self.db, "test_clock_offset_ms").await {
            Ok(Some(row)) => real + row.value.parse::<i64>().unwrap_or(0),
            _ => real,
        }
    }
}

/// 32 random bits (retry jitter, ids).
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    // The runtime's crypto.getRandomValues; it does not fail in Workers.
    let _ = getrandom::getrandom(&mut b);
    b
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    let app = match Ctx::new(env) {
        Ok(app) => app,
        Err(e) => return e.into_response(),
    };
    match route(req, app, ctx).await {
        Ok(resp) => Ok(resp),
        Err(e) => e.into_response(),
    }
}

/// The route table.
async fn route(mut req: Request, app: Ctx, ctx: Context) -> Result<Response, AppError> {
    let path = req.path();
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let method = req.method();
    if let ["wechat", "callback"] = segments.as_slice() {
        return match method {
            Method::Get => callback::verify(&req, &app),
            Method::Post => callback::receive(req, app, ctx).await,
            _ => Err(AppError::NotFound(format!("{method} {path}"))),
        };
    }
    if segments.first() != Some(&"api") {
        return Err(AppError::NotFound(format!("no route {method} {path}")));
    }
    admin::authorize(&req, &app)?;
    let app = &app;
    match (method, &segments[1..]) {
        (Method::Post, ["media", "uploadimg"]) => admin::media::upload_img(req, app).await,
        (Method::Post, ["media", "uploadnews"]) => {
            admin::media::upload_news(json(&mut req).await?, app).await
        }
        (Method::Post, ["media", "uploadvideo"]) => {
            admin::media::upload_video(json(&mut req).await?, app).await
        }
        (Method::Post, ["jobs"]) => {
            let key = req.headers().get("idempotency-key")?;
            admin::jobs::create(json(&mut req).await?, key, app).await
        }
        (Method::Get, ["jobs"]) => admin::jobs::list(app).await,
        (Method::Get, ["jobs", id]) => admin::jobs::get(id, app).await,
        (Method::Post, ["jobs", id, "cancel"]) => admin::jobs::cancel(id, app).await,
        (Method::Get, ["events"]) => admin::jobs::events(app).await,
        (Method::Post, ["messages", "delete"]) => {
            admin::messages::delete(json(&mut req).await?, app).await
        }
        (Method::Post, ["messages", "preview"]) => {
            admin::messages::preview(json(&mut req).await?, app).await
        }
        (Method::Get, ["messages", msg_id]) => admin::messages::status(msg_id, app).await,
        (Method::Get, ["speed"]) => admin::messages::speed_get(app).await,
        (Method::Post, ["speed"]) => admin::messages::speed_set(json(&mut req).await?, app).await,
        (Method::Post, ["test", "clock"]) if app.cfg.test_clock => {
            admin::test_clock(json(&mut req).await?, app).await
        }
        (method, _) => Err(AppError::NotFound(format!("no route {method} {path}"))),
    }
}

/// Reads a JSON body of at most [`MAX_ADMIN_BODY_BYTES`].
async fn json(req: &mut Request) -> Result<Value, AppError> {
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
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Default::default()));
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| AppError::bad("json", "", format!("the body is not JSON: {e}")))
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    match Ctx::new(env) {
        Ok(app) => {
            if let Err(e) = cron::run(&app).await {
                worker::console_error!("cron run failed: {e:?}");
            }
        }
        Err(e) => worker::console_error!("cron: {e:?}"),
    }
}
