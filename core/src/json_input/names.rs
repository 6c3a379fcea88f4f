//! Field names: every field's wire name and camelCase alias in one table, and the one rule for
//! the field path of a problem (`Problem.path`) in user JSON.
//!
//! **The rule.** A problem names the field in the caller's own naming, so a form can show it
//! next to the field the person filled in:
//!
//! - a key present in the input is named exactly as written (`sendIgnoreReprint`, `touser`,
//!   the legacy `video`), also when its value is `null`;
//! - a key absent from the input (a missing required field) is named in the body's naming: its
//!   camelCase alias when any key of the body is a camelCase alias from [`NAMES`], its wire name
//!   otherwise (a body such as `{"text":{"content":""}}` reads the same in both);
//! - list entries are `[n]`, and the whole body is `""` (or the caller's prefix, `message`).
//!
//! A typed request built in Rust has no JSON: `validate()` names fields by their wire names, the
//! naming of its struct fields. The readers and the rules build their paths as they go (the key
//! as written while reading, wire names in `validate()`); [`in_callers_naming`] then renames, on
//! the error path only, every problem a JSON entry point returns, by walking the input.

use std::borrow::Cow;

use super::Json;
use crate::validate::{without_repeats, ValidationError};

/// Every field read from user JSON: its wire name and its camelCase alias (`""` when the field
/// is spelled the same in both namings). Some aliases are not mechanical (`clientmsgid` →
/// `clientMsgId`, `touser` → `toUser`): they are the npm package's names, so they are listed
/// rather than derived.
const NAMES: [(&str, &str); 65] = [
    // message bodies (sendall, send, preview)
    ("msgtype", "msgType"),
    ("media_id", "mediaId"),
    ("content", ""),
    ("title", ""),
    ("description", ""),
    ("card_id", "cardId"),
    ("card_ext", "cardExt"),
    ("filter", ""),
    ("is_to_all", "isToAll"),
    ("tag_id", "tagId"),
    ("group_id", "groupId"),
    ("touser", "toUser"),
    ("towxname", "toWxName"),
    ("send_ignore_reprint", "sendIgnoreReprint"),
    ("clientmsgid", "clientMsgId"),
    // uploadnews articles
    ("articles", ""),
    ("thumb_media_id", "thumbMediaId"),
    ("author", ""),
    ("content_source_url", "contentSourceUrl"),
    ("digest", ""),
    ("show_cover_pic", "showCoverPic"),
    ("need_open_comment", "needOpenComment"),
    ("only_fans_can_comment", "onlyFansCanComment"),
    // delete, get, speed
    ("msg_id", "msgId"),
    ("article_idx", "articleIdx"),
    ("url", ""),
    ("speed", ""),
    // stable_token
    ("grant_type", "grantType"),
    ("appid", "appId"),
    ("secret", ""),
    ("force_refresh", "forceRefresh"),
    // material lists, tags and followers
    ("type", ""),
    ("offset", ""),
    ("count", ""),
    ("tagid", "tagId"),
    ("next_openid", "nextOpenid"),
    // a planned send's audience
    ("everyone", ""),
    ("openids", "openIds"),
    // a ledger of past sends
    ("at", ""),
    ("kind", ""),
    ("to_all", "toAll"),
    ("succeeded", ""),
    // a stored batch progress (BatchProgress::from_json; `msg_id` and `kind` are above)
    ("state", ""),
    ("attempt", ""),
    ("attempts", ""),
    ("retries", ""),
    ("token_refreshes_in_a_row", "tokenRefreshesInARow"),
    ("quota_waits", "quotaWaits"),
    ("first_attempt_at", "firstAttemptAt"),
    ("last_attempt_at", "lastAttemptAt"),
    ("not_before", "notBefore"),
    ("awaiting_outcome", "awaitingOutcome"),
    ("maybe_delivered", "maybeDelivered"),
    ("result", ""),
    ("status", ""),
    ("total_count", "totalCount"),
    ("filter_count", "filterCount"),
    ("sent_count", "sentCount"),
    ("error_count", "errorCount"),
    ("reason", ""),
    ("code", ""),
    ("message", ""),
    ("last", ""),
    ("refreshes", ""),
    ("waits", ""),
];

/// Keys the readers accept for a field besides its wire name and alias: the oldest seed's
/// `video` message object is read as `mpvideo`, and its rules name `mpvideo`.
const LEGACY_KEYS: [(&str, &str); 1] = [("mpvideo", "video")];

/// A field to read: its wire name and its camelCase alias (`""` when there is none).
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldName {
    pub(crate) wire: &'static str,
    pub(crate) alias: &'static str,
}

impl FieldName {
    /// The field `wire` with its alias from [`NAMES`]. Meant for [`wire!`], which evaluates it
    /// at compile time: a name missing from the table stops the build there.
    pub(crate) const fn of(wire: &'static str) -> FieldName {
        let mut i = 0;
        while i < NAMES.len() && !same(NAMES[i].0, wire) {
            i += 1;
        }
        // Evaluated in a `const` block (see `wire!`), so this fails the build, never a run.
        assert!(
            i < NAMES.len(),
            "a field read from JSON needs its row in json_input::names::NAMES"
        );
        FieldName {
            wire,
            alias: NAMES[i].1,
        }
    }

    /// A key spelled the same in both namings that is not a field name (a message kind key,
    /// which is a `msgtype` value).
    pub(crate) const fn unaliased(key: &'static str) -> FieldName {
        FieldName {
            wire: key,
            alias: "",
        }
    }
}

/// `str` equality usable in a `const fn`.
const fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// The field with wire name `$wire` and its alias from the table, resolved at compile time: a
/// read costs what it did when each call site spelled both names, and the alias is written once.
macro_rules! wire {
    ($wire:literal) => {
        const { $crate::json_input::FieldName::of($wire) }
    };
}
pub(crate) use wire;

/// The camelCase alias of wire name `wire`, if it has one.
fn alias_of(wire: &str) -> Option<&'static str> {
    NAMES
        .iter()
        .find(|(w, alias)| *w == wire && !alias.is_empty())
        .map(|(_, alias)| *alias)
}

/// Whether `key` is the camelCase alias of some field.
fn is_alias(key: &str) -> bool {
    NAMES
        .iter()
        .any(|(_, alias)| !alias.is_empty() && *alias == key)
}

/// Whether the caller writes camelCase: any key of the body, at any depth, is an alias.
fn uses_camel_case(input: &Json<'_>) -> bool {
    // A stack rather than recursion: a `serde_json::Value` built in code has no nesting limit.
    let mut stack = vec![input];
    while let Some(v) = stack.pop() {
        match v {
            Json::Object(members) => {
                if members.iter().any(|(k, _)| is_alias(k)) {
                    return true;
                }
                stack.extend(members.iter().map(|(_, v)| v));
            }
            Json::Array(items) => stack.extend(items.iter()),
            _ => {}
        }
    }
    false
}

/// Renames the path of every problem of `e` under `prefix` (a path the caller chose, not part of
/// `input`) into the caller's naming (the module's rule), walking `input`. Problems that differ
/// only in naming before (a missing field reported while reading and again by the rules) are
/// then one problem, as everywhere else.
pub(crate) fn in_callers_naming(
    e: ValidationError,
    input: &Json<'_>,
    prefix: &str,
) -> ValidationError {
    let camel = uses_camel_case(input);
    let problems = e
        .problems
        .into_iter()
        .map(|mut problem| {
            if let Some(rest) = under(&problem.path, prefix) {
                let renamed = rename(rest, input, camel);
                if renamed != rest {
                    problem.path = format!("{prefix}{renamed}");
                }
            }
            problem
        })
        .collect();
    ValidationError {
        problems: without_repeats(problems),
    }
}

/// The part of `path` below `prefix` (`message.text` under `message` is `.text`), if it is below.
fn under<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    let rest = path.strip_prefix(prefix)?;
    (prefix.is_empty() || rest.is_empty() || rest.starts_with(['.', '['])).then_some(rest)
}

/// `path` (segments `.key` and `[n]`, the first key without a dot) in the caller's naming.
/// Anything that cannot be walked is kept as it is.
fn rename<'j>(mut rest: &str, input: &'j Json<'j>, camel: bool) -> String {
    let mut out = String::with_capacity(rest.len() + 8);
    // The value the path has reached; `None` below an absent key.
    let mut at = Some(input);
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('[') {
            let Some(end) = inner.find(']') else { break };
            let item = match (at, inner.get(..end).and_then(|n| n.parse::<usize>().ok())) {
                (Some(Json::Array(items)), Some(i)) => items.get(i),
                _ => None,
            };
            out.push_str(rest.get(..end + 2).unwrap_or(rest));
            rest = inner.get(end + 1..).unwrap_or("");
            at = item;
            continue;
        }
        if let Some(r) = rest.strip_prefix('.') {
            out.push('.');
            rest = r;
        }
        let members = match at {
            Some(Json::Object(members)) => Some(members.as_slice()),
            _ => None,
        };
        if let Some((key, value)) = members.and_then(|m| written_key(m, rest)) {
            out.push_str(key);
            rest = rest.get(key.len()..).unwrap_or("");
            at = Some(value);
            continue;
        }
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let segment = rest.get(..end).unwrap_or(rest);
        match members.and_then(|m| other_spelling(m, segment)) {
            Some((key, value)) => {
                out.push_str(key);
                at = Some(value);
            }
            None => {
                let name = if camel { alias_of(segment) } else { None };
                out.push_str(name.unwrap_or(segment));
                at = None;
            }
        }
        rest = rest.get(end..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// The member whose key, as written, begins `rest` as a whole segment: the longest such key
/// (a key may hold a `.`), and of a repeated key the last (the one `JSON.parse` keeps).
fn written_key<'j>(
    members: &'j [(Cow<'j, str>, Json<'j>)],
    rest: &str,
) -> Option<(&'j str, &'j Json<'j>)> {
    let mut best: Option<(&'j str, &'j Json<'j>)> = None;
    for (k, v) in members {
        let whole = !k.is_empty()
            && rest
                .strip_prefix(k.as_ref())
                .is_some_and(|after| after.is_empty() || after.starts_with(['.', '[']));
        if whole && best.map_or(true, |(b, _)| k.len() >= b.len()) {
            best = Some((k.as_ref(), v));
        }
    }
    best
}

/// The key under which the input holds the field named `segment` by another spelling: its
/// camelCase alias or a legacy key.
fn other_spelling<'j>(
    members: &'j [(Cow<'j, str>, Json<'j>)],
    segment: &str,
) -> Option<(&'j str, &'j Json<'j>)> {
    let spellings = alias_of(segment).into_iter().chain(
        LEGACY_KEYS
            .iter()
            .filter(|(wire, _)| *wire == segment)
            .map(|(_, legacy)| *legacy),
    );
    for spelling in spellings {
        if let Some((k, v)) = members.iter().rev().find(|(k, _)| k == spelling) {
            return Some((k.as_ref(), v));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json_input::parse;
    use crate::validate::{Problem, Rule};

    /// Each path renamed against `input` under `prefix`.
    fn renamed(input: &str, prefix: &str, paths: &[&str]) -> Vec<String> {
        let json = parse(input.as_bytes()).unwrap();
        let e = ValidationError {
            problems: paths
                .iter()
                .map(|p| Problem::new(*p, Rule::Required, None))
                .collect(),
        };
        in_callers_naming(e, &json, prefix)
            .problems
            .into_iter()
            .map(|p| p.path)
            .collect()
    }

    #[test]
    fn every_alias_differs_from_its_wire_name_and_names_are_listed_once() {
        for (i, (wire, alias)) in NAMES.iter().enumerate() {
            assert_ne!(wire, alias);
            assert!(NAMES.iter().skip(i + 1).all(|(w, _)| w != wire), "{wire}");
            assert!(!is_alias(wire), "{wire} is also an alias");
        }
    }

    #[test]
    fn a_wire_name_takes_the_spelling_the_input_holds() {
        let input = r#"{"toUser":["a","b"],"mpnews":{"mediaId":null},"touser_note":1}"#;
        assert_eq!(
            renamed(input, "", &["touser[1]", "mpnews.media_id", "msgtype", ""]),
            ["toUser[1]", "mpnews.mediaId", "msgType", ""]
        );
    }

    #[test]
    fn the_wire_name_wins_when_both_are_written() {
        let input = r#"{"media_id":"a","mediaId":"b","msgtype":"text"}"#;
        assert_eq!(
            renamed(input, "", &["media_id", "mediaId"]),
            ["media_id", "mediaId"]
        );
    }

    #[test]
    fn without_a_camel_case_key_absent_fields_keep_their_wire_names() {
        let input = r#"{"articles":[{"title":"t","content":"c"}]}"#;
        assert_eq!(
            renamed(
                input,
                "",
                &["articles[0].thumb_media_id", "articles[3].title"]
            ),
            ["articles[0].thumb_media_id", "articles[3].title"]
        );
        // Below an index the input does not have, names follow the body's naming.
        let input = r#"{"articles":[{"thumbMediaId":"t"}]}"#;
        assert_eq!(
            renamed(input, "", &["articles[3].thumb_media_id"]),
            ["articles[3].thumbMediaId"]
        );
    }

    #[test]
    fn a_key_holding_a_dot_or_a_bracket_is_kept_whole() {
        let input = r#"{"a.touser":1,"b[0]":2,"msgType":"text"}"#;
        assert_eq!(
            renamed(input, "", &["a.touser", "b[0]", "c.touser"]),
            ["a.touser", "b[0]", "c.toUser"]
        );
    }

    #[test]
    fn a_prefix_is_not_part_of_the_input() {
        let input = r#"{"msgType":"image","image":{}}"#;
        assert_eq!(
            renamed(
                input,
                "message",
                &[
                    "message.image.media_id",
                    "message",
                    "messages.media_id",
                    "media_id"
                ]
            ),
            [
                "message.image.mediaId",
                "message",
                "messages.media_id",
                "media_id"
            ]
        );
        let input = r#"[{"toAll":true},{}]"#;
        assert_eq!(
            renamed(input, "ledger", &["ledger[1].to_all"]),
            ["ledger[1].toAll"]
        );
    }

    #[test]
    fn problems_that_differ_only_in_naming_become_one() {
        let input = r#"{"mpnews":{},"msgType":"mpnews"}"#;
        assert_eq!(
            renamed(input, "", &["mpnews.media_id", "mpnews.mediaId"]),
            ["mpnews.mediaId"]
        );
    }

    #[test]
    fn a_camel_case_key_deep_in_the_body_sets_its_naming() {
        let deep = parse(br#"{"a":[[{"b":{"openIds":[]}}]]}"#).unwrap();
        assert!(uses_camel_case(&deep));
        let none = parse(br#"{"a":[[{"b":{"openids":[],"content":"x"}}]]}"#).unwrap();
        assert!(!uses_camel_case(&none));
    }
}
