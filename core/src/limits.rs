//! Every number, path and fixed name of the WeChat mass-send API, in one place.
//!
//! A rule elsewhere in the crate refers to a constant here, so "what is the limit on X and where
//! does it come from" is answered by reading this file. Sources: `docs/spec.md`, which restates
//! the API rule by rule with each rule's source (its § Where the seeds disagree settles where the
//! three seed documents disagree), and WeChat's published documentation.

// ================================================================================================
// Hosts and paths
// ================================================================================================

/// Default API host. Every endpoint's host comes from a configurable [`crate::http::ApiBase`]
/// (operators route through a fixed-IP proxy because of WeChat's IP whitelist, errcode 40164).
pub const DEFAULT_API_HOST: &str = "api.weixin.qq.com";
/// Default scheme of the API base.
pub const DEFAULT_API_SCHEME: &str = "https";

/// `POST cgi-bin/media/uploadimg` (multipart): an image for article bodies.
pub const PATH_UPLOAD_IMG: &str = "/cgi-bin/media/uploadimg";
/// `POST cgi-bin/media/uploadnews`: 1..8 articles become one mpnews media_id.
pub const PATH_UPLOAD_NEWS: &str = "/cgi-bin/media/uploadnews";
/// `POST cgi-bin/media/uploadvideo`: an uploaded video becomes a mass-send (mpvideo) media_id.
/// One seed names `file.api.weixin.qq.com` as its host; `docs/spec.md` § Where the seeds disagree
/// settles on the default base.
pub const PATH_UPLOAD_VIDEO: &str = "/cgi-bin/media/uploadvideo";
/// `POST cgi-bin/message/mass/sendall`: to everyone or to one tag.
pub const PATH_SEND_ALL: &str = "/cgi-bin/message/mass/sendall";
/// `POST cgi-bin/message/mass/send`: to a list of 2..10,000 OpenIDs.
pub const PATH_SEND_TO_USERS: &str = "/cgi-bin/message/mass/send";
/// `POST cgi-bin/message/mass/delete`: invalidate a sent mpnews/mpvideo.
pub const PATH_DELETE: &str = "/cgi-bin/message/mass/delete";
/// `POST cgi-bin/message/mass/preview`: send to one OpenID or WeChat id.
pub const PATH_PREVIEW: &str = "/cgi-bin/message/mass/preview";
/// `POST cgi-bin/message/mass/get`: status of a sent message.
pub const PATH_GET_STATUS: &str = "/cgi-bin/message/mass/get";
/// `POST cgi-bin/message/mass/speed/get` (the seed uses GET; current docs use POST with `{}`).
pub const PATH_SPEED_GET: &str = "/cgi-bin/message/mass/speed/get";
/// `POST cgi-bin/message/mass/speed/set`.
pub const PATH_SPEED_SET: &str = "/cgi-bin/message/mass/speed/set";
/// `GET cgi-bin/token` (classic access_token; invalidates other holders' tokens).
pub const PATH_TOKEN: &str = "/cgi-bin/token";
/// `POST cgi-bin/stable_token` (preferred: does not invalidate other holders).
pub const PATH_STABLE_TOKEN: &str = "/cgi-bin/stable_token";

/// `POST cgi-bin/media/upload?type=…` (multipart): a temporary media file (kept 3 days).
pub const PATH_MEDIA_UPLOAD: &str = "/cgi-bin/media/upload";
/// `POST cgi-bin/material/add_material?type=…` (multipart): a permanent material.
pub const PATH_ADD_MATERIAL: &str = "/cgi-bin/material/add_material";
/// `POST cgi-bin/material/batchget_material`: one page of the permanent materials of one type.
pub const PATH_BATCHGET_MATERIAL: &str = "/cgi-bin/material/batchget_material";
/// `GET cgi-bin/material/get_materialcount`: how many permanent materials of each type.
pub const PATH_GET_MATERIAL_COUNT: &str = "/cgi-bin/material/get_materialcount";
/// `GET cgi-bin/tags/get`: the account's tags with their follower counts.
pub const PATH_TAGS_GET: &str = "/cgi-bin/tags/get";
/// `POST cgi-bin/user/tag/get`: one page of the followers of a tag.
pub const PATH_USER_TAG_GET: &str = "/cgi-bin/user/tag/get";
/// `GET cgi-bin/user/get?next_openid=…`: one page of the account's followers.
pub const PATH_USER_GET: &str = "/cgi-bin/user/get";

/// Content type of every JSON body.
/// Hexadecimal digits after `wx` in an official account's AppID (`wx0123456789abcdef`).
pub const APP_ID_HEX_DIGITS: usize = 16;
/// Content type of every JSON request body.
pub const CONTENT_TYPE_JSON: &str = "application/json; charset=utf-8";

/// An access_token is refreshed this many seconds before its `expires_in` runs out, so a call
/// started just before expiry does not carry a token that dies in flight.
pub const TOKEN_REFRESH_MARGIN_SECS: i64 = 300;

// ================================================================================================
// Request bodies
// ================================================================================================

/// Fewest articles in one uploadnews (mpnews) body.
pub const MIN_ARTICLES: usize = 1;
/// Most articles in one uploadnews body (the oldest seed says 10; current docs say 8).
pub const MAX_ARTICLES: usize = 8;

/// An OpenID is exactly this many characters of `[A-Za-z0-9_-]`.
pub const OPENID_LEN: usize = 28;
/// Fewest OpenIDs in one `mass/send` call: WeChat rejects a single recipient (use preview).
pub const MIN_OPENIDS_PER_SEND: usize = 2;
/// Most OpenIDs in one `mass/send` call.
pub const MAX_OPENIDS_PER_SEND: usize = 10_000;

/// `clientmsgid` is at most this many bytes (longer gets errcode 45067).
pub const CLIENT_MSG_ID_MAX_BYTES: usize = 64;

/// Lowest (fastest) mass-send speed level: 0 = 800,000 recipients a minute.
pub const SPEED_MIN: u8 = 0;
/// Highest (slowest) mass-send speed level: 4 = 100,000 recipients a minute.
pub const SPEED_MAX: u8 = 4;
/// Recipients per minute of each speed level, indexed by level (current official docs).
pub const SPEED_RECIPIENTS_PER_MINUTE: [u32; 5] = [800_000, 600_000, 450_000, 300_000, 100_000];

/// uploadimg: the image must be *under* this many bytes (大小必须在1MB以下).
pub const UPLOAD_IMG_MAX_BYTES: usize = 1024 * 1024;
/// uploadimg: the multipart part name WeChat reads the file from.
pub const UPLOAD_IMG_PART_NAME: &str = "media";
/// Magic bytes of a JPEG file.
pub const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
/// Magic bytes of a PNG file.
pub const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

// ---- media/upload and material/add_material (docs/spec.md § Media and materials) -------------

/// The multipart part both uploads read the file from (`curl -F media=@test.jpg`).
pub const MEDIA_PART_NAME: &str = "media";
/// add_material: the part carrying a video's `{"title","introduction"}` JSON.
pub const MATERIAL_DESCRIPTION_PART_NAME: &str = "description";
/// An image (temporary or permanent) is at most 10 MiB (图片（image）: 10M).
pub const MEDIA_IMAGE_MAX_BYTES: usize = 10 * 1024 * 1024;
/// A voice file is at most 2 MiB (语音（voice）：2M); it also plays at most
/// [`MEDIA_VOICE_MAX_SECONDS`], which only WeChat checks.
pub const MEDIA_VOICE_MAX_BYTES: usize = 2 * 1024 * 1024;
/// A voice file plays at most 60 s (播放长度不超过60s). Not checked locally: telling an MP3's
/// length takes decoding its frames.
pub const MEDIA_VOICE_MAX_SECONDS: u32 = 60;
/// A video is at most 10 MiB (视频（video）：10MB).
pub const MEDIA_VIDEO_MAX_BYTES: usize = 10 * 1024 * 1024;
/// A thumb is at most 64 KiB (缩略图（thumb）：64KB).
pub const MEDIA_THUMB_MAX_BYTES: usize = 64 * 1024;
/// How long WeChat keeps a temporary media file (`media/upload`): 3 days from its `created_at`
/// (docs/spec.md § Media and materials; 新增临时素材: 媒体文件在微信后台保存时间为3天).
pub const MEDIA_TEMPORARY_KEPT_SECS: i64 = 3 * 24 * 60 * 60;
/// Magic bytes of a GIF file (`GIF87a` and `GIF89a` share them).
pub const GIF_MAGIC: &[u8] = b"GIF8";
/// Magic bytes of a BMP file.
pub const BMP_MAGIC: &[u8] = b"BM";
/// Magic bytes of an AMR (narrow- or wide-band) file.
pub const AMR_MAGIC: &[u8] = b"#!AMR";
/// Magic bytes of an MP3 file that starts with an ID3v2 tag (otherwise it starts with a frame
/// sync, 11 set bits).
pub const MP3_ID3_MAGIC: &[u8] = b"ID3";
/// Magic bytes of a WMA file (the ASF header object's GUID).
pub const WMA_MAGIC: &[u8] = &[
    0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9, 0x00, 0xAA, 0x00, 0x62, 0xCE, 0x6C,
];
/// A WAV file starts `RIFF`, a 4-byte size, then `WAVE`.
pub const WAV_MAGIC: (&[u8], &[u8]) = (b"RIFF", b"WAVE");
/// An MP4 file's first box is `ftyp`, its type at bytes 4..8.
pub const MP4_FTYP: &[u8] = b"ftyp";
/// How many of a file's first bytes core reads to tell its format: the longest magic number
/// (WMA's 16-byte ASF GUID) from byte 0. A streamed upload hands core this many (or the whole file
/// when it is shorter) before the rest flows.
pub const MEDIA_SNIFF_BYTES: usize = 16;
/// A multipart boundary is 1 to 70 characters (RFC 2046 §5.1.1).
pub const MULTIPART_BOUNDARY_MAX_CHARS: usize = 70;

// ---- material lists, tags and followers (docs/spec.md § Tags and followers) -----------------

/// batchget_material: fewest materials asked for in one page.
pub const MATERIAL_PAGE_MIN: u64 = 1;
/// batchget_material: most materials in one page (返回素材的数量，取值在1到20之间).
pub const MATERIAL_PAGE_MAX: u64 = 20;
/// user/get and user/tag/get: most OpenIDs in one page (一次拉取调用最多拉取10000个关注者).
pub const FOLLOWERS_PER_PAGE: usize = 10_000;

/// Values of a 0/1 flag (`show_cover_pic`, `need_open_comment`, `only_fans_can_comment`,
/// `send_ignore_reprint`).
pub const FLAG_VALUES: [u8; 2] = [0, 1];

/// Previews addressed by WeChat id (`towxname`) are limited to this many a day.
pub const PREVIEW_BY_WXNAME_PER_DAY: u32 = 100;

/// Offending values are shortened to this many characters in a [`crate::Problem`].
pub const PROBLEM_VALUE_MAX_CHARS: usize = 48;

// ================================================================================================
// Account quotas and pacing (enforced by `plan`; the worker and the npm client call it)
// ================================================================================================

/// Calls a minute across all mass-send endpoints (more get errcode 45011).
pub const MAX_CALLS_PER_MINUTE: u32 = 60;
/// Verified subscription account: successful `sendall` calls a day.
pub const SUBSCRIPTION_SENDALL_PER_DAY: u32 = 1;
/// Verified subscription account: `is_to_all: true` sends a day (history list).
pub const SUBSCRIPTION_TO_ALL_PER_DAY: u32 = 1;
/// Service account: API mass sends a day.
pub const SERVICE_SENDS_PER_DAY: u32 = 100;
/// Service account: `is_to_all: true` sends (with web-console sends) a natural month.
pub const SERVICE_TO_ALL_PER_MONTH: u32 = 4;
/// Each follower receives at most this many mass sends a natural month; WeChat drops the rest
/// for that follower (it shows in the event's `FilterCount`). It cannot be checked locally.
pub const FOLLOWER_RECEIVES_PER_MONTH: u32 = 4;
/// WeChat's day and month boundaries are in China time (UTC+8), in seconds east of UTC.
pub const CHINA_UTC_OFFSET_SECS: i64 = 8 * 3600;

// ================================================================================================
// Callbacks and events (issue 4)
// ================================================================================================

/// An EncodingAESKey is exactly this many characters of base64 (43 + `=` decode to 32 bytes).
pub const ENCODING_AES_KEY_LEN: usize = 43;
/// Random bytes WeChat puts in front of every encrypted plaintext.
pub const CALLBACK_RANDOM_PREFIX_BYTES: usize = 16;
/// WeChat pads the AES plaintext PKCS#7-style to a multiple of 32 bytes (not AES's 16), so a
/// valid pad byte is 1..=32.
pub const CALLBACK_PAD_BLOCK: usize = 32;
/// Largest callback body accepted (safe mode carries the XML base64-encoded inside `<Encrypt>`,
/// about 4/3 of [`EVENT_XML_MAX_BYTES`] plus the envelope). Real pushes are a few KiB.
pub const CALLBACK_BODY_MAX_BYTES: usize = 128 * 1024;
/// Largest (decrypted) message or event XML parsed. A MASSSENDJOBFINISH with eight articles'
/// copyright results is under 8 KiB; the cap bounds work done on hostile input.
pub const EVENT_XML_MAX_BYTES: usize = 64 * 1024;
/// Deepest element nesting parsed (`xml` > `CopyrightCheckResult` > `ResultList` > `item` >
/// field is 5).
pub const EVENT_XML_MAX_DEPTH: usize = 8;
/// Most elements in one message or event XML.
pub const EVENT_XML_MAX_ELEMENTS: usize = 4096;
/// Default largest difference, in seconds, between a callback's `timestamp` and the caller's
/// `now` when a skew check is asked for (limits replays of captured pushes).
pub const CALLBACK_MAX_SKEW_SECS: i64 = 300;
/// WeChat waits this many seconds for the callback's answer before retrying.
pub const CALLBACK_ANSWER_WITHIN_SECS: u32 = 5;
/// WeChat retries an unanswered push this many times, so each event must be recorded once by
/// its dedupe key.
pub const CALLBACK_RETRIES: u32 = 3;
/// The body that acknowledges a push (an empty body is accepted too).
pub const CALLBACK_SUCCESS_REPLY: &str = "success";

// ================================================================================================
// Send planning (issue 5)
// ================================================================================================

/// A plan's job id is at most this many bytes of visible ASCII, so that it fits in every
/// `clientmsgid` of the plan verbatim (36 holds a UUID).
pub const PLAN_JOB_ID_MAX_BYTES: usize = 36;
/// Every planned `clientmsgid` starts with this tag (it names the derivation, so a future
/// change of the scheme can never collide with ids already sent).
pub const PLAN_CLIENT_MSG_ID_PREFIX: &str = "wxm1";
/// Hex characters of the content digest in a planned `clientmsgid` (64 bits).
pub const PLAN_CLIENT_MSG_ID_DIGEST_HEX: usize = 16;
/// Most batches in one plan: the batch index must fit in the `clientmsgid` beside a
/// 36-byte job id (five decimal digits; 100,000 batches are a billion recipients).
pub const PLAN_MAX_BATCHES: usize = 100_000;
/// Invalid OpenIDs listed by position in an error or summary; the count is always exact.
pub const PLAN_INVALID_SHOWN_MAX: usize = 20;

/// First backoff of a transient retry (busy, timeout, 5xx), doubled on each further retry.
pub const RETRY_BASE_MS: i64 = 2_000;
/// Longest backoff of a transient retry.
pub const RETRY_CAP_MS: i64 = 5 * 60 * 1000;
/// Retries with the same `clientmsgid` (transient errors, 45066 and 45011) before a batch fails.
pub const RETRY_MAX: u32 = 8;
/// A request that may have reached WeChat is retried no sooner than this: the same
/// `clientmsgid` within a minute is answered with 45066 instead of the existing msg_id.
pub const RETRY_SAME_CLIENT_MSG_ID_AFTER_MS: i64 = 60_000;
/// errcode 45011 (over 60 calls a minute): wait this long before the next call.
pub const RATE_LIMITED_WAIT_MS: i64 = 60_000;
/// Token refreshes in a row (each followed by a token error again) before a batch fails.
pub const TOKEN_REFRESH_MAX_IN_A_ROW: u32 = 3;
/// Daily-quota waits (45009, 45028) before a batch fails: a week of daily windows.
pub const QUOTA_WAIT_MAX: u32 = 7;
/// Attempts of one batch, of any kind, before it fails: the hard bound on every loop.
pub const BATCH_ATTEMPTS_MAX: u32 = 24;
/// A submitted batch whose MASSSENDJOBFINISH has not arrived this long after WeChat accepted it
/// is asked about with mass/get (the push may have been lost: the callback URL was down through
/// WeChat's retries). Also the first interval between such checks, doubled after each.
pub const RESULT_EVENT_WAIT_MS: i64 = 30 * 60 * 1000;
/// Longest interval between two mass/get checks of one batch.
pub const STATUS_CHECK_INTERVAL_MAX_MS: i64 = 4 * 3600 * 1000;
/// A batch still `SENDING` (or without an answer from mass/get) this long after it was accepted
/// fails: the check must end, and no send of the product takes a day.
pub const STATUS_CHECK_GIVE_UP_MS: i64 = 24 * 3600 * 1000;
/// A `sendAt` this much before now is refused as a time in the past: a typo of the year (2020
/// for 2030) or a stale form would otherwise send at once. Within it, a time a person wrote as
/// "now" a few seconds ago, or a clock a little ahead of the caller's, still reads as now.
pub const SEND_AT_PAST_TOLERANCE_MS: i64 = 60_000;
/// The pacer's sliding window, in milliseconds.
pub const PACER_WINDOW_MS: i64 = 60_000;
