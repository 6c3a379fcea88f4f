//! WeChat's error codes: one data table with the Chinese and English text and what a caller
//! should do about each, and [`ApiError`], which every reply with `errcode != 0` becomes.

use std::fmt;

use crate::ids::MsgId;

/// What a caller should do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Transient on WeChat's side: retry the same request (same `clientmsgid`) after a backoff.
    Retry,
    /// The access_token is invalid or expired: refresh it once, then retry.
    RefreshToken,
    /// A quota or rate limit: wait for the next window, then retry.
    Quota,
    /// The `clientmsgid` was seen before (45065 means the send exists: record its msg_id; 45066
    /// means the same id was retried within a minute: wait, then retry).
    Duplicate,
    /// The request is wrong or not permitted: fix it; retrying cannot help.
    Fatal,
}

impl ErrorClass {
    /// What it says to do, in Chinese (the twin of [`ErrorClass::as_str`] in texts for a person).
    pub fn zh(self) -> &'static str {
        match self {
            ErrorClass::Retry => "可重试",
            ErrorClass::RefreshToken => "需刷新 access_token",
            ErrorClass::Quota => "额度或频率限制",
            ErrorClass::Duplicate => "clientmsgid 重复",
            ErrorClass::Fatal => "重试无用",
        }
    }

    /// Stable machine name: `retry`, `refresh-token`, `quota`, `duplicate`, `fatal`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Retry => "retry",
            ErrorClass::RefreshToken => "refresh-token",
            ErrorClass::Quota => "quota",
            ErrorClass::Duplicate => "duplicate",
            ErrorClass::Fatal => "fatal",
        }
    }
}

/// What the code table knows of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownCode {
    /// The code.
    pub code: i64,
    /// WeChat's Chinese message.
    pub zh: &'static str,
    /// English translation.
    pub en: &'static str,
    /// What to do about it.
    pub class: ErrorClass,
}

use ErrorClass::{Duplicate, Fatal, Quota, RefreshToken, Retry};

/// The code table, sorted by code. Texts follow WeChat's global error-code page.
#[rustfmt::skip]
pub const CODES: &[KnownCode] = &[
    k(-1, "系统繁忙,此时请开发者稍候再试", "System busy; try again later", Retry),
    k(40001, "获取 access_token 时 AppSecret 错误,或者 access_token 无效", "Invalid credential: AppSecret wrong or access_token invalid", RefreshToken),
    k(40002, "不合法的凭证类型", "Invalid grant_type", Fatal),
    k(40003, "不合法的 OpenID", "Invalid OpenID (not a follower of this account)", Fatal),
    k(40004, "不合法的媒体文件类型", "Invalid media file type", Fatal),
    k(40005, "不合法的文件类型", "Invalid file type", Fatal),
    k(40006, "不合法的文件大小", "Invalid file size", Fatal),
    k(40007, "不合法的媒体文件 id", "Invalid media_id", Fatal),
    k(40008, "不合法的消息类型", "Invalid message type (msgtype)", Fatal),
    k(40009, "不合法的图片文件大小", "Invalid image file size", Fatal),
    k(40013, "不合法的 AppID", "Invalid AppID", Fatal),
    k(40014, "不合法的 access_token", "Invalid access_token", RefreshToken),
    k(40035, "不合法的参数", "Invalid argument", Fatal),
    k(40113, "不支持的文件类型", "Unsupported file type", Fatal),
    k(40125, "无效的appsecret", "Invalid AppSecret", Fatal),
    k(40130, "至少需要同时发送两个用户", "At least two OpenIDs are required in a mass send", Fatal),
    k(40164, "调用接口的IP地址不在白名单中", "Caller IP is not on the account's IP whitelist", Fatal),
    k(41001, "缺少 access_token 参数", "Missing access_token", RefreshToken),
    k(41002, "缺少 appid 参数", "Missing appid", Fatal),
    k(41004, "缺少 secret 参数", "Missing secret", Fatal),
    k(41005, "缺少多媒体文件数据", "Missing media file data", Fatal),
    k(41006, "缺少 media_id 参数", "Missing media_id", Fatal),
    k(42001, "access_token 超时", "access_token expired", RefreshToken),
    k(43004, "需要接收者关注", "The recipient must follow the account", Fatal),
    k(44001, "多媒体文件为空", "Media file is empty", Fatal),
    k(44002, "POST 的数据包为空", "POST body is empty", Fatal),
    k(44003, "图文消息内容为空", "News message content is empty", Fatal),
    k(44004, "文本消息内容为空", "Text message content is empty", Fatal),
    k(45001, "多媒体文件大小超过限制", "Media file too large", Fatal),
    k(45002, "消息内容超过限制", "Message content too long", Fatal),
    k(45004, "描述字段超过限制", "Description too long", Fatal),
    k(45007, "语音播放时间超过限制", "Voice playback too long", Fatal),
    k(45008, "图文消息超过限制", "Too many articles", Fatal),
    k(45009, "接口调用超过限制", "API daily call quota reached", Quota),
    k(45011, "API 调用太频繁,请稍候再试", "API called too often; slow down", Quota),
    k(45028, "没有群发配额", "No mass-send quota left", Quota),
    k(45065, "相同 clientmsgid 已存在群发记录,返回数据中带有已存在的群发任务的 msgid", "A send with this clientmsgid already exists; its msg_id is in the reply", Duplicate),
    k(45066, "相同 clientmsgid 重试速度过快,请间隔1分钟重试", "Same clientmsgid retried too fast; retry after one minute", Duplicate),
    k(45067, "clientmsgid 长度超过限制", "clientmsgid too long", Fatal),
    k(45159, "非法的 tag_id", "Invalid tag id (no such tag on this account)", Fatal),
    k(47001, "解析 JSON/XML 内容错误", "Malformed JSON or XML body", Fatal),
    k(48001, "api 功能未授权,请确认公众号已获得该接口", "API not authorized for this account", Fatal),
    k(48004, "api 接口被封禁", "API banned for this account", Fatal),
    k(50001, "用户未授权该 api", "User has not authorized this API", Fatal),
    k(50005, "用户未关注公众号", "User does not follow the account", Fatal),
];

const fn k(code: i64, zh: &'static str, en: &'static str, class: ErrorClass) -> KnownCode {
    KnownCode {
        code,
        zh,
        en,
        class,
    }
}

/// Looks a code up in [`CODES`].
pub fn lookup(code: i64) -> Option<&'static KnownCode> {
    CODES
        .binary_search_by_key(&code, |c| c.code)
        .ok()
        .and_then(|i| CODES.get(i))
}

/// Codes docs/spec.md names as clientmsgid outcomes.
pub mod codes {
    /// System busy.
    pub const BUSY: i64 = -1;
    /// access_token invalid.
    pub const INVALID_CREDENTIAL: i64 = 40001;
    /// access_token invalid (another form).
    pub const INVALID_ACCESS_TOKEN: i64 = 40014;
    /// access_token expired.
    pub const ACCESS_TOKEN_EXPIRED: i64 = 42001;
    /// Daily API quota reached.
    pub const DAILY_QUOTA: i64 = 45009;
    /// Calls too frequent (over 60 a minute).
    pub const RATE_LIMITED: i64 = 45011;
    /// No mass-send quota left.
    pub const NO_MASS_QUOTA: i64 = 45028;
    /// A send with this clientmsgid exists (its msg_id comes with the reply).
    pub const CLIENT_MSG_ID_EXISTS: i64 = 45065;
    /// Same clientmsgid retried within a minute.
    pub const CLIENT_MSG_ID_TOO_FAST: i64 = 45066;
    /// clientmsgid too long.
    pub const CLIENT_MSG_ID_TOO_LONG: i64 = 45067;
}

/// A reply with `errcode != 0`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// WeChat's `errcode`.
    pub code: i64,
    /// WeChat's `errmsg`, as sent (often English with a `rid`).
    pub server_message: String,
    /// What the code table knows of this code, if anything.
    pub known: Option<&'static KnownCode>,
    /// For 45065: the msg_id of the send that already exists.
    pub msg_id: Option<MsgId>,
}

impl ApiError {
    /// Builds the error for a code, looking it up in the table.
    pub fn new(code: i64, server_message: impl Into<String>) -> Self {
        ApiError {
            code,
            server_message: server_message.into(),
            known: lookup(code),
            msg_id: None,
        }
    }

    /// The error's code in the JS model and the worker's answers: `wechat_busy` when retrying
    /// later can help ([`ErrorClass::Retry`]), else `wechat_rejected`. WeChat's own number is
    /// `errcode`.
    pub fn code_name(&self) -> &'static str {
        match self.class() {
            ErrorClass::Retry => "wechat_busy",
            _ => "wechat_rejected",
        }
    }

    /// The class of the error. An unknown code is [`ErrorClass::Fatal`]: retrying a request
    /// WeChat refused for a reason we cannot name could spend quota for nothing.
    pub fn class(&self) -> ErrorClass {
        match self.known {
            Some(k) => k.class,
            None => ErrorClass::Fatal,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.known {
            Some(k) => write!(
                f,
                "WeChat error {}: {} ({}) [{}; server said {:?}]",
                self.code,
                k.en,
                k.zh,
                k.class.as_str(),
                self.server_message
            ),
            None => write!(
                f,
                "WeChat error {} [fatal: unknown code; server said {:?}]",
                self.code, self.server_message
            ),
        }
    }
}

impl ApiError {
    /// The error in Chinese, the twin of its `Display`: WeChat's own Chinese message for a code
    /// the table knows.
    pub fn zh(&self) -> String {
        match self.known {
            Some(k) => format!(
                "微信错误 {}：{}（{}；服务器返回 {:?}）",
                self.code,
                k.zh,
                k.class.zh(),
                self.server_message
            ),
            None => format!(
                "微信错误 {}（wxmass 不认识此代码，{}；服务器返回 {:?}）",
                self.code,
                ErrorClass::Fatal.zh(),
                self.server_message
            ),
        }
    }
}

impl std::error::Error for ApiError {}

/// JSON (the JS model, and the `error` of the worker's answers):
/// `{"code","message","errcode","errmsg","zh","en","class","msgId"}`; `zh`/`en` are `null` for a
/// code core does not know, `msgId` (a decimal string) is set only for 45065.
impl serde::Serialize for ApiError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("ApiError", 8)?;
        m.serialize_field("code", self.code_name())?;
        m.serialize_field("message", &self.to_string())?;
        m.serialize_field("errcode", &self.code)?;
        m.serialize_field("errmsg", &self.server_message)?;
        m.serialize_field("zh", &self.known.map(|k| k.zh))?;
        m.serialize_field("en", &self.known.map(|k| k.en))?;
        m.serialize_field("class", self.class().as_str())?;
        m.serialize_field("msgId", &self.msg_id)?;
        m.end()
    }
}

/// Why a reply could not become a typed value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplyError {
    /// WeChat answered with `errcode != 0`.
    #[error(transparent)]
    Api(ApiError),
    /// The reply is not the JSON this endpoint answers with.
    #[error("malformed reply at {path}: {message}")]
    Malformed {
        /// JSON path of the problem (`.` for the whole body).
        path: String,
        /// What was wrong.
        message: String,
    },
}

impl ReplyError {
    /// The API error, if this is one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            ReplyError::Api(e) => Some(e),
            ReplyError::Malformed { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique_so_lookup_works() {
        for w in CODES.windows(2) {
            assert!(w[0].code < w[1].code, "{} then {}", w[0].code, w[1].code);
        }
    }

    #[test]
    fn has_every_code_the_spec_and_issue_name() {
        for code in [
            -1, 40001, 40002, 40003, 40004, 40007, 40008, 40013, 40014, 40035, 40164, 41001, 42001,
            43004, 44002, 45009, 45011, 45028, 45065, 45066, 45067, 47001, 48001, 50005,
        ] {
            let known = lookup(code).unwrap_or_else(|| panic!("{code} missing"));
            assert!(!known.zh.is_empty() && !known.en.is_empty());
        }
    }

    #[test]
    fn classes_follow_the_spec() {
        assert_eq!(ApiError::new(-1, "busy").class(), ErrorClass::Retry);
        for c in [40001, 42001, 40014] {
            assert_eq!(ApiError::new(c, "").class(), ErrorClass::RefreshToken);
        }
        for c in [45009, 45028, 45011] {
            assert_eq!(ApiError::new(c, "").class(), ErrorClass::Quota);
        }
        for c in [45065, 45066] {
            assert_eq!(ApiError::new(c, "").class(), ErrorClass::Duplicate);
        }
        assert_eq!(ApiError::new(45067, "").class(), ErrorClass::Fatal);
        assert_eq!(ApiError::new(99999, "").class(), ErrorClass::Fatal);
        assert!(ApiError::new(99999, "x").known.is_none());
    }

    #[test]
    fn the_chinese_twin_is_wechats_own_message_without_the_english() {
        let e = ApiError::new(40007, "invalid media_id rid: 1");
        let zh = e.zh();
        assert!(
            zh.starts_with("微信错误 40007：不合法的媒体文件 id（重试无用"),
            "{zh}"
        );
        assert!(!zh.contains("Invalid media_id"), "{zh}");
        assert!(ApiError::new(99999, "x").zh().contains("不认识"));
    }

    #[test]
    fn display_keeps_chinese_and_english() {
        let s = ApiError::new(45009, "reach max api daily quota limit").to_string();
        assert!(s.contains("接口调用超过限制") && s.contains("daily call quota"));
    }
}
