// Files of the wxmass command line: inputs (a path or `-` for stdin), OpenID lists with their
// line numbers, and atomic writes (a temporary file beside the target, flushed, then renamed over
// it), so a crash leaves the old file or the new one, never half of one. Node only.
import { open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { CliError, EXIT } from './term.js';

/** The bytes of `path`, or of stdin for `-`. A missing file is a usage error. */
export async function readInput(path, what) {
  if (path === undefined || path === '') throw new CliError(`${what}: give a file (or - for stdin)`, EXIT.USAGE);
  if (path === '-') {
    const chunks = [];
    for await (const chunk of process.stdin) chunks.push(chunk);
    return Buffer.concat(chunks);
  }
  try {
    return await readFile(path);
  } catch (e) {
    throw new CliError(`${what}: cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, EXIT.USAGE, { path });
  }
}

/** The UTF-8 text of `path` (or stdin). */
export async function readText(path, what) {
  return (await readInput(path, what)).toString('utf8');
}

/**
 * A JSON file as a value. Malformed JSON is a problem of the input (exit 1), reported with the
 * file and JSON.parse's position.
 */
export async function readJson(path, what) {
  const text = await readText(path, what);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`${what}: ${path} is not valid JSON: ${e.message}`, EXIT.PROBLEMS, { path, rule: 'json' });
  }
}

/**
 * An OpenID list, one a line: surrounding spaces and a trailing `\r` are dropped, blank lines
 * skipped. `lines[i]` is the 1-based line number of `openIds[i]`, so a position core reports
 * becomes a line a person can open. Whether an entry is an OpenID is core's to say.
 */
export async function readOpenIdLines(path) {
  const text = await readText(path, '--openids');
  const openIds = [];
  const lines = [];
  let line = 0;
  for (const raw of text.split('\n')) {
    line++;
    const entry = raw.trim();
    if (entry === '') continue;
    openIds.push(entry);
    lines.push(line);
  }
  return { openIds, lines };
}

/**
 * Refuses an output path whose directory does not exist (a usage error, exit 2), before any work
 * is done: found only at the first write, it stopped a send after its first request.
 */
export async function checkDirectory(path, what) {
  const where = dirname(path);
  let info;
  try {
    info = await stat(where);
  } catch (e) {
    throw new CliError(`${what}: the directory ${where} of ${path} does not exist${e.code === 'ENOENT' ? '' : ` (${e.message})`}`, EXIT.USAGE, { path });
  }
  if (!info.isDirectory()) throw new CliError(`${what}: ${where} (of ${path}) is not a directory`, EXIT.USAGE, { path });
}

/** Writes `text` to `path` atomically: a temp file in the same directory, fsync, rename. */
export async function writeAtomic(path, text) {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  let fh;
  try {
    fh = await open(tmp, 'w', 0o600);
  } catch (e) {
    // The directory went away or is not writable: the environment, not the input.
    throw new CliError(`cannot write ${path}: ${e.code === 'ENOENT' ? `the directory ${dirname(path)} does not exist` : e.message}`, EXIT.USAGE, { path });
  }
  try {
    await fh.writeFile(text);
    await fh.sync();
  } catch (e) {
    await fh.close();
    await unlink(tmp).catch(() => {});
    throw e;
  }
  await fh.close();
  await rename(tmp, path);
}

/** Whether `path` exists (ENOENT: no; anything else is thrown). */
export async function readIfExists(path) {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if (e.code === 'ENOENT') return null;
    throw new CliError(`cannot read ${path}: ${e.message}`, EXIT.USAGE, { path });
  }
}
