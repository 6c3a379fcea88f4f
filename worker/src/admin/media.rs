//! Media for mass sends: article images (uploadimg, multipart), news (uploadnews), videos
//! (uploadvideo), temporary media (media/upload) and permanent material (add_material). Core
//! validates and builds each request; `calls` sends it, and each id WeChat answers is recorded
//! in `media` in the same commit as the call's ledger rows.
//!
//! media/upload and add_material stream the file through: from the `Content-Length` (required)
//! and the body's first bytes core checks the type, format and size and frames the multipart
//! body around the file with the worker's random boundary; the rest of the body flows from the
//! caller to WeChat without being held.

use serde_json::{json, Value};
use worker::{FormEntry, Request, Response};
use wxmass::endpoint::add_material::{AddMaterialRequest, VideoDescription};
use wxmass::endpoint::media_upload::MediaUploadRequest;
use wxmass::endpoint::{
    AnyReply, AnyRequest, EndpointName, FramedUpload, MediaType, StreamedUpload, UploadImgRequest,
};
use wxmass::limits::{MEDIA_SNIFF_BYTES, MEDIA_TEMPORARY_KEPT_SECS};
use wxmass::{Endpoint, ValidationError};

use super::{build, reply};
use crate::calls::{admin_call, admin_call_streamed, admin_call_with};
use crate::ctx::Ctx;
use crate::error::AppError;
use crate::store::MediaRow;
use crate::wechat::PassThrough;

/// Largest multipart body accepted; core's own limit on the image is checked by core.
const MAX_UPLOAD_BODY_BYTES: usize = 2 * 1024 * 1024;

/// What an upload made, as its `media` row records it (WeChat's reply adds the id).
struct Made {
    source: EndpointName,
    kind: &'static str,
    name: Option<String>,
    /// uploadnews: `[{"title", "thumbMediaId"}]`.
    articles: Option<Value>,
}

impl Made {
    fn new(source: EndpointName, kind: &'static str, name: Option<String>) -> Made {
        Made {
            source,
            kind,
            name,
            articles: None,
        }
    }

    /// The `media` row of WeChat's reply at `now` (none for a reply that names no upload).
    fn row(&self, reply: &AnyReply, now: i64) -> Option<MediaRow> {
        let (media_id, url, created_at) = match reply {
            AnyReply::UploadImg(r) => (None, Some(r.url.clone()), now),
            AnyReply::MediaUpload(r) => (Some(r.media_id.clone()), None, r.created_at * 1000),
            AnyReply::AddMaterial(r) => (Some(r.media_id.clone()), r.url.clone(), now),
            _ => return None,
        };
        // Only media/upload is temporary: WeChat keeps it 3 days from its created_at.
        let expires_at = (self.source == EndpointName::MediaUpload)
            .then_some(created_at + MEDIA_TEMPORARY_KEPT_SECS * 1000);
        Some(MediaRow {
            media_id,
            source: self.source.as_str().to_owned(),
            kind: self.kind.to_owned(),
            name: self.name.clone(),
            url,
            articles_json: self.articles.as_ref().map(Value::to_string),
            created_at,
            expires_at,
        })
    }
}

/// Sends an upload core built and records what it made with the call's ledger rows.
async fn upload(made: &Made, http: &wxmass::HttpRequest, app: &Ctx) -> Result<AnyReply, AppError> {
    let now = app.now();
    admin_call_with(app, made.source, http, |reply| match made.row(reply, now) {
        Some(row) => Ok(vec![app.store.insert_media(&row)?]),
        None => Ok(Vec::new()),
    })
    .await
}

/// Sends an upload whose file streams through from the caller, and records what it made with
/// the call's ledger rows.
async fn upload_streamed(
    made: &Made,
    framed: &FramedUpload,
    file: PassThrough,
    app: &Ctx,
) -> Result<AnyReply, AppError> {
    let now = app.now();
    admin_call_streamed(app, made.source, framed, file, |reply| {
        match made.row(reply, now) {
            Some(row) => Ok(vec![app.store.insert_media(&row)?]),
            None => Ok(Vec::new()),
        }
    })
    .await
}

/// `POST /api/media/uploadimg`: multipart with the image in part `media` (as WeChat wants it).
pub async fn upload_img(mut req: Request, app: &Ctx) -> Result<Response, AppError> {
    let declared = declared_length(&req)?;
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
    let made = Made::new(EndpointName::UploadImg, "image", Some(name.clone()));
    let http = UploadImgRequest::new(name, bytes)
        .build(&app.acct()?.base)
        .map_err(AppError::Invalid)?;
    reply(200, &upload(&made, &http, app).await?)
}

/// Builds a JSON endpoint's request from the admin body (core reads it: wire names or
/// camelCase), sends it, and answers core's typed reply.
pub async fn pass_through(
    endpoint: EndpointName,
    body: Value,
    app: &Ctx,
) -> Result<Response, AppError> {
    let http = build(endpoint, body, app)?;
    let r = admin_call(app, endpoint, &http).await?;
    reply(200, &r)
}

/// `POST /api/media/uploadnews`: `{"articles": [...]}`; its articles' titles and covers are
/// recorded, for the job page.
pub async fn upload_news(body: Value, app: &Ctx) -> Result<Response, AppError> {
    let request =
        AnyRequest::from_value(EndpointName::UploadNews, body).map_err(AppError::Invalid)?;
    let mut made = Made::new(EndpointName::UploadNews, "news", None);
    if let AnyRequest::UploadNews(news) = &request {
        let articles: Vec<Value> = news
            .articles
            .iter()
            .map(|a| json!({ "title": a.title, "thumbMediaId": a.thumb_media_id }))
            .collect();
        made.name = news.articles.first().map(|a| a.title.clone());
        made.articles = Some(Value::Array(articles));
    }
    let http = request
        .build(&app.acct()?.base)
        .map_err(AppError::Invalid)?;
    reply(200, &upload(&made, &http, app).await?)
}

/// `POST /api/media/uploadvideo`: `{"media_id", "title", "description"}`.
pub async fn upload_video(body: Value, app: &Ctx) -> Result<Response, AppError> {
    let request =
        AnyRequest::from_value(EndpointName::UploadVideo, body).map_err(AppError::Invalid)?;
    let title = match &request {
        AnyRequest::UploadVideo(v) => Some(v.title.clone()),
        _ => None,
    };
    let made = Made::new(EndpointName::UploadVideo, "mpvideo", title);
    let http = request
        .build(&app.acct()?.base)
        .map_err(AppError::Invalid)?;
    reply(200, &upload(&made, &http, app).await?)
}

/// The query parameters of an upload: only `allowed` ones, each at most once.
fn upload_query(req: &Request, allowed: &[&str]) -> Result<Vec<(String, String)>, AppError> {
    let mut params: Vec<(String, String)> = Vec::new();
    for (k, v) in req.url()?.query_pairs() {
        if !allowed.contains(&k.as_ref()) {
            return Err(AppError::bad_value(
                "unknown_field",
                &k,
                &k,
                format!(
                    "unknown parameter {k}; this upload takes {}",
                    allowed.join(", ")
                ),
            ));
        }
        params.push((k.into_owned(), v.into_owned()));
    }
    Ok(params)
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> &'a str {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// The `type` of an upload.
fn media_type(params: &[(String, String)]) -> Result<MediaType, AppError> {
    let given = param(params, "type");
    MediaType::parse(given).ok_or_else(|| {
        AppError::bad_value(
            "one_of",
            "type",
            given,
            "type must be one of image, voice, video, thumb",
        )
    })
}

fn declared_length(req: &Request) -> Result<usize, AppError> {
    Ok(req
        .headers()
        .get("content-length")?
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0))
}

/// A streamed upload's declared length: `Content-Length` is required (411 `length_required`
/// without one, as for a chunked body) and a whole number (400 `number`).
fn required_length(req: &Request) -> Result<u64, AppError> {
    let Some(v) = req.headers().get("content-length")? else {
        return Err(AppError::LengthRequired);
    };
    v.trim().parse::<u64>().map_err(|_| {
        AppError::bad_value(
            "number",
            "Content-Length",
            &v,
            "Content-Length must be the body's length in bytes, a whole number",
        )
    })
}

/// A streamed upload checked and framed by `frame` (core) from what is known before the file
/// flows: the declared length (over the type's limit: refused before the body is opened), the
/// body's first bytes, a random boundary. Refused, the body is read to its end and dropped
/// first; accepted, the rest is left to flow through to WeChat.
async fn streamed(
    req: &mut Request,
    media_type: MediaType,
    filename: &str,
    frame: impl FnOnce(&StreamedUpload) -> Result<FramedUpload, ValidationError>,
) -> Result<(FramedUpload, PassThrough), AppError> {
    let declared = required_length(req)?;
    media_type
        .check_size(usize::try_from(declared).unwrap_or(usize::MAX))
        .map_err(AppError::Invalid)?;
    let file = PassThrough::open(req, declared, MEDIA_SNIFF_BYTES).await?;
    let first = file.first();
    let upload = StreamedUpload {
        media_type,
        filename: filename.to_owned(),
        declared_len: declared,
        first_bytes: first[..first.len().min(MEDIA_SNIFF_BYTES)].to_vec(),
        boundary: random_boundary(),
    };
    match frame(&upload) {
        Ok(framed) => Ok((framed, file)),
        Err(e) => {
            file.discard().await;
            Err(AppError::Invalid(e))
        }
    }
}

/// A multipart boundary from the runtime's randomness (core checks it occurs nowhere in the
/// file).
fn random_boundary() -> String {
    format!("wxmass-{}", crate::random::hex::<16>())
}

/// `POST /api/media/upload?type=image|voice|video|thumb&filename=NAME`, the body the file's
/// bytes: temporary media (media/upload), kept 3 days. → `{"type","mediaId","createdAt",
/// "expiresAt"}` (Unix ms).
pub async fn upload_temporary(mut req: Request, app: &Ctx) -> Result<Response, AppError> {
    let params = upload_query(&req, &["type", "filename"])?;
    let media_type = media_type(&params)?;
    let filename = param(&params, "filename").to_owned();
    let base = &app.acct()?.base;
    let (framed, file) = streamed(&mut req, media_type, &filename, |u| {
        MediaUploadRequest::frame_streamed(u, base)
    })
    .await?;
    let made = Made::new(
        EndpointName::MediaUpload,
        media_type.as_str(),
        Some(filename),
    );
    let AnyReply::MediaUpload(r) = upload_streamed(&made, &framed, file, app).await? else {
        return Err(AppError::Internal(
            "media/upload answered another reply".into(),
        ));
    };
    let created_at = r.created_at * 1000;
    reply(
        200,
        &json!({
            "type": r.kind,
            "mediaId": r.media_id,
            "createdAt": created_at,
            "expiresAt": created_at + MEDIA_TEMPORARY_KEPT_SECS * 1000,
        }),
    )
}

/// `POST /api/material?type=image|voice|video|thumb&filename=NAME[&title=T&introduction=I]`,
/// the body the file's bytes: permanent material (add_material; a video needs a title). →
/// `{"type","mediaId","url"}` (`url` for an image).
pub async fn add_material(mut req: Request, app: &Ctx) -> Result<Response, AppError> {
    let params = upload_query(&req, &["type", "filename", "title", "introduction"])?;
    let media_type = media_type(&params)?;
    let filename = param(&params, "filename").to_owned();
    let title = params.iter().find(|(k, _)| k == "title").map(|(_, v)| v);
    let video = (title.is_some() || media_type == MediaType::Video).then(|| VideoDescription {
        title: title.cloned().unwrap_or_default(),
        introduction: param(&params, "introduction").to_owned(),
    });
    let base = &app.acct()?.base;
    let (framed, file) = streamed(&mut req, media_type, &filename, |u| {
        AddMaterialRequest::frame_streamed(u, video.as_ref(), base)
    })
    .await?;
    let name = title.cloned().unwrap_or(filename);
    let made = Made::new(EndpointName::AddMaterial, media_type.as_str(), Some(name));
    let AnyReply::AddMaterial(r) = upload_streamed(&made, &framed, file, app).await? else {
        return Err(AppError::Internal(
            "add_material answered another reply".into(),
        ));
    };
    let mut answer = json!({ "type": media_type.as_str(), "mediaId": r.media_id });
    if let Some(url) = r.url {
        answer["url"] = json!(url);
    }
    reply(200, &answer)
}

/// `GET /api/jobs/{id}`'s `media`: the upload that made the message's `media_id`, with each
/// article's cover url where the worker made the cover with one; `null` when the worker did not
/// make it (or the message has none). `rows` are the job's media as `read_job` found them.
pub fn job_media(media_id: Option<&str>, rows: &[MediaRow]) -> Value {
    let find = |id: &str| rows.iter().find(|r| r.media_id.as_deref() == Some(id));
    let Some(m) = media_id.and_then(find) else {
        return Value::Null;
    };
    let articles: Vec<Value> = m
        .articles_json
        .as_deref()
        .and_then(|a| serde_json::from_str::<Vec<Value>>(a).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            let thumb_url = a["thumbMediaId"]
                .as_str()
                .and_then(find)
                .and_then(|t| t.url.clone());
            json!({ "title": a["title"], "thumbMediaId": a["thumbMediaId"], "thumbUrl": thumb_url })
        })
        .collect();
    json!({
        "mediaId": m.media_id,
        "kind": m.kind,
        "source": m.source,
        "name": m.name,
        "url": m.url,
        "createdAt": m.created_at,
        "expiresAt": m.expires_at,
        "articles": articles,
    })
}
