//! The access_token: from `stable_token` (which does not invalidate other holders' tokens) or an
//! operator's token service (`TOKEN_URL`), cached in D1 with its expiry. Many requests may need
//! a new token at once; a D1 lock lets one of them fetch it while the others wait for its row.

use std::time::Duration;

use worker::{Date, Delay};
use wxmass::endpoint::{StableTokenRequest, TokenReply};
use wxmass::http::{ApiBase, HttpRequest, Method};
use wxmass::Endpoint;

use crate::error::AppError;
use crate::{store, wechat, Ctx};

const TOKEN_KEY: &str = "access_token";
/// How long one refresher holds the lock before another may try.
const LOCK_MS: i64 = 10_000;
/// How long a waiter sleeps between looks at the row, and how many looks before giving up.
const WAIT_STEP_MS: u64 = 100;
const WAIT_STEPS: u32 = 100;

/// A valid token. `rejected`: WeChat just refused this token (40001/42001/40014), so do not
/// hand it out again; unless another request has already replaced it, fetch a new one.
pub async fn access_token(ctx: &Ctx, rejected: Option<&str>) -> Result<String, AppError> {
    for _ in 0..WAIT_STEPS {
        let now = Date::now().as_millis() as i64;
        if let Some(row) = store::kv_get(&ctx.db, TOKEN_KEY).await? {
            // The row keeps the time to refresh, not WeChat's expiry (see below).
            let fresh = !row.value.is_empty() && (row.expires_at as i64) > now;
            if fresh && Some(row.value.as_str()) != rejected {
                return Ok(row.value);
            }
        }
        if store::kv_lock(&ctx.db, TOKEN_KEY, now, now + LOCK_MS).await? {
            return match fetch(ctx).await {
                Ok(reply) => {
                    // Core's rule: refresh early so a token in flight does not die on the way,
                    // but not before half its life.
                    let refresh_at = TokenReply::refresh_at_ms(now, reply.expires_in);
                    store::kv_put(&ctx.db, TOKEN_KEY, &reply.access_token, refresh_at, now).await?;
                    Ok(reply.access_token)
                }
                Err(e) => {
                    store::kv_unlock(&ctx.db, TOKEN_KEY).await?;
                    Err(e)
                }
            };
        }
        Delay::from(Duration::from_millis(WAIT_STEP_MS)).await;
    }
    Err(AppError::Upstream(
        "timed out waiting for another request to refresh the access_token".into(),
    ))
}

async fn fetch(ctx: &Ctx) -> Result<TokenReply, AppError> {
    let req = match &ctx.cfg.token_url {
        // An operator's token service answers GET with core's TokenReply shape.
        Some(url) => {
            let base = ApiBase::parse(url).map_err(|e| AppError::Config(e.to_string()))?;
            HttpRequest {
                method: Method::Get,
                scheme: base.scheme,
                host: base.host,
                path: base.path_prefix,
                content_type: "application/json".into(),
                body: Vec::new(),
            }
        }
        None => {
            let secret = crate::secret(&ctx.env, "APP_SECRET")?;
            StableTokenRequest::new(ctx.cfg.app_id.clone(), secret, false)
                .build(&ctx.cfg.base)
                .map_err(AppError::Invalid)?
        }
    };
    let ex = wechat::send(&req, None).await.map_err(AppError::Upstream)?;
    if ex.status != 200 {
        return Err(AppError::Upstream(format!(
            "HTTP {} from the token source",
            ex.status
        )));
    }
    StableTokenRequest::parse_reply(&ex.body).map_err(|e| match e {
        wxmass::ReplyError::Api(api) => AppError::WeChat(api),
        other => AppError::Upstream(other.to_string()),
    })
}
