// The page's side of the OpenID worker (src/openid-worker.js): an OpenID file is read, kept,
// planned and uploaded there, so a million lines never hold the main thread. Each call is a
// message with an id; the worker answers it once (and with progress, for an upload).
const pending = new Map();
let worker = null;
let ready = null;
let lastId = 0;

function start() {
  if (ready) return ready;
  // Beside the page's bundle in console/dist/ (console/build.mjs builds both).
  worker = new Worker(new URL('./openid-worker.js', import.meta.url), { type: 'module', name: 'wxmass-openids' });
  ready = new Promise((resolve, reject) => {
    worker.addEventListener('error', (e) => reject(new Error(`the OpenID worker did not start: ${e.message ?? ''}`)));
    worker.addEventListener('message', ({ data }) => {
      if (data.ready) {
        resolve();
        return;
      }
      const call = pending.get(data.id);
      if (!call) return;
      if (data.progress) {
        call.onProgress?.(data.progress);
        return;
      }
      pending.delete(data.id);
      if (data.error) call.reject(Object.assign(new Error(data.error.message), data.error));
      else call.resolve(data.value);
    });
  });
  return ready;
}

async function call(op, args, { onProgress, onId } = {}) {
  await start();
  const id = ++lastId;
  onId?.(id);
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onProgress });
    worker.postMessage({ id, op, args });
  });
}

/** Reads `file` (a File) as the account's OpenID file: `{ name, lines, count }`. */
export const readFile = (account, file) => call('read', { account, file });

/** Keeps the account's file in IndexedDB for its draft. */
export const keepFile = (account) => call('keep', { account });

/** The file kept for the account's draft, read back into the worker: `{ name, lines, count }` or null. */
export const restoreFile = (account) => call('restore', { account });

/** Lets go of the account's file (the draft was sent or discarded). */
export const forgetFile = (account) => (worker ? call('forget', { account }) : Promise.resolve());

// Planning a million OpenIDs takes the worker a second or more, and a key is pressed more often:
// one plan at a time, and of the calls that came meanwhile only the latest runs (the others
// resolve to null), so the counts follow the typing without a queue of stale plans.
let running = false;
let waiting = null;

/**
 * Plans the account's file for the message: `{ summary, batches }`, the summary's invalidShown
 * with each entry's `line`; null when a later call replaced this one before it ran.
 */
export function planFile(args) {
  return new Promise((resolve, reject) => {
    waiting?.resolve(null);
    waiting = { args, resolve, reject };
    nextPlan();
  });
}

function nextPlan() {
  if (running || !waiting) return;
  const { args, resolve, reject } = waiting;
  waiting = null;
  running = true;
  call('plan', args).then(resolve, reject).finally(() => {
    running = false;
    nextPlan();
  });
}

/** Uploads and seals the account's file as an audience, reporting progress; `signal` stops it. */
export function uploadFile({ account, url, adminToken, name, onProgress, signal }) {
  let uploadId = null;
  signal?.addEventListener('abort', () => {
    if (uploadId !== null) worker.postMessage({ id: ++lastId, op: 'stop', args: { upload: uploadId } });
  }, { once: true });
  return call('upload', { account, url, adminToken, name }, { onProgress, onId: (id) => { uploadId = id; } });
}
