// An OpenID file's text as entries: one OpenID a line (a CSV's first column), each entry with its
// line number. Runs in the OpenID worker (src/openid-worker.js), never on the page's main thread.

/**
 * `{ name, lines, entries, lineNos }`: the non-blank entries in file order and `lineNos[i]`, the
 * 1-based line of entry `i` (positions in planSend's and the worker's answers are entry indexes).
 */
export function parseOpenIdText(text, name, type = '') {
  const csv = /\.csv$/i.test(name) || type === 'text/csv';
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
  return { name, lines: lines.length, entries, lineNos };
}
