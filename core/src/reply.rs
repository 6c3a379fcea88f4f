//! Reading WeChat's replies: `errcode != 0` becomes an [`ApiError`]; anything else must match the
//! endpoint's typed reply. Unknown reply fields are ignored (WeChat adds fields over time).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error_code::{ApiError, ReplyError};
use crate::ids::MsgId;

/// The reply of endpoints that answer only `{"errcode":0,"errmsg":"ok"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ack {
    /// WeChat's message (`ok`).
    #[serde(default)]
    pub errmsg: String,
}

/// Parses a reply body into `R`, or the [`ApiError`] it carries.
pub fn parse<R: DeserializeOwned>(body: &[u8]) -> Result<R, ReplyError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| ReplyError::Malformed {
        path: ".".into(),
        message: format!("not JSON: {e}"),
    })?;
    check_errcode(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| ReplyError::Malformed {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Returns the [`ApiError`] of a reply whose `errcode` is present and not 0.
pub fn check_errcode(value: &Value) -> Result<(), ReplyError> {
    let Some(code) = value.get("errcode") else {
        return Ok(());
    };
    let code = code.as_i64().ok_or_else(|| ReplyError::Malformed {
        path: "errcode".into(),
        message: format!("errcode must be an integer, got {code}"),
    })?;
    if code == 0 {
        return Ok(());
    }
    let message = value
        .get("errmsg")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut err = ApiError::new(code, message);
    // 45065 carries the msg_id of the send that already exists: that send is our success.
    err.msg_id = value
        .get("msg_id")
        .and_then(|v| serde_json::from_value::<MsgId>(v.clone()).ok());
    Err(ReplyError::Api(err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errcode_becomes_api_error_with_existing_msg_id() {
        let e = parse::<Ack>(
            br#"{"errcode":45065,"errmsg":"clientmsgid exist","msg_id":9007199254740993}"#,
        )
        .unwrap_err();
        let api = e.api().unwrap();
        assert_eq!(api.code, 45065);
        assert_eq!(api.msg_id, Some(MsgId(9_007_199_254_740_993)));
        assert_eq!(api.known.unwrap().zh.chars().next(), Some('相'));
    }

    #[test]
    fn ok_ack_and_malformed() {
        assert_eq!(
            parse::<Ack>(br#"{"errcode":0,"errmsg":"ok"}"#)
                .unwrap()
                .errmsg,
            "ok"
        );
        assert!(matches!(
            parse::<Ack>(b"<html>"),
            Err(ReplyError::Malformed { .. })
        ));
        assert!(matches!(
            parse::<Ack>(br#"{"errcode":"x"}"#),
            Err(ReplyError::Malformed { .. })
        ));
    }
}
