//! `POST cgi-bin/media/uploadnews`: 1 to 8 articles become one mpnews `media_id`.

use serde::{Deserialize, Serialize};

use super::EndpointName;
use crate::article::Article;
use crate::http::Method;
use crate::json_input::{wire, Obj};
use crate::limits::{MAX_ARTICLES, MIN_ARTICLES, PATH_UPLOAD_NEWS};
use crate::validate::{index, Problems, Rule};

/// Upload the articles of an mpnews message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadNewsRequest {
    /// 1 to 8 articles, in display order.
    pub articles: Vec<Article>,
}

/// Reply of uploadnews, uploadvideo and media/upload: `{"type","media_id","created_at"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all(serialize = "camelCase"))]
pub struct MediaUploadReply {
    /// `news`, `video` (uploadvideo), or media/upload's `image`, `voice`, `video`, `thumb`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The media_id to send. media/upload of a thumb names it `thumb_media_id`.
    #[serde(alias = "thumb_media_id")]
    pub media_id: String,
    /// Upload time, Unix seconds.
    pub created_at: i64,
}

impl UploadNewsRequest {
    fn check(&self, p: &mut Problems) {
        let n = self.articles.len();
        if !(MIN_ARTICLES..=MAX_ARTICLES).contains(&n) {
            p.push(
                "articles",
                Rule::Count {
                    min: MIN_ARTICLES,
                    max: MAX_ARTICLES,
                },
                Some(&n.to_string()),
            );
        }
        for (i, a) in self.articles.iter().enumerate() {
            a.check(&index("articles", i), p);
        }
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let articles = o.opt_obj_list(wire!("articles"), p, Article::read);
        if articles.is_none() && !o.has(wire!("articles")) {
            p.push("articles", Rule::Required, None);
        }
        o.finish(p);
        Some(UploadNewsRequest {
            articles: articles.unwrap_or_default(),
        })
    }
}

super::json_endpoint! {
    UploadNewsRequest {
        NAME: EndpointName::UploadNews,
        PATH: PATH_UPLOAD_NEWS,
        METHOD: Method::Post,
        MASS: true,
        Reply: MediaUploadReply,
    }
}
