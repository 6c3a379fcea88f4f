//! JSON text into a [`Json`] tree: the one parser of user input and reply heads.
//!
//! Hand-written rather than a serde visitor over serde_json because building a request is on the
//! npm package's hot path (target: at most twice the time of a bare `JSON.stringify`) and
//! serde_json's generic deserializer, at the size-first opt-level of the WebAssembly builds, spent
//! most of that budget on a 160-byte body. It accepts exactly RFC 8259 JSON, as serde_json does:
//! the same numbers (`u64`, then `i64`, then `f64`; `-0` is a float), the same escapes (a lone
//! surrogate is an error), no trailing commas, at most 128 levels of nesting, and errors worded
//! like serde_json's with their line and column. That agreement is what lets the worker (which
//! reads bodies with serde_json) and the npm package (which reads them here) report alike; it is
//! checked against serde_json by `core_parses_json_text_exactly_as_serde_json_does` in
//! `core/tests/properties.rs` and by the `json_body` fuzz target.
//!
//! Strings without escapes borrow from the input. Members and items gather on two stacks shared
//! by the whole parse, so each object or array costs one exactly-sized allocation.

use std::borrow::Cow;
use std::fmt;

use super::Json;

/// Nesting deeper than this is refused (serde_json's limit), so input cannot exhaust the stack.
const MAX_DEPTH: u32 = 128;

/// Why the text is not JSON, and where: displays like serde_json's errors
/// (`expected value at line 1 column 7`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyntaxError {
    reason: &'static str,
    line: usize,
    column: usize,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at line {} column {}",
            self.reason, self.line, self.column
        )
    }
}

/// Parses a whole JSON text (surrounding whitespace allowed, nothing else after the value).
pub(crate) fn parse(bytes: &[u8]) -> Result<Json<'_>, SyntaxError> {
    let mut parser = Parser {
        bytes,
        text: std::str::from_utf8(bytes).ok(),
        pos: 0,
        depth: 0,
        members: Vec::new(),
        items: Vec::new(),
    };
    let value = parser.value().map_err(|e| *e)?;
    parser.skip_whitespace();
    if parser.pos < bytes.len() {
        return Err(*parser.error_at(parser.pos + 1, "trailing characters"));
    }
    Ok(value)
}

/// A syntax error inside the parser: boxed, so each `Result` of the recursive descent is the size
/// of its value (less to move per value read; errors are rare).
type Failure = Box<SyntaxError>;

struct Parser<'a> {
    bytes: &'a [u8],
    /// The whole input when it is UTF-8 (checked once): strings are then sliced from it rather
    /// than each checked again.
    text: Option<&'a str>,
    pos: usize,
    depth: u32,
    /// Members of the objects being read, innermost last.
    members: Vec<(Cow<'a, str>, Json<'a>)>,
    /// Items of the arrays being read, innermost last.
    items: Vec<Json<'a>>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// An error at the byte just read (serde_json's column: 1-based, counting bytes).
    fn error(&self, reason: &'static str) -> Failure {
        self.error_at(self.pos, reason)
    }

    /// An error after the first `consumed` bytes.
    fn error_at(&self, consumed: usize, reason: &'static str) -> Failure {
        let read = self.bytes.get(..consumed).unwrap_or(self.bytes);
        let line_start = read.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        Box::new(SyntaxError {
            reason,
            line: 1 + read.iter().filter(|&&b| b == b'\n').count(),
            column: read.len() - line_start,
        })
    }

    fn value(&mut self) -> Result<Json<'a>, Failure> {
        self.skip_whitespace();
        let Some(b) = self.peek() else {
            return Err(self.error("EOF while parsing a value"));
        };
        match b {
            b'"' => {
                self.pos += 1;
                Ok(Json::Str(self.string()?))
            }
            b'{' => self.nested(Self::object),
            b'[' => self.nested(Self::array),
            b'-' | b'0'..=b'9' => self.number(),
            b't' => self.literal(b"true", Json::Bool(true)),
            b'f' => self.literal(b"false", Json::Bool(false)),
            b'n' => self.literal(b"null", Json::Null),
            _ => Err(self.error_at(self.pos + 1, "expected value")),
        }
    }

    fn literal(&mut self, word: &[u8], value: Json<'a>) -> Result<Json<'a>, Failure> {
        for &expected in word {
            match self.peek() {
                Some(b) if b == expected => self.pos += 1,
                Some(_) => return Err(self.error_at(self.pos + 1, "expected ident")),
                None => return Err(self.error("EOF while parsing a value")),
            }
        }
        Ok(value)
    }

    /// Reads an object or array (its opening byte is next) one level deeper.
    fn nested(
        &mut self,
        read: fn(&mut Self) -> Result<Json<'a>, Failure>,
    ) -> Result<Json<'a>, Failure> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_at(self.pos + 1, "recursion limit exceeded"));
        }
        self.pos += 1;
        let value = read(self);
        self.depth -= 1;
        value
    }

    fn object(&mut self) -> Result<Json<'a>, Failure> {
        let first = self.members.len();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Json::Object(Vec::new()));
        }
        let mut first_key = true;
        loop {
            match self.peek() {
                Some(b'"') => self.pos += 1,
                Some(b'}') => return Err(self.error_at(self.pos + 1, "trailing comma")),
                Some(_) => return Err(self.error_at(self.pos + 1, "key must be a string")),
                None if first_key => return Err(self.error("EOF while parsing an object")),
                None => return Err(self.error("EOF while parsing a value")),
            }
            first_key = false;
            let key = self.string()?;
            self.skip_whitespace();
            match self.peek() {
                Some(b':') => self.pos += 1,
                Some(_) => return Err(self.error_at(self.pos + 1, "expected `:`")),
                None => return Err(self.error("EOF while parsing an object")),
            }
            let value = self.value()?;
            self.members.push((key, value));
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                }
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Json::Object(take_above(&mut self.members, first)));
                }
                Some(_) => return Err(self.error_at(self.pos + 1, "expected `,` or `}`")),
                None => return Err(self.error("EOF while parsing an object")),
            }
        }
    }

    fn array(&mut self) -> Result<Json<'a>, Failure> {
        let first = self.items.len();
        self.skip_whitespace();
        match self.peek() {
            Some(b']') => {
                self.pos += 1;
                return Ok(Json::Array(Vec::new()));
            }
            None => return Err(self.error("EOF while parsing a list")),
            Some(_) => {}
        }
        loop {
            let item = self.value()?;
            self.items.push(item);
            self.skip_whitespace();
            match self.peek() {
                Some(b',') => {
                    self.pos += 1;
                    self.skip_whitespace();
                    // (EOF here is the missing value's, reported by `value`.)
                    if self.peek() == Some(b']') {
                        return Err(self.error_at(self.pos + 1, "trailing comma"));
                    }
                }
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Json::Array(take_above(&mut self.items, first)));
                }
                Some(_) => return Err(self.error_at(self.pos + 1, "expected `,` or `]`")),
                None => return Err(self.error("EOF while parsing a list")),
            }
        }
    }

    /// The rest of a string whose opening quote was read.
    fn string(&mut self) -> Result<Cow<'a, str>, Failure> {
        let bytes = self.bytes;
        let mut owned: Option<String> = None;
        // Like serde_json, invalid UTF-8 is reported once the string has ended (errors inside it
        // come first), pointing back from the closing quote by the decoded bytes that follow the
        // first invalid one.
        let mut content_len = 0;
        let mut first_invalid = None;
        loop {
            let start = self.pos;
            let run = bytes.get(start..).unwrap_or_default();
            let plain = run
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .unwrap_or(run.len());
            // A run ends at an ASCII byte or at the end, so it is whole characters of `self.text`.
            let sliced = self.text.and_then(|t| t.get(start..start + plain));
            let checked = || std::str::from_utf8(run.get(..plain).unwrap_or_default());
            let text = match sliced.map_or_else(checked, Ok) {
                Ok(text) => text,
                Err(e) => {
                    first_invalid = first_invalid.or(Some(content_len + e.valid_up_to()));
                    ""
                }
            };
            content_len += plain;
            self.pos = start + plain;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    if let Some(at) = first_invalid {
                        let back = content_len - at;
                        return Err(self.error_at(
                            self.pos.saturating_sub(back),
                            "invalid unicode code point",
                        ));
                    }
                    return Ok(match owned {
                        None => Cow::Borrowed(text),
                        Some(mut s) => {
                            s.push_str(text);
                            Cow::Owned(s)
                        }
                    });
                }
                Some(b'\\') => {
                    self.pos += 1;
                    let s = owned.get_or_insert_with(String::new);
                    s.push_str(text);
                    let c = self.escape()?;
                    s.push(c);
                    content_len += c.len_utf8();
                }
                Some(_) => {
                    return Err(self.error_at(
                        self.pos + 1,
                        "control character (\\u0000-\\u001F) found while parsing a string",
                    ))
                }
                None => return Err(self.error("EOF while parsing a string")),
            }
        }
    }

    /// The character of an escape whose backslash was read.
    fn escape(&mut self) -> Result<char, Failure> {
        let Some(b) = self.peek() else {
            return Err(self.error("EOF while parsing a string"));
        };
        self.pos += 1;
        Ok(match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let unit = self.hex4()?;
                let code = match unit {
                    0xD800..=0xDBFF => {
                        if self.bytes.get(self.pos..self.pos + 2) != Some(b"\\u") {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        self.pos += 2;
                        let low = self.hex4()?;
                        if !(0xDC00..=0xDFFF).contains(&low) {
                            return Err(self.error("lone leading surrogate in hex escape"));
                        }
                        0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    }
                    0xDC00..=0xDFFF => {
                        return Err(self.error("lone trailing surrogate in hex escape"))
                    }
                    _ => unit,
                };
                char::from_u32(code).ok_or_else(|| self.error("invalid unicode code point"))?
            }
            _ => return Err(self.error("invalid escape")),
        })
    }

    /// Four hex digits of a `\\u` escape (all four are read before any is checked, as serde_json
    /// does, so errors point at the same column).
    fn hex4(&mut self) -> Result<u32, Failure> {
        let Some(digits) = self.bytes.get(self.pos..self.pos + 4) else {
            self.pos = self.bytes.len();
            return Err(self.error("EOF while parsing a string"));
        };
        self.pos += 4;
        digits
            .iter()
            .try_fold(0, |unit, &b| Some(unit * 16 + char::from(b).to_digit(16)?))
            .ok_or_else(|| self.error("invalid escape"))
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    /// At least one digit (after `.` or the exponent's `e`).
    fn required_digits(&mut self) -> Result<(), Failure> {
        match self.peek() {
            Some(b'0'..=b'9') => {
                self.digits();
                Ok(())
            }
            Some(_) => Err(self.error_at(self.pos + 1, "invalid number")),
            None => Err(self.error("EOF while parsing a value")),
        }
    }

    fn number(&mut self) -> Result<Json<'a>, Failure> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.error_at(self.pos + 1, "invalid number"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            Some(_) => return Err(self.error_at(self.pos + 1, "invalid number")),
            None => return Err(self.error("EOF while parsing a value")),
        }
        let int_end = self.pos;
        let mut float = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.required_digits()?;
            float = true;
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            self.required_digits()?;
            float = true;
        }
        let magnitude = if float {
            None
        } else {
            self.bytes
                .get(int_start..int_end)
                .unwrap_or_default()
                .iter()
                .try_fold(0u64, |n, &d| {
                    n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
                })
        };
        Ok(match (magnitude, negative) {
            (Some(n), false) => Json::Unsigned(n),
            // `-0` is a float in serde_json (its sign would be lost as an integer).
            (Some(0), true) => Json::Float(-0.0),
            (Some(n), true) => match 0i64.checked_sub_unsigned(n) {
                Some(i) => Json::Negative(i),
                None => self.float(start)?,
            },
            (None, _) => self.float(start)?,
        })
    }

    /// The number from `start` to here as an `f64`, read by serde_json (which the replies need
    /// anyway: std's exact float parser would add 15 KB to the npm package's WebAssembly, for
    /// numbers that are only ever shown in a problem report).
    fn float(&self, start: usize) -> Result<Json<'a>, Failure> {
        let text = self.bytes.get(start..self.pos).unwrap_or_default();
        match serde_json::from_slice::<f64>(text) {
            Ok(f) => Ok(Json::Float(f)),
            // Where serde_json stopped within the number (numbers have no line breaks).
            Err(e) => Err(self.error_at(start + e.column(), "number out of range")),
        }
    }
}

/// The entries of `stack` from `first` on, moved into a list of exactly their number.
fn take_above<T>(stack: &mut Vec<T>, first: usize) -> Vec<T> {
    // One block copy (`split_off` allocates exactly the tail), not a move per entry.
    stack.split_off(first.min(stack.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn numbers_take_the_narrowest_kind_serde_json_would() {
        assert_eq!(ok("18446744073709551615"), Json::Unsigned(u64::MAX));
        assert_eq!(
            ok("18446744073709551616"),
            Json::Float(18446744073709551616.0)
        );
        assert_eq!(ok("-9223372036854775808"), Json::Negative(i64::MIN));
        assert_eq!(
            ok("-9223372036854775809"),
            Json::Float(-9223372036854775809.0)
        );
        assert!(matches!(ok("-0"), Json::Float(f) if f == 0.0 && f.is_sign_negative()));
        assert_eq!(ok("1e3"), Json::Float(1000.0));
        assert_eq!(ok("0.5E-1"), Json::Float(0.05));
    }

    #[test]
    fn escapes_decode_and_surrogate_pairs_join() {
        assert_eq!(
            ok(r#""a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00z""#),
            Json::Str(Cow::Owned("a\"\\/\u{8}\u{c}\n\r\t\u{e9}\u{1f600}z".into()))
        );
        assert_eq!(ok("\"中文\""), Json::Str(Cow::Borrowed("中文")));
    }

    #[test]
    fn refuses_what_serde_json_refuses() {
        for bad in [
            "",
            " ",
            "{",
            "[1,]",
            "{\"a\":1,}",
            "01",
            "-",
            "1.",
            "1e",
            "+1",
            ".5",
            "tru",
            "nul",
            "{a:1}",
            "{\"a\" 1}",
            "[1 2]",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"a\nb\"",
            "\"abc",
            "1 2",
            "1e400",
            "\"\\u12g4\"",
            "[",
        ] {
            assert!(parse(bad.as_bytes()).is_err(), "{bad:?} was accepted");
            assert!(
                serde_json::from_str::<serde_json::Value>(bad).is_err(),
                "serde_json accepts {bad:?}"
            );
        }
        assert!(parse(b"\"\xff\"").is_err());
    }

    #[test]
    fn strings_read_alike_whether_or_not_the_whole_input_is_utf8() {
        // Valid input: strings are sliced from the text checked once.
        assert_eq!(
            ok(r#"{"a":"中文 ok","b":"x\ty"}"#),
            Json::Object(vec![
                (Cow::Borrowed("a"), Json::Str(Cow::Borrowed("中文 ok"))),
                (Cow::Borrowed("b"), Json::Str(Cow::Owned("x\ty".into()))),
            ])
        );
        // Invalid UTF-8 in a later string: each string is checked on its own, and the error
        // is serde_json's, at the same place.
        let bad: &[u8] = b"{\"a\":\"\xe4\xb8\xad\",\"b\":\"x\xff\"}";
        let ours = parse(bad).err().map(|e| e.to_string());
        let theirs = serde_json::from_slice::<serde_json::Value>(bad)
            .err()
            .map(|e| e.to_string());
        assert!(ours.is_some());
        assert_eq!(ours, theirs);
    }

    #[test]
    fn nesting_is_limited_without_exhausting_the_stack() {
        let deep = "[".repeat(100_000);
        let e = parse(deep.as_bytes()).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("recursion limit exceeded at line 1 column 129")
        );
        let fine = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(parse(fine.as_bytes()).is_ok());
    }

    #[test]
    fn errors_say_where_like_serde_json() {
        for bad in ["{\"a\":1,\n \"b\":x}", "[1,2", "{\"a\" 1}", "[1 2]", "  }"] {
            let ours = parse(bad.as_bytes()).err().map(|e| e.to_string());
            let theirs = serde_json::from_str::<serde_json::Value>(bad)
                .err()
                .map(|e| e.to_string());
            assert_eq!(ours, theirs, "{bad:?}");
        }
    }
}
