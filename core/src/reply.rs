//! Reading WeChat's replies: `errcode != 0` becomes an [`ApiError`]; anything else must match the
//! endpoint's typed reply. Unknown reply fields are ignored (WeChat adds fields over time).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error_code::{ApiError, ReplyError};
use crate::ids::MsgId;
use crate::json_input::{self, show, Json};
use crate::validate::{index, join};

/// The reply of endpoints that answer only `{"errcode":0,"errmsg":"ok"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ack {
    /// WeChat's message (`ok`).
    #[serde(default)]
    pub errmsg: String,
}

/// The fields every reply may carry, read before the endpoint's own shape.
#[derive(Default)]
struct ReplyHead<'a> {
    errcode: Option<Json<'a>>,
    errmsg: Option<Json<'a>>,
    msg_id: Option<Json<'a>>,
}

impl<'a> ReplyHead<'a> {
    /// The head of a reply that is a JSON object; otherwise what it is instead.
    fn read(body: &'a [u8]) -> Result<ReplyHead<'a>, String> {
        let members = match json_input::parse(body) {
            Ok(Json::Object(members)) => members,
            Ok(other) => return Err(format!("not a JSON object: {}", show(&other))),
            Err(e) => return Err(format!("not JSON: {e}")),
        };
        let mut head = ReplyHead::default();
        for (key, value) in members {
            let slot = match key.as_ref() {
                "errcode" => &mut head.errcode,
                "errmsg" => &mut head.errmsg,
                "msg_id" => &mut head.msg_id,
                _ => continue,
            };
            *slot = Some(value);
        }
        Ok(head)
    }
}

/// Parses a reply body into `R`, or the [`ApiError`] it carries.
///
/// The body is read straight into `R` (no intermediate `serde_json::Value`, no path-tracking
/// deserializer: both cost the npm package's WebAssembly ~10 KB gzip); when it does not fit, the
/// path is recovered from where serde_json stopped (`path_at`).
pub fn parse<R: DeserializeOwned>(body: &[u8]) -> Result<R, ReplyError> {
    let head = ReplyHead::read(body).map_err(|message| ReplyError::Malformed {
        path: ".".into(),
        message,
    })?;
    check_errcode(&head)?;
    serde_json::from_slice(body).map_err(|e| ReplyError::Malformed {
        path: path_at(body, e.line(), e.column()),
        message: e.to_string(),
    })
}

/// Returns the [`ApiError`] of a reply whose `errcode` is present and not 0.
fn check_errcode(head: &ReplyHead<'_>) -> Result<(), ReplyError> {
    let code = match &head.errcode {
        None => return Ok(()),
        Some(Json::Unsigned(u)) => i64::try_from(*u).ok(),
        Some(Json::Negative(i)) => Some(*i),
        Some(_) => None,
    };
    let Some(code) = code else {
        return Err(ReplyError::Malformed {
            path: "errcode".into(),
            message: format!(
                "errcode must be an integer, got {}",
                head.errcode.as_ref().map(show).unwrap_or_default()
            ),
        });
    };
    if code == 0 {
        return Ok(());
    }
    let message = head
        .errmsg
        .as_ref()
        .and_then(Json::as_str)
        .unwrap_or_default();
    let mut err = ApiError::new(code, message);
    // 45065 carries the msg_id of the send that already exists: that send is our success.
    err.msg_id = match &head.msg_id {
        Some(Json::Unsigned(u)) => Some(MsgId(*u)),
        Some(Json::Str(s)) => MsgId::from_json_text(s).ok(),
        _ => None,
    };
    Err(ReplyError::Api(err))
}

/// The JSON path (`results[2].msg_id`, `.` for the whole body) of the value that JSON `body`
/// is reading at `line`:`column` (1-based, as serde_json reports errors): the innermost member
/// or element open there. Replies are small and this runs only for a malformed one.
fn path_at(body: &[u8], line: usize, column: usize) -> String {
    // The byte offset of line:column.
    let mut offset = 0;
    for _ in 1..line {
        match body
            .get(offset..)
            .and_then(|rest| rest.iter().position(|&b| b == b'\n'))
        {
            Some(nl) => offset += nl + 1,
            None => break,
        }
    }
    let end = (offset + column).min(body.len());

    /// One open container: an object with the key being read, or an array with its index.
    enum Open {
        Object(Option<String>),
        Array(usize),
    }
    let mut stack: Vec<Open> = Vec::new();
    let mut i = 0;
    let mut last_string: Option<String> = None;
    while i < end {
        match body.get(i).copied().unwrap_or(0) {
            b'"' => {
                let start = i + 1;
                i = start;
                while i < body.len() {
                    match body.get(i).copied().unwrap_or(0) {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                let raw = body.get(start..i.min(body.len())).unwrap_or_default();
                last_string = Some(String::from_utf8_lossy(raw).into_owned());
            }
            b':' => {
                if let Some(Open::Object(key)) = stack.last_mut() {
                    *key = last_string.take();
                }
            }
            b',' => match stack.last_mut() {
                Some(Open::Object(key)) => *key = None,
                Some(Open::Array(n)) => *n += 1,
                None => {}
            },
            b'{' => stack.push(Open::Object(None)),
            b'[' => stack.push(Open::Array(0)),
            // A container that closed before the error is done with; one closing at the error
            // (a missing field, a short array) is itself what is wrong: its path is its parent's.
            b'}' | b']' => {
                stack.pop();
            }
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for open in &stack {
        match open {
            Open::Object(Some(key)) => path = join(&path, key),
            Open::Object(None) => {}
            Open::Array(n) => path = index(&path, *n),
        }
    }
    if path.is_empty() {
        path.push('.');
    }
    path
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

    fn malformed_path<R: DeserializeOwned + std::fmt::Debug>(body: &str) -> String {
        match parse::<R>(body.as_bytes()) {
            Err(ReplyError::Malformed { path, .. }) => path,
            other => panic!("expected a malformed reply, got {other:?}"),
        }
    }

    #[test]
    fn malformed_replies_name_the_path_serde_stopped_at() {
        use crate::endpoint::{GetStatusReply, SendReply, SpeedGetReply};
        assert_eq!(
            malformed_path::<SendReply>(r#"{"errcode":0,"msg_id":"abc"}"#),
            "msg_id"
        );
        assert_eq!(
            malformed_path::<GetStatusReply>("{\n \"msg_id\": 1,\n \"msg_status\": 7\n}"),
            "msg_status"
        );
        // A missing field is reported at the end of its object.
        assert_eq!(malformed_path::<SpeedGetReply>(r#"{"speed":1}"#), ".");
        assert_eq!(malformed_path::<SendReply>(r#"[1,2]"#), ".");
        assert_eq!(malformed_path::<Ack>("<html>"), ".");
    }

    #[test]
    fn path_at_tracks_keys_and_indices() {
        let body = br#"{"a":{"b":[1,{"c":"x\"y"},3]},"d":2}"#;
        let at = |needle: &str| {
            let pos = std::str::from_utf8(body).unwrap().find(needle).unwrap();
            path_at(body, 1, pos + needle.len())
        };
        assert_eq!(at(r#""x\"y""#), "a.b[1].c");
        assert_eq!(at(",3"), "a.b[2]");
        assert_eq!(at(r#""d":2"#), "d");
    }
}
