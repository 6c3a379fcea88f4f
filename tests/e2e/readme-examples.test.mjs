// Every example of the READMEs runs as written (issue 28). The npm package is packed and installed
// into a fresh project, as a user gets it; each ```js/```ts block is written there unchanged and
// run with Node (a ```ts block is first compiled by `tsc --strict`), and each curl block of
// worker/README.md with bash. They get what their text tells a reader to set: the simulator as
// WECHAT_API_BASE with its APP_ID/APP_SECRET, and a worker (`scripts/demo --serve` in the text,
// this test's wrangler dev here) as WXMASS_URL / URL with its admin token. An example that exits
// non-zero, or does not print what its `// → …` comments show, fails; one that says to run it
// again runs twice, and the second run must resume without a second delivery.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
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
      const r = await run(command[0], command[1], { cwd: dir, env, timeout: 200_000 });
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
