// Runs the installed package's bin (node_modules/.bin/wxmass, what `npx wxmass` runs) as a child
// process, with a clean environment: no colour variables, no credentials unless a test gives them.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../node_modules/.bin/wxmass', import.meta.url));

/** Starts the bin; `done` resolves to `{ code, signal, stdout, stderr }`. */
export function start(args, { env = {}, input, cwd } = {}) {
  const child = spawn(BIN, args, { cwd, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    stdout += d;
  });
  child.stderr.setEncoding('utf8').on('data', (d) => {
    stderr += d;
  });
  if (input !== undefined) child.stdin.end(input);
  else child.stdin.end();
  const done = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
}

/** Runs the bin to its end. */
export const wxmass = (args, options) => start(args, options).done;

/** A fresh temporary directory with `files` (name → text) written into it. */
export function dir(files = {}) {
  const d = mkdtempSync(join(tmpdir(), 'wxmass-cli-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

/** The JSON lines of a --json run of send or watch. */
export const lines = (stdout) => stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check()` is truthy (polling), or throws after `tries` polls. */
export async function until(check, what, { tries = 600, every = 50 } = {}) {
  for (let i = 0; i < tries; i++) {
    const v = await check();
    if (v) return v;
    await sleep(every);
  }
  throw new Error(`gave up waiting for ${what}`);
}
