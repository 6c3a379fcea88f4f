//! The request value every builder returns, and the configurable API base.
//!
//! Core never opens a connection: a builder yields an [`HttpRequest`] and the caller (the worker,
//! the npm client, your own code) adds `access_token` and sends it.

use crate::limits::{CONTENT_TYPE_JSON, DEFAULT_API_HOST, DEFAULT_API_SCHEME};

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `GET`
    Get,
    /// `POST`
    Post,
}

impl Method {
    /// The method as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// Where API calls go. Default `https://api.weixin.qq.com`; an operator behind WeChat's IP
/// whitelist points it at a fixed-IP proxy, optionally under a path prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase {
    /// `https` or `http` (a local simulator).
    pub scheme: String,
    /// Host, with `:port` when not the default.
    pub host: String,
    /// Prepended to every path, without a trailing slash (`""` or `/wechat`).
    pub path_prefix: String,
}

impl Default for ApiBase {
    fn default() -> Self {
        ApiBase {
            scheme: DEFAULT_API_SCHEME.to_owned(),
            host: DEFAULT_API_HOST.to_owned(),
            path_prefix: String::new(),
        }
    }
}

/// An API base URL that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid API base URL {url:?}: {reason}")]
pub struct ApiBaseError {
    /// The URL as given.
    pub url: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// A URL the worker calls with a credential or personal data (an API base or proxy, an
/// operator's token service, an account's own server for forwarded pushes), refused unless it is
/// safe to call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid URL {url:?}: {reason}")]
pub struct UrlError {
    /// The URL as given.
    pub url: String,
    /// The rule it breaks.
    pub reason: &'static str,
}

/// The parts of a URL that passed [`check_url`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckedUrl<'a> {
    /// `https`, or `http` for this machine only.
    pub scheme: &'a str,
    /// `user:password` before an `@`, if any.
    pub userinfo: Option<&'a str>,
    /// Host, with `:port` when given.
    pub host: &'a str,
    /// Everything after the host: path, query, fragment (may be empty).
    pub rest: &'a str,
}

/// Hosts that plain `http` may reach: this machine only (a local simulator or proxy), so an
/// access_token or a user's message never crosses a network unencrypted.
const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Checks a URL the worker will send a credential or personal data to: absolute, `https` (plain
/// `http` only for `localhost`, `127.0.0.1` or `[::1]`), with a host of letters, digits, `-`,
/// `.` and an optional port, and no spaces or control characters anywhere. So `javascript:`,
/// `data:`, relative URLs and words are refused.
pub fn check_url(url: &str) -> Result<CheckedUrl<'_>, UrlError> {
    let err = |reason| UrlError {
        url: url.to_owned(),
        reason,
    };
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(err("must not hold spaces or control characters"));
    }
    let (scheme, after) = url
        .split_once("://")
        .ok_or_else(|| err("must be an absolute URL: https://host/…"))?;
    let https = scheme.eq_ignore_ascii_case("https");
    if !https && !scheme.eq_ignore_ascii_case("http") {
        return Err(err(
            "the scheme must be https (http only for localhost or 127.0.0.1)",
        ));
    }
    let authority_end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(authority_end);
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    if host.is_empty() {
        return Err(err("the host is empty"));
    }
    let name = match host.strip_prefix('[') {
        // An IPv6 literal: `[…]` and an optional `:port`.
        Some(v6) => match v6.split_once(']') {
            Some((addr, port)) if port.is_empty() || port.starts_with(':') => {
                &host[..addr.len() + 2]
            }
            _ => return Err(err("an IPv6 host must be written [address]")),
        },
        None => host.split_once(':').map_or(host, |(name, _)| name),
    };
    let port = &host[name.len()..];
    let name_ok = match name.strip_prefix('[').and_then(|n| n.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        }
        None => {
            !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        }
    };
    let port_ok = port.is_empty()
        || port.len() > 1 && port.len() <= 6 && port[1..].bytes().all(|b| b.is_ascii_digit());
    if !name_ok || !port_ok {
        return Err(err(
            "the host may hold only letters, digits, '-' and '.', and a :port",
        ));
    }
    if !https && !LOOPBACK_HOSTS.iter().any(|h| name.eq_ignore_ascii_case(h)) {
        return Err(err(
            "plain http is allowed only for localhost or 127.0.0.1; use https",
        ));
    }
    Ok(CheckedUrl {
        scheme,
        userinfo,
        host,
        rest,
    })
}

impl ApiBase {
    /// Reads `https://host[:port][/prefix]` (`http://` only for a local simulator or proxy on
    /// this machine), by the rules of [`check_url`], with no credentials, query or fragment.
    pub fn parse(url: &str) -> Result<Self, ApiBaseError> {
        let checked = check_url(url).map_err(|e| ApiBaseError {
            url: e.url,
            reason: e.reason,
        })?;
        if checked.userinfo.is_some() || checked.rest.contains(['?', '#']) {
            return Err(ApiBaseError {
                url: url.to_owned(),
                reason: "must not hold a query, fragment, credentials or spaces",
            });
        }
        Ok(ApiBase {
            scheme: checked.scheme.to_ascii_lowercase(),
            host: checked.host.to_owned(),
            path_prefix: checked.rest.trim_end_matches('/').to_owned(),
        })
    }

    /// The base as a URL without a trailing slash.
    pub fn url(&self) -> String {
        format!("{}://{}{}", self.scheme, self.host, self.path_prefix)
    }

    /// A `GET` of the base URL itself: an operator's token service (`TOKEN_URL`) answers it
    /// with a token reply, and is configured as a base like the API.
    pub fn get_self(&self) -> HttpRequest {
        self.request(Method::Get, "", CONTENT_TYPE_JSON, Vec::new())
    }

    pub(crate) fn request(
        &self,
        method: Method,
        path: &str,
        content_type: impl Into<String>,
        body: Vec<u8>,
    ) -> HttpRequest {
        HttpRequest {
            method,
            scheme: self.scheme.clone(),
            host: self.host.clone(),
            path: format!("{}{}", self.path_prefix, path),
            query: String::new(),
            content_type: content_type.into(),
            body,
        }
    }
}

/// A request ready to send, but for the `access_token` query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// HTTP method.
    pub method: Method,
    /// `https` or `http`.
    pub scheme: String,
    /// Host (with port if any).
    pub host: String,
    /// Path, including the base's prefix; no query.
    pub path: String,
    /// The endpoint's own query parameters, percent-encoded and joined (`type=image`,
    /// `next_openid=…`), without the `?`; empty for most endpoints. The caller's token is added
    /// after it ([`HttpRequest::url_with_token`]).
    pub query: String,
    /// `Content-Type` header value.
    pub content_type: String,
    /// The body bytes (JSON or multipart).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The URL with the endpoint's own query (if any) but without a token.
    pub fn url(&self) -> String {
        if self.query.is_empty() {
            format!("{}://{}{}", self.scheme, self.host, self.path)
        } else {
            format!(
                "{}://{}{}?{}",
                self.scheme, self.host, self.path, self.query
            )
        }
    }

    /// The URL with `access_token=…` added to its query (the token is percent-encoded).
    pub fn url_with_token(&self, access_token: &str) -> String {
        let separator = if self.query.is_empty() { '?' } else { '&' };
        format!(
            "{}{separator}access_token={}",
            self.url(),
            percent_encode_query(access_token)
        )
    }

    /// This request with `name=value` added to its query (both percent-encoded).
    pub(crate) fn with_query_param(mut self, name: &str, value: &str) -> Self {
        if !self.query.is_empty() {
            self.query.push('&');
        }
        self.query.push_str(&percent_encode_query(name));
        self.query.push('=');
        self.query.push_str(&percent_encode_query(value));
        self
    }

    /// The body as text (JSON bodies are always UTF-8; multipart may not be).
    pub fn body_text(&self) -> Option<&str> {
        std::str::from_utf8(&self.body).ok()
    }
}

/// Percent-encodes a query value: unreserved characters stay, everything else is `%XX`.
pub fn percent_encode_query(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxy_base_with_prefix() {
        let b = ApiBase::parse("https://proxy.example.com:8443/wx/").unwrap();
        assert_eq!(b.host, "proxy.example.com:8443");
        assert_eq!(b.path_prefix, "/wx");
        assert_eq!(b.url(), "https://proxy.example.com:8443/wx");
    }

    #[test]
    fn rejects_bad_bases() {
        assert!(ApiBase::parse("api.weixin.qq.com").is_err());
        assert!(ApiBase::parse("ftp://x").is_err());
        assert!(ApiBase::parse("https://").is_err());
        assert!(ApiBase::parse("https://a/b?c").is_err());
    }

    #[test]
    fn plain_http_only_reaches_this_machine() {
        assert!(ApiBase::parse("http://127.0.0.1:9000/wx").is_ok());
        assert!(ApiBase::parse("http://localhost:8787").is_ok());
        assert!(ApiBase::parse("http://[::1]:8787").is_ok());
        let e = ApiBase::parse("http://proxy.example.com").unwrap_err();
        assert!(e.reason.contains("https"), "{e}");
        assert!(check_url("http://localhost.example.com/x").is_err());
    }

    #[test]
    fn refuses_script_data_relative_and_words() {
        for url in [
            "javascript:alert(1)",
            "javascript://x/%0aalert(1)",
            "data:text/plain,hi",
            "/relative/path",
            "not a url",
            "https://exa mple.com",
            "https://bad_host.com",
            "https://host:port",
            "https://host\n.com",
            "https://",
        ] {
            assert!(check_url(url).is_err(), "{url} passed");
        }
    }

    #[test]
    fn an_account_server_url_may_carry_credentials_a_path_and_a_query() {
        let u = check_url("https://user:pass@upstream.example.com:8443/wechat?k=1").unwrap();
        assert_eq!(u.userinfo, Some("user:pass"));
        assert_eq!(u.host, "upstream.example.com:8443");
        assert_eq!(u.rest, "/wechat?k=1");
        // An API base may not: its requests get their own query (the access_token).
        assert!(ApiBase::parse("https://user:pass@proxy.example.com").is_err());
    }

    #[test]
    fn token_follows_the_endpoints_own_query() {
        let r = ApiBase::default()
            .request(Method::Get, "/cgi-bin/user/get", "a", vec![])
            .with_query_param("next_openid", "o+1");
        assert_eq!(
            r.url_with_token("T"),
            "https://api.weixin.qq.com/cgi-bin/user/get?next_openid=o%2B1&access_token=T"
        );
        assert_eq!(
            r.url(),
            "https://api.weixin.qq.com/cgi-bin/user/get?next_openid=o%2B1"
        );
    }

    #[test]
    fn token_is_percent_encoded() {
        let r = ApiBase::default().request(Method::Post, "/x", "a", vec![]);
        assert_eq!(
            r.url_with_token("a+b/c=="),
            "https://api.weixin.qq.com/x?access_token=a%2Bb%2Fc%3D%3D"
        );
    }
}
