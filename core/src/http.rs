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

impl ApiBase {
    /// Reads `https://host[:port][/prefix]` (also `http://` for a local simulator).
    pub fn parse(url: &str) -> Result<Self, ApiBaseError> {
        let err = |reason| ApiBaseError {
            url: url.to_owned(),
            reason,
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| err("expected scheme://host"))?;
        if scheme != "https" && scheme != "http" {
            return Err(err("scheme must be http or https"));
        }
        let rest = rest.trim_end_matches('/');
        let (host, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if host.is_empty() {
            return Err(err("host is empty"));
        }
        if host.contains(['?', '#', '@', ' ']) || prefix.contains(['?', '#', ' ']) {
            return Err(err(
                "must not hold a query, fragment, credentials or spaces",
            ));
        }
        Ok(ApiBase {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            path_prefix: prefix.to_owned(),
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
