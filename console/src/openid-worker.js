// The OpenID file's heavy work, off the page's main thread (a module worker that console/build.mjs
// bundles as its own entry, loading the same wasm package): reading a file of up to 1,000,000
// lines, planning it with core's planSend each time the message changes, keeping it in IndexedDB
// for the draft, and uploading it in parts. On the main thread each of these took from 0.1 s to
// seconds, and typing re-planned the whole list on every key. The page talks to it through
// src/openid-file.js; the entries never cross back, only counts, summaries and line numbers.
import { planSend, uploadAudience } from 'wxmass';
import { parseOpenIdText } from './audience.js';
import { loadFile, saveFile } from './file-store.js';

const DEFAULT_ACCOUNT = 'default';
/** account → `{ name, lines, entries, lineNos }`, the file of that account's draft. */
const files = new Map();
/** The last plan and what it was made of: a new start time or ledger only summarizes it again. */
let lastPlan = null;
/** Uploads under way by request id, so the page can stop one. */
const uploads = new Map();

const about = (file) => ({ name: file.name, lines: file.lines, count: file.entries.length });

function fileOf(account) {
  const file = files.get(account);
  if (!file) throw Object.assign(new Error('no OpenID file was read for this account'), { code: 'no_file' });
  return file;
}

const handlers = {
  async read({ account, file }) {
    const read = parseOpenIdText(await file.text(), file.name, file.type);
    files.set(account, read);
    return about(read);
  },
  keep: ({ account }) => saveFile(fileOf(account), account),
  async restore({ account }) {
    const file = await loadFile(account);
    if (!file) return null;
    files.set(account, file);
    return about(file);
  },
  forget({ account }) {
    files.delete(account);
    if (lastPlan?.account === account) dropPlan();
  },
  plan({ account, key, message, sendIgnoreReprint, ledger, now }) {
    const file = fileOf(account);
    if (lastPlan?.account !== account || lastPlan.key !== key || lastPlan.file !== file) {
      dropPlan();
      const plan = planSend({
        jobId: 'console',
        message,
        audience: { openIds: file.entries },
        skipInvalid: true,
        ...(sendIgnoreReprint === undefined ? {} : { sendIgnoreReprint }),
      });
      lastPlan = { account, key, file, plan };
    }
    const summary = lastPlan.plan.summary({ ledger, now });
    // Positions are entry indexes; the page shows the file's line numbers.
    summary.invalidShown = summary.invalidShown.map((x) => ({ ...x, line: file.lineNos[x.position] }));
    return { summary, batches: lastPlan.plan.batchCount };
  },
  async upload({ account, url, adminToken, name }, id) {
    const controller = new AbortController();
    uploads.set(id, controller);
    try {
      // The worker keeps the audience's name (the file's), so the job page shows it anywhere:
      // made here with it, then filled and sealed by uploadAudience.
      const audienceId = await createAudience({ account, url, adminToken, name, signal: controller.signal });
      postMessage({ id, progress: { phase: 'create', part: 0, sentOpenIds: 0 } });
      return await uploadAudience({
        url,
        adminToken,
        audienceId,
        openIds: fileOf(account).entries,
        signal: controller.signal,
        onProgress: ({ phase, part, sentOpenIds, totalOpenIds }) => postMessage({ id, progress: { phase, part, sentOpenIds, totalOpenIds } }),
        ...(account === DEFAULT_ACCOUNT ? {} : { account }),
      });
    } finally {
      uploads.delete(id);
    }
  },
  stop({ upload }) {
    uploads.get(upload)?.abort();
  },
};

/** `POST /api/audiences {name}`: an open audience for uploaded parts; its id. */
async function createAudience({ account, url, adminToken, name, signal }) {
  const base = account === DEFAULT_ACCOUNT ? '/api' : `/api/accounts/${encodeURIComponent(account)}`;
  const res = await fetch(`${url}${base}/audiences`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: String(name ?? '').slice(0, 200) }),
    signal,
  });
  const json = await res.json().catch(() => null);
  if (!res.ok || typeof json?.id !== 'string') {
    const e = json?.error ?? {};
    throw Object.assign(new Error(e.message ?? `HTTP ${res.status}`), { code: e.code ?? 'http', status: res.status, detail: e });
  }
  return json.id;
}

function dropPlan() {
  lastPlan?.plan.free();
  lastPlan = null;
}

/** An error as the page reads it (code, rule, problems, the worker's status and body), cloneable. */
const plainError = (e) => JSON.parse(JSON.stringify({ ...e, name: e?.name ?? 'Error', message: String(e?.message ?? e) }));

addEventListener('message', async ({ data: { id, op, args } }) => {
  try {
    postMessage({ id, value: await handlers[op](args, id) });
  } catch (error) {
    postMessage({ id, error: plainError(error) });
  }
});
// The wasm module is compiled before this line runs (the package's top-level await): the page
// sends nothing before it hears this.
postMessage({ ready: true });
