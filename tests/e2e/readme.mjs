// The examples of the READMEs, as the tests run them (issue 28): every ```js / ```ts / ```html block,
// and the ```sh blocks of worker/README.md that call the admin API with curl. A block is run unchanged;
// what it prints is checked against the `// → …` comments written under its console.log calls.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The READMEs whose examples must run. */
export const READMES = ['README.md', 'npm/README.md', 'worker/README.md', 'console/README.md'];

/**
 * The runnable examples of one README: `{ readme, line, lang, file, code, expected }`. `file` is the
 * name given by a first line `// file.cjs` (else `example.mjs` / `example.ts` / `example.sh`);
 * `expected` is the list of `// → …` comments in order.
 */
export function examplesOf(readme, text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const code = lines.slice(start, end).join('\n') + '\n';
    i = end;
    const lang = open[1];
    const isScript = ['js', 'mjs', 'cjs', 'ts', 'html'].includes(lang);
    const isCurl = lang === 'sh' && readme === 'worker/README.md' && /\bcurl\b/.test(code);
    if (!isScript && !isCurl) continue;
    const named = /^\/\/ ([\w.-]+\.(?:c?js|mjs|ts))\s*$/.exec(lines[start] ?? '');
    const file = named ? named[1] : lang === 'html' ? 'index.html' : `example.${lang === 'js' ? 'mjs' : lang}`;
    out.push({ readme, line: start, lang: isCurl ? 'sh' : lang, file, code, expected: expectedOutputs(code) });
  }
  return out;
}

/** Every example of every README under `root`. */
export function allExamples(root) {
  return READMES.flatMap((r) => examplesOf(r, readFileSync(join(root, r), 'utf8')));
}

/**
 * The `// → text` (or `# → text`) comments of a block, in order. A comment may go on over the next
 * lines that start with `//   ` or `#   ` (three spaces or more), which are joined to it.
 */
export function expectedOutputs(code) {
  const out = [];
  const lines = code.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /(?:\/\/|#) → (.*)$/.exec(lines[i]);
    if (!m) continue;
    let text = m[1];
    while (i + 1 < lines.length && /^\s*(?:\/\/|#) {3,}\S/.test(lines[i + 1])) text += ` ${lines[++i].replace(/^\s*(?:\/\/|#)/, '').trim()}`;
    out.push(text);
  }
  return out;
}

/**
 * Whether `printed` shows each expected text, in order. Whitespace is ignored on both sides (so
 * Node's line-wrapped `util.inspect` output matches a one-line comment), and `…` in an expected
 * text stands for anything. Returns the first expected text not found, or null.
 */
export function firstUnmatched(expected, printed) {
  const squeeze = (s) => s.replace(/\s+/g, '');
  const haystack = squeeze(printed);
  let from = 0;
  for (const want of expected) {
    const pattern = squeeze(want).split('…').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?');
    const re = new RegExp(pattern, 'gs');
    re.lastIndex = from;
    const match = re.exec(haystack);
    if (!match) return want;
    from = re.lastIndex;
  }
  return null;
}
