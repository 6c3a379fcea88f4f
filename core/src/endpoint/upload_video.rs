//! `POST cgi-bin/media/uploadvideo`: turns an uploaded video into a mass-send (`mpvideo`)
//! media_id. One seed puts this on `file.api.weixin.qq.com`; the host comes from the
//! [`crate::ApiBase`] like every other endpoint.

use serde::Serialize;

use super::upload_news::MediaUploadReply;
use super::EndpointName;
use crate::http::Method;
use crate::json_input::{wire, Obj};
use crate::limits::PATH_UPLOAD_VIDEO;
use crate::validate::{require_text, Problems};

/// Convert a video material for mass sending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UploadVideoRequest {
    /// media_id of the uploaded video.
    pub media_id: String,
    /// Title shown with the video.
    pub title: String,
    /// Description shown with the video.
    pub description: String,
}

impl UploadVideoRequest {
    fn check(&self, p: &mut Problems) {
        require_text(p, "", "media_id", &self.media_id);
    }

    fn read(mut o: Obj, p: &mut Problems) -> Option<Self> {
        let req = UploadVideoRequest {
            media_id: o.string(wire!("media_id"), p),
            title: o.opt_string(wire!("title"), p).unwrap_or_default(),
            description: o.opt_string(wire!("description"), p).unwrap_or_default(),
        };
        o.finish(p);
        Some(req)
    }
}

super::json_endpoint! {
    UploadVideoRequest {
        NAME: EndpointName::UploadVideo,
        PATH: PATH_UPLOAD_VIDEO,
        METHOD: Method::Post,
        MASS: true,
        Reply: MediaUploadReply,
    }
}
