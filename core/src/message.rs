//! The six mass-send message kinds. On the wire a message is two entries of the body:
//! `"msgtype": "<kind>"` and `"<kind>": { … }`.

use std::borrow::Cow;

use serde::ser::SerializeMap;
use serde::Serialize;

use crate::json_input::{self, read_bytes, read_value, show, wire, FieldName, Json, Obj};
use crate::validate::{join, require_text, Problems, Rule, ValidationError};

/// A message to mass-send or preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MassMessage {
    /// 图文: articles uploaded with `media/uploadnews` (or a permanent news material).
    Mpnews {
        /// media_id of the news.
        media_id: String,
    },
    /// Text.
    Text {
        /// The text.
        content: String,
    },
    /// Voice (media from the material API).
    Voice {
        /// media_id of the voice.
        media_id: String,
    },
    /// Image (media from the material API).
    Image {
        /// media_id of the image.
        media_id: String,
    },
    /// Video, converted with `media/uploadvideo` first.
    Mpvideo {
        /// media_id returned by uploadvideo.
        media_id: String,
        /// Optional title.
        title: Option<String>,
        /// Optional description.
        description: Option<String>,
    },
    /// A card (卡券).
    Wxcard {
        /// The card id.
        card_id: String,
        /// A JSON object as a string; only allowed in preview.
        card_ext: Option<String>,
    },
}

/// The `msgtype` of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsgType {
    /// `mpnews`
    Mpnews,
    /// `text`
    Text,
    /// `voice`
    Voice,
    /// `image`
    Image,
    /// `mpvideo`
    Mpvideo,
    /// `wxcard`
    Wxcard,
}

impl MsgType {
    /// Every kind, in the wire order of docs/spec.md.
    pub const ALL: [MsgType; 6] = [
        MsgType::Mpnews,
        MsgType::Text,
        MsgType::Voice,
        MsgType::Image,
        MsgType::Mpvideo,
        MsgType::Wxcard,
    ];

    /// The wire name (also the key of the message object).
    pub fn as_str(self) -> &'static str {
        match self {
            MsgType::Mpnews => "mpnews",
            MsgType::Text => "text",
            MsgType::Voice => "voice",
            MsgType::Image => "image",
            MsgType::Mpvideo => "mpvideo",
            MsgType::Wxcard => "wxcard",
        }
    }

    /// Reads a wire name. The oldest seed's `video` (OpenID sends) is read as `mpvideo`.
    pub fn parse(s: &str) -> Option<MsgType> {
        Some(match s {
            "mpnews" => MsgType::Mpnews,
            "text" => MsgType::Text,
            "voice" => MsgType::Voice,
            "image" => MsgType::Image,
            "mpvideo" | "video" => MsgType::Mpvideo,
            "wxcard" => MsgType::Wxcard,
            _ => return None,
        })
    }

    /// Whether a sent message of this kind can be deleted with `mass/delete`.
    pub fn deletable(self) -> bool {
        matches!(self, MsgType::Mpnews | MsgType::Mpvideo)
    }
}

/// Where a message is used: `card_ext` is only allowed in a preview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Use {
    Send,
    Preview,
}

#[derive(Serialize)]
#[serde(untagged)]
enum Body<'a> {
    Media {
        media_id: &'a str,
    },
    Text {
        content: &'a str,
    },
    Video {
        media_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        description: Option<&'a str>,
    },
    Card {
        card_id: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        card_ext: Option<&'a str>,
    },
}

impl MassMessage {
    /// A text message.
    pub fn text(content: impl Into<String>) -> Self {
        MassMessage::Text {
            content: content.into(),
        }
    }

    /// An mpnews message.
    pub fn mpnews(media_id: impl Into<String>) -> Self {
        MassMessage::Mpnews {
            media_id: media_id.into(),
        }
    }

    /// The media_id the message sends (mpnews, voice, image, mpvideo); `None` for text and
    /// cards.
    pub fn media_id(&self) -> Option<&str> {
        match self {
            MassMessage::Mpnews { media_id }
            | MassMessage::Voice { media_id }
            | MassMessage::Image { media_id }
            | MassMessage::Mpvideo { media_id, .. } => Some(media_id),
            MassMessage::Text { .. } | MassMessage::Wxcard { .. } => None,
        }
    }

    /// The kind.
    pub fn msg_type(&self) -> MsgType {
        match self {
            MassMessage::Mpnews { .. } => MsgType::Mpnews,
            MassMessage::Text { .. } => MsgType::Text,
            MassMessage::Voice { .. } => MsgType::Voice,
            MassMessage::Image { .. } => MsgType::Image,
            MassMessage::Mpvideo { .. } => MsgType::Mpvideo,
            MassMessage::Wxcard { .. } => MsgType::Wxcard,
        }
    }

    fn body(&self) -> Body<'_> {
        match self {
            MassMessage::Mpnews { media_id }
            | MassMessage::Voice { media_id }
            | MassMessage::Image { media_id } => Body::Media { media_id },
            MassMessage::Text { content } => Body::Text { content },
            MassMessage::Mpvideo {
                media_id,
                title,
                description,
            } => Body::Video {
                media_id,
                title: title.as_deref(),
                description: description.as_deref(),
            },
            MassMessage::Wxcard { card_id, card_ext } => Body::Card {
                card_id,
                card_ext: card_ext.as_deref(),
            },
        }
    }

    /// Writes `"<kind>": {…}, "msgtype": "<kind>"` into a body being serialized.
    pub(crate) fn serialize_entries<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        let kind = self.msg_type().as_str();
        map.serialize_entry(kind, &self.body())?;
        map.serialize_entry("msgtype", kind)
    }

    pub(crate) fn check(&self, used: Use, p: &mut Problems) {
        let kind = self.msg_type().as_str();
        match self {
            MassMessage::Mpnews { media_id }
            | MassMessage::Voice { media_id }
            | MassMessage::Image { media_id }
            | MassMessage::Mpvideo { media_id, .. } => {
                require_text(p, kind, "media_id", media_id);
            }
            MassMessage::Text { content } => require_text(p, kind, "content", content),
            MassMessage::Wxcard { card_id, card_ext } => {
                require_text(p, kind, "card_id", card_id);
                if let Some(ext) = card_ext {
                    let path = join(kind, "card_ext");
                    if used != Use::Preview {
                        p.push(
                            &path,
                            Rule::NotAllowed {
                                reason: "card_ext is only accepted by preview",
                            },
                            Some(ext),
                        );
                    } else if !matches!(json_input::parse(ext.as_bytes()), Ok(Json::Object(_))) {
                        p.push(&path, Rule::JsonObjectString, Some(ext));
                    }
                }
            }
        }
    }

    /// Reads a message on its own, `{"msgtype": "<kind>", "<kind>": {…}}` (wire names or their
    /// camelCase aliases), and checks it for a send. Problem paths start with `path` (the
    /// worker passes `message`, so a person reads `message.text.content`). The send options of a
    /// body (`send_ignore_reprint`, `clientmsgid`) are refused here: a planned send sets them
    /// itself.
    pub fn from_value(
        value: serde_json::Value,
        path: &str,
    ) -> Result<MassMessage, ValidationError> {
        read_value(&value, path, |json| Self::from_tree(json, path))
    }

    /// [`MassMessage::from_value`] from JSON text (the npm package's input).
    pub fn from_json(bytes: &[u8], path: &str) -> Result<MassMessage, ValidationError> {
        read_bytes(bytes, path, |json| Self::from_tree(json, path))
    }

    fn from_tree(json: Json<'_>, path: &str) -> Result<MassMessage, ValidationError> {
        const PLAN_OPTION: Rule = Rule::NotAllowed {
            reason: "send options belong to the planned send (sendIgnoreReprint); clientmsgids \
                     come from the plan",
        };
        let mut p = Problems::default();
        let msg = Obj::new(json, path, &mut p).and_then(|mut o| {
            for name in [wire!("send_ignore_reprint"), wire!("clientmsgid")] {
                if let Some(f) = o.take(name) {
                    p.push(o.field_path(f.key), PLAN_OPTION, None);
                }
            }
            let msg = MassMessage::read(&mut o, &mut p);
            o.finish(&mut p);
            msg
        });
        let Some(msg) = msg else {
            return Err(p.into_error());
        };
        // The rules name paths from the message kind (`text.content`): root them at `path`.
        let mut rules = Problems::default();
        msg.check(Use::Send, &mut rules);
        let mut problems = if p.is_empty() {
            Vec::new()
        } else {
            p.into_error().problems
        };
        if let Err(e) = rules.into_result() {
            problems.extend(e.problems.into_iter().map(|mut pr| {
                pr.path = join(path, &pr.path);
                pr
            }));
        }
        if problems.is_empty() {
            Ok(msg)
        } else {
            Err(ValidationError { problems })
        }
    }

    /// Reads `msgtype` and the one message object it names from a body.
    pub(crate) fn read(o: &mut Obj, p: &mut Problems) -> Option<MassMessage> {
        let kind = match o.take(wire!("msgtype")) {
            None => {
                p.push(o.field_path("msgtype"), Rule::Required, None);
                None
            }
            Some(f) => match f.value.as_str().and_then(MsgType::parse) {
                Some(k) => Some(k),
                None => {
                    p.push(o.field_path(f.key), Rule::MsgType, Some(&show(&f.value)));
                    None
                }
            },
        };
        // The legacy `video` key (oldest seed) is read as `mpvideo`.
        let keys = [
            "mpnews", "text", "voice", "image", "mpvideo", "video", "wxcard",
        ];
        let mut found = None;
        let mut present = false;
        for key in keys {
            let Some(f) = o.take(FieldName::unaliased(key)) else {
                continue;
            };
            let Some(kind) = kind else {
                continue; // msgtype itself is already reported
            };
            let msgtype = kind.as_str();
            if MsgType::parse(key) != Some(kind) || present {
                p.push(o.field_path(f.key), Rule::MessageShape { msgtype }, None);
                continue;
            }
            // Not an object: reported as such by `Obj::at`, and not as missing too.
            present = true;
            found = Obj::at(f.value, Cow::Owned(o.field_path(f.key)), p).map(|body| (key, body));
        }
        let kind = kind?;
        let Some((_, mut b)) = found else {
            if !present {
                let msgtype = kind.as_str();
                p.push(
                    join(o.path(), msgtype),
                    Rule::MessageMissing { msgtype },
                    None,
                );
            }
            return None;
        };
        let msg = match kind {
            MsgType::Mpnews => MassMessage::Mpnews {
                media_id: b.string(wire!("media_id"), p),
            },
            MsgType::Text => MassMessage::Text {
                content: b.string(wire!("content"), p),
            },
            MsgType::Voice => MassMessage::Voice {
                media_id: b.string(wire!("media_id"), p),
            },
            MsgType::Image => MassMessage::Image {
                media_id: b.string(wire!("media_id"), p),
            },
            MsgType::Mpvideo => MassMessage::Mpvideo {
                media_id: b.string(wire!("media_id"), p),
                title: b.opt_string(wire!("title"), p),
                description: b.opt_string(wire!("description"), p),
            },
            MsgType::Wxcard => MassMessage::Wxcard {
                card_id: b.string(wire!("card_id"), p),
                card_ext: b.opt_string(wire!("card_ext"), p),
            },
        };
        b.finish(p);
        Some(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_id_is_the_id_a_media_message_sends_and_none_for_text_or_cards() {
        assert_eq!(MassMessage::mpnews("m1").media_id(), Some("m1"));
        let image = MassMessage::from_value(
            serde_json::json!({"msgtype": "image", "image": {"mediaId": "i1"}}),
            "message",
        )
        .unwrap();
        assert_eq!(image.media_id(), Some("i1"));
        assert_eq!(MassMessage::text("hi").media_id(), None);
    }

    #[test]
    fn reads_a_message_alone_with_prefixed_paths() {
        let m = MassMessage::from_value(
            serde_json::json!({"msgtype": "text", "text": {"content": "hi"}}),
            "message",
        )
        .unwrap();
        assert_eq!(m, MassMessage::text("hi"));
        let e = MassMessage::from_value(
            serde_json::json!({"msgtype": "text", "text": {"content": " "}}),
            "message",
        )
        .unwrap_err();
        assert_eq!(e.problems[0].path, "message.text.content");
        let e =
            MassMessage::from_value(serde_json::json!({"msgtype": "nope"}), "message").unwrap_err();
        assert_eq!(e.problems[0].path, "message.msgtype");
    }
}
