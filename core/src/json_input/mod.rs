//! Reading user JSON into typed requests with every problem collected, each with its JSON path.
//!
//! serde's derive stops at the first error and cannot combine `deny_unknown_fields` with the
//! flat `"<msgtype>": {…}` shape of WeChat bodies, so requests are read through this small walker
//! over a parsed [`Json`] tree. Each field is read by its wire name (snake_case) or its camelCase
//! alias, which is how the npm package's camelCase objects reach the same rules; both names come
//! from one table ([`names`]), which also holds the rule for a problem's path.
//!
//! The tree is read by serde_json (the worker's reader too, so both accept the same text and
//! word its errors alike) through a visitor ([`parse()`]); it borrows its strings from the input
//! (those without escapes) and keeps objects as short lists of pairs, and a field's path is only
//! written out when a problem is reported, so reading costs little more than the parse itself.

mod names;

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::ids::MsgId;
use crate::validate::{for_each_duplicate, index, join, Problems, Rule, ValidationError};
pub(crate) use names::{wire, FieldName};

/// A JSON value of user input.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    /// A non-negative integer.
    Unsigned(u64),
    /// A negative integer.
    Negative(i64),
    /// Any other number.
    Float(f64),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    /// The members in document order; a repeated key is resolved when read (the last wins, as
    /// in `JSON.parse`).
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// A view of a `serde_json::Value` (the worker's and tests' input), borrowing its strings.
    pub(crate) fn borrow(v: &'a Value) -> Json<'a> {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => match (n.as_u64(), n.as_i64()) {
                (Some(u), _) => Json::Unsigned(u),
                (None, Some(i)) => Json::Negative(i),
                // serde_json numbers are u64, i64 or finite f64.
                (None, None) => Json::Float(n.as_f64().unwrap_or_default()),
            },
            Value::String(s) => Json::Str(Cow::Borrowed(s)),
            Value::Array(a) => Json::Array(a.iter().map(Json::borrow).collect()),
            Value::Object(m) => Json::Object(
                m.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::borrow(v)))
                    .collect(),
            ),
        }
    }

    fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Unsigned(u) => Some(*u),
            _ => None,
        }
    }
}

/// Strings borrow from the input when they hold no escape sequence.
struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }
    fn visit_u64<E>(self, u: u64) -> Result<Json<'de>, E> {
        Ok(Json::Unsigned(u))
    }
    fn visit_i64<E>(self, i: i64) -> Result<Json<'de>, E> {
        Ok(u64::try_from(i).map_or(Json::Negative(i), Json::Unsigned))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Json<'de>, E> {
        Ok(Json::Float(f))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4_096));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(4_096));
        while let Some(Key(k)) = map.next_key()? {
            members.push((k, map.next_value()?));
        }
        Ok(Json::Object(members))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Json<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

/// An object key, borrowed when it holds no escape sequence (`Cow`'s own `Deserialize` always
/// copies).
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_str(JsonVisitor)? {
            Json::Str(s) => Ok(Key(s)),
            _ => Err(de::Error::custom("object keys are strings")),
        }
    }
}

/// Parses a whole JSON text (surrounding whitespace allowed, nothing else after the value) with
/// serde_json: its numbers (`u64`, then `i64`, then `f64`), its escapes, its nesting limit (127
/// levels) and its errors (`expected value at line 1 column 7`).
pub(crate) fn parse(bytes: &[u8]) -> Result<Json<'_>, serde_json::Error> {
    serde_json::from_slice(bytes)
}

/// Parses bytes as JSON, or records a [`Rule::Json`] problem.
pub(crate) fn parse_bytes<'a>(bytes: &'a [u8], p: &mut Problems) -> Option<Json<'a>> {
    match parse(bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            p.push("", Rule::Json, Some(&e.to_string()));
            None
        }
    }
}

/// Parses `bytes` and hands the tree to `read`; invalid JSON is then the one problem. The paths of
/// an error are put in the caller's naming ([`names`]) from a second parse of `bytes` (`read`
/// consumes its tree): only input with problems pays for it. `prefix` starts every path and is
/// not part of the input (`message`, or `""` for a request body).
pub(crate) fn read_bytes<T>(
    bytes: &[u8],
    prefix: &str,
    read: impl FnOnce(Json<'_>) -> Result<T, ValidationError>,
) -> Result<T, ValidationError> {
    let mut p = Problems::default();
    let Some(json) = parse_bytes(bytes, &mut p) else {
        return Err(p.into_error());
    };
    read(json).map_err(|e| match parse(bytes) {
        Ok(json) => names::in_callers_naming(e, &json, prefix),
        Err(_) => e,
    })
}

/// [`read_bytes`] for a parsed value: `read` gets a view of it, and so does the renaming of an
/// error's paths.
pub(crate) fn read_value<T>(
    value: &Value,
    prefix: &str,
    read: impl FnOnce(Json<'_>) -> Result<T, ValidationError>,
) -> Result<T, ValidationError> {
    read(Json::borrow(value)).map_err(|e| names::in_callers_naming(e, &Json::borrow(value), prefix))
}

/// A JSON object being read; fields are taken out as they are read so leftovers are unknown.
pub(crate) struct Obj<'a> {
    /// Document order; a member's value is `None` once read. Taking out of a slot rather than
    /// removing from the list keeps a lookup to one scan of a few keys (requests are read on the
    /// npm package's hot path).
    members: Vec<(Cow<'a, str>, Option<Json<'a>>)>,
    path: String,
}

/// A field that was present: the key it was found under and its value.
pub(crate) struct Field<'k, 'a> {
    pub key: &'k str,
    pub value: Json<'a>,
}

fn kind_of(v: &Json<'_>) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Unsigned(_) | Json::Negative(_) | Json::Float(_) => "a number",
        Json::Str(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// Short text of a value for a problem report.
pub(crate) fn show(v: &Json<'_>) -> String {
    match v {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Unsigned(u) => u.to_string(),
        Json::Negative(i) => i.to_string(),
        // As serde_json writes it (`1e+300`, not three hundred digits).
        Json::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(String::new, |n| n.to_string())
        }
        Json::Str(s) => s.to_string(),
        Json::Array(a) => format!("{} of {} entries", kind_of(v), a.len()),
        Json::Object(_) => kind_of(v).to_owned(),
    }
}

impl<'a> Obj<'a> {
    /// Takes `value` as an object at `path`, or records a type problem.
    pub(crate) fn new(value: Json<'a>, path: &str, p: &mut Problems) -> Option<Obj<'a>> {
        Obj::at(value, Cow::Borrowed(path), p)
    }

    /// [`Obj::new`] with a path that may already be owned (a nested object's).
    pub(crate) fn at(value: Json<'a>, path: Cow<'_, str>, p: &mut Problems) -> Option<Obj<'a>> {
        match value {
            Json::Object(members) => Some(Obj {
                // Same layout, so the list is reused in place.
                members: members.into_iter().map(|(k, v)| (k, Some(v))).collect(),
                path: path.into_owned(),
            }),
            other => {
                p.push(
                    path.into_owned(),
                    Rule::Type {
                        expected: "an object",
                    },
                    Some(&show(&other)),
                );
                None
            }
        }
    }

    /// The path of field `key` of this object.
    pub(crate) fn field_path(&self, key: &str) -> String {
        join(&self.path, key)
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// The slot of the last unread member named by the field's wire name, or else of the last
    /// named by its alias (the wire name wins; the value `JSON.parse` keeps is the last).
    fn find(&self, name: FieldName) -> Option<usize> {
        let mut by_alias = None;
        for (i, (k, v)) in self.members.iter().enumerate().rev() {
            if v.is_none() {
                continue;
            }
            if k == name.wire {
                return Some(i);
            }
            if by_alias.is_none() && !name.alias.is_empty() && k == name.alias {
                by_alias = Some(i);
            }
        }
        by_alias
    }

    /// Whether the field (or its alias) is present with a value; `null` counts as absent, as in
    /// [`Obj::take`], so a `null` required field is reported as missing.
    pub(crate) fn has(&self, name: FieldName) -> bool {
        self.find(name)
            .and_then(|i| self.members.get(i))
            .is_some_and(|(_, v)| v.as_ref().is_some_and(|v| !v.is_null()))
    }

    /// Takes out the field by wire name or alias (and any earlier member of the same key, which
    /// `JSON.parse` would have overwritten); `null` counts as absent.
    pub(crate) fn take(&mut self, name: FieldName) -> Option<Field<'static, 'a>> {
        let i = self.find(name)?;
        let (k, slot) = self.members.get_mut(i)?;
        let key = if k == name.wire {
            name.wire
        } else {
            name.alias
        };
        let value = slot.take()?;
        for (k, v) in self.members.iter_mut().take(i) {
            if k == key {
                *v = None;
            }
        }
        if value.is_null() {
            return None;
        }
        Some(Field { key, value })
    }

    /// Takes out a required field, or records [`Rule::Required`] under its wire name (put in the
    /// caller's naming with every other path of an error, see [`names`]).
    fn required(&mut self, name: FieldName, p: &mut Problems) -> Option<Field<'static, 'a>> {
        let f = self.take(name);
        if f.is_none() {
            p.push(self.field_path(name.wire), Rule::Required, None);
        }
        f
    }

    /// Records that field `key` holds a value of the wrong type.
    fn wrong_type(&self, key: &str, expected: &'static str, value: &Json<'_>, p: &mut Problems) {
        p.push(
            self.field_path(key),
            Rule::Type { expected },
            Some(&show(value)),
        );
    }

    fn string_of(&self, f: Field<'_, 'a>, p: &mut Problems) -> Option<String> {
        match f.value {
            Json::Str(s) => Some(s.into_owned()),
            other => {
                self.wrong_type(f.key, "a string", &other, p);
                None
            }
        }
    }

    /// An optional string field.
    pub(crate) fn opt_string(&mut self, name: FieldName, p: &mut Problems) -> Option<String> {
        let f = self.take(name)?;
        self.string_of(f, p)
    }

    /// A required string field; missing records [`Rule::Required`] and yields `""`.
    /// (Blank values are reported by the request's `validate`, which also sees typed input.)
    pub(crate) fn string(&mut self, name: FieldName, p: &mut Problems) -> String {
        self.required(name, p)
            .and_then(|f| self.string_of(f, p))
            .unwrap_or_default()
    }

    /// An optional 0/1 flag; `true`/`false` are accepted too.
    pub(crate) fn opt_flag(&mut self, name: FieldName, p: &mut Problems) -> Option<bool> {
        let f = self.take(name)?;
        match f.value {
            Json::Bool(b) => Some(b),
            Json::Unsigned(0) => Some(false),
            Json::Unsigned(1) => Some(true),
            other => {
                p.push(self.field_path(f.key), Rule::Flag, Some(&show(&other)));
                None
            }
        }
    }

    fn bool_of(&self, f: Field<'_, 'a>, p: &mut Problems) -> Option<bool> {
        match f.value {
            Json::Bool(b) => Some(b),
            other => {
                self.wrong_type(f.key, "true or false", &other, p);
                None
            }
        }
    }

    /// An optional boolean.
    pub(crate) fn opt_bool(&mut self, name: FieldName, p: &mut Problems) -> Option<bool> {
        let f = self.take(name)?;
        self.bool_of(f, p)
    }

    /// A required boolean.
    pub(crate) fn bool(&mut self, name: FieldName, p: &mut Problems) -> Option<bool> {
        let f = self.required(name, p)?;
        self.bool_of(f, p)
    }

    /// A non-negative integer given as a number or a numeric string (WeChat's own examples write
    /// `"tag_id":"2"`); always emitted as a number.
    fn u64_of(&self, f: Field<'_, 'a>, p: &mut Problems) -> Option<u64> {
        let parsed = match &f.value {
            Json::Str(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()
            }
            other => other.as_u64(),
        };
        if parsed.is_none() {
            p.push(
                self.field_path(f.key),
                Rule::NonNegativeInteger,
                Some(&show(&f.value)),
            );
        }
        parsed
    }

    /// An optional non-negative integer (see [`Obj::u64_of`]).
    pub(crate) fn opt_u64(&mut self, name: FieldName, p: &mut Problems) -> Option<u64> {
        let f = self.take(name)?;
        self.u64_of(f, p)
    }

    /// A required non-negative integer (see [`Obj::u64_of`]).
    pub(crate) fn u64(&mut self, name: FieldName, p: &mut Problems) -> Option<u64> {
        let f = self.required(name, p)?;
        self.u64_of(f, p)
    }

    /// A 64-bit message id: number or decimal string, kept exactly (the rules of
    /// [`MsgId::from_json_text`]).
    fn msg_id_of(&self, f: Field<'_, 'a>, p: &mut Problems) -> Option<MsgId> {
        let id = match &f.value {
            Json::Unsigned(u) => Some(MsgId(*u)),
            Json::Str(s) => MsgId::from_json_text(s).ok(),
            _ => None,
        };
        if id.is_none() {
            p.push(
                self.field_path(f.key),
                Rule::PositiveInteger,
                Some(&show(&f.value)),
            );
        }
        id
    }

    /// A required message id (see [`Obj::msg_id_of`]).
    pub(crate) fn msg_id(&mut self, name: FieldName, p: &mut Problems) -> Option<MsgId> {
        let f = self.required(name, p)?;
        self.msg_id_of(f, p)
    }

    /// A nested object field.
    pub(crate) fn opt_obj(&mut self, name: FieldName, p: &mut Problems) -> Option<Obj<'a>> {
        let f = self.take(name)?;
        Obj::at(f.value, Cow::Owned(self.field_path(f.key)), p)
    }

    /// A list of strings.
    pub(crate) fn opt_string_list(
        &mut self,
        name: FieldName,
        p: &mut Problems,
    ) -> Option<Vec<String>> {
        let f = self.take(name)?;
        let Json::Array(items) = f.value else {
            self.wrong_type(f.key, "an array of strings", &f.value, p);
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Json::Str(s) => out.push(s.into_owned()),
                other => p.push(
                    index(&self.field_path(f.key), i),
                    Rule::Type {
                        expected: "a string",
                    },
                    Some(&show(&other)),
                ),
            }
        }
        Some(out)
    }

    /// A list of objects, each handed to `read`.
    pub(crate) fn opt_obj_list<T>(
        &mut self,
        name: FieldName,
        p: &mut Problems,
        mut read: impl FnMut(Obj<'a>, &mut Problems) -> T,
    ) -> Option<Vec<T>> {
        let f = self.take(name)?;
        let Json::Array(items) = f.value else {
            self.wrong_type(f.key, "an array", &f.value, p);
            return None;
        };
        let path = self.field_path(f.key);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            if let Some(obj) = Obj::at(item, Cow::Owned(index(&path, i)), p) {
                out.push(read(obj, p));
            }
        }
        Some(out)
    }

    /// Records every field not read as unknown. A key repeated among them is one field to
    /// `JSON.parse`: it is reported once, with the last value (what a parsed value would show).
    pub(crate) fn finish(self, p: &mut Problems) {
        let last_first: Vec<(&str, &Json<'a>)> = self
            .members
            .iter()
            .rev()
            .filter_map(|(k, v)| Some((k.as_ref(), v.as_ref()?)))
            .collect();
        let mut shadowed = vec![false; last_first.len()];
        if last_first.len() > 1 {
            let keys: Vec<&str> = last_first.iter().map(|(k, _)| *k).collect();
            for_each_duplicate(&keys, |i, _| {
                if let Some(s) = shadowed.get_mut(i) {
                    *s = true;
                }
            });
        }
        for ((key, value), shadowed) in last_first.iter().zip(shadowed).rev() {
            if !shadowed {
                p.push(self.field_path(key), Rule::UnknownField, Some(&show(value)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(text: &str) -> Obj<'_> {
        let mut p = Problems::default();
        let json = parse_bytes(text.as_bytes(), &mut p).unwrap();
        Obj::new(json, "body", &mut p).unwrap()
    }

    fn ok(text: &str) -> Json<'_> {
        match parse(text.as_bytes()) {
            Ok(v) => v,
            Err(e) => panic!("{text}: {e}"),
        }
    }

    #[test]
    fn reads_every_kind_of_value() {
        assert_eq!(
            ok(r#" {"a":[1,-2,2.5,"x",true,false,null,{}],"b":[]} "#),
            Json::Object(vec![
                (
                    Cow::Borrowed("a"),
                    Json::Array(vec![
                        Json::Unsigned(1),
                        Json::Negative(-2),
                        Json::Float(2.5),
                        Json::Str(Cow::Borrowed("x")),
                        Json::Bool(true),
                        Json::Bool(false),
                        Json::Null,
                        Json::Object(vec![]),
                    ])
                ),
                (Cow::Borrowed("b"), Json::Array(vec![])),
            ])
        );
    }

    #[test]
    fn numbers_take_the_narrowest_kind() {
        assert_eq!(ok("18446744073709551615"), Json::Unsigned(u64::MAX));
        assert_eq!(
            ok("18446744073709551616"),
            Json::Float(18446744073709551616.0)
        );
        assert_eq!(ok("-9223372036854775808"), Json::Negative(i64::MIN));
        assert!(matches!(ok("-0"), Json::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert_eq!(ok("1e3"), Json::Float(1000.0));
    }

    #[test]
    fn escaped_keys_and_strings_are_decoded() {
        assert_eq!(
            ok(r#"{"k\u0065y":"a\ud83d\ude00","中":"文"}"#),
            Json::Object(vec![
                (
                    Cow::Owned("key".into()),
                    Json::Str(Cow::Owned("a\u{1f600}".into()))
                ),
                (Cow::Borrowed("中"), Json::Str(Cow::Borrowed("文"))),
            ])
        );
    }

    #[test]
    fn nesting_is_limited_without_exhausting_the_stack() {
        let deep = "[".repeat(100_000);
        let e = parse(deep.as_bytes()).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("recursion limit exceeded at line 1 column 128")
        );
        let fine = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(parse(fine.as_bytes()).is_ok());
    }

    #[test]
    fn invalid_json_is_one_problem_with_serde_jsons_message() {
        let mut p = Problems::default();
        assert!(parse_bytes(b"{\"a\":1,\n \"b\":x}", &mut p).is_none());
        let e = p.into_error();
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].rule.code(), "json");
        assert_eq!(
            e.problems[0].value.as_deref(),
            Some("expected value at line 2 column 6")
        );
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let mut p = Problems::default();
        let json = parse_bytes(br#"{"a":"plain","b":"tab\there"}"#, &mut p).unwrap();
        let Json::Object(members) = json else {
            panic!("object")
        };
        assert!(matches!(members[0].1, Json::Str(Cow::Borrowed("plain"))));
        assert!(matches!(&members[1].1, Json::Str(Cow::Owned(s)) if s == "tab\there"));
    }

    #[test]
    fn repeated_key_keeps_the_last_and_leaves_no_unknown_field() {
        let mut o = obj(r#"{"speed":1,"speed":3}"#);
        let mut p = Problems::default();
        assert_eq!(o.opt_u64(wire!("speed"), &mut p), Some(3));
        o.finish(&mut p);
        assert!(p.is_empty());
    }

    #[test]
    fn a_repeated_unknown_field_is_reported_once_with_its_last_value() {
        let o = obj(r#"{"x":1,"y":2,"x":3}"#);
        let mut p = Problems::default();
        o.finish(&mut p);
        let e = p.into_error();
        let shown: Vec<(&str, Option<&str>)> = e
            .problems
            .iter()
            .map(|pr| (pr.path.as_str(), pr.value.as_deref()))
            .collect();
        assert_eq!(shown, [("body.y", Some("2")), ("body.x", Some("3"))]);
    }

    #[test]
    fn an_object_of_many_members_is_read_and_reported_in_full() {
        // 70 members: the field sits at index 68 with an earlier copy at index 1 (shadowed, so
        // neither is unknown afterwards); the other 68 are unknown, the last at index 69.
        let mut text = String::from(r#"{"a0":0,"speed":9"#);
        for i in 2..68 {
            text.push_str(&format!(r#","a{i}":{i}"#));
        }
        text.push_str(r#","speed":3,"a69":69}"#);
        let mut o = obj(&text);
        let mut p = Problems::default();
        assert!(o.has(wire!("speed")));
        assert_eq!(o.opt_u64(wire!("speed"), &mut p), Some(3));
        assert!(!o.has(wire!("speed")));
        o.finish(&mut p);
        let e = p.into_error();
        assert_eq!(e.problems.len(), 68);
        assert!(e.problems.iter().all(|pr| pr.path != "body.speed"));
        assert_eq!(
            e.problems.last().map(|pr| pr.path.as_str()),
            Some("body.a69")
        );
    }

    #[test]
    fn wire_name_wins_and_the_alias_is_then_unknown() {
        let mut o = obj(r#"{"media_id":"a","mediaId":"b"}"#);
        let mut p = Problems::default();
        assert_eq!(
            o.opt_string(wire!("media_id"), &mut p).as_deref(),
            Some("a")
        );
        o.finish(&mut p);
        let e = p.into_error();
        assert_eq!(e.problems.len(), 1);
        assert_eq!(e.problems[0].path, "body.mediaId");
    }

    #[test]
    fn problems_name_the_field_and_show_the_value() {
        let mut o = obj(r#"{"tag_id":-2,"x":1e300,"msg_id":"12a"}"#);
        let mut p = Problems::default();
        assert_eq!(o.opt_u64(wire!("tag_id"), &mut p), None);
        assert_eq!(o.msg_id(wire!("msg_id"), &mut p), None);
        o.finish(&mut p);
        let e = p.into_error();
        let shown: Vec<(&str, Option<&str>)> = e
            .problems
            .iter()
            .map(|pr| (pr.path.as_str(), pr.value.as_deref()))
            .collect();
        assert_eq!(
            shown,
            [
                ("body.tag_id", Some("-2")),
                ("body.msg_id", Some("12a")),
                ("body.x", Some("1e+300")),
            ]
        );
    }
}
