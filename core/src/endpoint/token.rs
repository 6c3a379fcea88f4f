//! `POST cgi-bin/stable_token`: the access_token every other call needs.
//!
//! stable_token is preferred over `cgi-bin/token` because it does not invalidate the tokens other
//! holders of the same AppID are using. A token lives `expires_in` seconds (7200); refresh early
//! and, on 40001/42001/40014, refresh once and retry (see [`crate::ErrorClass::RefreshToken`]).

use serde::{Deserialize, Serialize};

use super::EndpointName;
use crate::http::Method;
use crate::json_input::{wire, Obj};
use crate::limits::{PATH_STABLE_TOKEN, TOKEN_REFRESH_MARGIN_SECS};
use crate::validate::{require_text, Problems};

/// Ask for a stable access_token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StableTokenRequest {
    /// Always `client_credential`.
    pub grant_type: String,
    /// The account's AppID.
    pub appid: String,
    /// The account's AppSecret.
    pub secret: String,
    /// `true` forces a new token (and ends the old one after a short grace period).
    pub force_refresh: bool,
}

/// Reply of the token endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct TokenReply {
    /// The token.
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
}

impl TokenReply {
    /// When a token received at `received_at_ms` (Unix milliseconds) with this `expires_in`
    /// should be refreshed: [`TOKEN_REFRESH_MARGIN_SECS`] early, but never before half its life
    /// (a short-lived token from a token service is still used).
    pub fn refresh_at_ms(received_at_ms: i64, expires_in_secs: i64) -> i64 {
        let life = expires_in_secs.max(0);
        let margin = TOKEN_REFRESH_MARGIN_SECS.min(life / 2);
        received_at_ms.saturating_add((life - margin).saturating_mul(1000))
    }
}

impl StableTokenRequest {
    /// A request for `appid`/`secret`.
    pub fn new(appid: impl Into<String>, secret: impl Into<String>, force_refresh: bool) -> Self {
        StableTokenRequest {
            grant_type: "client_credential".to_owned(),
            appid: appid.into(),
            secret: secret.into(),
            force_refresh,
        }
    }

    fn check(&self, p: &mut Problems) {
        require_text(p, "", "appid", &self.appid);
        require_text(p, "", "secret", &self.secret);
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let req = StableTokenRequest {
            grant_type: o
                .opt_string(wire!("grant_type"), p)
                .unwrap_or_else(|| "client_credential".to_owned()),
            appid: o.string(wire!("appid"), p),
            secret: o.string(wire!("secret"), p),
            force_refresh: o.opt_bool(wire!("force_refresh"), p).unwrap_or(false),
        };
        o.finish(p);
        Some(req)
    }
}

super::json_endpoint! {
    StableTokenRequest {
        NAME: EndpointName::StableToken,
        PATH: PATH_STABLE_TOKEN,
        METHOD: Method::Post,
        // Not a mass-send call: it never counts against the 60-a-minute limit.
        MASS: false,
        Reply: TokenReply,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refreshes_early_but_not_before_half_life() {
        assert_eq!(TokenReply::refresh_at_ms(0, 7200), (7200 - 300) * 1000);
        assert_eq!(TokenReply::refresh_at_ms(1_000, 60), 1_000 + 30_000);
        assert_eq!(TokenReply::refresh_at_ms(5, -1), 5);
    }
}
