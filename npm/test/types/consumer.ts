// A TypeScript consumer of the shipped .d.ts: it must type-check with `tsc --noEmit`, and the
// `@ts-expect-error` lines prove the types reject what core would reject.
import {
  ApiError,
  WxmassError,
  buildRequest,
  buildSendAll,
  buildSend,
  buildUploadImg,
  createClient,
  BatchProgress,
  Pacer,
  type BatchAction,
  type BatchProgressSnapshot,
  type SendEvent,
  uploadAudience,
  endpoints,
  errorCodes,
  errorInfo,
  parseReply,
  readReply,
  validateRequest,
  validateSend,
  MessageCrypto,
  openCallback,
  parseEvent,
  planSend,
  summarizePlan,
  verifyUrl,
  SendPlan,
  type ErrorClass,
  type PlanSummary,
  type HttpRequest,
  type Problem,
  type SendReply,
  type SealedAudience,
  type UploadAudienceError,
  type UploadAudienceProgress,
  buildDelete,
  readSendAt,
  type AdminBatch,
  type AdminJob,
  type BatchOutcome,
} from 'wxmass';

const req: HttpRequest = buildSendAll({
  filter: { isToAll: false, tagId: 2 },
  msgType: 'mpnews',
  mpnews: { mediaId: 'm' },
  clientMsgId: 'job-1/batch-0',
});
const body: string = req.body;

const img: HttpRequest<Uint8Array> = buildUploadImg({ filename: 'a.png', media: new Uint8Array(8) });
const bytes: Uint8Array = img.body;

const generic = buildRequest('get', { msgId: '9007199254740993' }, { apiBase: 'http://127.0.0.1:1', accessToken: 't' });
const v = validateRequest('send', { toUser: ['a', 'b'], msgType: 'text', text: { content: 'x' } });
if (!v.ok) {
  const p: Problem = v.problems[0];
  const s: string = `${p.path} ${p.rule} ${p.message} ${p.value ?? ''}`;
}
validateSend({ toUser: [], msgType: 'voice', voice: { mediaId: 'v' } });

const reply: SendReply = parseReply('sendall', '{"msg_id":1}');
const id: string = reply.msgId;
const status = parseReply('get', new Uint8Array());
const st: string = status.msgStatus;
const token = parseReply('stable_token', '{}');
const secs: number = token.expiresIn;

const r = readReply('send', '{}');
if (r.ok) {
  const m: string = r.value.msgId;
} else if (r.error instanceof ApiError) {
  const c: 'wechat_busy' | 'wechat_rejected' = r.error.code;
  const errcode: number = r.error.errcode;
  const cls: ErrorClass = r.error.class;
  const existing: string | null = r.error.msgId;
} else {
  const e: WxmassError = r.error;
  const path: string = e.path;
}

const info = errorInfo(45009);
if (info) {
  const zh: string = info.zh;
}
const n: number = errorCodes().length + endpoints.length;

const client = createClient({ appId: 'wx', appSecret: 's', apiBase: 'http://127.0.0.1:1' });
async function use(): Promise<string> {
  const t: string = await client.token();
  const speed = await client.call('speed/get', {});
  const level: number = speed.speed;
  return t;
}
createClient({ tokenProvider: async () => ({ accessToken: 't', expiresIn: 60 }) });

// @ts-expect-error msgType and the message object must agree
buildSendAll({ filter: { isToAll: true }, msgType: 'text', image: { mediaId: 'x' } });
// @ts-expect-error unknown endpoint
buildRequest('sendto', {});
// @ts-expect-error msg ids are strings, never numbers
const wrong: number = reply.msgId;

const plan: SendPlan = planSend({ jobId: 'j', message: { msgType: 'text', text: { content: 'x' } }, audience: { openIds: ['a', 'b'] } });
const cid: string = plan.batches()[0].clientMsgId;
const summary: PlanSummary = plan.summary({ ledger: [{ at: 1718000000000, kind: 'send', toAll: false, succeeded: true }] });
const start = summary.earliestStart.decision;
summarizePlan({ jobId: 'j', message: { msgType: 'image', image: { mediaId: 'm' } }, audience: 'everyone', account: 'subscription' });
async function sendIt(): Promise<string[]> {
  const result = await client.send(plan, { onBatch: (b) => void b.index });
  return result.batches.map((b) => (b.ok ? b.msgId : b.message));
}
// A send that resumes from stored progress and stores each change.
async function resumable(stored: (BatchProgressSnapshot | null)[], signal: AbortSignal): Promise<boolean> {
  const pacer = Pacer.fromJSON({ limit: 60, recent: [] });
  const c = createClient({ appId: 'wx', appSecret: 's', pacer });
  const result = await c.send(plan, {
    progress: (i) => stored[i] ?? undefined,
    onProgress: (e: SendEvent) => {
      stored[e.index] = e.progress.toJSON();
      if (e.type === 'settled' && e.action?.action === 'done') void e.action.msgId.length;
      if (e.type === 'wait') void e.until;
    },
    signal,
  });
  const p = new BatchProgress();
  const n: number = p.beginAttempt(Date.now());
  const a: BatchAction = p.settleLost(Date.now(), 0);
  const snapshot: BatchProgressSnapshot = BatchProgress.fromJSON(p.toJSON()).toJSON();
  // @ts-expect-error a snapshot's msg ids are strings
  const wrong: BatchProgressSnapshot = { ...snapshot, state: { state: 'submitted', msgId: 1 } };
  return result.ok && n > 0 && a.action !== 'fail' && pacer.nextSlot() > 0;
}
const echo: string = verifyUrl('token', { signature: 's', timestamp: '1', nonce: 'n', echostr: 'e' });
const crypto = new MessageCrypto({ token: 't', encodingAesKey: 'k', appId: 'a' });
const xml: string = crypto.decrypt({ msgSignature: 's', timestamp: 1, nonce: 'n', encrypt: 'e' });
const envelope: string = crypto.encryptReply('<xml/>');
const opened = openCallback({ token: 't', query: 'a=b', body: '<xml/>' });
const ev = parseEvent(opened.xml);
if (ev.kind === 'mass_send_job_finish') {
  const mid: string = ev.msgId;
  const sent: number = ev.sentCount;
} else {
  const f: [string, string][] = ev.fields;
}
// @ts-expect-error audience must be everyone, a tag or OpenIDs
planSend({ jobId: 'j', message: { msgType: 'text', text: { content: 'x' } }, audience: { group: 1 } });

async function upload(file: AsyncIterable<string>, signal: AbortSignal): Promise<number> {
  const sealed: SealedAudience = await uploadAudience({
    url: 'https://worker.example',
    adminToken: 't',
    openIds: file,
    signal,
    onProgress: (p: UploadAudienceProgress) => void (p.totalOpenIds ?? p.sentOpenIds),
  });
  try {
    await uploadAudience({ url: 'u', adminToken: 't', openIds: ['a'], audienceId: sealed.id, startPart: 2 });
  } catch (e) {
    const err = e as UploadAudienceError;
    const expected: number | undefined = err.detail?.expectedPart;
    const resume: number | null = err.part;
    const code: string = err.code;
  }
  const first: { position: number; value: string } | undefined = sealed.invalidShown[0];
  // @ts-expect-error OpenIDs are strings
  await uploadAudience({ url: 'u', adminToken: 't', openIds: [1, 2] });
  // @ts-expect-error there is no 'uploading' phase
  uploadAudience({ url: 'u', adminToken: 't', openIds: [], onProgress: (p) => p.phase === 'uploading' });
  return sealed.batches + sealed.duplicates;
}

// Issue 25: msg ids are strings or bigints (a number above 2^53 is already rounded), a start time
// is read by core, and a batch's outcome and a job's reason are typed.
buildDelete({ msgId: '9007199254740993' });
buildDelete({ msgId: 9007199254740993n });
// @ts-expect-error a msg_id as a JS number may already be rounded
buildDelete({ msgId: 9007199254740992 });
const startsAt: number = readSendAt('2030-03-07T08:00:00+08:00', { now: Date.now() });
export function outcomes(job: AdminJob): string[] {
  const reason: string | undefined = job.reason?.zh;
  return job.batches.map((b: AdminBatch) => {
    const o: BatchOutcome | null = b.outcome;
    // @ts-expect-error a delivery is delivered, partly_delivered or refused
    if (o?.delivery === 'finished') return '';
    return o === null ? `${startsAt}` : `${o.delivery}: ${o.en} / ${o.zh} ${reason ?? ''}`;
  });
}
