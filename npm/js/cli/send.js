// `wxmass send --plan plan.json --state state.json`: executes a plan file straight against
// WeChat (or a fixed-IP proxy in front of it) with the npm client, saving each batch's progress
// (core's BatchProgress) and the pacer's minute (core's Pacer) to the state file before and
// after every attempt. A re-run with the same state file resumes: submitted batches are not sent
// again, and a batch whose request may have gone out is sent again with the same clientmsgid
// only after WeChat's one-minute window, so WeChat answers 45065 with the existing msg_id.
import { ApiError, createClient, parseReply, Pacer, WxmassError } from '../index.js';
import * as wasm from '../wasm.js';

import { checkDirectory, readIfExists, writeAtomic } from './files.js';
import { loadPlanFile, readLedger, startText, summaryOf } from './plan.js';
import { bar, CliError, duration, EXIT, int } from './term.js';

export const usage = `wxmass send --plan <plan.json> --state <state.json> [options]

Sends a plan file (from wxmass plan --out) straight to WeChat, batch by batch, with core's
decisions after every attempt (retry with the same clientmsgid, refresh the token, wait for a
quota, or fail). Each batch's progress is saved to the state file (written atomically) before and
after every attempt; after Ctrl-C or a crash, the same command resumes and never sends a batch
twice.

Authentication, one of:
  APP_ID and APP_SECRET                  environment variables: tokens from stable_token
  --token-url <url> (or WXMASS_TOKEN_URL) a token service answering {"access_token","expires_in"},
                                         called with Authorization: Bearer $WXMASS_TOKEN_URL_SECRET
Options:
  --api-base <url>   WeChat's API base or a fixed-IP proxy (default $WECHAT_API_BASE or
                     https://api.weixin.qq.com)
  --dry-run          print what would be sent; send nothing, write nothing
  --ledger <file>    the account's earlier sends (as for wxmass plan): the send waits for the
                     earliest start core gives, and says so, instead of meeting 45009
  --ledger-from-worker  the same, from the worker's GET /api/status (WXMASS_URL, ...)
  --json             one JSON line per event on stdout, then the result

Every wait is said, in text and in --json (a "wait" line with its reason, the errcode that
caused it and the time it ends): WeChat's 45066 (the same clientmsgid within a minute), a quota
(45009, 45028), a lost reply, the 60-a-minute pacer.

A closed stdout (send --json | head) does not stop the send: it goes on to the end, and the
state file records every batch.

Exit 0 when every batch is submitted, 1 when the ledger says the plan cannot start, 3 when
WeChat refused a batch (or the token), 4 when WeChat or the token service could not be reached,
5 when the token service answered with a server error, 2 for usage errors (a state file of
another plan or in a directory that does not exist, no credentials), 130 when stopped by Ctrl-C
(run the same command again to resume).`;

export const options = {
  plan: { type: 'string' },
  state: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'api-base': { type: 'string' },
  'token-url': { type: 'string' },
  ledger: { type: 'string' },
  'ledger-from-worker': { type: 'boolean' },
  url: { type: 'string' },
  'account-id': { type: 'string' },
};

const STATE_FILE = { kind: 'wxmass-send-state', version: 1 };

/** A fresh state for a plan: every batch not yet attempted. */
function newState(file, planPath, batches) {
  return {
    wxmass: STATE_FILE.kind,
    version: STATE_FILE.version,
    jobId: file.jobId,
    plan: planPath,
    updatedAt: null,
    pacer: null,
    batches: batches.map((b) => ({ index: b.index, clientMsgId: b.clientMsgId, recipients: b.recipients, progress: null, lastAction: null })),
  };
}

/** The state file of this plan, or a fresh state; a state of another plan is refused. */
async function loadState(path, file, planPath, batches) {
  const text = await readIfExists(path);
  if (text === null) return { state: newState(file, planPath, batches), resumed: false };
  let state;
  try {
    state = JSON.parse(text);
  } catch (e) {
    throw new CliError(`--state: ${path} is not valid JSON (${e.message}); it is not safe to guess what was sent`, EXIT.PROBLEMS, { path });
  }
  if (state?.wxmass !== STATE_FILE.kind || state.version !== STATE_FILE.version || !Array.isArray(state.batches)) {
    throw new CliError(`--state: ${path} is not a send state file of this version`, EXIT.USAGE, { path });
  }
  const mismatch = state.jobId !== file.jobId
    ? `it belongs to job ${state.jobId}, the plan is job ${file.jobId}`
    : state.batches.length !== batches.length
      ? `it has ${state.batches.length} batches, the plan ${batches.length}`
      : batches.map((b, i) => (state.batches[i]?.clientMsgId === b.clientMsgId ? null : `batch ${i + 1} has clientmsgid ${state.batches[i]?.clientMsgId}, the plan ${b.clientMsgId}`)).find(Boolean);
  if (mismatch) {
    throw new CliError(`--state: ${path} is the state of another plan (${mismatch}); use a new state file for a new plan`, EXIT.USAGE, { path });
  }
  return { state, resumed: true };
}

/** The token service's answer, read by core as stable_token's reply. */
export function tokenService(url, secret, timeoutMs) {
  return async () => {
    let res;
    try {
      res = await fetch(url, { headers: secret ? { authorization: `Bearer ${secret}` } : {}, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      throw new CliError(`token service ${url}: ${e.cause?.message ?? e.message}`, EXIT.TRANSPORT);
    }
    const text = await res.text();
    if (res.status >= 500) throw new CliError(`token service ${url} answered HTTP ${res.status}`, EXIT.SERVER);
    if (res.status !== 200) {
      throw new CliError(`token service ${url} answered HTTP ${res.status} (check WXMASS_TOKEN_URL_SECRET)`, EXIT.USAGE);
    }
    const reply = parseReply('stable_token', text);
    return { accessToken: reply.accessToken, expiresIn: reply.expiresIn };
  };
}

/** What a batch's stored progress says, for a person. */
function stateWords(progress) {
  const s = progress?.state ?? { state: 'pending' };
  switch (s.state) {
    case 'submitted':
    case 'finished':
      return `${s.state}, msg_id ${s.msgId}`;
    case 'failed':
      return `failed (${s.reason?.kind})${s.maybeDelivered ? ', may have been delivered' : ''}`;
    case 'sending':
      return progress.awaitingOutcome
        ? `sending: attempt ${s.attempt} may have reached WeChat (its answer was never recorded)`
        : `sending: attempt ${s.attempt} answered, retry due`;
    default:
      return s.state;
  }
}

/** Exit code of a finished send: WeChat's refusal (3) over transport trouble (4). */
function exitOf(result) {
  const failed = result.batches.filter((b) => !b.ok);
  if (failed.length === 0) return EXIT.OK;
  const transport = ['http_status', 'retries_exhausted'];
  return failed.some((b) => !transport.includes(b.reason?.kind)) ? EXIT.REJECTED : EXIT.TRANSPORT;
}

/** Sleeps `ms`, or rejects with the signal's reason when it is aborted (Ctrl-C). */
async function abortableSleep(ms, signal) {
  const end = Date.now() + ms;
  // setTimeout holds at most 2^31-1 ms (24.8 days); a month's quota wait is longer.
  while (Date.now() < end) {
    await new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason);
      const onAbort = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, Math.min(Math.max(0, end - Date.now()), 2 ** 31 - 1));
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

class Interrupted extends Error {
  constructor() {
    super('interrupted');
    this.name = 'Interrupted';
  }
}

/** @param {{ values: Record<string, any>, env: Record<string, string | undefined>, out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run({ values, env, out }) {
  if (!values.plan) throw new CliError('send needs --plan <plan.json> (from wxmass plan --out)', EXIT.USAGE);
  if (!values.state) throw new CliError('send needs --state <state.json>: where progress is kept, so a re-run resumes', EXIT.USAGE);
  // Found only at the first write, a missing directory stopped the send after its first request.
  if (!values['dry-run']) await checkDirectory(values.state, '--state');
  const apiBase = values['api-base'] ?? env.WECHAT_API_BASE ?? undefined;
  const ledger = await readLedger(values, env);
  const { plan, file } = await loadPlanFile(values.plan);
  try {
    const batches = plan.batches();
    const { state, resumed } = await loadState(values.state, file, values.plan, batches);
    if (values['dry-run']) return dryRun({ plan, batches, state, resumed, apiBase, out, statePath: values.state });

    const tokenUrl = values['token-url'] ?? env.WXMASS_TOKEN_URL;
    let auth;
    if (tokenUrl) auth = { tokenProvider: tokenService(tokenUrl, env.WXMASS_TOKEN_URL_SECRET, 15_000) };
    else if (env.APP_ID && env.APP_SECRET) auth = { appId: env.APP_ID, appSecret: env.APP_SECRET };
    else throw new CliError('send needs credentials: APP_ID and APP_SECRET in the environment, or --token-url (WXMASS_TOKEN_URL)', EXIT.USAGE);

    let pacer;
    try {
      pacer = new Pacer(state.pacer ?? undefined);
    } catch (e) {
      throw new CliError(`--state: ${values.state}: the pacer's snapshot is not readable: ${e.message}`, EXIT.PROBLEMS);
    }
    let client;
    try {
      client = createClient({ ...auth, apiBase, pacer });
    } catch (e) {
      throw new CliError(`--api-base: ${e.message}`, EXIT.USAGE);
    }
    return await execute({ client, plan, batches, state, resumed, pacer, out, statePath: values.state, ledger });
  } finally {
    plan.free();
  }
}

/** Words for a wait: why nothing goes out before `until`, and what WeChat answered. */
function waitText(reason, answer, until) {
  const said = answer?.errcode !== undefined ? `WeChat answered ${answer.errcode}${answer.en ? ` (${answer.en})` : ''}` : answer?.lost ? 'the answer was lost' : answer?.status ? `HTTP ${answer.status}` : null;
  switch (reason) {
    case 'clientmsgid_window':
      return 'an earlier attempt may have reached WeChat: the same clientmsgid goes again after WeChat\'s one-minute window, so WeChat answers with the existing msg_id (45065) instead of sending twice';
    case 'quota':
      return `${said ?? 'a quota'}: the same clientmsgid goes again at ${wasm.chinaTime(until)}`;
    case 'pacer':
      return 'at most 60 mass calls a minute';
    default:
      return `${said ?? 'retrying'}: the same clientmsgid goes again at ${wasm.chinaTime(until)}`;
  }
}

async function execute({ client, plan, batches, state, resumed, pacer, out, statePath, ledger }) {
  const { ce } = out;
  const total = batches.length;
  const totalRecipients = plan.recipientCount;
  const save = async () => {
    state.updatedAt = Date.now();
    await writeAtomic(statePath, `${JSON.stringify(state, null, 2)}\n`);
  };
  // What the bar shows: batches and recipients done (earlier runs included), the rate of this run.
  const done = new Set(state.batches.filter((b) => ['submitted', 'finished'].includes(b.progress?.state?.state)).map((b) => b.index));
  const recipientsOf = (i) => batches[i].recipients ?? 0;
  const startedAt = Date.now();
  let doneThisRun = 0;
  let recipientsThisRun = 0;
  let status = '';
  let waitUntil = 0;
  // Time spent waiting (45066's minute, a quota day) is not sending: the rate and the ETA count
  // only the time batches took, or a minute's wait would make every later ETA meaningless.
  let waitedMs = 0;
  let waitStarted = 0;
  const endWait = () => {
    if (waitStarted) waitedMs += Date.now() - waitStarted;
    waitStarted = 0;
  };
  const barLines = () => {
    if (waitUntil > Date.now()) status = `waiting ${duration(waitUntil - Date.now())}`;
    const busyMs = Math.max(0, Date.now() - startedAt - waitedMs - (waitStarted ? Date.now() - waitStarted : 0));
    const elapsed = busyMs / 1000;
    const recipientsDone = [...done].reduce((n, i) => n + recipientsOf(i), 0);
    const rate = elapsed > 0 && recipientsThisRun > 0 ? `${int(Math.round(recipientsThisRun / elapsed))} recipients/s` : '– recipients/s';
    const left = total - done.size;
    const eta = left === 0 ? '0 s' : doneThisRun > 0 ? duration((busyMs / doneThisRun) * left) : '?';
    return [`${bar(done.size, total)} ${done.size}/${total} batches · ${int(recipientsDone)}/${int(totalRecipients)} recipients · ${rate} · ETA ${eta}${status ? ` · ${status}` : ''}`];
  };
  const say = (text) => {
    out.info(text);
    if (out.live) out.draw(barLines());
  };
  const label = (i) => `batch ${i + 1}/${total}`;

  if (resumed) {
    say(`resuming job ${plan.jobId} from ${statePath}: ${state.batches.map((b) => `${b.index + 1} ${stateWords(b.progress)}`).join('; ')}`);
  } else {
    say(`sending job ${plan.jobId}: ${total} batch${total === 1 ? '' : 'es'}, ${int(totalRecipients)} recipients; progress in ${statePath}`);
  }

  const onProgress = async (event) => {
    const b = state.batches[event.index];
    b.progress = event.progress.toJSON();
    if (event.type === 'begin') state.pacer = pacer.toJSON();
    if (event.type === 'settled') b.lastAction = event.action;
    await save();
    const words = event.type === 'wait' ? waitText(event.reason, event.answer, event.until) : undefined;
    out.event({
      type: event.type,
      index: event.index,
      clientMsgId: b.clientMsgId,
      attempt: event.attempt,
      action: event.action,
      until: event.until,
      state: b.progress.state,
      ...(event.type === 'settled' ? { answer: event.answer ?? null } : {}),
      ...(event.type === 'wait' ? { reason: event.reason, errcode: event.answer?.errcode ?? null, text: words } : {}),
    });
    const who = label(event.index);
    endWait();
    waitUntil = 0;
    if (event.type === 'begin') {
      status = `sending ${who}`;
      say(ce.dim(`${who}: sending to ${int(recipientsOf(event.index))} OpenIDs (attempt ${event.attempt}, clientmsgid ${b.clientMsgId})`));
      return;
    }
    if (event.type === 'wait') {
      const ms = event.until - Date.now();
      waitUntil = event.until;
      waitStarted = Date.now();
      // The pacer's short waits are the normal pace, not news; every other wait is said.
      if (event.reason !== 'pacer' || ms >= 5000) say(ce.yellow(`${who}: waiting ${duration(ms)}: ${words}`));
      return;
    }
    const a = event.action;
    if (a === null) {
      say(ce.red(`${who}: ${stateWords(b.progress)}`));
    } else if (a.action === 'done') {
      done.add(event.index);
      doneThisRun++;
      recipientsThisRun += recipientsOf(event.index);
      status = '';
      say(`${ce.green('✓')} ${who}: submitted, msg_id ${a.msgId}${out.live ? '' : ` · ${barLines()[0].replace(/^\[[#.]*\] /, '')}`}`);
    } else if (a.action === 'fail') {
      say(ce.red(`✗ ${who}: failed: ${a.message}`));
    } else if (a.action === 'refresh_token_then_retry') {
      say(ce.yellow(`${who}: the access_token was refused; refreshing it and sending again`));
    } else if (a.action === 'retry_at' || a.action === 'wait_until') {
      const at = a.at ?? a.until;
      const answer = event.answer;
      const said = answer?.errcode !== undefined
        ? `WeChat answered ${answer.errcode}${answer.en ? ` (${answer.en})` : ''}`
        : answer?.lost ? 'no answer (the request may have reached WeChat)' : `HTTP ${answer?.status}`;
      say(ce.yellow(`${who}: ${said}; the same clientmsgid goes again at ${wasm.chinaTime(at)} (in ${duration(at - Date.now())})`));
    }
    if (a?.action === 'done' && event.answer?.errcode === 45065) {
      say(ce.dim(`${who}: WeChat answered 45065: a send with this clientmsgid already existed, and its msg_id is recorded (nothing was sent twice)`));
    }
  };

  const ctrl = new AbortController();
  // The account's earlier sends: the send starts when core says the quota allows it.
  const summary = ledger === undefined ? null : summaryOf(plan, ledger, Date.now());
  if (summary?.earliestStart.decision === 'never') {
    throw new CliError(`job ${plan.jobId} cannot start: ${summary.earliestStart.reason}`, EXIT.PROBLEMS);
  }
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      out.info(ce.yellow(`stopping after the request in flight (Ctrl-C again stops at once; ${statePath} already says what may have gone out)`));
      ctrl.abort(new Interrupted());
    } else {
      process.exit(EXIT.INTERRUPTED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // On a terminal the bar counts a wait down.
  const ticker = out.live ? setInterval(() => out.draw(barLines()), 1000) : null;
  let result;
  try {
    const start = summary?.earliestStart;
    if (start?.decision === 'not_before' && start.at > Date.now()) {
      const words = `the account's earlier sends: earliest start ${startText(start, Date.now())}`;
      out.event({ type: 'wait', index: null, until: start.at, reason: 'quota', rule: start.rule, errcode: null, text: words });
      say(ce.yellow(`waiting ${duration(start.at - Date.now())}: ${words}`));
      waitUntil = start.at;
      waitStarted = Date.now();
      await abortableSleep(start.at - Date.now(), ctrl.signal);
      endWait();
      waitUntil = 0;
    }
    result = await client.send(plan, {
      progress: (index) => state.batches[index].progress ?? undefined,
      onProgress,
      signal: ctrl.signal,
    });
  } catch (e) {
    if (e instanceof Interrupted) {
      out.info(`stopped; progress is in ${statePath}: run the same command again to resume`);
      out.event({ type: 'result', ok: false, interrupted: true, jobId: plan.jobId, exitCode: EXIT.INTERRUPTED });
      return EXIT.INTERRUPTED;
    }
    if (e instanceof CliError) throw e;
    if (e instanceof ApiError) throw new CliError(`WeChat refused the access_token request: ${e.message}`, EXIT.REJECTED, { errcode: e.code, class: e.class });
    if (e instanceof WxmassError && e.code === 'validation') throw new CliError(e.message, EXIT.PROBLEMS, { problems: e.problems });
    if (e instanceof WxmassError && e.code === 'plan') throw new CliError(e.message, EXIT.PROBLEMS);
    if (e instanceof WxmassError || (e instanceof TypeError && e.message === 'fetch failed') || e?.name === 'TimeoutError' || e?.name === 'AbortError') {
      throw new CliError(`cannot get an access_token: ${e.cause?.message ?? e.message}`, EXIT.TRANSPORT);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (ticker) clearInterval(ticker);
  }
  if (out.live) {
    status = '';
    out.draw(barLines());
    out.keep();
  }
  const code = exitOf(result);
  out.event({ type: 'result', ok: result.ok, jobId: result.jobId, batches: result.batches, state: statePath, exitCode: code });
  const failed = result.batches.filter((b) => !b.ok);
  if (failed.length === 0) {
    out.info(ce.green(`job ${plan.jobId}: all ${total} batches submitted (${int(totalRecipients)} recipients); WeChat delivers them at the account's speed`));
  } else {
    out.info(ce.red(`job ${plan.jobId}: ${failed.length} of ${total} batches failed:`));
    for (const f of failed) out.info(ce.red(`  ${label(f.index)}: ${f.message}`));
  }
  return code;
}

function dryRun({ plan, batches, state, resumed, apiBase, out, statePath }) {
  const rows = batches.map((b) => {
    const stored = state.batches[b.index].progress;
    const s = stored?.state?.state ?? 'pending';
    const settled = ['submitted', 'finished', 'failed', 'cancelled'].includes(s);
    const req = plan.request(b.index, { apiBase });
    return { index: b.index, clientMsgId: b.clientMsgId, recipients: b.recipients, state: s, wouldSend: !settled, url: req.url, bodyBytes: Buffer.byteLength(req.body), words: stateWords(stored) };
  });
  out.result({ dryRun: true, jobId: plan.jobId, state: resumed ? statePath : null, batches: rows.map(({ words, ...r }) => r) });
  out.out(`dry run of job ${plan.jobId}: nothing is sent and ${statePath} is not written${resumed ? ` (resuming from it)` : ''}`);
  for (const r of rows) {
    out.out(`  ${String(r.index + 1).padStart(3)}  ${r.wouldSend ? 'would send' : 'done      '}  ${int(r.recipients ?? 0).padStart(6)} OpenIDs  clientmsgid ${r.clientMsgId}  ${r.words}  POST ${r.url} (${int(r.bodyBytes)} bytes)`);
  }
  return EXIT.OK;
}
