// `wxmass jobs create | list | show | watch | cancel`: jobs on a deployed wxmass worker, through
// its admin API (WXMASS_URL, WXMASS_ADMIN_TOKEN). The worker plans and sends; this file moves
// requests and shows the answers.
import { randomUUID } from 'node:crypto';

import { readSendAt, uploadAudience, validateSendAll, WxmassError } from '../index.js';
import * as wasm from '../wasm.js';

import { readJson } from './files.js';
import { readAudience, startText } from './plan.js';
import { bar, CliError, EXIT, int, pad } from './term.js';

export const usage = `wxmass jobs <create | list | show | watch | cancel> [options]

Jobs on a wxmass worker: WXMASS_URL (or --url) is the worker, WXMASS_ADMIN_TOKEN its admin token
(or an operator's token for the account), WXMASS_ACCOUNT (or --account-id) the official account
on a worker that serves several (default: the worker's default account).

  jobs create --message <file> (--openids <file> | --tag <id> | --everyone | --audience <id>)
              [--send-at <time>] [--skip-invalid] [--send-ignore-reprint]
              [--idempotency-key <key>] [--part-size <n>]
      uploads an OpenID list in parts (with a progress bar), seals it and creates the job.
      --send-at: RFC 3339 with an offset (2030-03-07T08:00:00+08:00) or Unix milliseconds.
  jobs list [--limit <n>] [--cursor <c>] [--state <s,…>]
      newest first, with who created each; --state keeps the jobs in those states
      (planned, sending, submitted, finished, partly_failed, failed, cancelled)
  jobs show <id>                           the job, its summary and every batch
  jobs watch <id> [--interval <ms>]        redraws each batch's state until the job ends,
                                           then prints the result counts
  jobs cancel <id>                         cancels every batch not yet sent

  --json   print the worker's answers as JSON (create and watch: one line per step or change,
           then a result line)

Every option is checked before anything is uploaded (--send-at by core: a time more than a
minute in the past is refused; leave it out to send now).

Exit 0 when done (watch: the job finished, every batch delivered, or was cancelled), 1 when the
input has problems or the job ended failed or partly failed (the reasons are printed), 2 for usage
errors (no WXMASS_URL, a refused token, no such job), 3 when WeChat refused a request, 4 when the
worker cannot be reached, 5 when it answers with a server error.`;

export const options = {
  url: { type: 'string' },
  'account-id': { type: 'string' },
  message: { type: 'string' },
  openids: { type: 'string' },
  tag: { type: 'string' },
  everyone: { type: 'boolean' },
  audience: { type: 'string' },
  'send-at': { type: 'string' },
  'skip-invalid': { type: 'boolean' },
  'send-ignore-reprint': { type: 'boolean' },
  'idempotency-key': { type: 'string' },
  'part-size': { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  state: { type: 'string' },
  interval: { type: 'string' },
};

/** Job states after which nothing changes any more (the worker's `state`). */
const ENDED = ['finished', 'failed', 'partly_failed', 'cancelled'];

export function worker(values, env) {
  const url = (values.url ?? env.WXMASS_URL ?? '').replace(/\/+$/, '');
  const token = env.WXMASS_ADMIN_TOKEN;
  if (!url) throw new CliError('jobs: set WXMASS_URL (or --url) to the worker, e.g. https://wxmass.example.workers.dev', EXIT.USAGE);
  if (!token) throw new CliError('jobs: set WXMASS_ADMIN_TOKEN to the worker\'s ADMIN_TOKEN', EXIT.USAGE);
  const account = values['account-id'] ?? env.WXMASS_ACCOUNT ?? undefined;
  if (account === '') throw new CliError('--account-id: give an account id', EXIT.USAGE);
  // A worker serving several accounts answers each under /api/accounts/{id}/…; the paths
  // without it are its default account's.
  const api = account === undefined ? '/api' : `/api/accounts/${encodeURIComponent(account)}`;
  return { url, token, account, api };
}

/** The worker's error answer as a CliError with the documented exit code. */
function workerError(status, json, what) {
  const e = json?.error ?? {};
  const text = `${what}: HTTP ${status}${e.code ? ` ${e.code}` : ''}: ${e.message ?? 'no message'}`;
  const detail = { status, error: e, ...(Array.isArray(e.problems) ? { problems: e.problems } : {}) };
  if (e.code === 'wechat_rejected') return new CliError(text, EXIT.REJECTED, detail);
  if (status === 401 || status === 403 || status === 404 || status === 405) return new CliError(text, EXIT.USAGE, detail);
  // It answered: the network is fine and the worker is failing (its log has the error's id).
  if (status >= 500 || status === 429) return new CliError(text, EXIT.SERVER, detail);
  return new CliError(text, EXIT.PROBLEMS, detail);
}

/** One admin API call (`path` under the account's /api): no answer is exit 4, a 5xx exit 5. */
export async function call(w, method, route, { body, headers = {} } = {}) {
  const path = `${w.api}${route}`;
  let res;
  try {
    res = await fetch(`${w.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${w.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    throw new CliError(`${method} ${w.url}${path}: ${e.cause?.message ?? e.message}`, EXIT.TRANSPORT);
  }
  const text = await res.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    // not JSON: reported below with the status
  }
  if (res.status >= 300) throw workerError(res.status, json, `${method} ${path}`);
  // An answer that is not the worker's JSON: something else (a proxy's page) answered.
  if (json === null) throw new CliError(`${method} ${path}: HTTP ${res.status} without JSON`, EXIT.SERVER);
  return json;
}

/**
 * The account's successful sends of the China month, as the worker keeps them (`GET /api/status`
 * → `ledger`), for a plan's earliest start and quota (`plan`/`send --ledger-from-worker`).
 */
export async function fetchLedger(values, env) {
  const status = await call(worker(values, env), 'GET', '/status');
  if (!Array.isArray(status?.ledger)) throw new CliError('GET /api/status: the answer has no ledger (a worker of another version?)', EXIT.SERVER);
  return status.ledger;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const when = (ms) => (typeof ms === 'number' ? wasm.chinaTime(ms) : String(ms ?? '–'));

/** @param {{ positionals: string[], values: Record<string, any>, env: Record<string, string | undefined>, out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run(ctx) {
  const [sub, ...rest] = ctx.positionals;
  const commands = { create, list, show, watch, cancel };
  if (!Object.hasOwn(commands, sub ?? '')) {
    throw new CliError(`jobs: ${sub ? `unknown command ${JSON.stringify(sub)}` : 'which one?'}; one of create, list, show, watch, cancel`, EXIT.USAGE);
  }
  const takesId = ['show', 'watch', 'cancel'].includes(sub);
  if (takesId ? rest.length !== 1 : rest.length !== 0) {
    throw new CliError(takesId ? `jobs ${sub} takes one job id` : `jobs ${sub} takes no arguments, only options`, EXIT.USAGE);
  }
  return commands[sub]({ ...ctx, w: worker(ctx.values, ctx.env), id: rest[0] });
}

async function create({ values, out, w }) {
  if (values.message === undefined) throw new CliError('jobs create needs --message <file>', EXIT.USAGE);
  // Every option is checked before anything is uploaded: a refusal after a million OpenIDs went
  // up wastes the upload and leaves an audience behind.
  const partSize = values['part-size'] === undefined ? undefined : Number(values['part-size']);
  if (partSize !== undefined && !(Number.isInteger(partSize) && partSize > 0)) {
    throw new CliError(`--part-size: ${JSON.stringify(values['part-size'])} is not a positive integer`, EXIT.USAGE);
  }
  let sendAt;
  if (values['send-at'] !== undefined) {
    try {
      // Core's rule, as the worker applies it; the worker gets the time as given.
      readSendAt(values['send-at'], { path: '--send-at' });
    } catch (e) {
      if (!(e instanceof WxmassError)) throw e;
      throw new CliError(e.problems?.[0]?.message ?? e.message, EXIT.PROBLEMS, { code: e.code, rule: e.rule, path: e.path, problems: e.problems });
    }
    sendAt = /^\d+$/.test(values['send-at']) ? Number(values['send-at']) : values['send-at'];
  }
  const message = await readJson(values.message, '--message');
  // The message is checked by core here, before a list is uploaded for it: as the message of a
  // send to everyone, the paths are the message's own.
  const checked = validateSendAll({ filter: { isToAll: true }, ...message });
  if (!checked.ok) throw new CliError(`--message: ${values.message} is not a valid message`, EXIT.PROBLEMS, { problems: checked.problems });
  let audience;
  let lines = null;
  if (values.audience !== undefined) {
    if (values.openids !== undefined || values.tag !== undefined || values.everyone) {
      throw new CliError('give exactly one audience: --openids <file>, --tag <id>, --everyone or --audience <id>', EXIT.USAGE);
    }
    audience = { audienceId: values.audience };
  } else {
    const read = await readAudience(values);
    lines = read.lines;
    audience = read.audience === 'everyone' ? { everyone: true } : read.audience;
  }
  const { ce } = out;

  let seal = null;
  if (audience.openIds) {
    const total = audience.openIds.length;
    try {
      seal = await uploadAudience({
        url: w.url,
        adminToken: w.token,
        account: w.account,
        openIds: audience.openIds,
        partSize,
        onProgress: ({ phase, part, sentOpenIds, audienceId }) => {
          out.event({ type: 'upload', phase, part, sentOpenIds, totalOpenIds: total, audienceId });
          const words = { create: `audience ${audienceId} created`, upload: `part ${part} stored`, seal: 'sealing', done: 'sealed' }[phase];
          out.draw([`${bar(sentOpenIds, total)} ${int(sentOpenIds)}/${int(total)} OpenIDs uploaded · ${words}`]);
        },
      });
    } catch (e) {
      if (!(e instanceof WxmassError)) throw e;
      if (e.status === null || e.status === undefined) throw new CliError(e.message, EXIT.TRANSPORT, { audienceId: e.audienceId, part: e.part });
      throw workerError(e.status, { error: e.detail ?? { code: e.code, message: e.message } }, 'upload');
    }
    out.keep();
    const invalidShown = seal.invalidShown.map((i) => ({ line: lines?.[i.position] ?? null, position: i.position, value: i.value }));
    out.info(`audience ${seal.id}: ${int(seal.received)} received, ${int(seal.valid)} valid, ${int(seal.invalid)} invalid, ${int(seal.duplicates)} duplicates, ${int(seal.batches)} batches`);
    for (const i of invalidShown) out.info(`  invalid, line ${i.line}: ${JSON.stringify(i.value)}`);
    if (seal.invalid > invalidShown.length) out.info(`  (the first ${invalidShown.length} of ${int(seal.invalid)} shown)`);
    if (seal.invalid > 0 && !values['skip-invalid']) {
      // Nothing will send to it: the audience goes (a job of the valid ones is --skip-invalid).
      await call(w, 'DELETE', `/audiences/${encodeURIComponent(seal.id)}`).catch(() => {});
      out.event({ type: 'result', ok: false, audience: { ...seal, invalidShown } });
      out.info(ce.red(`No job created: ${int(seal.invalid)} invalid OpenID${seal.invalid === 1 ? '' : 's'}. Fix ${seal.invalid === 1 ? 'it' : 'them'}, or run again with --skip-invalid to send to the valid ones only.`));
      return EXIT.PROBLEMS;
    }
    audience = { audienceId: seal.id };
  }

  const body = {
    message,
    audience,
    ...(sendAt === undefined ? {} : { sendAt }),
    ...(values['skip-invalid'] ? { skipInvalid: true } : {}),
    ...(values['send-ignore-reprint'] ? { sendIgnoreReprint: true } : {}),
  };
  // One key for every try of this request: a retry after a lost answer gets the same job.
  const key = values['idempotency-key'] ?? `wxmass-cli-${randomUUID()}`;
  let job;
  for (let attempt = 1; ; attempt++) {
    try {
      job = await call(w, 'POST', '/jobs', { body, headers: { 'idempotency-key': key } });
      break;
    } catch (e) {
      // The same idempotency key makes a retry safe after a lost answer or a failing worker.
      if (!(e instanceof CliError) || ![EXIT.TRANSPORT, EXIT.SERVER].includes(e.exitCode) || attempt >= 3) {
        if (seal && e instanceof CliError) e.message += ` (audience ${seal.id} is sealed: create the job with --audience ${seal.id})`;
        throw e;
      }
      await sleep(1000 * attempt);
    }
  }
  out.event({ type: 'result', ok: true, job, audience: seal });
  printJob(job, out);
  return EXIT.OK;
}

async function list({ values, out, w }) {
  const q = new URLSearchParams();
  if (values.limit !== undefined) q.set('limit', values.limit);
  if (values.cursor !== undefined) q.set('cursor', values.cursor);
  if (values.state !== undefined) q.set('state', values.state);
  const page = await call(w, 'GET', `/jobs${q.size ? `?${q}` : ''}`);
  out.result(page);
  const { c } = out;
  const created = page.jobs.map((j) => when(j.createdAt));
  const width = Math.max(7, ...created.map((t) => t.length));
  const idWidth = Math.max(2, ...page.jobs.map((j) => j.id.length));
  const sendAt = page.jobs.map((j) => when(j.sendAt));
  const sendWidth = Math.max(7, ...sendAt.map((t) => t.length));
  out.out(c.bold(`${pad('id', idWidth)}  ${pad('state', 13)}  ${pad('batches', 7)}  ${pad('created', width)}  ${pad('send at', sendWidth)}  by`));
  page.jobs.forEach((j, i) => {
    // Jobs made before the worker recorded their creator say so.
    const by = j.createdBy ? `${j.createdBy.label} (${j.createdBy.role})` : 'not recorded';
    out.out(`${pad(j.id, idWidth)}  ${pad(stateColour(c, j.state), 13)}  ${pad(String(j.batches), 7)}  ${pad(created[i], width)}  ${pad(sendAt[i], sendWidth)}  ${by}`);
  });
  // A filtered page may hold fewer jobs than asked (the worker looks at 500 a page), even none.
  if (page.nextCursor) out.out(c.dim(`more: wxmass jobs list --cursor ${page.nextCursor}${values.state ? ` --state ${values.state}` : ''}`));
  return EXIT.OK;
}

async function show({ id, out, w }) {
  const job = await call(w, 'GET', `/jobs/${encodeURIComponent(id)}`);
  out.result(job);
  printJob(job, out);
  return EXIT.OK;
}

async function cancel({ id, out, w }) {
  const answer = await call(w, 'POST', `/jobs/${encodeURIComponent(id)}/cancel`);
  out.result(answer);
  out.out(`job ${id}: ${int(answer.cancelledBatches)} batch${answer.cancelledBatches === 1 ? '' : 'es'} cancelled`);
  for (const n of answer.notCancelled ?? []) out.out(`  batch ${n.index + 1} not cancelled (${n.state}): ${n.why}`);
  return EXIT.OK;
}

async function watch({ id, values, out, w }) {
  const interval = values.interval === undefined ? 2000 : Number(values.interval);
  if (!(Number.isFinite(interval) && interval >= 100)) throw new CliError(`--interval: ${JSON.stringify(values.interval)} is not a number of milliseconds ≥ 100`, EXIT.USAGE);
  let last = '';
  let job;
  for (;;) {
    job = await call(w, 'GET', `/jobs/${encodeURIComponent(id)}`);
    const table = batchTable(job, out.ce);
    const key = JSON.stringify([job.state, job.batches.map((b) => [b.state, b.attempts, b.msgId])]);
    if (key !== last) {
      last = key;
      out.event({ type: 'job', id: job.id, state: job.state, counts: job.counts, batches: job.batches.map((b) => ({ index: b.index, state: b.state, attempts: b.attempts, msgId: b.msgId })) });
      out.draw([`job ${job.id}: ${stateColour(out.ce, job.state)} · ${counts(job)}`, ...table]);
    }
    if (ENDED.includes(job.state)) break;
    await sleep(interval);
  }
  out.keep();
  const r = job.results ?? {};
  out.event({ type: 'result', id: job.id, state: job.state, results: r, reason: job.reason ?? null, outcomes: job.batches.map((b) => ({ index: b.index, outcome: b.outcome ?? null })) });
  out.out(`job ${job.id} ${job.state}: total ${int(r.totalCount)}, filtered ${int(r.filterCount)}, sent ${int(r.sentCount)}, errors ${int(r.errorCount)}`);
  printReasons(job, out);
  return job.state === 'finished' || job.state === 'cancelled' ? EXIT.OK : EXIT.PROBLEMS;
}

/** Why a job did not finish delivered: the worker's words in English and Chinese. */
function printReasons(job, out) {
  if (!job.reason) return;
  const { c } = out;
  out.out(c.red(`  why: ${job.reason.en}`));
  out.out(c.red(`  原因：${job.reason.zh}`));
}

function stateColour(c, state) {
  if (state === 'finished' || state === 'submitted' || state === 'delivered') return c.green(state);
  if (state === 'partly_failed' || state === 'partly_delivered') return c.yellow(state);
  if (state === 'failed' || state === 'refused') return c.red(state);
  if (state === 'cancelled') return c.dim(state);
  return c.yellow(state);
}

const counts = (job) => Object.entries(job.counts ?? {}).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ');

/** One line per batch: number, state, recipients, attempts, msg_id or why it failed. */
function batchTable(job, c) {
  return job.batches.map((b) => {
    const notDelivered = b.outcome && b.outcome.delivery !== 'delivered';
    const tail = notDelivered
      ? `${b.msgId ? `msg_id ${b.msgId} ` : ''}${(b.outcome.delivery === 'refused' ? c.red : c.yellow)(b.outcome.en)}`
      : b.failReason ? c.red(b.failReason) : b.msgId ? `msg_id ${b.msgId}` : b.lastOutcome ?? '';
    const result = b.result?.sentCount !== undefined ? ` sent ${int(b.result.sentCount)}` : '';
    return `  ${String(b.index + 1).padStart(4)}  ${pad(stateColour(c, b.state), 10)} ${int(b.recipients ?? 0).padStart(7)} OpenIDs  attempts ${b.attempts}  ${tail}${result}`.trimEnd();
  });
}

function printJob(job, out) {
  const { c } = out;
  out.out(`${c.bold(`job ${job.id}`)}: ${stateColour(c, job.state)}`);
  out.out(`  created:   ${when(job.createdAt)}`);
  out.out(`  send at:   ${when(job.sendAt)}`);
  const s = job.summary;
  if (s) {
    out.out(`  audience:  ${s.audience}${s.recipients === null || s.recipients === undefined ? '' : `, ${int(s.recipients)} recipients`}`);
    if (s.earliestStart) out.out(`  earliest:  ${startText(s.earliestStart, job.createdAt)}`);
    for (const day of s.schedule ?? []) {
      const which = day.firstBatch === day.lastBatch ? `batch ${day.firstBatch}` : `batches ${day.firstBatch}–${day.lastBatch}`;
      out.out(`    ${which} from ${wasm.chinaTime(day.startsAt)}`);
    }
  }
  out.out(`  batches:   ${job.batches.length}${job.counts ? ` (${counts(job)})` : ''}`);
  for (const b of job.batches) {
    out.out(`${batchTable({ batches: [b] }, c)[0]}  ${c.dim(`clientmsgid ${b.clientMsgId}`)}`);
  }
  const r = job.results;
  if (r) out.out(`  results:   total ${int(r.totalCount)}, filtered ${int(r.filterCount)}, sent ${int(r.sentCount)}, errors ${int(r.errorCount)}`);
  printReasons(job, out);
}
