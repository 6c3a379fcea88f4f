//! The access_token: from `stable_token` (which does not invalidate other holders' tokens) or an
//! operator's token service (`TOKEN_URL`, called with `Authorization: Bearer <TOKEN_URL_SECRET>`),
//! cached in D1 with the time to refresh it, one row per account (`access_tokens`). The token is
//! a credential to the official account, so it is stored sealed like the account's other
//! secrets ([`crate::secrets::access_token_key`]); a cached token that does not open (the
//! account's secrets changed) is fetched again. Many requests may need a new token at once; the
//! row's lock lets one of them fetch it while the others look at the row again.
//!
//! A step reads the cached row with the rest of what it needs ([`Token::new`]); only a refresh
//! costs more (the lock and the store: two D1 queries and one subrequest).

use std::time::Duration;

use worker::Delay;
use wxmass::endpoint::{StableTokenRequest, TokenReply};
use wxmass::{ApiBase, Endpoint, ReplyError};

use crate::account::Secrets;
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::secrets::{access_token_key, MasterKey};
use crate::store::TokenRow;

/// How long one refresher holds the lock before another may try.
const LOCK_MS: i64 = 10_000;
/// A request that lost the lock looks at the row again this often, this many times.
const WAIT_STEP_MS: u64 = 250;
const WAIT_LOOKS: u32 = 8;
/// D1 queries and subrequests a refresh costs (lock + store; one fetch).
pub const REFRESH_QUERIES: u32 = 2;
pub const REFRESH_SUBREQUESTS: u32 = 1;

/// The token as one invocation knows it.
pub struct Token {
    cached: Option<TokenRow>,
    current: Option<String>,
    /// The token WeChat last refused: never handed out again.
    refused: Option<String>,
}

impl Token {
    /// From the cached row the step read (or none).
    pub fn new(cached: Option<TokenRow>) -> Self {
        Token {
            cached,
            current: None,
            refused: None,
        }
    }

    /// When the cached token is due for a refresh (`None`: none cached), for core's cron turn,
    /// which decides when to refresh by the same rule as [`Token::get`]; it then calls
    /// [`Token::reject`] and [`Token::get`].
    pub fn refresh_at(&self) -> Option<i64> {
        self.cached
            .as_ref()
            .filter(|r| !r.sealed.is_empty())
            .map(|r| r.refresh_at)
    }

    /// A token to call with: the cached one while fresh, otherwise a new one.
    pub async fn get(&mut self, app: &Ctx) -> Result<String, AppError> {
        if let Some(t) = &self.current {
            return Ok(t.clone());
        }
        let opened = match self.cached.take() {
            Some(row) if fresh(&row, app.now()) => open(app, &row).await,
            _ => None,
        };
        let t = match opened {
            Some(t) => t,
            None => refresh(app, self.refused.as_deref()).await?,
        };
        self.current = Some(t.clone());
        Ok(t)
    }

    /// WeChat just refused `token` (40001/42001/40014): a new one now, unless another request
    /// has already replaced it.
    pub async fn rejected(&mut self, app: &Ctx, token: &str) -> Result<String, AppError> {
        self.cached = None;
        self.current = None;
        let t = refresh(app, Some(token)).await?;
        self.current = Some(t.clone());
        Ok(t)
    }

    /// WeChat just refused the current token: the next [`Token::get`] fetches a new one,
    /// unless another request has already replaced it.
    pub fn reject(&mut self) {
        self.cached = None;
        self.refused = self.current.take();
    }
}

fn fresh(row: &TokenRow, now: i64) -> bool {
    // The row keeps the time to refresh, not WeChat's expiry (core's TokenReply::refresh_at_ms).
    !row.sealed.is_empty() && row.refresh_at > now
}

/// The account's key for its sealed token.
async fn key(app: &Ctx) -> Result<MasterKey, AppError> {
    let account = app.acct()?;
    let secrets = Secrets::NAMES.iter().map(|name| account.secrets.get(name));
    access_token_key(&account.id, secrets).await
}

/// The cached token, opened; `None` when it does not open (sealed under secrets the account no
/// longer has): then it is fetched again, as if it had expired.
async fn open(app: &Ctx, row: &TokenRow) -> Option<String> {
    let account = app.acct().ok()?;
    let key = key(app).await.ok()?;
    let plain = key.open(&account.id, &row.sealed).await.ok()?;
    String::from_utf8(plain).ok()
}

async fn refresh(app: &Ctx, rejected: Option<&str>) -> Result<String, AppError> {
    for _ in 0..WAIT_LOOKS {
        // The app's clock: with TEST_CLOCK=1 it moves with the simulator's, whose tokens expire
        // by that clock.
        let now = app.now();
        if app.store.lock_token(now, now + LOCK_MS).await? {
            return match fetch(app).await {
                Ok(reply) => {
                    let refresh_at = TokenReply::refresh_at_ms(now, reply.expires_in);
                    let sealed = key(app)
                        .await?
                        .seal(&app.acct()?.id, reply.access_token.as_bytes())
                        .await?;
                    app.store.put_token(&sealed, refresh_at, now).await?;
                    Ok(reply.access_token)
                }
                Err(e) => {
                    app.store.unlock_token().await?;
                    Err(e)
                }
            };
        }
        // Another request is fetching one: look at the row again shortly.
        Delay::from(Duration::from_millis(WAIT_STEP_MS)).await;
        if let Some(row) = app.store.read_token().await? {
            if fresh(&row, app.now()) {
                if let Some(t) = open(app, &row).await {
                    if Some(t.as_str()) != rejected {
                        return Ok(t);
                    }
                }
            }
        }
    }
    Err(AppError::Upstream(
        "timed out waiting for another request to refresh the access_token".into(),
    ))
}

async fn fetch(app: &Ctx) -> Result<TokenReply, AppError> {
    let account = app.acct()?;
    let (req, bearer) = match &account.token_url {
        // An operator's token service answers GET with core's TokenReply shape.
        Some(url) => {
            let base = ApiBase::parse(url).map_err(|e| AppError::Config(e.to_string()))?;
            (base.get_self(), account.secrets.token_url_secret.clone())
        }
        None => {
            let secret = account.secret("appSecret")?.to_owned();
            let req = StableTokenRequest::new(account.app_id.clone(), secret, false)
                .build(&account.base)
                .map_err(|e| {
                    AppError::Config(format!("account {}: AppID or AppSecret: {e}", account.id))
                })?;
            (req, None)
        }
    };
    let ex = app
        .wechat
        .send(&req, None, bearer.as_deref())
        .await?
        .map_err(|e| AppError::Upstream(format!("the token source did not answer: {}", e.0)))?;
    if ex.status != 200 {
        return Err(AppError::Upstream(format!(
            "the token source answered HTTP {}",
            ex.status
        )));
    }
    StableTokenRequest::parse_reply(&ex.body).map_err(|e| match e {
        ReplyError::Api(api) => AppError::WeChat(api),
        other => AppError::Upstream(format!("the token source's answer: {other}")),
    })
}
