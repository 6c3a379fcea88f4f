//! Pushed messages and events, above all the mass-send result `MASSSENDJOBFINISH`.
//!
//! WeChat pushes XML to the account's callback URL. After [`crate::callback`] has checked the
//! signature (and decrypted a safe-mode body), [`parse_message`] turns the XML into a
//! [`CallbackMessage`]: the typed [`MassSendJobFinish`] the product exists for, or a
//! [`GenericMessage`] (message type, event, flat fields) for everything else, so the worker can
//! store or forward any push without knowing its type.
//!
//! The XML comes from the network, so the reader is deliberately small and strict about what can
//! hurt and lenient about what WeChat and other SDKs' samples vary in:
//!
//! - **rejected:** `<!DOCTYPE>` (and with it every entity declaration: no XXE, no billion
//!   laughs), unknown entity references, bodies over [`EVENT_XML_MAX_BYTES`], nesting deeper than
//!   [`EVENT_XML_MAX_DEPTH`], more than [`EVENT_XML_MAX_ELEMENTS`] elements, numbers that do not
//!   fit their type (a `MsgID` over `u64::MAX` is an error, never wrapped), a root other than
//!   `<xml>`, and a repeated typed field (two `MsgID`s leave no right answer).
//! - **accepted:** CDATA or plain text, any element order, whitespace and line breaks, comments,
//!   an XML declaration, unknown extra elements, `send success` as well as the older seed's
//!   `sendsuccess`, and an unknown `Status` (kept as text) or `err(N)` code (kept as a number).

use std::fmt;

use quick_xml::events::Event;
use quick_xml::Reader;
use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use crate::ids::MsgId;
use crate::limits::{EVENT_XML_MAX_BYTES, EVENT_XML_MAX_DEPTH, EVENT_XML_MAX_ELEMENTS};
use crate::validate::shorten;

// ================================================================================================
// Errors
// ================================================================================================

/// Why a pushed XML body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// The body is larger than the cap.
    #[error("XML body is {size} bytes, over the limit of {limit}")]
    TooLarge {
        /// Size of the body.
        size: usize,
        /// Largest size accepted.
        limit: usize,
    },
    /// The body is not UTF-8 (WeChat sends UTF-8 only).
    #[error("XML body is not valid UTF-8")]
    NotUtf8,
    /// A `<!DOCTYPE>` (the only place entity declarations can live) was found.
    #[error("DOCTYPE and entity declarations are not allowed")]
    DocType,
    /// An entity reference other than the five XML predefines or a character reference.
    #[error("unknown entity reference &{name};")]
    UnknownEntity {
        /// The entity name as written (shortened).
        name: String,
    },
    /// Elements nest deeper than the cap.
    #[error("XML nests deeper than {limit} elements")]
    TooDeep {
        /// Deepest nesting accepted.
        limit: usize,
    },
    /// More elements than the cap.
    #[error("XML has more than {limit} elements")]
    TooManyElements {
        /// Most elements accepted.
        limit: usize,
    },
    /// The document is not well-formed XML.
    #[error("malformed XML: {message}")]
    Malformed {
        /// What the XML reader found, with its byte position.
        message: String,
    },
    /// The root element is not `<xml>`.
    #[error("root element must be <xml>, found <{found}>")]
    Root {
        /// The root element's name (shortened).
        found: String,
    },
    /// A required element is missing.
    #[error("missing element {element}")]
    Missing {
        /// Path of the element, e.g. `MsgID`.
        element: &'static str,
    },
    /// A typed element appears more than once.
    #[error("element {element} appears more than once")]
    Duplicate {
        /// Path of the element.
        element: &'static str,
    },
    /// A numeric element is not a number of its type (not digits, negative, or too large).
    #[error("element {element} must be {expected}, got {value:?}")]
    Number {
        /// Path of the element, e.g. `MsgID` or `CopyrightCheckResult.Count`.
        element: &'static str,
        /// What was expected, e.g. `an unsigned 64-bit integer`.
        expected: &'static str,
        /// The value found (shortened).
        value: String,
    },
}

impl EventError {
    /// The error in Chinese, the twin of its `Display` (element names stay as WeChat writes them).
    pub fn zh(&self) -> String {
        match self {
            EventError::TooLarge { size, limit } => {
                format!("XML 正文 {size} 字节，超过上限 {limit} 字节")
            }
            EventError::NotUtf8 => "XML 正文不是有效的 UTF-8".to_owned(),
            EventError::DocType => "不允许 DOCTYPE 和实体声明".to_owned(),
            EventError::UnknownEntity { name } => format!("未知的实体引用 &{name};"),
            EventError::TooDeep { limit } => format!("XML 嵌套超过 {limit} 层"),
            EventError::TooManyElements { limit } => format!("XML 元素超过 {limit} 个"),
            EventError::Malformed { message } => format!("XML 格式错误：{message}"),
            EventError::Root { found } => format!("根元素须为 <xml>，实际为 <{found}>"),
            EventError::Missing { element } => format!("缺少元素 {element}"),
            EventError::Duplicate { element } => format!("元素 {element} 出现了不止一次"),
            EventError::Number {
                element,
                expected,
                value,
            } => format!(
                "元素 {element} 须为{}，实际为 {value:?}",
                number_zh(expected)
            ),
        }
    }

    /// Stable machine-readable name of the error (used by the npm package and the worker).
    pub fn code(&self) -> &'static str {
        match self {
            EventError::TooLarge { .. } => "xml_too_large",
            EventError::NotUtf8 => "xml_not_utf8",
            EventError::DocType => "xml_doctype",
            EventError::UnknownEntity { .. } => "xml_unknown_entity",
            EventError::TooDeep { .. } => "xml_too_deep",
            EventError::TooManyElements { .. } => "xml_too_many_elements",
            EventError::Malformed { .. } => "xml_malformed",
            EventError::Root { .. } => "xml_root",
            EventError::Missing { .. } => "missing_element",
            EventError::Duplicate { .. } => "duplicate_element",
            EventError::Number { .. } => "invalid_number",
        }
    }
}

// ================================================================================================
// The small, bounded XML tree every push is read into
// ================================================================================================

/// One element: its name, its text (CDATA, text and resolved references joined), its children.
#[derive(Debug, Default)]
pub(crate) struct Node {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Text of the only child named `name`: `Ok(None)` when absent, an error when repeated.
    fn unique_text(&self, name: &str, element: &'static str) -> Result<Option<&str>, EventError> {
        let mut found = None;
        for c in self.children.iter().filter(|c| c.name == name) {
            if found.is_some() {
                return Err(EventError::Duplicate { element });
            }
            found = Some(c.text.trim());
        }
        Ok(found)
    }

    fn required_text(&self, name: &str, element: &'static str) -> Result<&str, EventError> {
        self.unique_text(name, element)?
            .ok_or(EventError::Missing { element })
    }
}

/// Text collected inside one element. WeChat wraps values in CDATA and pretty-printed samples
/// put whitespace around it (`<MsgType>  <![CDATA[video]]></MsgType>` in WeChat's own Python
/// sample): when an element has CDATA, whitespace-only plain text beside it is layout, not value.
#[derive(Default)]
struct TextParts {
    text: String,
    has_cdata: bool,
    /// Byte ranges of `text` that came from whitespace-only plain text.
    layout: Vec<(usize, usize)>,
}

impl TextParts {
    fn push_plain(&mut self, s: &str) {
        let start = self.text.len();
        self.text.push_str(s);
        if s.chars().all(char::is_whitespace) {
            self.layout.push((start, self.text.len()));
        }
    }

    fn finish(self) -> String {
        if !self.has_cdata || self.layout.is_empty() {
            return self.text;
        }
        let mut out = String::with_capacity(self.text.len());
        let mut at = 0;
        for (start, end) in self.layout {
            out.push_str(self.text.get(at..start).unwrap_or_default());
            at = end;
        }
        out.push_str(self.text.get(at..).unwrap_or_default());
        out
    }
}

/// Reads `body` into a [`Node`] tree rooted at `<xml>`, enforcing every cap and refusal listed
/// in the module docs. `max_bytes` differs between an envelope (base64 inside) and plain XML.
pub(crate) fn read_tree(body: &[u8], max_bytes: usize) -> Result<Node, EventError> {
    if body.len() > max_bytes {
        return Err(EventError::TooLarge {
            size: body.len(),
            limit: max_bytes,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| EventError::NotUtf8)?;
    // A UTF-8 byte-order mark is legal before the declaration; quick-xml would see it as text.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_dangling_amp = false;
    config.expand_empty_elements = false;

    let malformed = |reader: &Reader<&[u8]>, e: &dyn fmt::Display| EventError::Malformed {
        message: format!("{e} at byte {}", reader.error_position()),
    };

    // Open elements, innermost last, each with the text gathered so far.
    let mut stack: Vec<(Node, TextParts)> = Vec::new();
    let mut root: Option<Node> = None;
    let mut elements = 0usize;

    loop {
        let event = reader.read_event().map_err(|e| malformed(&reader, &e))?;
        match event {
            Event::DocType(_) => return Err(EventError::DocType),
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(EventError::Malformed {
                    message: format!(
                        "content after the root element at byte {}",
                        reader.buffer_position()
                    ),
                });
            }
            Event::Start(start) => {
                count_element(&mut elements, stack.len())?;
                let name = element_name(start.name().as_ref(), &reader)?;
                if stack.is_empty() && name != "xml" {
                    return Err(EventError::Root {
                        found: shorten(&name),
                    });
                }
                stack.push((
                    Node {
                        name,
                        ..Node::default()
                    },
                    TextParts::default(),
                ));
            }
            Event::Empty(start) => {
                count_element(&mut elements, stack.len())?;
                let name = element_name(start.name().as_ref(), &reader)?;
                let node = Node {
                    name,
                    ..Node::default()
                };
                match stack.last_mut() {
                    Some((parent, _)) => parent.children.push(node),
                    None if node.name == "xml" => root = Some(node),
                    None => {
                        return Err(EventError::Root {
                            found: shorten(&node.name),
                        })
                    }
                }
            }
            Event::End(_) => {
                // check_end_names guarantees the name matches the innermost open element.
                let Some((mut node, parts)) = stack.pop() else {
                    return Err(EventError::Malformed {
                        message: format!("unmatched end tag at byte {}", reader.buffer_position()),
                    });
                };
                node.text = parts.finish();
                match stack.last_mut() {
                    Some((parent, _)) => parent.children.push(node),
                    None => root = Some(node),
                }
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|e| malformed(&reader, &e))?;
                match stack.last_mut() {
                    Some((_, parts)) => parts.push_plain(&s),
                    None if s.trim().is_empty() => {}
                    None => {
                        return Err(EventError::Malformed {
                            message: format!(
                                "text outside the root element at byte {}",
                                reader.buffer_position()
                            ),
                        })
                    }
                }
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| malformed(&reader, &e))?;
                match stack.last_mut() {
                    Some((_, parts)) => {
                        parts.text.push_str(&s);
                        parts.has_cdata = true;
                    }
                    None => {
                        return Err(EventError::Malformed {
                            message: format!(
                                "CDATA outside the root element at byte {}",
                                reader.buffer_position()
                            ),
                        })
                    }
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(ch)) => ch.to_string(),
                    Ok(None) => {
                        let name = r.decode().map_err(|e| malformed(&reader, &e))?;
                        match quick_xml::escape::resolve_xml_entity(&name) {
                            Some(s) => s.to_owned(),
                            None => {
                                return Err(EventError::UnknownEntity {
                                    name: shorten(&name),
                                })
                            }
                        }
                    }
                    Err(e) => return Err(malformed(&reader, &e)),
                };
                match stack.last_mut() {
                    Some((_, parts)) => parts.text.push_str(&resolved),
                    None => {
                        return Err(EventError::Malformed {
                            message: format!(
                                "reference outside the root element at byte {}",
                                reader.buffer_position()
                            ),
                        })
                    }
                }
            }
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(EventError::Malformed {
            message: "unexpected end of input inside an element".into(),
        });
    }
    root.ok_or(EventError::Malformed {
        message: "no root element".into(),
    })
}

/// Counts one more element opening at `depth`, refusing documents past the caps.
fn count_element(elements: &mut usize, depth: usize) -> Result<(), EventError> {
    *elements += 1;
    if *elements > EVENT_XML_MAX_ELEMENTS {
        return Err(EventError::TooManyElements {
            limit: EVENT_XML_MAX_ELEMENTS,
        });
    }
    if depth >= EVENT_XML_MAX_DEPTH {
        return Err(EventError::TooDeep {
            limit: EVENT_XML_MAX_DEPTH,
        });
    }
    Ok(())
}

fn element_name(raw: &[u8], reader: &Reader<&[u8]>) -> Result<String, EventError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| EventError::Malformed {
            message: format!(
                "element name is not UTF-8 at byte {}",
                reader.buffer_position()
            ),
        })
}

// ================================================================================================
// Typed values
// ================================================================================================

/// A parsed push: the mass-send result, or any other message or event in generic form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CallbackMessage {
    /// `MsgType=event`, `Event=MASSSENDJOBFINISH`.
    MassSendJobFinish(MassSendJobFinish),
    /// Every other message or event.
    Other(GenericMessage),
}

impl CallbackMessage {
    /// The key under which to record this push once, despite WeChat's
    /// [`crate::limits::CALLBACK_RETRIES`] retries. See [`MassSendJobFinish::dedupe_key`] and
    /// [`GenericMessage::dedupe_key`] for the choice.
    pub fn dedupe_key(&self) -> String {
        match self {
            CallbackMessage::MassSendJobFinish(e) => e.dedupe_key(),
            CallbackMessage::Other(m) => m.dedupe_key(),
        }
    }

    /// The mass-send result, if this is one.
    pub fn as_mass_send_job_finish(&self) -> Option<&MassSendJobFinish> {
        match self {
            CallbackMessage::MassSendJobFinish(e) => Some(e),
            CallbackMessage::Other(_) => None,
        }
    }
}

/// The result of a mass send, pushed when the job (nearly) ends. The counts arrive slightly
/// before the job truly ends, so they may differ a little from the final figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MassSendJobFinish {
    /// `ToUserName`: the account's original id (`gh_…`).
    pub to_user: String,
    /// `FromUserName`: the sender (WeChat's mass-send helper).
    pub from_user: String,
    /// `CreateTime`: Unix seconds.
    pub create_time: i64,
    /// `MsgID`: the `msg_id` the send call returned (64-bit, kept exactly).
    pub msg_id: MsgId,
    /// `Status`: sent, failed, or rejected by the audit, and the text as WeChat wrote it.
    pub status: ReportedStatus,
    /// `TotalCount`: followers in the tag, or OpenIDs in the list.
    pub total_count: u64,
    /// `FilterCount`: left after filtering (region, gender, refusals, the four-a-month cap);
    /// in principle `sent_count + error_count`.
    pub filter_count: u64,
    /// `SentCount`: delivered.
    pub sent_count: u64,
    /// `ErrorCount`: not delivered.
    pub error_count: u64,
    /// `CopyrightCheckResult`: the originality check of mpnews articles; `None` when absent
    /// (older pushes, non-mpnews sends).
    pub copyright_check: Option<CopyrightCheck>,
    /// `ArticleUrlResult/ResultList/item`: the published URL of each article (empty if absent).
    pub article_urls: Vec<ArticleUrl>,
}

impl MassSendJobFinish {
    /// `mass:<MsgID>:<Status>`. docs/spec.md keys the event on MsgID + Status: WeChat's retries of
    /// one push repeat both, so they collapse to one record; a second push for the same MsgID
    /// with another status would be a new fact and is kept.
    pub fn dedupe_key(&self) -> String {
        format!("mass:{}:{}", self.msg_id, self.status.meaning.as_wire())
    }
}

/// The originality (copyright) check of a mass send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyrightCheck {
    /// `Count`: articles checked.
    pub count: u64,
    /// `CheckState`: 1 = not checked or passed, 2 = some reprints found and the send went on,
    /// 3 = reprints found and the send stopped (WeChat's documentation).
    pub check_state: Option<u32>,
    /// `ResultList/item`, in document order.
    pub items: Vec<CopyrightCheckItem>,
}

/// The check result of one article. Only `ArticleIdx` is required: a missing detail must not
/// make the whole event unreadable, so the others are `None` when WeChat leaves them out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CopyrightCheckItem {
    /// `ArticleIdx`: position of the article in the news, from 1.
    pub article_idx: u32,
    /// `UserDeclareState`: whether the author declared the article original.
    pub user_declare_state: Option<u32>,
    /// `AuditState`: the system's verdict (2 = judged a reprint, among others).
    pub audit_state: Option<u32>,
    /// `OriginalArticleUrl`: URL of the original when this is a reprint.
    pub original_article_url: Option<String>,
    /// `OriginalArticleType`: kind of the original article.
    pub original_article_type: Option<u32>,
    /// `CanReprint`: 1 if the original allows reprinting.
    pub can_reprint: Option<u32>,
    /// `NeedReplaceContent`: 1 if the content must be replaced by the original.
    pub need_replace_content: Option<u32>,
    /// `NeedShowReprintSource`: 1 if the reprint source must be shown.
    pub need_show_reprint_source: Option<u32>,
}

/// The published URL of one article of the send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArticleUrl {
    /// `ArticleIdx`: position of the article, from 1.
    pub idx: u32,
    /// `ArticleUrl`.
    pub url: String,
}

/// `Status` of a MASSSENDJOBFINISH.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MassSendStatus {
    /// `send success` (the oldest seed writes `sendsuccess`). A few recipients may still have
    /// failed (refusals, system errors): see the counts.
    Success,
    /// `send fail`.
    Fail,
    /// `err(N)`: the audit rejected the send.
    Rejected(AuditReason),
    /// A status this crate does not know, kept as sent (trimmed).
    Other(String),
}

impl MassSendStatus {
    /// Reads a `Status` value. Never fails: an unknown value becomes [`MassSendStatus::Other`].
    pub fn parse(raw: &str) -> Self {
        let s = raw.trim();
        let compact: String = s
            .chars()
            .filter(|c| !c.is_whitespace())
            // ASCII only: the statuses are ASCII, and full Unicode case mapping would link
            // ~20 KB of tables into the npm package's WebAssembly.
            .map(|c| c.to_ascii_lowercase())
            .collect();
        match compact.as_str() {
            "sendsuccess" => return MassSendStatus::Success,
            "sendfail" => return MassSendStatus::Fail,
            _ => {}
        }
        if let Some(code) = compact
            .strip_prefix("err(")
            .and_then(|rest| rest.strip_suffix(')'))
            .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|n| n.parse::<u32>().ok())
        {
            return MassSendStatus::Rejected(AuditReason::from_code(code));
        }
        MassSendStatus::Other(s.to_owned())
    }

    /// The canonical wire form: `send success`, `send fail`, `err(N)`, or the unknown text.
    pub fn as_wire(&self) -> String {
        match self {
            MassSendStatus::Success => "send success".into(),
            MassSendStatus::Fail => "send fail".into(),
            MassSendStatus::Rejected(r) => format!("err({})", r.code()),
            MassSendStatus::Other(s) => s.clone(),
        }
    }

    /// Stable machine name: `success`, `fail`, `rejected` or `other`.
    pub fn kind(&self) -> &'static str {
        match self {
            MassSendStatus::Success => "success",
            MassSendStatus::Fail => "fail",
            MassSendStatus::Rejected(_) => "rejected",
            MassSendStatus::Other(_) => "other",
        }
    }
}

impl fmt::Display for MassSendStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MassSendStatus::Rejected(r) => write!(f, "err({}): {} ({})", r.code(), r.en(), r.zh()),
            other => f.write_str(&other.as_wire()),
        }
    }
}

/// The `Status` of a MASSSENDJOBFINISH: what it means, and the text exactly as sent (the
/// seeds write the same status as `send success` and `sendsuccess`; a person comparing with
/// WeChat's own logs wants the text WeChat wrote).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedStatus {
    /// What the status means.
    pub meaning: MassSendStatus,
    /// The `Status` text exactly as WeChat sent it (untrimmed).
    pub wire: String,
}

impl ReportedStatus {
    /// Reads a `Status` value; never fails (see [`MassSendStatus::parse`]).
    pub fn parse(raw: &str) -> Self {
        ReportedStatus {
            meaning: MassSendStatus::parse(raw),
            wire: raw.to_owned(),
        }
    }
}

/// JSON form: `{"kind":"success","wire":"sendsuccess"}` (`kind` tells what it means, `wire` is
/// the text as sent); a rejection adds `code`, `reason`, `zh` and `en`, so a store or a JS
/// caller needs no table of its own.
impl Serialize for ReportedStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("kind", self.meaning.kind())?;
        m.serialize_entry("wire", &self.wire)?;
        if let MassSendStatus::Rejected(r) = &self.meaning {
            m.serialize_entry("code", &r.code())?;
            m.serialize_entry("reason", r.name())?;
            m.serialize_entry("zh", r.zh())?;
            m.serialize_entry("en", r.en())?;
        }
        m.end()
    }
}

/// Why the audit rejected a mass send: the `err(N)` table of docs/spec.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AuditReason {
    /// err(10001) 涉嫌广告.
    Advertising,
    /// err(20001) 涉嫌政治.
    Politics,
    /// err(20002) 涉嫌色情.
    Porn,
    /// err(20004) 涉嫌社会.
    Social,
    /// err(20006) 涉嫌违法犯罪.
    Crime,
    /// err(20008) 涉嫌欺诈.
    Fraud,
    /// err(20013) 涉嫌版权.
    Copyright,
    /// err(21000) 涉嫌其他.
    Other,
    /// err(22000) 涉嫌互推(互相宣传).
    MutualPromotion,
    /// err(30001) originality check: blocked (a system error, and the send was set to stop).
    OriginalityBlocked,
    /// err(30002) originality check: failed (judged not sendable).
    OriginalityFailed,
    /// err(30003) originality check: judged a reprint, reprinting not allowed by the send.
    ReprintNotAllowed,
    /// A code not in the table, kept as a number.
    Unknown(u32),
}

impl AuditReason {
    /// The reason of an `err(N)` code.
    pub fn from_code(code: u32) -> Self {
        match code {
            10001 => AuditReason::Advertising,
            20001 => AuditReason::Politics,
            20002 => AuditReason::Porn,
            20004 => AuditReason::Social,
            20006 => AuditReason::Crime,
            20008 => AuditReason::Fraud,
            20013 => AuditReason::Copyright,
            21000 => AuditReason::Other,
            22000 => AuditReason::MutualPromotion,
            30001 => AuditReason::OriginalityBlocked,
            30002 => AuditReason::OriginalityFailed,
            30003 => AuditReason::ReprintNotAllowed,
            n => AuditReason::Unknown(n),
        }
    }

    /// The `N` of `err(N)`.
    pub fn code(self) -> u32 {
        match self {
            AuditReason::Advertising => 10001,
            AuditReason::Politics => 20001,
            AuditReason::Porn => 20002,
            AuditReason::Social => 20004,
            AuditReason::Crime => 20006,
            AuditReason::Fraud => 20008,
            AuditReason::Copyright => 20013,
            AuditReason::Other => 21000,
            AuditReason::MutualPromotion => 22000,
            AuditReason::OriginalityBlocked => 30001,
            AuditReason::OriginalityFailed => 30002,
            AuditReason::ReprintNotAllowed => 30003,
            AuditReason::Unknown(n) => n,
        }
    }

    /// Stable machine name (`advertising`, …, `unknown`).
    pub fn name(self) -> &'static str {
        match self {
            AuditReason::Advertising => "advertising",
            AuditReason::Politics => "politics",
            AuditReason::Porn => "porn",
            AuditReason::Social => "social",
            AuditReason::Crime => "crime",
            AuditReason::Fraud => "fraud",
            AuditReason::Copyright => "copyright",
            AuditReason::Other => "other",
            AuditReason::MutualPromotion => "mutual_promotion",
            AuditReason::OriginalityBlocked => "originality_blocked",
            AuditReason::OriginalityFailed => "originality_failed",
            AuditReason::ReprintNotAllowed => "reprint_not_allowed",
            AuditReason::Unknown(_) => "unknown",
        }
    }

    /// Chinese text, as WeChat's documentation words it.
    pub fn zh(self) -> &'static str {
        match self {
            AuditReason::Advertising => "涉嫌广告",
            AuditReason::Politics => "涉嫌政治",
            AuditReason::Porn => "涉嫌色情",
            AuditReason::Social => "涉嫌社会",
            AuditReason::Crime => "涉嫌违法犯罪",
            AuditReason::Fraud => "涉嫌欺诈",
            AuditReason::Copyright => "涉嫌版权",
            AuditReason::Other => "涉嫌其他",
            AuditReason::MutualPromotion => "涉嫌互推(互相宣传)",
            AuditReason::OriginalityBlocked => "原创校验出现系统错误且用户选择了被判为转载就不群发",
            AuditReason::OriginalityFailed => "原创校验被判定为不能群发",
            AuditReason::ReprintNotAllowed => {
                "原创校验被判定为转载文且用户选择了被判为转载就不群发"
            }
            AuditReason::Unknown(_) => "未知的审核原因",
        }
    }

    /// English text.
    pub fn en(self) -> &'static str {
        match self {
            AuditReason::Advertising => "suspected advertising",
            AuditReason::Politics => "suspected political content",
            AuditReason::Porn => "suspected pornography",
            AuditReason::Social => "suspected social-issue content",
            AuditReason::Crime => "suspected crime",
            AuditReason::Fraud => "suspected fraud",
            AuditReason::Copyright => "suspected copyright infringement",
            AuditReason::Other => "other suspected violation",
            AuditReason::MutualPromotion => "suspected mutual promotion between accounts",
            AuditReason::OriginalityBlocked => {
                "originality check: blocked (system error, and the send stops on a reprint verdict)"
            }
            AuditReason::OriginalityFailed => "originality check: failed (may not be mass-sent)",
            AuditReason::ReprintNotAllowed => {
                "originality check: judged a reprint, and the send stops on a reprint verdict"
            }
            AuditReason::Unknown(_) => "unknown audit reason",
        }
    }
}

/// Any push other than MASSSENDJOBFINISH, kept generically so it can be stored or forwarded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GenericMessage {
    /// `ToUserName`.
    pub to_user: String,
    /// `FromUserName`.
    pub from_user: String,
    /// `CreateTime`: Unix seconds.
    pub create_time: i64,
    /// `MsgType` (`text`, `image`, `event`, …).
    pub msg_type: String,
    /// `Event` of an event push (`subscribe`, `TEMPLATESENDJOBFINISH`, …).
    pub event: Option<String>,
    /// Every other leaf element in document order as (name, text); a nested element's name is
    /// its path joined with `.` (`ScanCodeInfo.ScanType`). The five fields above are left out.
    pub fields: Vec<(String, String)>,
}

impl GenericMessage {
    /// The first field named `name`.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// WeChat's own advice for retried pushes: a message with a `MsgId` is keyed by it
    /// (`msg:<MsgId>`); an event by sender and time (`event:<FromUserName>:<CreateTime>:<Event>`;
    /// the event name keeps two different events of one user in one second apart).
    pub fn dedupe_key(&self) -> String {
        let msg_id = self
            .field("MsgId")
            .or_else(|| self.field("MsgID"))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        match msg_id {
            Some(id) if self.event.is_none() => format!("msg:{id}"),
            _ => format!(
                "event:{}:{}:{}",
                self.from_user,
                self.create_time,
                self.event.as_deref().unwrap_or(&self.msg_type)
            ),
        }
    }
}

// ================================================================================================
// Parsing
// ================================================================================================

/// Parses a pushed (already verified and, in safe mode, decrypted) XML body.
pub fn parse_message(xml: &[u8]) -> Result<CallbackMessage, EventError> {
    let root = read_tree(xml, EVENT_XML_MAX_BYTES)?;
    let msg_type = root.required_text("MsgType", "MsgType")?;
    let event = root.unique_text("Event", "Event")?;
    let is_mass = msg_type.eq_ignore_ascii_case("event")
        && event.is_some_and(|e| e.eq_ignore_ascii_case("MASSSENDJOBFINISH"));
    if is_mass {
        mass_send_job_finish(&root).map(CallbackMessage::MassSendJobFinish)
    } else {
        generic(&root).map(CallbackMessage::Other)
    }
}

/// Parses XML that must be a MASSSENDJOBFINISH (a convenience for tests and tools).
pub fn parse_mass_send_job_finish(xml: &[u8]) -> Result<MassSendJobFinish, EventError> {
    let root = read_tree(xml, EVENT_XML_MAX_BYTES)?;
    mass_send_job_finish(&root)
}

fn mass_send_job_finish(root: &Node) -> Result<MassSendJobFinish, EventError> {
    let copyright_check = match unique_child(root, "CopyrightCheckResult", "CopyrightCheckResult")?
    {
        None => None,
        Some(c) => Some(CopyrightCheck {
            count: number(c, "Count", "CopyrightCheckResult.Count")?.unwrap_or(0),
            check_state: number(c, "CheckState", "CopyrightCheckResult.CheckState")?,
            items: items(c, "CopyrightCheckResult.ResultList")?
                .map(copyright_item)
                .collect::<Result<_, _>>()?,
        }),
    };
    let article_urls = match unique_child(root, "ArticleUrlResult", "ArticleUrlResult")? {
        None => Vec::new(),
        Some(a) => items(a, "ArticleUrlResult.ResultList")?
            .map(|item| {
                Ok(ArticleUrl {
                    idx: required_number(item, "ArticleIdx", "ArticleUrlResult.item.ArticleIdx")?,
                    url: item
                        .unique_text("ArticleUrl", "ArticleUrlResult.item.ArticleUrl")?
                        .unwrap_or_default()
                        .to_owned(),
                })
            })
            .collect::<Result<_, EventError>>()?,
    };
    Ok(MassSendJobFinish {
        to_user: root.required_text("ToUserName", "ToUserName")?.to_owned(),
        from_user: root
            .required_text("FromUserName", "FromUserName")?
            .to_owned(),
        create_time: required_number(root, "CreateTime", "CreateTime")?,
        msg_id: MsgId(required_number(root, "MsgID", "MsgID")?),
        status: ReportedStatus::parse(root.required_text("Status", "Status")?),
        total_count: required_number(root, "TotalCount", "TotalCount")?,
        filter_count: required_number(root, "FilterCount", "FilterCount")?,
        sent_count: required_number(root, "SentCount", "SentCount")?,
        error_count: required_number(root, "ErrorCount", "ErrorCount")?,
        copyright_check,
        article_urls,
    })
}

fn copyright_item(item: &Node) -> Result<CopyrightCheckItem, EventError> {
    Ok(CopyrightCheckItem {
        article_idx: required_number(item, "ArticleIdx", "CopyrightCheckResult.item.ArticleIdx")?,
        user_declare_state: number(
            item,
            "UserDeclareState",
            "CopyrightCheckResult.item.UserDeclareState",
        )?,
        audit_state: number(item, "AuditState", "CopyrightCheckResult.item.AuditState")?,
        original_article_url: item
            .unique_text(
                "OriginalArticleUrl",
                "CopyrightCheckResult.item.OriginalArticleUrl",
            )?
            .map(str::to_owned),
        original_article_type: number(
            item,
            "OriginalArticleType",
            "CopyrightCheckResult.item.OriginalArticleType",
        )?,
        can_reprint: number(item, "CanReprint", "CopyrightCheckResult.item.CanReprint")?,
        need_replace_content: number(
            item,
            "NeedReplaceContent",
            "CopyrightCheckResult.item.NeedReplaceContent",
        )?,
        need_show_reprint_source: number(
            item,
            "NeedShowReprintSource",
            "CopyrightCheckResult.item.NeedShowReprintSource",
        )?,
    })
}

/// The `item` children of `parent/ResultList` (no list: no items).
fn items<'a>(
    parent: &'a Node,
    element: &'static str,
) -> Result<impl Iterator<Item = &'a Node>, EventError> {
    let list = unique_child(parent, "ResultList", element)?;
    Ok(list
        .into_iter()
        .flat_map(|l| l.children.iter().filter(|c| c.name == "item")))
}

fn unique_child<'a>(
    parent: &'a Node,
    name: &str,
    element: &'static str,
) -> Result<Option<&'a Node>, EventError> {
    let mut found = None;
    for c in parent.children.iter().filter(|c| c.name == name) {
        if found.is_some() {
            return Err(EventError::Duplicate { element });
        }
        found = Some(c);
    }
    Ok(found)
}

/// [`Number::EXPECTED`] in Chinese.
fn number_zh(expected: &str) -> &'static str {
    match expected {
        "an unsigned 64-bit integer" => "无符号 64 位整数",
        "an unsigned 32-bit integer" => "无符号 32 位整数",
        _ => "64 位整数",
    }
}

/// A number type the parser reads; `EXPECTED` names it in errors.
trait Number: Sized + std::str::FromStr {
    const EXPECTED: &'static str;
}
impl Number for u64 {
    const EXPECTED: &'static str = "an unsigned 64-bit integer";
}
impl Number for u32 {
    const EXPECTED: &'static str = "an unsigned 32-bit integer";
}
impl Number for i64 {
    const EXPECTED: &'static str = "a 64-bit integer";
}

fn parse_number<T: Number>(raw: &str, element: &'static str) -> Result<T, EventError> {
    let digits = raw.strip_prefix('-').unwrap_or(raw);
    // Rust's parser also takes a leading `+`; WeChat never sends one, so only digits pass.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(EventError::Number {
            element,
            expected: T::EXPECTED,
            value: shorten(raw),
        });
    }
    raw.parse().map_err(|_| EventError::Number {
        element,
        expected: T::EXPECTED,
        value: shorten(raw),
    })
}

fn number<T: Number>(
    parent: &Node,
    name: &str,
    element: &'static str,
) -> Result<Option<T>, EventError> {
    parent
        .unique_text(name, element)?
        .map(|raw| parse_number(raw, element))
        .transpose()
}

fn required_number<T: Number>(
    parent: &Node,
    name: &str,
    element: &'static str,
) -> Result<T, EventError> {
    number(parent, name, element)?.ok_or(EventError::Missing { element })
}

fn generic(root: &Node) -> Result<GenericMessage, EventError> {
    const HEADER: [&str; 5] = [
        "ToUserName",
        "FromUserName",
        "CreateTime",
        "MsgType",
        "Event",
    ];
    let mut fields = Vec::new();
    for child in root
        .children
        .iter()
        .filter(|c| !HEADER.contains(&c.name.as_str()))
    {
        flatten(child, String::new(), &mut fields);
    }
    Ok(GenericMessage {
        to_user: root.required_text("ToUserName", "ToUserName")?.to_owned(),
        from_user: root
            .required_text("FromUserName", "FromUserName")?
            .to_owned(),
        create_time: required_number(root, "CreateTime", "CreateTime")?,
        msg_type: root.required_text("MsgType", "MsgType")?.to_owned(),
        event: root.unique_text("Event", "Event")?.map(str::to_owned),
        fields,
    })
}

fn flatten(node: &Node, prefix: String, out: &mut Vec<(String, String)>) {
    let path = if prefix.is_empty() {
        node.name.clone()
    } else {
        format!("{prefix}.{}", node.name)
    };
    if node.children.is_empty() {
        out.push((path, node.text.clone()));
    } else {
        for child in &node.children {
            flatten(child, path.clone(), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_that_cannot_be_read_says_why_in_chinese_too() {
        let missing = parse_message(b"<xml><MsgType>event</MsgType></xml>").unwrap_err();
        assert!(missing.zh().starts_with("缺少元素"), "{}", missing.zh());
        let number = parse_message(
            b"<xml><MsgType>event</MsgType><Event>MASSSENDJOBFINISH</Event><MsgID>x</MsgID></xml>",
        )
        .unwrap_err();
        assert_eq!(number.zh(), "元素 MsgID 须为无符号 64 位整数，实际为 \"x\"");
        for n in [u64::EXPECTED, u32::EXPECTED, i64::EXPECTED] {
            assert_ne!(number_zh(n), "", "{n}");
        }
        assert_ne!(number_zh(u32::EXPECTED), number_zh(u64::EXPECTED));
    }

    #[test]
    fn cdata_beside_layout_whitespace_keeps_only_the_cdata() {
        let root = read_tree(
            b"<xml><A>  <![CDATA[ v ]]>\n</A><B> plain </B><C>a&amp;b&#x41;</C></xml>",
            1024,
        )
        .unwrap();
        assert_eq!(root.child("A").unwrap().text, " v ");
        assert_eq!(root.child("B").unwrap().text, " plain ");
        assert_eq!(root.child("C").unwrap().text, "a&bA");
    }

    #[test]
    fn status_forms() {
        assert_eq!(
            MassSendStatus::parse("send success"),
            MassSendStatus::Success
        );
        assert_eq!(
            MassSendStatus::parse("sendsuccess"),
            MassSendStatus::Success
        );
        assert_eq!(MassSendStatus::parse(" Send Fail "), MassSendStatus::Fail);
        assert_eq!(
            MassSendStatus::parse("err(30003)"),
            MassSendStatus::Rejected(AuditReason::ReprintNotAllowed)
        );
        assert_eq!(
            MassSendStatus::parse("err(12345)"),
            MassSendStatus::Rejected(AuditReason::Unknown(12345))
        );
        assert_eq!(
            MassSendStatus::parse("err(99999999999)"),
            MassSendStatus::Other("err(99999999999)".into())
        );
        assert_eq!(
            MassSendStatus::parse("paused"),
            MassSendStatus::Other("paused".into())
        );
    }

    #[test]
    fn audit_table_round_trips() {
        for code in [
            10001, 20001, 20002, 20004, 20006, 20008, 20013, 21000, 22000, 30001, 30002, 30003,
        ] {
            let r = AuditReason::from_code(code);
            assert!(!matches!(r, AuditReason::Unknown(_)), "{code}");
            assert_eq!(r.code(), code);
            assert!(!r.zh().is_empty() && !r.en().is_empty());
        }
    }
}
