//! Media for mass sends: article images (uploadimg, multipart), news (uploadnews), videos
//! (uploadvideo). Core validates and builds each request; `calls` sends it.

use serde_json::Value;
use worker::{FormEntry, Request, Response};
use wxmass::endpoint::{AnyRequest, EndpointName, UploadImgRequest};
use wxmass::Endpoint;

use super::reply;
use crate::calls::admin_call;
use crate::ctx::Ctx;
use crate::error::AppError;

/// Largest multipart body accepted; core's own limit on the image is checked by core.
const MAX_UPLOAD_BODY_BYTES: usize = 2 * 1024 * 1024;

/// `POST /api/media/uploadimg`: multipart with the image in part `media` (as WeChat wants it).
pub async fn upload_img(mut req: Request, app: &Ctx) -> Result<Response, AppError> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    if declared > MAX_UPLOAD_BODY_BYTES {
        return Err(AppError::TooLarge {
            limit: MAX_UPLOAD_BODY_BYTES,
        });
    }
    let form = req.form_data().await.map_err(|e| {
        AppError::bad(
            "multipart",
            "",
            format!("expected multipart/form-data: {e}"),
        )
    })?;
    let part = wxmass::limits::UPLOAD_IMG_PART_NAME;
    let (name, bytes) = match form.get(part) {
        Some(FormEntry::File(f)) => (f.name(), f.bytes().await?),
        _ => {
            return Err(AppError::bad(
                "required",
                part,
                format!("a file part named {part} is required"),
            ))
        }
    };
    let http = UploadImgRequest::new(name, bytes)
        .build(&app.acct()?.base)
        .map_err(AppError::Invalid)?;
    let r = admin_call(app, EndpointName::UploadImg, &http).await?;
    reply(200, &r)
}

/// Builds a JSON endpoint's request from the admin body (core reads it: wire names or
/// camelCase), sends it, and answers core's typed reply.
pub async fn pass_through(
    endpoint: EndpointName,
    body: Value,
    app: &Ctx,
) -> Result<Response, AppError> {
    let base = &app.acct()?.base;
    let http = AnyRequest::from_value(endpoint, body)
        .and_then(|r| r.build(base))
        .map_err(AppError::Invalid)?;
    let r = admin_call(app, endpoint, &http).await?;
    reply(200, &r)
}

/// `POST /api/media/uploadnews`: `{"articles": [...]}`.
pub async fn upload_news(body: Value, app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::UploadNews, body, app).await
}

/// `POST /api/media/uploadvideo`: `{"media_id", "title", "description"}`.
pub async fn upload_video(body: Value, app: &Ctx) -> Result<Response, AppError> {
    pass_through(EndpointName::UploadVideo, body, app).await
}
