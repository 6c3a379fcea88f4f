// The wxmass bin of the installed package, run as a child process: errcode, check, plan and
// send (against the WeChat simulator, in process here), each with good and bad input: the exit
// code, what is printed, and what reached the simulator or the state file. The crash-and-resume
// test of send is in cli-resume.test.mjs; jobs against a worker are in tests/e2e/cli-jobs.test.mjs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { errorInfo, planSend } from 'wxmass';

import { dir, lines, start, until, wxmass } from './cli-helpers.mjs';

const repo = process.env.WXMASS_REPO;
assert.ok(repo, 'WXMASS_REPO must point at the repository (scripts/test-npm sets it)');
const { createSimulator, openidFor } = await import(`${repo}/tests/wechat-sim/src/server.mjs`);

const ESC = '\x1b[';
const text = { msgType: 'text', text: { content: 'hello from the command line' } };

let sim;
let cfg;
before(async () => {
  sim = await createSimulator({ log: () => {} });
  cfg = await control('GET', 'config');
});
after(() => sim?.close());

async function control(method, path, body) {
  const res = await fetch(`${sim.url}/__sim/${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body) });
  assert.equal(res.status, 200, `${method} /__sim/${path}`);
  return res.json();
}

const sendCalls = async () => (await control('GET', 'calls?path=/cgi-bin/message/mass/send')).calls;
const credentials = () => ({ APP_ID: cfg.appId, APP_SECRET: cfg.appSecret, WECHAT_API_BASE: sim.url });

// ---- errcode ---------------------------------------------------------------------------------

test('errcode prints core\'s zh and en text and the class; unknown codes exit 1, non-integers 2', async () => {
  for (const code of [45065, -1, 40001, 45009]) {
    const info = errorInfo(code);
    const r = await wxmass(['errcode', String(code)]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.startsWith(`${code}  ${info.class}\n`), r.stdout);
    assert.ok(r.stdout.includes(`zh: ${info.zh}\n`), r.stdout);
    assert.ok(r.stdout.includes(`en: ${info.en}\n`), r.stdout);
  }
  const json = await wxmass(['errcode', '45066', '--json']);
  assert.equal(json.code, 0);
  assert.deepEqual(JSON.parse(json.stdout), { ...errorInfo(45066), known: true });
  const unknown = await wxmass(['errcode', '123456']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stdout, /123456 .*not in core's table/);
  for (const bad of [['errcode', 'abc'], ['errcode'], ['errcode', '1', '2']]) {
    const r = await wxmass(bad);
    assert.equal(r.code, 2, bad.join(' '));
    assert.match(r.stderr, /^error: errcode/);
  }
});

test('usage: no command, an unknown command or option exit 2; --help exits 0', async () => {
  const none = await wxmass([]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /wxmass check <endpoint>/);
  assert.equal((await wxmass(['frobnicate'])).code, 2);
  const opt = await wxmass(['check', '--bogus']);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /Unknown option '--bogus'/);
  for (const cmd of ['check', 'plan', 'send', 'jobs', 'errcode']) {
    const r = await wxmass([cmd, '--help']);
    assert.equal(r.code, 0, cmd);
    assert.ok(r.stdout.startsWith(`wxmass ${cmd}`), r.stdout);
  }
  const help = await wxmass(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit codes: 0 ok, 1 problems found, 2 usage, 3 WeChat rejected, 4 transport/);
  const version = await wxmass(['--version']);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});

// ---- check -----------------------------------------------------------------------------------

test('check prints every problem with its path, rule and the en and zh message, and exits 1', async () => {
  const d = dir({ 'bad.json': JSON.stringify({ touser: ['bad'], msgtype: 'text', text: { content: '' }, extra: 1 }) });
  const r = await wxmass(['check', 'send', join(d, 'bad.json')]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /4 problems for send/);
  for (const [path, rule, en, zh] of [
    ['touser', 'count', 'touser must have 2 to 10000 entries (got "1")', 'touser 须有 2 到 10000 项（实际值 "1"）'],
    ['touser[0]', 'openid_format', 'touser[0] must be an OpenID: 28 characters', 'touser[0] 须是 OpenID：28 个字符'],
    ['text.content', 'required', 'text.content is required and must not be empty', 'text.content 为必填项，不能为空'],
    ['extra', 'unknown_field', 'extra is not a field of this request', 'extra 不是此请求的字段'],
  ]) {
    assert.ok(r.stdout.includes(`  ${path}  [${rule}]\n    en: ${en}`), `${path}\n${r.stdout}`);
    assert.ok(r.stdout.includes(`    zh: ${zh}`), `${path}\n${r.stdout}`);
  }
  const json = await wxmass(['check', 'send', join(d, 'bad.json'), '--json']);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p) => [p.path, p.rule]), [['extra', 'unknown_field'], ['touser', 'count'], ['touser[0]', 'openid_format'], ['text.content', 'required']]);
  assert.ok(report.problems.every((p) => p.message && p.zh));
});

test('check: a valid body from stdin exits 0; a msg_id above 2^53 is read exactly; malformed JSON is a problem; bad arguments exit 2', async () => {
  const good = JSON.stringify({ toUser: [openidFor('a'), openidFor('b')], msgType: 'text', text: { content: 'hi' } });
  const ok = await wxmass(['check', 'send', '-'], { input: good });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /✓ stdin: a valid send request/);
  // Through a JS number 18446744073709551616 would become a valid-looking 2^64; core reads the text.
  const big = await wxmass(['check', 'get', '-', '--json'], { input: '{"msg_id": 18446744073709551616}' });
  assert.equal(big.code, 1);
  assert.equal(JSON.parse(big.stdout).problems[0].path, 'msg_id');
  assert.equal((await wxmass(['check', 'get', '-'], { input: '{"msg_id": 9007199254740993}' })).code, 0);
  const broken = await wxmass(['check', 'sendall', '-', '--json'], { input: '{"filter": ' });
  assert.equal(broken.code, 1);
  assert.equal(JSON.parse(broken.stdout).problems[0].rule, 'json');
  const unknown = await wxmass(['check', 'massive', '-'], { input: '{}' });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown endpoint "massive"; one of uploadimg, uploadnews/);
  const missing = await wxmass(['check', 'send', '/nonexistent/body.json']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /cannot read \/nonexistent\/body.json: no such file/);
  const img = dir({ 'x.gif': 'GIF89a' });
  const notImage = await wxmass(['check', 'uploadimg', join(img, 'x.gif')]);
  assert.equal(notImage.code, 1);
  assert.match(notImage.stdout, /\[image_format\]/);
});

test('colour: off without a TTY and with NO_COLOR, on with FORCE_COLOR', async () => {
  const d = dir({ 'bad.json': '{"touser":[]}' });
  const args = ['check', 'send', join(d, 'bad.json')];
  const plain = await wxmass(args);
  assert.ok(!plain.stdout.includes(ESC), 'no TTY: no colour');
  const forced = await wxmass(args, { env: { FORCE_COLOR: '1' } });
  assert.ok(forced.stdout.includes(`${ESC}31m✗${ESC}39m`), forced.stdout);
  const none = await wxmass(args, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  assert.ok(!none.stdout.includes(ESC), 'NO_COLOR wins');
  assert.equal(plain.stdout, none.stdout);
});

// ---- plan ------------------------------------------------------------------------------------

/** 20,001 OpenIDs with, at known lines, an invalid entry, a blank line and a duplicate. */
function listFile() {
  const ids = Array.from({ length: 20_001 }, (_, i) => openidFor(`cli-plan-${i}`));
  const rows = [...ids];
  rows.splice(3, 0, 'not-an-openid'); // line 4
  rows.splice(10, 0, ''); // line 11: blank, skipped
  rows.push(ids[7]); // the last line: a duplicate
  rows.splice(500, 0, `  ${'x'.repeat(27)}!  `); // line 501: 28 characters, one not an OpenID's
  return { ids, text: `${rows.join('\n')}\n` };
}

test('plan: counts, invalid entries with their line numbers, duplicates; refused without --skip-invalid (exit 1, no file)', async () => {
  const { text: list } = listFile();
  const d = dir({ 'ids.txt': list, 'msg.json': JSON.stringify(text) });
  const out = join(d, 'plan.json');
  const r = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--job', 'cli-plan-1', '--out', out]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stdout, /entries: +20,004/);
  assert.match(r.stdout, /valid: +20,002/);
  assert.match(r.stdout, /invalid: +2\n +line 4: "not-an-openid"\n +line 501: "x{27}!"\n/);
  assert.match(r.stdout, /duplicates: +1 /);
  assert.match(r.stdout, /recipients: +20,001/);
  assert.match(r.stdout, /Not planned: 2 invalid OpenIDs.*--skip-invalid/);
  assert.equal(existsSync(out), false, 'no plan file');
});

test('plan --skip-invalid: the batches with the clientmsgids core gives, the quota and the earliest start in China time; the plan file', async () => {
  const { ids, text: list } = listFile();
  const d = dir({ 'ids.txt': list, 'msg.json': JSON.stringify(text) });
  const out = join(d, 'plan.json');
  const args = ['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--job', 'cli-plan-2', '--skip-invalid', '--out', out];
  const r = await wxmass(args);
  assert.equal(r.code, 0, r.stderr);
  // The oracle: the library planning the valid list itself.
  const lib = planSend({ jobId: 'cli-plan-2', message: text, audience: { openIds: ids } });
  const batches = lib.batches();
  assert.equal(batches.length, 3);
  for (const b of batches) {
    assert.match(r.stdout, new RegExp(`\\n +${b.index + 1}  send +${b.recipients.toLocaleString('en-US')} OpenIDs  clientmsgid ${b.clientMsgId}\\n`));
  }
  assert.match(r.stdout, /quota: +3 mass\/send \+ 0 mass\/sendall calls, over 1 China day/);
  assert.match(r.stdout, /earliest: +now, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? China time \(UTC\+8\)/);
  assert.match(r.stdout, /note: A service account may make 100 API mass sends a day/);
  const file = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(file.wxmass, 'wxmass-plan');
  assert.equal(file.jobId, 'cli-plan-2');
  assert.deepEqual(file.batches.map((b) => b.clientMsgId), batches.map((b) => b.clientMsgId));
  assert.deepEqual(file.counts, { entries: 20_004, valid: 20_002, invalid: 2, duplicates: 1, recipients: 20_001 });
  lib.free();

  const json = await wxmass([...args, '--json']);
  assert.equal(json.code, 0);
  const report = JSON.parse(json.stdout);
  assert.deepEqual(report.invalidShown, [{ line: 4, position: 3, value: 'not-an-openid' }, { line: 501, position: 499, value: `${'x'.repeat(27)}!` }]);
  assert.equal(report.summary.earliestStart.decision, 'now');
});

test('plan: a bad message is exit 1 with its problems; a subscription account cannot plan an OpenID list (exit 1); missing inputs exit 2', async () => {
  const d = dir({ 'ids.txt': `${openidFor('p1')}\n${openidFor('p2')}\n`, 'bad.json': '{"msgType":"text","text":{"content":""}}', 'msg.json': JSON.stringify(text), 'broken.json': '{"msgType":' });
  const bad = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'bad.json')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /text\.content +\[required\]\n +en: text\.content is required/);
  assert.match(bad.stderr, /zh: text\.content 为必填项/);
  const broken = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'broken.json')]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /broken\.json is not valid JSON/);
  const sub = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--account', 'subscription']);
  assert.equal(sub.code, 1);
  assert.match(sub.stderr + sub.stdout, /subscription account/);
  assert.equal((await wxmass(['plan', '--openids', join(d, 'ids.txt')])).code, 2);
  assert.equal((await wxmass(['plan', '--message', join(d, 'msg.json')])).code, 2);
  assert.equal((await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--tag', '2', '--message', join(d, 'msg.json')])).code, 2);
  const tag = await wxmass(['plan', '--tag', '2', '--message', join(d, 'msg.json'), '--job', 'tag-job', '--json']);
  assert.equal(tag.code, 0, tag.stderr);
  assert.deepEqual(JSON.parse(tag.stdout).batches.map((b) => b.endpoint), ['sendall']);
});

// ---- send ------------------------------------------------------------------------------------

/** A plan file for `n` OpenIDs made by the bin; its path and the OpenIDs. */
async function planFile(jobId, n = 6) {
  const ids = Array.from({ length: n }, (_, i) => openidFor(`${jobId}-${i}`));
  const d = dir({ 'ids.txt': ids.join('\n'), 'msg.json': JSON.stringify(text) });
  const plan = join(d, 'plan.json');
  const r = await wxmass(['plan', '--openids', join(d, 'ids.txt'), '--message', join(d, 'msg.json'), '--job', jobId, '--out', plan]);
  assert.equal(r.code, 0, r.stderr);
  return { d, plan, state: join(d, 'state.json'), ids, file: JSON.parse(readFileSync(plan, 'utf8')) };
}

test('send --dry-run sends nothing and writes no state; without credentials send exits 2', async () => {
  await control('POST', 'reset');
  const p = await planFile('cli-dry', 20_001);
  const r = await wxmass(['send', '--plan', p.plan, '--state', p.state, '--dry-run'], { env: credentials() });
  assert.equal(r.code, 0, r.stderr);
  for (const b of p.file.batches) assert.match(r.stdout, new RegExp(`would send .*clientmsgid ${b.clientMsgId}  pending  POST ${sim.url}/cgi-bin/message/mass/send`));
  assert.equal(existsSync(p.state), false);
  assert.equal((await control('GET', 'calls')).calls.length, 0, 'nothing reached WeChat, not even a token request');
  const none = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: { WECHAT_API_BASE: sim.url } });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /APP_ID and APP_SECRET/);
  assert.equal((await wxmass(['send', '--state', p.state], { env: credentials() })).code, 2);
  assert.equal((await wxmass(['send', '--plan', p.plan], { env: credentials() })).code, 2);
});

test('send: every batch submitted once, the state file holds each msg_id exactly; a re-run sends nothing', async () => {
  await control('POST', 'reset');
  const p = await planFile('cli-send', 20_001);
  const r = await wxmass(['send', '--plan', p.plan, '--state', p.state, '--json'], { env: credentials() });
  assert.equal(r.code, 0, r.stderr);
  const events = lines(r.stdout);
  const result = events.at(-1);
  assert.equal(result.type, 'result');
  assert.equal(result.ok, true);
  const jobs = (await control('GET', 'jobs')).jobs;
  assert.equal(jobs.length, 3);
  const state = JSON.parse(readFileSync(p.state, 'utf8'));
  for (const b of p.file.batches) {
    const sent = jobs.find((j) => j.clientmsgid === b.clientMsgId);
    assert.ok(sent, b.clientMsgId);
    assert.equal(state.batches[b.index].progress.state.state, 'submitted');
    assert.equal(state.batches[b.index].progress.state.msgId, sent.msgId, 'the 64-bit msg_id kept exactly');
    assert.equal(result.batches[b.index].msgId, sent.msgId);
  }
  assert.deepEqual(events.filter((e) => e.type === 'begin').map((e) => e.index), [0, 1, 2]);
  assert.match(r.stderr, /✓ batch 3\/3: submitted, msg_id \d+ · 3\/3 batches · 20,001\/20,001 recipients · [\d,]+ recipients\/s · ETA 0 s/);
  assert.equal(state.pacer.recent.length, 3);
  const stats = await control('GET', 'stats');
  assert.equal(stats.deliveries, 20_001);
  assert.equal(stats.duplicateDeliveries, 0);

  const again = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: credentials() });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /resuming job cli-send .*1 submitted, msg_id/);
  assert.equal((await sendCalls()).length, 3, 'nothing sent again');
});

test('send: Ctrl-C while a request is in flight waits for its answer, saves it and exits 130; the same command then sends only the rest', async () => {
  await control('POST', 'reset');
  const p = await planFile('cli-ctrl-c', 20_001);
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/send', kind: 'delay', ms: 1500, count: 1, skip: 1 });
  const run = start(['send', '--plan', p.plan, '--state', p.state], { env: credentials() });
  await until(async () => (await control('GET', 'faults')).faults[0].hits === 1, 'batch 2 at WeChat');
  run.child.kill('SIGINT');
  const stopped = await run.done;
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.match(stopped.stderr, /stopping after the request in flight[^]*✓ batch 2\/3: submitted[^]*stopped; progress is in/);
  const state = JSON.parse(readFileSync(p.state, 'utf8'));
  assert.deepEqual(state.batches.map((b) => b.progress?.state.state ?? null), ['submitted', 'submitted', null]);
  const rest = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: credentials() });
  assert.equal(rest.code, 0, rest.stderr);
  assert.match(rest.stderr, /resuming job cli-ctrl-c .*; 3 pending/);
  assert.equal((await sendCalls()).length, 3, 'each batch once');
  assert.equal((await control('GET', 'stats')).duplicateDeliveries, 0);
});

test('send: WeChat refusing a batch exits 3 and the state says why; the others still go out', async () => {
  await control('POST', 'reset');
  const p = await planFile('cli-refused', 20_001);
  await control('POST', 'faults', { path: '/cgi-bin/message/mass/send', kind: 'errcode', errcode: 40003, count: 1, skip: 1 });
  const r = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: credentials() });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /✗ batch 2\/3: failed: .*40003/);
  assert.match(r.stderr, /1 of 3 batches failed/);
  const state = JSON.parse(readFileSync(p.state, 'utf8'));
  assert.deepEqual(state.batches.map((b) => b.progress.state.state), ['submitted', 'failed', 'submitted']);
  assert.equal(state.batches[1].progress.state.reason.code, 40003);
  assert.equal(state.batches[1].lastAction.action, 'fail');
  // A re-run does not send the failed batch again: core settled it.
  const again = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: credentials() });
  assert.equal(again.code, 3);
  assert.equal((await sendCalls()).length, 3);
});

test('send: a wrong AppSecret exits 3, an unreachable API exits 4, a state file of another plan or an edited plan file is refused', async () => {
  await control('POST', 'reset');
  const p = await planFile('cli-auth');
  const wrong = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: { ...credentials(), APP_SECRET: 'f'.repeat(32) } });
  assert.equal(wrong.code, 3, wrong.stderr);
  assert.match(wrong.stderr, /WeChat refused the access_token request: .*40125/);
  const down = await wxmass(['send', '--plan', p.plan, '--state', p.state, '--api-base', 'http://127.0.0.1:9'], { env: credentials() });
  assert.equal(down.code, 4, down.stderr);
  assert.match(down.stderr, /cannot get an access_token/);
  assert.equal((await sendCalls()).length, 0);
  assert.equal(existsSync(p.state), false, 'nothing began, nothing to keep');

  const sent = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: credentials() });
  assert.equal(sent.code, 0, sent.stderr);
  const other = await planFile('cli-other');
  writeFileSync(other.state, readFileSync(p.state, 'utf8'));
  const mixed = await wxmass(['send', '--plan', other.plan, '--state', other.state], { env: credentials() });
  assert.equal(mixed.code, 2);
  assert.match(mixed.stderr, /is the state of another plan \(it belongs to job cli-auth, the plan is job cli-other\)/);

  const edited = JSON.parse(readFileSync(p.plan, 'utf8'));
  edited.batches[0].clientMsgId = 'edited-by-hand';
  writeFileSync(p.plan, JSON.stringify(edited));
  const e = await wxmass(['send', '--plan', p.plan, '--state', join(p.d, 'fresh.json')], { env: credentials() });
  assert.equal(e.code, 1);
  assert.match(e.stderr, /does not match what core plans from its inputs \(batch 1: clientmsgid wxm1-cli-auth-0-[0-9a-f]+ now, edited-by-hand in the file\)/);
  assert.equal((await sendCalls()).length, 1, 'only the one good run sent');
});

test('send with a token service (--token-url): called with the bearer secret; a refused secret exits 2', async () => {
  await control('POST', 'reset');
  const seen = [];
  const server = http.createServer(async (req, res) => {
    seen.push(req.headers.authorization ?? null);
    if (req.headers.authorization !== 'Bearer s3cret') {
      res.writeHead(401).end('no');
      return;
    }
    const t = await (await fetch(`${sim.url}/cgi-bin/token?grant_type=client_credential&appid=${cfg.appId}&secret=${cfg.appSecret}`)).json();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: t.access_token, expires_in: t.expires_in }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const tokenUrl = `http://127.0.0.1:${server.address().port}/token`;
  try {
    const p = await planFile('cli-token-url');
    const refused = await wxmass(['send', '--plan', p.plan, '--state', p.state, '--token-url', tokenUrl], { env: { WECHAT_API_BASE: sim.url, WXMASS_TOKEN_URL_SECRET: 'wrong' } });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /answered HTTP 401 \(check WXMASS_TOKEN_URL_SECRET\)/);
    const r = await wxmass(['send', '--plan', p.plan, '--state', p.state], { env: { WECHAT_API_BASE: sim.url, WXMASS_TOKEN_URL: tokenUrl, WXMASS_TOKEN_URL_SECRET: 's3cret' } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen, ['Bearer wrong', 'Bearer s3cret']);
    assert.equal((await sendCalls()).length, 1);
    assert.equal((await control('GET', 'calls?path=/cgi-bin/stable_token')).calls.length, 0, 'no AppSecret in use');
  } finally {
    server.close();
  }
});
