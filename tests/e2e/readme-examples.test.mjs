// Every example of the READMEs runs as written (issue 28). The npm package is packed and installed
// into a fresh project, as a user gets it; each ```js/```ts block is written there unchanged and
// run with Node (a ```ts block is first compiled by `tsc --strict`), each ```html block is served
// beside the project's node_modules and opened in headless Chromium (Debian's; what its page logs
// is the output), and each curl block of worker/README.md runs with bash. They get what their text tells a reader to set: the simulator as
// WECHAT_API_BASE with its APP_ID/APP_SECRET, and a worker (`scripts/demo --serve` in the text,
// this test's wrangler dev here) as WXMASS_URL / URL with its admin token. An example that exits
// non-zero, or does not print what its `// → …` comments show, fails; one that says to run it
// again runs twice, and the second run must resume without a second delivery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, extname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import { inspect } from 'node:util';
import { chromium } from 'playwright-core';
import { startStack, ADMIN_TOKEN, ROOT } from './harness.mjs';
import { allExamples, examplesOf, expectedOutputs, firstUnmatched } from './readme.mjs';

const examples = allExamples(ROOT);
let stack;
let project;

/**
 * Runs a command to its end without blocking this process: the simulator runs in it, and must
 * answer the example's calls meanwhile.
 */
function run(command, args, options) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', (e) => resolve({ status: null, stdout, stderr: `${stderr}${e.message}` }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
let env;

before(async () => {
  project = mkdtempSync(join(tmpdir(), 'wxmass-readme-'));
  const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', project], { cwd: join(ROOT, 'npm'), encoding: 'utf8' }).trim().split('\n').pop();
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'readme-examples', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', join(project, tarball)], { cwd: project, stdio: 'pipe' });
  stack = await startStack({}, { vars: { ACCOUNTS_MASTER_KEY: randomBytes(32).toString('base64') } });
  const cfg = stack.sim.state.cfg;
  env = {
    ...process.env,
    NO_COLOR: '1',
    WECHAT_API_BASE: stack.sim.url,
    APP_ID: cfg.appId,
    APP_SECRET: cfg.appSecret,
    WXMASS_URL: stack.workerUrl,
    WXMASS_ADMIN_TOKEN: ADMIN_TOKEN,
    URL: stack.workerUrl,
    ADMIN_TOKEN,
  };
});
after(async () => {
  await stack?.stop();
  if (project) rmSync(project, { recursive: true, force: true });
});

test('the READMEs hold the examples this test runs, and the output check is not blind', () => {
  const count = (readme) => examples.filter((e) => e.readme === readme).length;
  assert.ok(count('README.md') >= 1, 'README.md has a JavaScript example');
  assert.ok(count('npm/README.md') >= 6, 'npm/README.md has its examples');
  assert.ok(count('worker/README.md') >= 1, 'worker/README.md has a curl example');
  const silent = examples.filter((e) => e.expected.length === 0).map((e) => `${e.readme}:${e.line}`);
  assert.deepEqual(silent, [], 'every example shows what it prints in a // → comment');
  // The matcher: order, wildcards, whitespace.
  assert.equal(firstUnmatched(["{ ok: false, problems: [ { path: 'toUser', … } ] }"], "{\n  ok: false,\n  problems: [ { path: 'toUser', rule: 'count' } ]\n}"), null);
  assert.equal(firstUnmatched(["path: 'touser'"], "{ path: 'toUser' }"), "path: 'touser'");
  assert.equal(firstUnmatched(['b', 'a'], 'a b'), 'a');
  // A renamed field in a README's comment is caught.
  const [broken] = examplesOf('x.md', "```js\nconsole.log({ toUser: 1 });\n// → { touser: 1 }\n```\n");
  assert.deepEqual(broken.expected, ['{ touser: 1 }']);
  assert.equal(firstUnmatched(broken.expected, '{ toUser: 1 }\n'), '{ touser: 1 }');
  assert.deepEqual(expectedOutputs('x // → a,\n//    b\n# → c\n'), ['a, b', 'c']);
});

const CONTENT_TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };

/** Opens `/<dir>/index.html` of the project in headless Chromium: what the page logged, as Node prints it. */
async function runInChromium(dir) {
  const server = http.createServer(async (req, res) => {
    const file = join(project, normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!file.startsWith(project)) return res.writeHead(403).end();
    let body;
    try {
      body = await readFile(file);
    } catch {
      return res.writeHead(404).end();
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profile = mkdtempSync(join(tmpdir(), 'wxmass-readme-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await context.newPage();
    const lines = [];
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', async (msg) => {
      const values = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => a.toString())));
      lines.push(values.map((v) => (typeof v === 'string' ? v : inspect(v, { depth: 4 }))).join(' '));
    });
    await page.goto(`http://127.0.0.1:${server.address().port}/${dir}/index.html`);
    // The module script awaits the WebAssembly before it logs: wait for its first line or an error.
    const deadline = Date.now() + 30_000;
    while (lines.length === 0 && errors.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 300));
    return { status: errors.length ? 1 : 0, stdout: lines.map((l) => `${l}\n`).join(''), stderr: errors.join('\n') };
  } finally {
    server.close();
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

for (const [n, ex] of examples.entries()) {
  const runsTwice = /run it (again|twice)/i.test(ex.code);
  test(`${ex.readme}:${ex.line} (${ex.file}) runs as written${runsTwice ? ', twice' : ''}`, { timeout: 240_000 }, async () => {
    const dir = join(project, `example-${n}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, ex.file), ex.code);
    let command = ['node', [ex.file]];
    if (ex.lang === 'sh') command = ['bash', ['-euo', 'pipefail', ex.file]];
    if (ex.lang === 'ts') {
      const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
      const r = await run(tsc, ['--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', ex.file], { cwd: dir });
      assert.equal(r.status, 0, `tsc --strict ${ex.readme}:${ex.line}\n${r.stdout}${r.stderr}`);
      command = ['node', [ex.file.replace(/\.ts$/, '.js')]];
    }
    const before = stack.sim.state.stats();
    for (const pass of runsTwice ? ['first run', 'resumed run'] : ['run']) {
      const r = ex.lang === 'html' ? await runInChromium(`example-${n}`) : await run(command[0], command[1], { cwd: dir, env, timeout: 200_000 });
      const shown = `${ex.readme}:${ex.line} ${pass} exited ${r.status}\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;
      assert.equal(r.status, 0, shown);
      const missing = firstUnmatched(ex.expected, r.stdout);
      assert.equal(missing, null, `${ex.readme}:${ex.line} ${pass} did not print what the README shows: ${missing}\n${shown}`);
    }
    const after = stack.sim.state.stats();
    assert.equal(after.duplicateDeliveries, before.duplicateDeliveries, 'no OpenID received a message twice');
    if (runsTwice) assert.ok(readdirSync(dir).length > 1, 'the example kept state between its runs');
  });
}
