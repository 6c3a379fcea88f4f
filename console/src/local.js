// What this browser remembers between visits, per official account: the compose draft
// (localStorage), the OpenID file's entries (IndexedDB: a million lines is tens of MB, past
// localStorage's few MB), and the names the worker does not keep — an uploaded mpnews' articles by
// its media_id, an audience's file name by its id — so the job page can show them.
import { getAccount } from './api.js';

const draftKey = (account) => `wxmass.draft.${account}`;
const namesKey = (account) => `wxmass.names.${account}`;

/** The draft kept for the account, or null. */
export function loadDraft(account = getAccount()) {
  try {
    return JSON.parse(localStorage.getItem(draftKey(account)) ?? 'null');
  } catch {
    return null;
  }
}

/** Keeps the draft; false when the browser refused (storage full or off). */
export function saveDraft(draft, account = getAccount()) {
  try {
    localStorage.setItem(draftKey(account), JSON.stringify(draft));
    return true;
  } catch {
    return false;
  }
}

export function dropDraft(account = getAccount()) {
  localStorage.removeItem(draftKey(account));
  return idb('readwrite', (store) => store.delete(account)).catch(() => {});
}

function names(account) {
  try {
    return JSON.parse(localStorage.getItem(namesKey(account)) ?? '{}');
  } catch {
    return {};
  }
}

/** Remembers `value` under `kind:id` for the account (an uploaded mpnews, an audience's file). */
export function remember(kind, id, value, account = getAccount()) {
  const all = names(account);
  all[`${kind}:${id}`] = value;
  try {
    localStorage.setItem(namesKey(account), JSON.stringify(all));
  } catch {
    /* a full storage only loses a name shown on the job page */
  }
}

/** What this browser remembered under `kind:id`, or undefined. */
export const recall = (kind, id, account = getAccount()) => names(account)[`${kind}:${id}`];

// ---- the OpenID file in IndexedDB (one record per account) --------------------------------
function idb(mode, action) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open('wxmass-console', 1);
    open.onupgradeneeded = () => open.result.createObjectStore('files');
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction('files', mode);
      const request = action(tx.objectStore('files'));
      tx.oncomplete = () => {
        db.close();
        resolve(request.result);
      };
      tx.onerror = () => {
        db.close();
        reject(tx.error);
      };
    };
  });
}

/** Keeps the file read for the draft: `{ name, lines, entries, lineNos }`. */
export const saveFile = (file, account = getAccount()) =>
  idb('readwrite', (store) => store.put({ name: file.name, lines: file.lines, entries: file.entries, lineNos: file.lineNos }, account));

/** The file kept for the draft, or undefined. */
export const loadFile = (account = getAccount()) => idb('readonly', (store) => store.get(account));
