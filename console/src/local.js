// What this browser remembers between visits, per official account: the compose draft
// (localStorage; the OpenID file's entries are in IndexedDB, kept by the OpenID worker, see
// src/file-store.js), and the names the worker does not keep — an uploaded mpnews' articles by
// its media_id, an audience's file name by its id — so the job page can show them.
import { getAccount } from './api.js';
import { deleteFile } from './file-store.js';

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
  return deleteFile(account).catch(() => {});
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
