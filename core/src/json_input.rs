//! Reading user JSON into typed requests with every problem collected, each with its JSON path.
//!
//! serde's derive stops at the first error and cannot combine `deny_unknown_fields` with the
//! flat `"<msgtype>": {…}` shape of WeChat bodies, so requests are read through this small walker
//! over a `serde_json::Value`. Each field is read by its wire name (snake_case) or its camelCase
//! alias, which is how the npm package's camelCase objects reach the same rules.

use serde_json::{Map, Value};

use crate::ids::MsgId;
use crate::validate::{index, join, Problems, Rule};

/// Parses bytes as JSON, or records a [`Rule::Json`] problem.
pub(crate) fn parse_bytes(bytes: &[u8], p: &mut Problems) -> Option<Value> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(v) => Some(v),
        Err(e) => {
            p.push("", Rule::Json, Some(&e.to_string()));
            None
        }
    }
}

/// A JSON object being read; fields are removed as they are read so leftovers are unknown.
pub(crate) struct Obj {
    map: Map<String, Value>,
    path: String,
}

/// A field that was present: its path and value.
pub(crate) struct Field {
    pub path: String,
    pub value: Value,
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Short text of a value for a problem report.
pub(crate) fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("{} of {} entries", kind_of(v), a.len()),
        Value::Object(_) => kind_of(v).to_owned(),
        other => other.to_string(),
    }
}

impl Obj {
    /// Takes `value` as an object at `path`, or records a type problem.
    pub(crate) fn new(value: Value, path: &str, p: &mut Problems) -> Option<Obj> {
        match value {
            Value::Object(map) => Some(Obj {
                map,
                path: path.to_owned(),
            }),
            other => {
                p.push(
                    path,
                    Rule::Type {
                        expected: "an object",
                    },
                    Some(&show(&other)),
                );
                None
            }
        }
    }

    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Whether the field (or its alias) is present with a value; `null` counts as absent, as in
    /// [`Obj::take`], so a `null` required field is reported as missing.
    pub(crate) fn has(&self, name: &str, alias: &str) -> bool {
        let present = |key: &str| self.map.get(key).is_some_and(|v| !v.is_null());
        present(name) || (!alias.is_empty() && present(alias))
    }

    /// Removes the field by wire name or alias; `null` counts as absent.
    pub(crate) fn take(&mut self, name: &str, alias: &str) -> Option<Field> {
        let (key, value) = match self.map.remove(name) {
            Some(v) => (name, v),
            None if !alias.is_empty() => (alias, self.map.remove(alias)?),
            None => return None,
        };
        if value.is_null() {
            return None;
        }
        Some(Field {
            path: join(&self.path, key),
            value,
        })
    }

    /// An optional string field.
    pub(crate) fn opt_string(
        &mut self,
        name: &str,
        alias: &str,
        p: &mut Problems,
    ) -> Option<String> {
        let f = self.take(name, alias)?;
        match f.value {
            Value::String(s) => Some(s),
            other => {
                p.push(
                    f.path,
                    Rule::Type {
                        expected: "a string",
                    },
                    Some(&show(&other)),
                );
                None
            }
        }
    }

    /// A required string field; missing records [`Rule::Required`] and yields `""`.
    /// (Blank values are reported by the request's `validate`, which also sees typed input.)
    pub(crate) fn string(&mut self, name: &str, alias: &str, p: &mut Problems) -> String {
        self.require(name, alias, p);
        self.opt_string(name, alias, p).unwrap_or_default()
    }

    /// An optional 0/1 flag; `true`/`false` are accepted too.
    pub(crate) fn opt_flag(&mut self, name: &str, alias: &str, p: &mut Problems) -> Option<bool> {
        let f = self.take(name, alias)?;
        match &f.value {
            Value::Bool(b) => Some(*b),
            Value::Number(n) if n.as_u64() == Some(0) => Some(false),
            Value::Number(n) if n.as_u64() == Some(1) => Some(true),
            other => {
                p.push(f.path, Rule::Flag, Some(&show(other)));
                None
            }
        }
    }

    /// A required boolean.
    pub(crate) fn opt_bool(&mut self, name: &str, alias: &str, p: &mut Problems) -> Option<bool> {
        let f = self.take(name, alias)?;
        match f.value {
            Value::Bool(b) => Some(b),
            other => {
                p.push(
                    f.path,
                    Rule::Type {
                        expected: "true or false",
                    },
                    Some(&show(&other)),
                );
                None
            }
        }
    }

    /// A non-negative integer given as a number or a numeric string (WeChat's own examples write
    /// `"tag_id":"2"`); always emitted as a number.
    pub(crate) fn opt_u64(&mut self, name: &str, alias: &str, p: &mut Problems) -> Option<u64> {
        let f = self.take(name, alias)?;
        let parsed = match &f.value {
            Value::Number(n) => n.as_u64(),
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                s.parse().ok()
            }
            _ => None,
        };
        if parsed.is_none() {
            p.push(f.path, Rule::NonNegativeInteger, Some(&show(&f.value)));
        }
        parsed
    }

    /// A required non-negative integer (see [`Obj::opt_u64`]).
    pub(crate) fn u64(&mut self, name: &str, alias: &str, p: &mut Problems) -> Option<u64> {
        self.require(name, alias, p);
        self.opt_u64(name, alias, p)
    }

    /// A required message id (see [`Obj::opt_msg_id`]).
    pub(crate) fn msg_id(&mut self, name: &str, alias: &str, p: &mut Problems) -> Option<MsgId> {
        self.require(name, alias, p);
        self.opt_msg_id(name, alias, p)
    }

    /// Records [`Rule::Required`] when the field is absent.
    fn require(&self, name: &str, alias: &str, p: &mut Problems) {
        if !self.has(name, alias) {
            p.push(join(&self.path, name), Rule::Required, None);
        }
    }

    /// A 64-bit message id: number or decimal string, kept exactly.
    pub(crate) fn opt_msg_id(
        &mut self,
        name: &str,
        alias: &str,
        p: &mut Problems,
    ) -> Option<MsgId> {
        let f = self.take(name, alias)?;
        match serde_json::from_value::<MsgId>(f.value.clone()) {
            Ok(id) => Some(id),
            Err(_) => {
                p.push(f.path, Rule::PositiveInteger, Some(&show(&f.value)));
                None
            }
        }
    }

    /// A nested object field.
    pub(crate) fn opt_obj(&mut self, name: &str, alias: &str, p: &mut Problems) -> Option<Obj> {
        let f = self.take(name, alias)?;
        Obj::new(f.value, &f.path, p)
    }

    /// A list of strings.
    pub(crate) fn opt_string_list(
        &mut self,
        name: &str,
        alias: &str,
        p: &mut Problems,
    ) -> Option<Vec<String>> {
        let f = self.take(name, alias)?;
        let Value::Array(items) = f.value else {
            p.push(
                &f.path,
                Rule::Type {
                    expected: "an array of strings",
                },
                Some(&show(&f.value)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            match item {
                Value::String(s) => out.push(s),
                other => p.push(
                    index(&f.path, i),
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
        name: &str,
        alias: &str,
        p: &mut Problems,
        mut read: impl FnMut(Obj, &mut Problems) -> T,
    ) -> Option<Vec<T>> {
        let f = self.take(name, alias)?;
        let Value::Array(items) = f.value else {
            p.push(
                &f.path,
                Rule::Type {
                    expected: "an array",
                },
                Some(&show(&f.value)),
            );
            return None;
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            if let Some(obj) = Obj::new(item, &index(&f.path, i), p) {
                out.push(read(obj, p));
            }
        }
        Some(out)
    }

    /// Records every field not read as unknown.
    pub(crate) fn finish(self, p: &mut Problems) {
        for (key, value) in self.map {
            p.push(
                join(&self.path, &key),
                Rule::UnknownField,
                Some(&show(&value)),
            );
        }
    }
}
