//! Problems found in a request: each names the field path, the rule broken and the value.
//!
//! Validation never stops at the first problem: a person fixing a 10,000-recipient send wants to
//! see every bad OpenID in one pass, not one per attempt (and never after a quota is spent).

use std::fmt;

use crate::limits::PROBLEM_VALUE_MAX_CHARS;

/// The rule a value broke. [`Rule::code`] is a stable machine name (used by the npm package's
/// `rule` property and the worker's error JSON); `Display` is the English explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// A required field is missing or empty.
    Required,
    /// A list has too few or too many entries.
    Count {
        /// Fewest entries allowed.
        min: usize,
        /// Most entries allowed.
        max: usize,
    },
    /// A 0/1 flag has another value.
    Flag,
    /// Not a 28-character `[A-Za-z0-9_-]` OpenID.
    OpenIdFormat,
    /// The same value appears more than once in a list.
    Duplicate {
        /// Position of the first occurrence.
        first: usize,
    },
    /// `clientmsgid` is not at most 64 bytes of printable ASCII.
    ClientMsgId,
    /// Not a non-negative integer (numeric strings are accepted on input).
    NonNegativeInteger,
    /// Not a positive integer.
    PositiveInteger,
    /// A number outside its allowed range.
    Range {
        /// Smallest allowed value.
        min: i64,
        /// Largest allowed value.
        max: i64,
    },
    /// A string that must hold a JSON object does not.
    JsonObjectString,
    /// A field that this endpoint or message kind does not allow.
    NotAllowed {
        /// Why it is not allowed here.
        reason: &'static str,
    },
    /// A field this request does not know (typo or wrong endpoint).
    UnknownField,
    /// A value of the wrong JSON type.
    Type {
        /// What was expected.
        expected: &'static str,
    },
    /// An unknown `msgtype`.
    MsgType,
    /// A message object beside the one `msgtype` names (a body carries exactly one).
    MessageShape {
        /// The body's `msgtype`.
        msgtype: &'static str,
    },
    /// The message object `msgtype` names is missing (same code as [`Rule::MessageShape`]).
    MessageMissing {
        /// The body's `msgtype`.
        msgtype: &'static str,
    },
    /// An object must name exactly one of several fields.
    OneOf {
        /// The fields, as a person reads them.
        fields: &'static str,
    },
    /// uploadimg: not a JPEG or PNG by its first bytes.
    ImageFormat,
    /// A body or file too large.
    MaxBytes {
        /// Largest size allowed, exclusive.
        limit: usize,
    },
    /// An upload (media/upload, add_material) whose file is not of a format its type allows: by
    /// its first bytes for the file, by its extension for the file name.
    MediaFormat {
        /// The upload's type (`image`, `voice`, `video`, `thumb`).
        media_type: &'static str,
        /// The formats allowed, as a person reads them (`JPEG, PNG or GIF`).
        allowed: &'static str,
    },
    /// A file larger than its limit (limits WeChat states as "at most", e.g. 10M for an image).
    AtMostBytes {
        /// Largest size allowed, inclusive.
        max: usize,
    },
    /// A string holding characters this field cannot carry (quotes or line breaks in a
    /// multipart file name, for example).
    Characters,
    /// The input is not JSON at all.
    Json,
    /// Not a time: an RFC 3339 date-time with an offset, or Unix milliseconds (the admin API's
    /// `sendAt`, read by [`crate::plan::send_at_from_value`]).
    Time {
        /// What is wrong with this value, e.g. `is not a date: February 2030 has 28 days`
        /// ([`crate::plan::TimeError::reason`]).
        reason: String,
    },
    /// A start time more than [`crate::limits::SEND_AT_PAST_TOLERANCE_MS`] before now (`sendAt`,
    /// read by [`crate::plan::read_send_at`]): sending it would send at once.
    InThePast {
        /// The time given, in China time (`2020-03-07 08:00:00 China time (UTC+8)`).
        given: String,
        /// Now, in China time.
        now: String,
    },
}

impl Rule {
    /// Stable machine-readable name of the rule.
    pub fn code(&self) -> &'static str {
        match self {
            Rule::Required => "required",
            Rule::Count { .. } => "count",
            Rule::Flag => "flag",
            Rule::OpenIdFormat => "openid_format",
            Rule::Duplicate { .. } => "duplicate",
            Rule::ClientMsgId => "clientmsgid",
            Rule::NonNegativeInteger => "non_negative_integer",
            Rule::PositiveInteger => "positive_integer",
            Rule::Range { .. } => "range",
            Rule::JsonObjectString => "json_object_string",
            Rule::NotAllowed { .. } => "not_allowed",
            Rule::UnknownField => "unknown_field",
            Rule::Type { .. } => "type",
            Rule::MsgType => "msgtype",
            Rule::MessageShape { .. } | Rule::MessageMissing { .. } => "message_shape",
            Rule::OneOf { .. } => "one_of",
            Rule::ImageFormat => "image_format",
            Rule::MediaFormat { .. } => "media_format",
            Rule::AtMostBytes { .. } => "max_bytes",
            Rule::MaxBytes { .. } => "max_bytes",
            Rule::Characters => "characters",
            Rule::Json => "json",
            Rule::Time { .. } => "time",
            Rule::InThePast { .. } => "in_the_past",
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rule::Required => write!(f, "is required and must not be empty"),
            Rule::Count { min, max } => write!(f, "must have {min} to {max} entries"),
            Rule::Flag => write!(f, "must be 0 or 1"),
            Rule::OpenIdFormat => write!(
                f,
                "must be an OpenID: {} characters of A-Z a-z 0-9 _ -",
                crate::limits::OPENID_LEN
            ),
            Rule::Duplicate { first } => write!(f, "duplicates the entry at position {first}"),
            Rule::ClientMsgId => write!(
                f,
                "must be 1 to {} bytes of printable ASCII",
                crate::limits::CLIENT_MSG_ID_MAX_BYTES
            ),
            Rule::NonNegativeInteger => write!(f, "must be a non-negative integer"),
            Rule::PositiveInteger => write!(f, "must be a positive integer"),
            Rule::Range { min, max } => write!(f, "must be between {min} and {max}"),
            Rule::JsonObjectString => write!(f, "must be a string holding a JSON object"),
            Rule::NotAllowed { reason } => write!(f, "is not allowed here: {reason}"),
            Rule::UnknownField => write!(f, "is not a field of this request"),
            Rule::Type { expected } => write!(f, "must be {expected}"),
            Rule::MsgType => write!(
                f,
                "must be one of mpnews, text, voice, image, mpvideo, wxcard"
            ),
            Rule::MessageShape { msgtype } => write!(
                f,
                "must not be here: msgtype is {msgtype:?} and a body carries only that one \
                 message object"
            ),
            Rule::MessageMissing { msgtype } => write!(
                f,
                "is required: msgtype is {msgtype:?}, and the message goes under that key"
            ),
            Rule::OneOf { fields } => write!(f, "must name exactly one of {fields}"),
            Rule::ImageFormat => write!(f, "must be a JPEG or PNG image"),
            Rule::MaxBytes { limit } => write!(f, "must be under {limit} bytes"),
            Rule::MediaFormat {
                media_type,
                allowed,
            } => write!(f, "must be {allowed} for an upload of type {media_type}"),
            Rule::AtMostBytes { max } => {
                write!(f, "must be at most {max} bytes ({})", human_bytes(*max))
            }
            Rule::Characters => write!(f, "holds characters this field cannot carry"),
            Rule::Json => write!(f, "is not valid JSON"),
            Rule::Time { reason } => write!(
                f,
                "must be an RFC 3339 time with an offset (e.g. 2030-03-07T08:00:00+08:00) or \
                 Unix milliseconds; this one {reason}"
            ),
            Rule::InThePast { given, now } => write!(
                f,
                "is {given}, more than a minute before now ({now}): leave it out (or null) to \
                 send now, or give a time still to come"
            ),
        }
    }
}

impl Rule {
    /// The explanation in Chinese, as [`Display`](fmt::Display) gives it in English: the same
    /// facts (limits from [`crate::limits`]), for a person who reads the zh text first. Phrases
    /// core only has in English (a [`Rule::NotAllowed`] reason, a [`Rule::Type`] expectation, a
    /// [`Rule::Time`] reason) are quoted as they are.
    pub fn zh(&self) -> RuleZh<'_> {
        RuleZh(self)
    }
}

/// [`Rule::zh`]: the rule's explanation in Chinese.
pub struct RuleZh<'a>(&'a Rule);

impl fmt::Display for RuleZh<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Rule::Required => write!(f, "为必填项，不能为空"),
            Rule::Count { min, max } => write!(f, "须有 {min} 到 {max} 项"),
            Rule::Flag => write!(f, "只能是 0 或 1"),
            Rule::OpenIdFormat => write!(
                f,
                "须是 OpenID：{} 个字符，只含 A-Z a-z 0-9 _ -",
                crate::limits::OPENID_LEN
            ),
            Rule::Duplicate { first } => write!(f, "与位置 {first} 的项重复"),
            Rule::ClientMsgId => write!(
                f,
                "须是 1 到 {} 字节的可打印 ASCII 字符",
                crate::limits::CLIENT_MSG_ID_MAX_BYTES
            ),
            Rule::NonNegativeInteger => write!(f, "须是非负整数"),
            Rule::PositiveInteger => write!(f, "须是正整数"),
            Rule::Range { min, max } => write!(f, "须在 {min} 到 {max} 之间"),
            Rule::JsonObjectString => write!(f, "须是内容为 JSON 对象的字符串"),
            Rule::NotAllowed { reason } => write!(f, "此处不允许（{reason}）"),
            Rule::UnknownField => write!(f, "不是此请求的字段"),
            Rule::Type { expected } => write!(f, "类型不对，应为 {expected}"),
            Rule::MsgType => write!(f, "须是 mpnews、text、voice、image、mpvideo、wxcard 之一"),
            Rule::MessageShape { msgtype } => write!(
                f,
                "不应出现：msgtype 为 {msgtype:?}，请求体只能带这一个消息对象"
            ),
            Rule::MessageMissing { msgtype } => {
                write!(f, "为必填项：msgtype 为 {msgtype:?}，消息须放在这个键下")
            }
            Rule::OneOf { fields } => write!(f, "须在 {fields} 中恰好指定一个"),
            Rule::ImageFormat => write!(f, "须是 JPEG 或 PNG 图片"),
            Rule::MaxBytes { limit } => write!(f, "须小于 {limit} 字节"),
            Rule::MediaFormat {
                media_type,
                allowed,
            } => write!(f, "类型为 {media_type} 的上传须是 {allowed}"),
            Rule::AtMostBytes { max } => {
                write!(f, "不能超过 {max} 字节（{}）", human_bytes(*max))
            }
            Rule::Characters => write!(f, "含有此字段不能携带的字符"),
            Rule::Json => write!(f, "不是有效的 JSON"),
            Rule::Time { reason } => write!(
                f,
                "须是带时区偏移的 RFC 3339 时间（如 2030-03-07T08:00:00+08:00）或 Unix 毫秒；此值 {reason}"
            ),
            Rule::InThePast { given, now } => write!(
                f,
                "为 {}，比现在（{}）早一分钟以上：如要立即发送请不填（或填 null），否则请填一个将来的时间",
                china_zh(given),
                china_zh(now)
            ),
        }
    }
}

/// A size as WeChat's documents write it: `10 MiB`, `64 KiB`, or bytes.
fn human_bytes(n: usize) -> String {
    const KIB: usize = 1024;
    if n >= KIB * KIB && n % (KIB * KIB) == 0 {
        format!("{} MiB", n / (KIB * KIB))
    } else if n >= KIB && n % KIB == 0 {
        format!("{} KiB", n / KIB)
    } else {
        format!("{n} bytes")
    }
}

/// `2020-03-07 08:00:00 China time (UTC+8)` as Chinese writes it: `2020-03-07 08:00:00 北京时间（UTC+8）`.
fn china_zh(display: &str) -> String {
    display.replace(" China time (UTC+8)", " 北京时间（UTC+8）")
}

/// One problem: where (`articles[3].title`), which rule, and the offending value (shortened).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Field path, e.g. `touser[17]` or `articles[0].show_cover_pic`; empty for the whole body.
    ///
    /// Read from JSON (`from_json`, `from_value`), a path is in the caller's naming: a key present
    /// in the input is named exactly as written (`articles[0].showCoverPic`); an absent one (a
    /// missing required field) by its camelCase alias when any key of the body is a camelCase
    /// alias, by its wire name otherwise. A typed request built in Rust names its fields by their
    /// wire names.
    pub path: String,
    /// The rule broken.
    pub rule: Rule,
    /// The offending value, shortened to a readable length; `None` when absent.
    pub value: Option<String>,
}

impl Problem {
    /// A problem at `path` with the offending `value` (shortened here).
    pub fn new(path: impl Into<String>, rule: Rule, value: Option<&str>) -> Self {
        Problem {
            path: path.into(),
            rule,
            value: value.map(shorten),
        }
    }
}

impl Problem {
    /// The problem in Chinese (`Display` gives it in English): path, rule, value.
    pub fn zh(&self) -> String {
        let path = if self.path.is_empty() {
            "请求体"
        } else {
            &self.path
        };
        match &self.value {
            Some(value) => format!("{path} {}（实际值 {value:?}）", self.rule.zh()),
            None => format!("{path} {}", self.rule.zh()),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = if self.path.is_empty() {
            "body"
        } else {
            &self.path
        };
        write!(f, "{path} {}", self.rule)?;
        if let Some(value) = &self.value {
            write!(f, " (got {value:?})")?;
        }
        Ok(())
    }
}

/// Shortens a value for display: at most [`PROBLEM_VALUE_MAX_CHARS`] characters, then `…`.
pub fn shorten(value: &str) -> String {
    let mut chars = value.char_indices();
    match chars.nth(PROBLEM_VALUE_MAX_CHARS) {
        None => value.to_owned(),
        Some((cut, _)) => format!("{}…", &value[..cut]),
    }
}

/// All problems of one request. Never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ValidationError {
    /// Every problem found, in field order.
    pub problems: Vec<Problem>,
}

/// JSON (the JS model): `{"path","rule","message","zh","value"}`, `rule` as [`Rule::code`],
/// `message` as the problem reads to a person and `zh` as it reads in Chinese.
impl serde::Serialize for Problem {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut m = s.serialize_struct("Problem", 5)?;
        m.serialize_field("path", &self.path)?;
        m.serialize_field("rule", self.rule.code())?;
        m.serialize_field("message", &self.to_string())?;
        m.serialize_field("zh", &self.zh())?;
        m.serialize_field("value", &self.value)?;
        m.end()
    }
}

impl ValidationError {
    /// The error's code in the JS model and the worker's answers.
    pub const CODE: &'static str = "validation";
}

/// JSON (the JS model, and the `error` of the worker's 400 answers):
/// `{"code":"validation","message","path","rule","problems":[…]}`, `path` and `rule` those of
/// the first problem.
impl serde::Serialize for ValidationError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let first = self.problems.first();
        let mut m = s.serialize_struct("ValidationError", 5)?;
        m.serialize_field("code", Self::CODE)?;
        m.serialize_field("message", &self.to_string())?;
        m.serialize_field("path", first.map_or("", |p| p.path.as_str()))?;
        m.serialize_field("rule", first.map_or("", |p| p.rule.code()))?;
        m.serialize_field("problems", &self.problems)?;
        m.end()
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{n} problem{}: ", if n == 1 { "" } else { "s" })?;
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

/// Collects problems while walking a request; paths are built as the walk goes deeper.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    list: Vec<Problem>,
}

impl Problems {
    pub(crate) fn push(&mut self, path: impl Into<String>, rule: Rule, value: Option<&str>) {
        self.list.push(Problem::new(path, rule, value));
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The problems as an error; a generic problem is added if none was recorded, so an error
    /// is never empty.
    pub(crate) fn into_error(mut self) -> ValidationError {
        if self.list.is_empty() {
            self.push("", Rule::Required, None);
        }
        ValidationError {
            problems: without_repeats(self.list),
        }
    }

    pub(crate) fn into_result(self) -> Result<(), ValidationError> {
        if self.list.is_empty() {
            Ok(())
        } else {
            Err(ValidationError {
                problems: self.list,
            })
        }
    }
}

/// `list` with each problem of the same path and rule as an earlier one left out: a field missing
/// in the JSON is also blank in the partial request, and is reported once.
pub(crate) fn without_repeats(mut list: Vec<Problem>) -> Vec<Problem> {
    // (The duplicate finder of OpenID lists: a std HashSet here would link a second hash table
    // into the npm package's WebAssembly for an error path.)
    let keys: Vec<String> = list
        .iter()
        .map(|p| format!("{}\0{}", p.path, p.rule.code()))
        .collect();
    let mut repeated = vec![false; keys.len()];
    for_each_duplicate(&keys, |i, _| {
        if let Some(r) = repeated.get_mut(i) {
            *r = true;
        }
    });
    let mut i = 0;
    list.retain(|_| {
        let keep = !repeated.get(i).copied().unwrap_or(false);
        i += 1;
        keep
    });
    list
}

/// Joins a parent path and a field name (`articles[0]` + `title`).
pub(crate) fn join(parent: &str, field: &str) -> String {
    if parent.is_empty() {
        field.to_owned()
    } else {
        format!("{parent}.{field}")
    }
}

/// A path for a list entry (`touser` + 3 → `touser[3]`).
pub(crate) fn index(parent: &str, i: usize) -> String {
    format!("{parent}[{i}]")
}

// ---- shared field rules ------------------------------------------------------------------------

/// A required string: present and not blank.
pub(crate) fn require_text(p: &mut Problems, parent: &str, field: &str, value: &str) {
    // The path is only written out for a problem: checks run on every build.
    if value.trim().is_empty() {
        p.push(join(parent, field), Rule::Required, Some(value));
    }
}

/// A `msg_id` must be positive (0 is never issued by WeChat).
pub(crate) fn check_msg_id(p: &mut Problems, path: &str, id: crate::ids::MsgId) {
    if id.0 == 0 {
        p.push(path, Rule::PositiveInteger, Some("0"));
    }
}

/// Whether `s` is a well-formed OpenID: [`crate::limits::OPENID_LEN`] bytes of `[A-Za-z0-9_-]`.
pub fn is_openid(s: &str) -> bool {
    // A table lookup per byte: this runs on every recipient of every send and plan.
    const ALLOWED: [bool; 256] = {
        let mut t = [false; 256];
        let mut b = 0;
        while b < 256 {
            let c = b as u8;
            t[b] = c.is_ascii_alphanumeric() || c == b'_' || c == b'-';
            b += 1;
        }
        t
    };
    s.len() == crate::limits::OPENID_LEN && s.bytes().fold(true, |ok, b| ok & ALLOWED[b as usize])
}

/// Whether `s` is a well-formed `clientmsgid`: 1..=64 bytes of printable ASCII (space to `~`).
pub fn is_client_msg_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= crate::limits::CLIENT_MSG_ID_MAX_BYTES
        && s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// Checks an OpenID list: count within `min..=max`, each well-formed, no duplicates (each repeat
/// names the position of the first occurrence).
pub(crate) fn check_openid_list(
    p: &mut Problems,
    path: &str,
    list: &[String],
    min: usize,
    max: usize,
) {
    if list.len() < min || list.len() > max {
        p.push(
            path,
            Rule::Count { min, max },
            Some(&list.len().to_string()),
        );
    }
    for (i, id) in list.iter().enumerate() {
        if !is_openid(id) {
            p.push(index(path, i), Rule::OpenIdFormat, Some(id));
        }
    }
    for_each_duplicate(list, |i, first| {
        p.push(
            index(path, i),
            Rule::Duplicate { first },
            list.get(i).map(String::as_str),
        );
    });
}

/// Calls `found(position, first_position)` for every entry equal to an earlier one, in order.
///
/// An open-addressing table of positions keyed by a fast hash: this is the hot loop of
/// validating a 10,000-OpenID send and of planning a million-follower one, and std's SipHash map
/// made validation cost three times the serialization it guards.
pub fn for_each_duplicate<S: AsRef<str>>(list: &[S], mut found: impl FnMut(usize, usize)) {
    use std::hash::Hasher;
    let size = (list.len() * 2).next_power_of_two().max(16);
    let mask = size - 1;
    // 0 = empty; otherwise position + 1.
    let mut table = vec![0usize; size];
    for (i, item) in list.iter().enumerate() {
        let item = item.as_ref();
        let mut h = FastHasher::default();
        h.write(item.as_bytes());
        // The multiply leaves the low bits weakest; fold the high half in.
        let hash = h.finish();
        let mut pos = ((hash ^ (hash >> 29)) as usize) & mask;
        loop {
            match table.get(pos).copied() {
                Some(0) | None => {
                    if let Some(slot) = table.get_mut(pos) {
                        *slot = i + 1;
                    }
                    break;
                }
                Some(j) => {
                    if list.get(j - 1).map(AsRef::as_ref) == Some(item) {
                        found(i, j - 1);
                        break;
                    }
                }
            }
            pos = (pos + 1) & mask;
        }
    }
}

/// A small multiply-rotate hasher (the FxHash scheme) for duplicate detection: SipHash made
/// validating a 10,000-OpenID send three times slower than serializing it. Lists come from the
/// account's own operator, and a crafted collision set only degrades to quadratic time on at
/// most 10,000 entries, so flooding resistance is not worth that price here.
#[derive(Default, Clone, Copy)]
pub(crate) struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortens_long_values_on_char_boundaries() {
        let long = "群".repeat(100);
        let s = shorten(&long);
        assert_eq!(s.chars().count(), PROBLEM_VALUE_MAX_CHARS + 1);
        assert!(s.ends_with('…'));
        assert_eq!(shorten("short"), "short");
    }

    #[test]
    fn problems_read_in_chinese_with_the_same_limits() {
        let p = Problem::new("touser[3]", Rule::OpenIdFormat, Some("bad"));
        assert_eq!(
            p.zh(),
            format!(
                "touser[3] 须是 OpenID：{} 个字符，只含 A-Z a-z 0-9 _ -（实际值 \"bad\"）",
                crate::limits::OPENID_LEN
            )
        );
        let whole = Problem::new("", Rule::Json, None);
        assert_eq!(whole.zh(), "请求体 不是有效的 JSON");
        let count = Rule::Count {
            min: 2,
            max: 10_000,
        };
        assert_eq!(count.zh().to_string(), "须有 2 到 10000 项");
        assert_eq!(count.to_string(), "must have 2 to 10000 entries");
    }

    #[test]
    fn openid_shape() {
        assert!(is_openid("oR5Gjjl_eiZoUpGozMo7dbBJ362A"));
        assert!(!is_openid("OPENID1"));
        assert!(!is_openid("oR5Gjjl_eiZoUpGozMo7dbBJ362!"));
    }

    #[test]
    fn clientmsgid_shape() {
        assert!(is_client_msg_id("job-1/batch-0"));
        assert!(!is_client_msg_id(""));
        assert!(!is_client_msg_id(&"a".repeat(65)));
        assert!(!is_client_msg_id("tab\there"));
        assert!(!is_client_msg_id("中文"));
    }
}
