// One output model: the worker's admin API answers in the shapes the npm package returns, and the
// package's .d.ts describes both. The answers of a real run are written as TypeScript
// (`<JSON> satisfies wx.AdminJob`, …) and compiled with tsc against npm/js/index.d.ts, and the
// plan parts of a job are compared with what `planSend` gives for the same input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, driveJob, openids, ROOT } from './harness.mjs';
import * as wx from '../../npm/dist/index.js';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const message = { msgtype: 'text', text: { content: 'one model' } };

test('a job, its batches, events and errors answer in the npm package\'s model, and tsc accepts them against the .d.ts', async () => {
  const audience = openids(10_003, 'model');
  const created = await stack.api('POST', '/api/jobs', { message, audience: { openids: audience } });
  assert.equal(created.status, 201, created.text);
  const job = await driveJob(stack, created.json.id);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches));

  // The same plan in the package: the same batches (clientMsgIds included) and summary shape.
  const plan = wx.planSend({ jobId: job.id, message: { msgType: 'text', text: { content: 'one model' } }, audience: { openIds: audience } });
  const planBatches = plan.batches();
  assert.deepEqual(job.batches.map(({ index, clientMsgId, endpoint, recipients, isToAll }) => ({ index, clientMsgId, endpoint, recipients, isToAll })), planBatches);
  const summary = plan.summary({ now: job.createdAt });
  assert.deepEqual(Object.keys(job.summary).sort(), Object.keys(summary).sort());
  assert.equal(job.summary.msgType, 'text');
  assert.equal(job.summary.recipients, summary.recipients);
  plan.free();

  // 64-bit ids are strings at every depth; no snake_case key anywhere.
  const keys = [];
  const walk = (v, path) => {
    if (Array.isArray(v)) v.forEach((x, i) => walk(x, `${path}[${i}]`));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { keys.push(`${path}.${k}`); walk(x, `${path}.${k}`); }
  };
  // `message` and `audience` are the caller's own input, kept as given.
  walk({ ...job, message: null, audience: null }, 'job');
  assert.deepEqual(keys.filter((k) => /_/.test(k.split('.').at(-1))), []);
  for (const b of job.batches) assert.equal(typeof b.msgId, 'string');
  assert.equal(typeof job.events[0].payload.msgId, 'string');
  assert.equal(job.events[0].payload.status.kind, 'success');
  assert.equal(job.results.sentCount, 10_003);

  const list = await stack.api('GET', '/api/jobs?limit=5');
  // The quota the sends used, by core's rules; the ledger is what planSend's summary reads.
  const status = await stack.api('GET', '/api/status');
  const daily = status.json.quota.find((q) => q.rule === 'service_sends_per_day');
  assert.deepEqual([daily.window, daily.used, daily.left, daily.used + daily.left], ['day', 2, daily.limit - 2, daily.limit]);
  assert.deepEqual(status.json.ledger.map((r) => [r.kind, r.toAll, r.succeeded]), [['send', false, true], ['send', false, true]]);
  const events = await stack.api('GET', '/api/events?limit=5');
  const invalid = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: ' ' } }, audience: { openids: openids(3) } });
  assert.equal(invalid.status, 400);
  assert.equal(invalid.json.error.code, 'validation');
  // The package throws the same error for the same message.
  let thrown;
  try {
    wx.planSend({ jobId: 'x', message: { msgtype: 'text', text: { content: ' ' } }, audience: { openIds: openids(3) } });
  } catch (e) {
    thrown = e;
  }
  // (The worker reads the message under `message`, so its paths start there.)
  const shape = (e, prefix) => ({ code: e.code, rule: e.rule, problems: e.problems.map((p) => [prefix + p.path, p.rule, p.value]) });
  assert.deepEqual(shape(thrown, 'message.'), shape(invalid.json.error, ''));
  await stack.simCtl('POST', 'faults', { kind: 'errcode', errcode: 40035, path: 'cgi-bin/message/mass/delete' });
  const rejected = await stack.api('POST', '/api/messages/delete', { msgId: '1000000001' });
  assert.equal(rejected.status, 422);
  assert.equal(rejected.json.error.code, 'wechat_rejected');
  assert.equal(rejected.json.error.errcode, 40035);

  const answers = [
    ['job', 'wx.AdminJob', job],
    ['created', 'wx.AdminJob', created.json],
    ['list', 'wx.AdminJobList', list.json],
    ['status', 'wx.AdminStatus', status.json],
    ['events', 'wx.AdminEventList', events.json],
    ['invalid', 'wx.AdminErrorBody', invalid.json],
    ['rejected', 'wx.AdminErrorBody', rejected.json],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'wxmass-model-'));
  try {
    const lines = [`import type * as wx from ${JSON.stringify(join(ROOT, 'npm/js/index.js'))};`];
    for (const [name, type, value] of answers) lines.push(`export const ${name} = ${JSON.stringify(value)} satisfies ${type};`);
    writeFileSync(join(dir, 'answers.ts'), `${lines.join('\n')}\n`);
    const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
    try {
      execFileSync(tsc, ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'false', join(dir, 'answers.ts')], { encoding: 'utf8' });
    } catch (e) {
      assert.fail(`tsc refused the admin API's answers:\n${e.stdout}${e.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
