// Types of the wxmass package. Inputs are camelCase objects (core also accepts the wire's
// snake_case names); outputs are camelCase; 64-bit ids (msgId, msgDataId) are always strings.
import type { ErrorClass, Problem } from './errors.js';
export { WxmassError, ApiError } from './errors.js';
export type { ApiErrorCode, ErrorClass, Problem } from './errors.js';
export { createClient } from './client.js';
export type { Client, ClientOptions, ClientStats, ClientSendOptions, SendEvent, TokenProviderResult, BatchResult, SendResult } from './client.js';
export { uploadAudience } from './audience.js';
export { BatchProgress, Pacer } from './progress.js';
export type { BatchAction, BatchState, BatchProgressSnapshot, PacerSnapshot, FailReason } from './progress.js';
export type { UploadAudienceOptions, UploadAudienceProgress, SealedAudience, UploadAudienceError, InvalidEntry } from './audience.js';

// ---- endpoints -----------------------------------------------------------------------------

/** Short endpoint names (a full path such as `/cgi-bin/message/mass/send` is accepted too). */
export type EndpointName =
  | 'uploadimg'
  | 'uploadnews'
  | 'uploadvideo'
  | 'sendall'
  | 'send'
  | 'delete'
  | 'preview'
  | 'get'
  | 'speed/get'
  | 'speed/set'
  | 'stable_token'
  | 'media/upload'
  | 'material/add_material'
  | 'material/batchget_material'
  | 'material/get_materialcount'
  | 'tags/get'
  | 'user/tag/get'
  | 'user/get';
/** The endpoints whose body is a file (multipart) rather than JSON. */
export type FileEndpointName = 'uploadimg' | 'media/upload' | 'material/add_material';
export type JsonEndpointName = Exclude<EndpointName, FileEndpointName>;

export interface EndpointInfo {
  name: EndpointName;
  /** Path under the API base, e.g. `/cgi-bin/message/mass/sendall`. */
  path: string;
  /** WeChat's method: `GET` for tags/get, user/get and material/get_materialcount. */
  method: 'GET' | 'POST';
  /** Whether calls count against the 60-a-minute mass-send limit. */
  mass: boolean;
}
/** Every endpoint core knows. */
export declare const endpoints: readonly EndpointInfo[];

// ---- request bodies (camelCase) -------------------------------------------------------------

/**
 * A 64-bit id: a decimal string or a bigint. WeChat's msg_ids go beyond 2^53, where a JS
 * `number` has already rounded them (9007199254740993 is held as …992), so a number that is not
 * a safe integer is refused with a TypeError naming the field.
 */
export type MsgIdInput = string | bigint;
/** A 0/1 flag (booleans are accepted too). */
export type Flag = 0 | 1 | boolean;

export interface Article {
  thumbMediaId: string;
  title: string;
  /** HTML; may hold image URLs from uploadimg. */
  content: string;
  author?: string;
  contentSourceUrl?: string;
  digest?: string;
  showCoverPic?: Flag;
  needOpenComment?: Flag;
  onlyFansCanComment?: Flag;
}

/** The message part of a send or preview: `msgType` and the object of the same name. */
export type MassMessage =
  | { msgType: 'mpnews'; mpnews: { mediaId: string } }
  | { msgType: 'text'; text: { content: string } }
  | { msgType: 'voice'; voice: { mediaId: string } }
  | { msgType: 'image'; image: { mediaId: string } }
  | { msgType: 'mpvideo'; mpvideo: { mediaId: string; title?: string; description?: string } }
  | { msgType: 'wxcard'; wxcard: { cardId: string; /** preview only: a JSON object as a string */ cardExt?: string } };

export interface SendOptions {
  /** 1 = go on when an article is judged a reprint, 0 = stop. */
  sendIgnoreReprint?: Flag;
  /** Idempotency key: at most 64 bytes of printable ASCII. */
  clientMsgId?: string;
}

export interface UploadNewsBody {
  articles: Article[];
}
export interface UploadVideoBody {
  mediaId: string;
  title?: string;
  description?: string;
}
export type SendAllBody = MassMessage &
  SendOptions & {
    filter: { isToAll: true } | { isToAll?: false; tagId: number | string };
  };
export type SendBody = MassMessage & SendOptions & { toUser: string[] };
export interface DeleteBody {
  msgId: MsgIdInput;
  /** 0 or absent: every article. */
  articleIdx?: number;
  url?: string;
}
export type PreviewBody = MassMessage & ({ toUser: string; toWxName?: string } | { toWxName: string; toUser?: string });
export interface GetStatusBody {
  msgId: MsgIdInput;
}
export type SpeedGetBody = Record<string, never>;
export interface SpeedSetBody {
  /** 0 (fastest) to 4. */
  speed: number;
}
export interface StableTokenBody {
  appId: string;
  secret: string;
  forceRefresh?: boolean;
  grantType?: string;
}
export interface UploadImgBody {
  filename: string;
  /** JPEG or PNG bytes, under 1 MB. */
  media: Uint8Array | ArrayBuffer | ArrayBufferView;
}

/** A media type of media/upload and add_material. */
export type MediaType = 'image' | 'voice' | 'video' | 'thumb';
export interface MediaUploadBody {
  /**
   * image: JPEG, PNG or GIF, at most 10 MiB; voice: AMR or MP3, at most 2 MiB (60 s); video:
   * MP4, at most 10 MiB; thumb: JPEG, at most 64 KiB. Told from the bytes; the file name's
   * extension must agree.
   */
  type: MediaType;
  filename: string;
  media: Uint8Array | ArrayBuffer | ArrayBufferView;
  /** The multipart boundary (1-70 characters); default: derived from the content. */
  boundary?: string;
}
export interface AddMaterialBody extends MediaUploadBody {
  /** A video's title: required for a video, refused for other types. (Permanent images may also be BMP, voices WMA or WAV.) */
  title?: string;
  /** A video's introduction. */
  introduction?: string;
}
export interface BatchGetMaterialBody {
  type: 'image' | 'video' | 'voice' | 'news';
  /** From the newest, default 0. */
  offset?: number;
  /** 1 to 20. */
  count: number;
}
export type MaterialCountBody = Record<string, never>;
export type TagsGetBody = Record<string, never>;
export interface UserTagGetBody {
  /** A tag id (from tags/get). */
  tagId?: number | string;
  tagid?: number | string;
  /** The last OpenID of the previous page; empty or absent for the first. */
  nextOpenid?: string;
}
export interface UserGetBody {
  /** The last OpenID of the previous page; empty or absent for the first. */
  nextOpenid?: string;
}

export interface RequestBodies {
  uploadimg: UploadImgBody;
  'media/upload': MediaUploadBody;
  'material/add_material': AddMaterialBody;
  'material/batchget_material': BatchGetMaterialBody;
  'material/get_materialcount': MaterialCountBody;
  'tags/get': TagsGetBody;
  'user/tag/get': UserTagGetBody;
  'user/get': UserGetBody;
  uploadnews: UploadNewsBody;
  uploadvideo: UploadVideoBody;
  sendall: SendAllBody;
  send: SendBody;
  delete: DeleteBody;
  preview: PreviewBody;
  get: GetStatusBody;
  'speed/get': SpeedGetBody;
  'speed/set': SpeedSetBody;
  stable_token: StableTokenBody;
}

// ---- built requests and validation ----------------------------------------------------------

export interface BuildOptions {
  /** `https://host[:port][/prefix]`; default `https://api.weixin.qq.com`. */
  apiBase?: string;
  /** Added to `url` as `?access_token=` (percent-encoded). */
  accessToken?: string;
}

export interface HttpRequest<B = string> {
  method: 'POST' | 'GET';
  /** Full URL (with `access_token` when given). */
  url: string;
  host: string;
  path: string;
  contentType: string;
  /** JSON text, the multipart bytes of a file upload, or `""` for a GET. */
  body: B;
}

export type ValidationResult = { ok: true; problems: [] } | { ok: false; problems: Problem[] };

/** Validates and builds; throws WxmassError (code `validation`) listing every problem. */
export declare function buildRequest(endpoint: 'uploadimg', body: UploadImgBody, options?: BuildOptions): HttpRequest<Uint8Array>;
export declare function buildRequest(endpoint: 'media/upload', body: MediaUploadBody, options?: BuildOptions): HttpRequest<Uint8Array>;
export declare function buildRequest(endpoint: 'material/add_material', body: AddMaterialBody, options?: BuildOptions): HttpRequest<Uint8Array>;
export declare function buildRequest<E extends JsonEndpointName>(endpoint: E, body: RequestBodies[E], options?: BuildOptions): HttpRequest<string>;
/** Every problem, without throwing. */
export declare function validateRequest<E extends EndpointName>(endpoint: E, body: RequestBodies[E]): ValidationResult;

export declare function buildUploadImg(body: UploadImgBody, options?: BuildOptions): HttpRequest<Uint8Array>;
export declare function validateUploadImg(body: UploadImgBody): ValidationResult;
export declare function buildUploadNews(body: UploadNewsBody, options?: BuildOptions): HttpRequest;
export declare function validateUploadNews(body: UploadNewsBody): ValidationResult;
export declare function buildUploadVideo(body: UploadVideoBody, options?: BuildOptions): HttpRequest;
export declare function validateUploadVideo(body: UploadVideoBody): ValidationResult;
export declare function buildSendAll(body: SendAllBody, options?: BuildOptions): HttpRequest;
export declare function validateSendAll(body: SendAllBody): ValidationResult;
export declare function buildSend(body: SendBody, options?: BuildOptions): HttpRequest;
export declare function validateSend(body: SendBody): ValidationResult;
export declare function buildDelete(body: DeleteBody, options?: BuildOptions): HttpRequest;
export declare function validateDelete(body: DeleteBody): ValidationResult;
export declare function buildPreview(body: PreviewBody, options?: BuildOptions): HttpRequest;
export declare function validatePreview(body: PreviewBody): ValidationResult;
export declare function buildGetStatus(body: GetStatusBody, options?: BuildOptions): HttpRequest;
export declare function validateGetStatus(body: GetStatusBody): ValidationResult;
export declare function buildSpeedGet(body?: SpeedGetBody, options?: BuildOptions): HttpRequest;
export declare function validateSpeedGet(body?: SpeedGetBody): ValidationResult;
export declare function buildSpeedSet(body: SpeedSetBody, options?: BuildOptions): HttpRequest;
export declare function validateSpeedSet(body: SpeedSetBody): ValidationResult;
export declare function buildStableToken(body: StableTokenBody, options?: BuildOptions): HttpRequest;
export declare function validateStableToken(body: StableTokenBody): ValidationResult;
/** media/upload: type, format (from the bytes), extension and size checked before anything is sent. */
export declare function buildMediaUpload(body: MediaUploadBody, options?: BuildOptions): HttpRequest<Uint8Array>;
export declare function validateMediaUpload(body: MediaUploadBody): ValidationResult;
/** material/add_material: as buildMediaUpload, with the permanent formats and a video's title. */
export declare function buildAddMaterial(body: AddMaterialBody, options?: BuildOptions): HttpRequest<Uint8Array>;
export declare function validateAddMaterial(body: AddMaterialBody): ValidationResult;
export declare function buildBatchGetMaterial(body: BatchGetMaterialBody, options?: BuildOptions): HttpRequest;
export declare function validateBatchGetMaterial(body: BatchGetMaterialBody): ValidationResult;
export declare function buildMaterialCount(body?: MaterialCountBody, options?: BuildOptions): HttpRequest;
export declare function validateMaterialCount(body?: MaterialCountBody): ValidationResult;
export declare function buildTagsGet(body?: TagsGetBody, options?: BuildOptions): HttpRequest;
export declare function validateTagsGet(body?: TagsGetBody): ValidationResult;
export declare function buildUserTagGet(body: UserTagGetBody, options?: BuildOptions): HttpRequest;
export declare function validateUserTagGet(body: UserTagGetBody): ValidationResult;
/** A GET: the cursor is in `url` (`?next_openid=`), the body is empty. */
export declare function buildUserGet(body?: UserGetBody, options?: BuildOptions): HttpRequest;
export declare function validateUserGet(body?: UserGetBody): ValidationResult;

/** One page of followers, as core's pager reads it. */
export interface FollowerPage {
  openIds: string[];
  /** Followers of the account in all (user/get only; null for a tag). */
  total: number | null;
  /** No further page. */
  done: boolean;
}

/**
 * Core's pager through followers: a tag's (`user/tag/get`) or the account's (`user/get`). Ask
 * `nextRequest()`, send it, `feed()` the reply text; the end (an empty `nextOpenid`, or the
 * empty page after an exactly full one) is core's to tell.
 */
export declare class FollowerPager {
  constructor(options?: { tagId?: number | string; cursor?: string });
  readonly endpoint: 'user/get' | 'user/tag/get';
  /** The cursor of the next request (`""` from the start): store it to resume later. */
  readonly cursor: string;
  readonly done: boolean;
  readonly pages: number;
  readonly fetched: number;
  /** The request to send, or null when done. */
  nextRequest(options?: BuildOptions): HttpRequest | null;
  /** Throws ApiError for errcode != 0 (the pager stays put), WxmassError (code `paging`) for a page that does not move on. */
  feed(body: ReplyBody): FollowerPage;
  free(): void;
}

// ---- replies --------------------------------------------------------------------------------

export interface UploadImgReply {
  url: string;
}
export interface MediaUploadReply {
  type: string;
  mediaId: string;
  /** WeChat's `created_at`: Unix **seconds** (as WeChat sends it; the worker's own times are ms). */
  createdAt: number;
}
export interface SendReply {
  msgId: string;
  msgDataId?: string;
}
export interface AckReply {
  errmsg: string;
}
export interface PreviewReply {
  msgId?: string;
}
export type MsgStatus = 'SEND_SUCCESS' | 'SENDING' | 'SEND_FAIL' | 'DELETE' | (string & {});
export interface GetStatusReply {
  msgId: string;
  msgStatus: MsgStatus;
}
export interface SpeedGetReply {
  speed: number;
  realspeed: number;
}
export interface TokenReply {
  accessToken: string;
  expiresIn: number;
}
export interface AddMaterialReply {
  mediaId: string;
  /** An image's URL (Tencent domains only). */
  url?: string;
}
export interface MaterialItem {
  mediaId: string;
  name?: string;
  /** Unix seconds. */
  updateTime: number;
  url?: string;
  content?: { newsItem: { title: string; thumbMediaId: string; author: string; digest: string; url: string }[] };
}
export interface BatchGetMaterialReply {
  totalCount: number;
  itemCount: number;
  item: MaterialItem[];
}
export interface MaterialCountReply {
  voiceCount: number;
  videoCount: number;
  imageCount: number;
  newsCount: number;
}
export interface Tag {
  id: number;
  name: string;
  /** Followers carrying the tag. */
  count: number;
}
export interface TagsReply {
  tags: Tag[];
}
export interface FollowerListReply {
  /** user/get only. */
  total?: number;
  count: number;
  data: { openid: string[] };
  /** Empty when the list is done. */
  nextOpenid: string;
}
export interface Replies {
  uploadimg: UploadImgReply;
  /** A thumb's `thumb_media_id` arrives as `mediaId` too. */
  'media/upload': MediaUploadReply;
  'material/add_material': AddMaterialReply;
  'material/batchget_material': BatchGetMaterialReply;
  'material/get_materialcount': MaterialCountReply;
  'tags/get': TagsReply;
  'user/tag/get': FollowerListReply;
  'user/get': FollowerListReply;
  uploadnews: MediaUploadReply;
  uploadvideo: MediaUploadReply;
  sendall: SendReply;
  send: SendReply;
  delete: AckReply;
  preview: PreviewReply;
  get: GetStatusReply;
  'speed/get': SpeedGetReply;
  'speed/set': AckReply;
  stable_token: TokenReply;
}

export type ReplyBody = string | Uint8Array | ArrayBuffer | ArrayBufferView;

/** The typed reply; throws ApiError (`errcode != 0`) or WxmassError (code `malformed_reply`). */
export declare function parseReply<E extends EndpointName>(endpoint: E, body: ReplyBody): Replies[E];
/** parseReply without throwing. */
export declare function readReply<E extends EndpointName>(
  endpoint: E,
  body: ReplyBody,
): { ok: true; value: Replies[E] } | { ok: false; error: import('./errors.js').ApiError | import('./errors.js').WxmassError };

// ---- error codes ----------------------------------------------------------------------------

export interface ErrorInfo {
  code: number;
  zh: string;
  en: string;
  class: ErrorClass;
}
/** What core's table knows of a WeChat errcode, or null. */
export declare function errorInfo(code: number): ErrorInfo | null;
/** Every errcode core knows, sorted. */
export declare function errorCodes(): ErrorInfo[];

// ---- send plans -----------------------------------------------------------------------------

export type AccountKind = 'service' | 'subscription';
export type PlanAudience = 'everyone' | { everyone: true } | { tagId: number | string } | { openIds: string[] };

export interface PlanInput {
  /** 1 to 36 bytes of visible ASCII; written into every clientmsgid. */
  jobId: string;
  /** The message: `msgType` and its object (send options belong to the plan). */
  message: MassMessage;
  audience: PlanAudience;
  /** Default `service`. */
  account?: AccountKind;
  /** Send to the valid OpenIDs and report the invalid ones instead of refusing the plan. */
  skipInvalid?: boolean;
  sendIgnoreReprint?: Flag;
}

export interface PlanBatch {
  index: number;
  /** Fixed at planning; every attempt of the batch carries it. */
  clientMsgId: string;
  endpoint: 'sendall' | 'send';
  /** OpenIDs in the batch; null for a tag or everyone. */
  recipients: number | null;
  isToAll: boolean;
}

/** One past send of the account, for quota checks. */
export interface SentRecord {
  /**
   * When the call was made: Unix **milliseconds** (`Date.now()`). A number before 2001-09-09 as
   * milliseconds can only be Unix seconds and is refused (`validation`, path `ledger[i].at`, rule
   * `time`): read as ms it would be a send in 1970 that no quota window counts.
   */
  at: number;
  kind: 'sendall' | 'send';
  toAll: boolean;
  succeeded: boolean;
}

/** A quota rule that can hold a plan back (core's QuotaRule). */
export type QuotaRule =
  /** Subscription: one successful `sendall` a China day. */
  | 'subscription_send_all_per_day'
  /** Subscription: one `is_to_all` send a China day. */
  | 'subscription_to_all_per_day'
  /** Service: 100 API mass sends a China day. */
  | 'service_sends_per_day'
  /** Service: 4 `is_to_all` sends a China natural month. */
  | 'service_to_all_per_month';

export type QuotaDecision =
  | { decision: 'now' }
  /** Not before `at` (Unix ms: the start of the next China day or month), because of `rule`. */
  | { decision: 'not_before'; at: number; rule: QuotaRule }
  | { decision: 'never'; reason: string; reasonZh: string };

/** The batches of a plan that go out on one China day. */
export interface ScheduledDay {
  /** The day's first batch, numbered from 1 (batch index + 1). */
  firstBatch: number;
  /** The day's last batch, numbered from 1. */
  lastBatch: number;
  /** 00:00 China time (UTC+8) of the day, Unix ms. */
  dayStartsAt: number;
  /** Unix ms when the first of these batches may go out. */
  startsAt: number;
}

export interface PlanSummary {
  jobId: string;
  /** The message kind (`mpnews`, `text`, …), named as the input names it. */
  msgType: string;
  /** `everyone`, `tag <id>` or `openids`. */
  audience: string;
  recipients: number | null;
  duplicatesDropped: number;
  invalidSkipped: number;
  invalidShown: { position: number; value: string }[];
  batches: number;
  /** [largest, smallest] batch of an OpenID plan. */
  batchSizes: [number, number] | null;
  earliestStart: QuotaDecision;
  daysNeeded: number;
  estimatedDurationMs: number;
  quotaUsed: { sendallCalls: number; sendCalls: number; toAll: boolean };
  /** Which batches go out on which China day, in order; empty when the plan can never start. */
  schedule: ScheduledDay[];
  notes: string[];
  /** The same notes in Chinese, one for one with `notes`. */
  notesZh: string[];
}

export interface SummaryOptions {
  ledger?: SentRecord[];
  /** Unix ms; default Date.now(). */
  now?: number;
}

/** A planned send (core's SendPlan). */
export declare class SendPlan {
  private constructor();
  readonly jobId: string;
  readonly account: AccountKind;
  readonly batchCount: number;
  /** Valid unique recipients of an OpenID plan (0 for a tag or everyone). */
  readonly recipientCount: number;
  batches(): PlanBatch[];
  batchRecipients(index: number): string[];
  /** The exact request of batch `index`, with its clientmsgid. */
  request(index: number, options?: BuildOptions): HttpRequest;
  summary(options?: SummaryOptions): PlanSummary;
  summaryText(options?: SummaryOptions): string;
  /** Frees the plan's wasm memory now (otherwise when it is garbage-collected). */
  free(): void;
}

/** Plans a send; throws WxmassError (code `validation` for the message, `plan` otherwise). */
export declare function planSend(input: PlanInput): SendPlan;
/** planSend(input).summary(options). */
export declare function summarizePlan(input: PlanInput, options?: SummaryOptions): PlanSummary;

/**
 * When a scheduled send may start, read by core: RFC 3339 with an offset
 * (`2030-03-07T08:00:00+08:00`) or Unix milliseconds (a number, or its digits). Returns Unix ms.
 * Throws WxmassError (code `validation`, at `path`, default `sendAt`): rule `time` for what is not
 * a time, `in_the_past` for a time more than a minute before `now` (Unix ms, default `Date.now()`).
 */
export declare function readSendAt(value: string | number, options?: { now?: number; path?: string }): number;

// ---- callbacks and events -------------------------------------------------------------------

export type CallbackQueryInput = string | URLSearchParams | Record<string, string | undefined>;

/** The echostr to answer when the signature matches; throws WxmassError (code `callback`). */
export declare function verifyUrl(token: string, query: CallbackQueryInput): string;

export declare class MessageCrypto {
  constructor(options: { token: string; encodingAesKey: string; appId: string });
  readonly appId: string;
  /** Verifies msg_signature, decrypts and checks the AppID: the message XML. */
  decrypt(input: { msgSignature: string; timestamp: string | number; nonce: string; encrypt: string }): string;
  decryptUnsigned(encrypt: string): string;
  /** The base64 `<Encrypt>` text; `random`: 16 bytes (default crypto.getRandomValues). */
  encrypt(message: string, options?: { random?: Uint8Array }): string;
  /** The signed, encrypted reply envelope. */
  encryptReply(replyXml: string, options?: { timestamp?: string | number; nonce?: string; random?: Uint8Array }): string;
  signature(input: { timestamp: string | number; nonce: string; encrypt: string }): string;
}

export interface OpenedCallback {
  mode: 'plain' | 'aes';
  xml: string;
  /**
   * Plain pushes only: a plain `signature` does not cover the body, so remember `key` with
   * `bodyDigest` until `rememberUntil` (Unix ms) and refuse the same key with another body.
   */
  replayGuard?: { key: string; bodyDigest: string; rememberUntil: number };
}
/**
 * Verifies (and in compatible or safe mode decrypts) a POST push. Throws WxmassError (code
 * `callback`, rule `plain_push_refused`) for a plain push when the mode is compat or safe.
 */
export declare function openCallback(input: {
  token: string;
  encodingAesKey?: string;
  appId?: string;
  query: CallbackQueryInput;
  body: string | Uint8Array | ArrayBuffer | ArrayBufferView;
  /** Unix ms (as every time here, e.g. `Date.now()`): enables the timestamp-skew check. */
  now?: number;
  /**
   * The account's configured mode (消息加解密方式). Default: `safe` with an `encodingAesKey`
   * (plain pushes refused), `plain` without.
   */
  mode?: 'plain' | 'compat' | 'safe';
}): OpenedCallback;

export interface MassSendStatus {
  kind: 'success' | 'fail' | 'rejected' | 'other';
  /**
   * The `Status` exactly as WeChat sent it (`send success`, the oldest seed's `sendsuccess`,
   * `err(30003)`, …); `kind` tells what it means.
   */
  wire: string;
  /** For `rejected`: the audit code and reason. */
  code?: number;
  reason?: string;
  zh?: string;
  en?: string;
}

export interface CopyrightCheckItem {
  articleIdx: number;
  userDeclareState: number | null;
  auditState: number | null;
  originalArticleUrl: string | null;
  originalArticleType: number | null;
  canReprint: number | null;
  needReplaceContent: number | null;
  needShowReprintSource: number | null;
}

export interface MassSendJobFinishEvent {
  kind: 'mass_send_job_finish';
  toUser: string;
  fromUser: string;
  /** WeChat's `CreateTime`: Unix **seconds**, as WeChat sends it (not ms). */
  createTime: number;
  /** 64-bit, as a decimal string. */
  msgId: string;
  status: MassSendStatus;
  totalCount: number;
  filterCount: number;
  sentCount: number;
  errorCount: number;
  copyrightCheck: { count: number; checkState: number | null; items: CopyrightCheckItem[] } | null;
  articleUrls: { idx: number; url: string }[];
  /** Record the push once under this key (WeChat retries it). */
  dedupeKey: string;
}

export interface OtherMessage {
  kind: 'other';
  toUser: string;
  fromUser: string;
  /** WeChat's `CreateTime`: Unix **seconds**, as WeChat sends it (not ms). */
  createTime: number;
  msgType: string;
  event: string | null;
  /** Every other element as [name, text], in document order. */
  fields: [string, string][];
  dedupeKey: string;
}

export type CallbackMessage = MassSendJobFinishEvent | OtherMessage;

/** Parses a pushed message or event; throws WxmassError (code `event`). */
export declare function parseEvent(xml: string | Uint8Array | ArrayBuffer | ArrayBufferView): CallbackMessage;

// ---- The worker's admin API ---------------------------------------------------------------------
// The same output model: camelCase keys, 64-bit ids as decimal strings, times in Unix ms. Core's
// values inside (a plan summary, a batch, a parsed push, an error) have exactly the shapes the
// functions above return.

/**
 * A job's state, from its batches' (core's rule): `finished` only when every batch not cancelled
 * was delivered; `failed` when none was delivered, even in part; `partly_failed` otherwise.
 */
export type AdminJobState = 'planned' | 'sending' | 'submitted' | 'finished' | 'partly_failed' | 'failed' | 'cancelled';

/** Whether a batch reached its recipients (core's outcome rule). */
export type Delivery = 'delivered' | 'partly_delivered' | 'refused';

/**
 * How a batch ended, by one rule for the MASSSENDJOBFINISH push and for mass/get: WeChat's status
 * (`send success`, `send fail`, `err(N)` with its meaning, 30003's reprint verdict) and the
 * counts decide; `en` and `zh` say why, for a person.
 */
export interface BatchOutcome {
  delivery: Delivery;
  en: string;
  zh: string;
}
export type AdminBatchState = 'pending' | 'sending' | 'submitted' | 'finished' | 'failed' | 'cancelled';

/** Batches by state. */
export interface AdminBatchCounts {
  pending: number;
  sending: number;
  submitted: number;
  finished: number;
  failed: number;
  cancelled: number;
}

/** What a MASSSENDJOBFINISH reported for a batch (core's JobResult). */
export interface JobResult {
  /** `send success`, `send fail` or `err(N)`. */
  status: string;
  totalCount: number;
  filterCount: number;
  sentCount: number;
  errorCount: number;
}

/** A batch whose push never came, finished by asking mass/get. */
export interface StatusCheckResult {
  /** mass/get's `msg_status`, e.g. `SEND_SUCCESS`. */
  status: MsgStatus;
  source: 'mass/get';
  note: string;
  /** The same in Chinese (absent from a result stored before the worker's migration 0009). */
  noteZh?: string;
}

/** One batch of a job: the plan's batch, and how it went. */
export interface AdminBatch extends PlanBatch {
  jobId: string;
  state: AdminBatchState;
  attempts: number;
  /** Unix ms; while a cron run holds the batch. */
  leaseUntil: number;
  /** Unix ms; no attempt before. */
  nextAttemptAt: number;
  msgId: string | null;
  msgDataId: string | null;
  /** The last attempt's outcome, for a person. */
  lastOutcome: string | null;
  /** The same in Chinese; `null` for a batch written before the worker's migration 0009. */
  lastOutcomeZh: string | null;
  failReason: string | null;
  /** The same in Chinese; `null` for a batch written before the worker's migration 0009. */
  failReasonZh: string | null;
  /** Unix ms: when WeChat accepted the batch; null before. */
  submittedAt: number | null;
  result: JobResult | StatusCheckResult | null;
  /** How the batch ended (core's rule); `null` while its end is not known. */
  outcome: BatchOutcome | null;
}

export type AdminEventState = 'applied' | 'pending' | 'ignored' | 'conflicting' | 'stored' | 'unreadable' | 'forward_failed';

/** A stored push. */
export interface AdminEvent {
  dedupeKey: string;
  /** `mass_send_job_finish`, `other`, or `unreadable`. */
  kind: string;
  /** The XML's `Event`, if any. */
  event: string | null;
  msgId: string | null;
  batchId: string | null;
  receivedAt: number;
  state: AdminEventState;
  reason: string | null;
  /** The same in Chinese; `null` for a push stored before the worker's migration 0009. */
  reasonZh: string | null;
  /** parseEvent's value (without `dedupeKey`, which is above); null for an unreadable push. */
  payload: Omit<MassSendJobFinishEvent, 'dedupeKey'> | Omit<OtherMessage, 'dedupeKey'> | null;
  /** The raw XML of an unreadable push. */
  xml?: string;
}

/** `GET /api/jobs/{id}` (also `POST /api/jobs`, and `job` in a cancel's answer). */
export interface AdminJob {
  id: string;
  state: AdminJobState;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms: when the first batch may go. */
  sendAt: number;
  /** Unix ms. */
  cancelledAt: number | null;
  createdBy: AdminJobCreator | null;
  /**
   * Why a job ended `failed` or `partly_failed`, in words (the batches not delivered, with
   * their reasons); `null` otherwise.
   */
  reason: { en: string; zh: string } | null;
  /** The message as the job was created with it. */
  message: Record<string, unknown>;
  /** `{ openids: n }`, `{ tagId }`, `{ everyone: true }` or `{ audienceId, openids: n }`. */
  audience: Record<string, unknown>;
  summary: PlanSummary;
  counts: AdminBatchCounts;
  /** The MASSSENDJOBFINISH counts of every batch, summed; `events`: pushes stored for the job. */
  results: { events: number; totalCount: number; filterCount: number; sentCount: number; errorCount: number };
  batches: AdminBatch[];
  events: AdminEvent[];
  /** The upload that made the message's media id, when the worker made it; `null` otherwise. */
  media: AdminJobMedia | null;
  /**
   * `POST /api/jobs` to a tag only: whether the tag was found in the account's tags list, or
   * could not be checked (the list could not be read; the job was made anyway).
   */
  checks?: { tagId: 'checked' } | { tagId: 'unchecked'; reason: string; reasonZh: string };
}

/** `GET /api/jobs/{id}`'s `media`: one row of the worker's `media` table. */
export interface AdminJobMedia {
  mediaId: string;
  /** `image`, `voice`, `video`, `thumb`, `news` (uploadnews) or `mpvideo` (uploadvideo). */
  kind: string;
  /** The worker's call that made it: `media/upload`, `material/add_material`, `uploadnews`, `uploadvideo`. */
  source: string;
  /** The file name, a video's title, or a news' first title. */
  name: string | null;
  /** WeChat's url of an image material (shown with `referrerpolicy="no-referrer"`). */
  url: string | null;
  /** Unix ms. */
  createdAt: number;
  /** Unix ms when WeChat drops temporary media (3 days); `null`: kept until deleted. */
  expiresAt: number | null;
  /** A news' articles; `thumbUrl` when the worker made the cover as an image material. */
  articles: { title: string; thumbMediaId: string; thumbUrl: string | null }[];
}

/**
 * Who created a job: the scoped token (its id, label and role), or the deployment's
 * `ADMIN_TOKEN` (`tokenId` null). A job made before the worker's migration 0009 has none (`null`).
 */
export interface AdminJobCreator {
  tokenId: string | null;
  label: string;
  role: 'admin' | 'operator';
}

/**
 * `GET /api/jobs?limit=&cursor=&state=`: newest first. `state` (a comma list of
 * `AdminJobState`s) keeps the jobs in those states, filtered on the server; such a page may hold
 * fewer than `limit` jobs, even none, and still have a `nextCursor`: the list ends where it is
 * `null`.
 */
export interface AdminJobList {
  jobs: { id: string; state: AdminJobState; createdAt: number; sendAt: number; cancelledAt: number | null; createdBy: AdminJobCreator | null; message: Record<string, unknown>; audience: Record<string, unknown>; batches: number; counts: AdminBatchCounts }[];
  nextCursor: string | null;
}

/** `GET /api/events`. */
export interface AdminEventList {
  total: number;
  events: AdminEvent[];
  nextCursor: string | null;
}

/** One quota rule of the account in its current window (core's QuotaUsage). */
export interface QuotaUsage {
  rule: QuotaRule;
  /** `day`: the China day; `month`: the China natural month. */
  window: 'day' | 'month';
  /** Successful calls the window allows. */
  limit: number;
  /** Successful calls of the ledger the rule counts in the current window. */
  used: number;
  /** `limit - used`, never below 0. */
  left: number;
  /** Unix ms: when the window ends and the quota is whole again. */
  resetsAt: number;
  /** The rule in words, for a person. */
  text: string;
  /** The rule in Chinese words. */
  textZh: string;
}

/** `GET /api/status`. */
export interface AdminStatus {
  /** The account the answer is for (`default`: the worker's vars and secrets). */
  account: { id: string; appId: string };
  accountKind: AccountKind;
  callback: {
    mode: 'plain' | 'compat' | 'safe';
    forwarding: boolean;
    forwardAll: boolean;
    storeAllPushes: boolean;
    eventRetentionDays: number;
    /** Pushes the account's own server did not take. */
    forwardFailed: number;
  };
  /** Stored pushes by state. */
  events: Partial<Record<AdminEventState, number>>;
  /** When the access_token was fetched and is refreshed (Unix ms; never the token). */
  token: { fetchedAt: number | null; ageMs: number | null; refreshAt: number | null };
  calls: { lastMinute: number; sendsToday: number; sendsThisMonth: number; toAllToday: number; toAllThisMonth: number };
  /** Every quota rule of the account against the China month's successful sends. */
  quota: QuotaUsage[];
  /** The China month's successful sends, as `planSend(…).summary({ ledger })` takes them. */
  ledger: SentRecord[];
  /** The deployment's configuration problems (a master-key variable set but not a key), named, never shown. */
  configuration: { variable: string; problem: string }[];
}

/**
 * The body of every 4xx and 5xx answer. Core's errors keep the fields the npm package throws them
 * with: a `validation` error has `rule` and `problems` (each a {@link Problem}), a `plan` refusal
 * too, and a WeChat error (`wechat_rejected`, `wechat_busy`) has `errcode`, `errmsg`, `zh`, `en`,
 * `class` and `msgId`, as {@link ApiError}.
 */
export interface AdminErrorBody {
  error: {
    code: string;
    message: string;
    path: string;
    rule?: string;
    problems?: Problem[];
    value?: string;
    errcode?: number;
    errmsg?: string;
    zh?: string | null;
    en?: string | null;
    class?: ErrorClass;
    msgId?: string | null;
    /** For a 500: the id under which the details are in the worker's log. */
    id?: string;
    /** For `part_out_of_order`: the part expected next. */
    expectedPart?: number;
    /** For `forbidden`: what the token lacks — its `role` is below `need`, or it does not hold `account` (`*`: every account). */
    missing?: 'role' | 'account';
    role?: 'admin' | 'operator' | 'viewer';
    need?: 'admin' | 'operator' | 'viewer';
    /** For `forbidden`: the account not held; for `account_unavailable`: the account that fails; for `app_id_taken`: the account that holds the AppID. */
    account?: string;
    /** For `master_key_invalid` and `master_key_missing`: the variable to put right. */
    variable?: string;
  };
}
