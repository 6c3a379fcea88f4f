//! One article of an mpnews (图文) message, as uploaded by `media/uploadnews`.

use serde::Serialize;

use crate::json_input::{wire, Obj};
use crate::validate::{require_text, Problems};

/// An article. `thumb_media_id`, `title` and `content` are required; the rest are optional and
/// omitted from the body when `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Article {
    /// media_id of the cover thumbnail (from the material upload API).
    pub thumb_media_id: String,
    /// Author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Title.
    pub title: String,
    /// "Read the original" link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_source_url: Option<String>,
    /// HTML body; may hold image URLs from uploadimg and mini-program tags.
    pub content: String,
    /// Summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Show the cover picture in the body (0/1 on the wire).
    #[serde(skip_serializing_if = "Option::is_none", with = "flag")]
    pub show_cover_pic: Option<bool>,
    /// Open comments (0/1 on the wire).
    #[serde(skip_serializing_if = "Option::is_none", with = "flag")]
    pub need_open_comment: Option<bool>,
    /// Only followers can comment (0/1 on the wire).
    #[serde(skip_serializing_if = "Option::is_none", with = "flag")]
    pub only_fans_can_comment: Option<bool>,
}

impl Article {
    /// A new article with the three required fields.
    pub fn new(
        thumb_media_id: impl Into<String>,
        title: impl Into<String>,
        content: impl Into<String>,
    ) -> Self {
        Article {
            thumb_media_id: thumb_media_id.into(),
            title: title.into(),
            content: content.into(),
            ..Article::default()
        }
    }

    pub(crate) fn check(&self, path: &str, p: &mut Problems) {
        require_text(p, path, "thumb_media_id", &self.thumb_media_id);
        require_text(p, path, "title", &self.title);
        require_text(p, path, "content", &self.content);
    }

    pub(crate) fn read(mut o: Obj, p: &mut Problems) -> Article {
        let a = Article {
            thumb_media_id: o.string(wire!("thumb_media_id"), p),
            author: o.opt_string(wire!("author"), p),
            title: o.string(wire!("title"), p),
            content_source_url: o.opt_string(wire!("content_source_url"), p),
            content: o.string(wire!("content"), p),
            digest: o.opt_string(wire!("digest"), p),
            show_cover_pic: o.opt_flag(wire!("show_cover_pic"), p),
            need_open_comment: o.opt_flag(wire!("need_open_comment"), p),
            only_fans_can_comment: o.opt_flag(wire!("only_fans_can_comment"), p),
        };
        o.finish(p);
        a
    }
}

/// `Option<bool>` as WeChat's 0/1 integer flags.
pub(crate) mod flag {
    use serde::Serializer;

    #[allow(clippy::ref_option)] // serde's `with` hands us `&Option<bool>`
    pub(crate) fn serialize<S: Serializer>(v: &Option<bool>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_u8(u8::from(*b)),
            None => s.serialize_none(),
        }
    }
}
