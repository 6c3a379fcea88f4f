// An OpenID file in the browser: read it (one OpenID a line; a CSV's first column), keep each
// entry's line number, and hand the entries to the worker in parts with uploadAudience.
import { uploadAudience } from 'wxmass';
import { DEFAULT_ACCOUNT, getAccount, getToken } from './api.js';

/**
 * `{ name, lines, entries, lineOf }`: the non-blank entries in file order and `lineOf(i)`, the
 * 1-based line of entry `i` (positions in planSend's and the worker's answers are entry indexes).
 */
export async function readOpenIdFile(file) {
  const text = await file.text();
  const csv = /\.csv$/i.test(file.name) || file.type === 'text/csv';
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const entries = [];
  const lineNos = new Int32Array(lines.length);
  for (let i = 0; i < lines.length; i++) {
    let s = lines[i];
    if (i === 0 && s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    if (csv) {
      const comma = s.indexOf(',');
      if (comma >= 0) s = s.slice(0, comma);
    }
    s = s.trim();
    if (csv && s.length >= 2 && s.startsWith('"') && s.endsWith('"')) s = s.slice(1, -1).trim();
    if (s === '') continue;
    lineNos[entries.length] = i + 1;
    entries.push(s);
  }
  return { name: file.name, lines: lines.length, entries, lineNos, lineOf: (i) => lineNos[i] };
}

/** Uploads and seals `entries` as an audience of this tab's account, reporting progress. */
export function uploadEntries(entries, { onProgress, signal }) {
  const account = getAccount();
  return uploadAudience({
    url: location.origin,
    adminToken: getToken(),
    openIds: entries,
    onProgress,
    signal,
    ...(account === DEFAULT_ACCOUNT ? {} : { account }),
  });
}
