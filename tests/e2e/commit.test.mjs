// End-to-end: read, decide in core, commit once. What each invocation spends (D1 queries and
// subrequests, counted by the worker under TEST_COUNTERS=1), and what happens when a D1 commit
// fails in the middle of a push or of a batch attempt (a trigger in the local D1 makes it fail).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, driveJob, openids, freePort } from './harness.mjs';
import { jobFinishXml, signedPush } from './push.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const text = (content) => ({ msgtype: 'text', text: { content } });
const FREE = { d1Queries: 50, subrequests: 50 };

async function noDuplicates() {
  const stats = await stack.simCtl('GET', 'stats');
  assert.equal(stats.duplicateDeliveries, 0, `duplicate deliveries: ${JSON.stringify(stats.duplicates)}`);
}

/** A job of one batch that WeChat accepted, whose result event went nowhere: `submitted`. */
async function submittedJob(name) {
  const { callbackUrl } = stack.sim.state.cfg;
  await stack.simCtl('POST', 'config', { callbackUrl: `http://127.0.0.1:${await freePort()}/wechat/callback` });
  try {
    const created = await stack.api('POST', '/api/jobs', { message: text(name), audience: { openids: openids(4, name) } });
    assert.equal(created.status, 201, created.text);
    await stack.cron();
    const job = (await stack.api('GET', `/api/jobs/${created.json.id}`)).json;
    assert.equal(job.batches[0].state, 'submitted', JSON.stringify(job.batches));
    return job;
  } finally {
    await stack.simCtl('POST', 'config', { callbackUrl });
  }
}

function resultPush(msgId, extra = {}) {
  const v = stack.vars;
  return signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml: jobFinishXml({ msgId, total: 4, ...extra }), mode: 'safe', nowSec: stack.nowSec() });
}

test('a cron run with 25 due batches stays within the Free plan (50 D1 queries, 50 subrequests); later runs send the rest, each clientmsgid once', async () => {
  await stack.api('GET', '/api/speed'); // the token is cached, so the runs below need no refresh
  const jobs = [];
  for (let i = 0; i < 25; i++) {
    const created = await stack.api('POST', '/api/jobs', { message: text(`budget ${i}`), audience: { openids: openids(2, `budget-${i}`) } });
    assert.equal(created.status, 201, created.text);
    jobs.push(created.json);
  }
  const since = (await stack.simCtl('GET', 'stats')).calls;
  await stack.cron();
  const first = await stack.lastCron();
  assert.equal(first.error, null, JSON.stringify(first));
  assert.ok(first.d1Queries <= FREE.d1Queries && first.subrequests <= FREE.subrequests, JSON.stringify(first));
  // The accounts with due work (1), the account's read (6 statements), then per attempt a claim
  // and a commit of two, and one call; the retention purge (3: old pushes, plain-mode queries,
  // cached reads) when the budget has room for it.
  assert.equal(first.accounts, 1);
  assert.equal(first.d1Queries, 1 + 6 + 3 * first.attempts + (first.purged === null ? 0 : 3), JSON.stringify(first));
  assert.equal(first.subrequests, first.attempts, JSON.stringify(first));
  assert.ok(first.attempts >= 10 && first.attempts < 25, JSON.stringify(first));
  assert.match(first.stopped, /budget/);

  let runs = 1;
  for (; runs < 10; runs++) {
    await stack.simCtl('POST', 'callbacks/flush');
    const states = await Promise.all(jobs.map(async (j) => (await stack.api('GET', `/api/jobs/${j.id}`)).json.state));
    if (states.every((s) => s === 'finished')) break;
    await stack.advance(61_000);
    await stack.cron();
    const report = await stack.lastCron();
    assert.equal(report.error, null, JSON.stringify(report));
    assert.ok(report.d1Queries <= FREE.d1Queries && report.subrequests <= FREE.subrequests, JSON.stringify(report));
  }
  assert.ok(runs <= 4, `took ${runs} runs`);
  const sends = (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/send&since=${since}`)).calls;
  for (const j of jobs) {
    assert.equal(sends.filter((c) => c.body.includes(j.batches[0].clientMsgId)).length, 1, j.batches[0].clientMsgId);
  }
  await noDuplicates();
});

test('a push is stored and applied to its batch before it is answered, in at most 3 D1 queries; its retry changes nothing', async () => {
  const job = await submittedJob('push budget');
  const msgId = job.batches[0].msgId;
  const p = resultPush(msgId);
  const r = await stack.callback(p);
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'success');
  assert.ok(r.counters.d1Queries <= 3, JSON.stringify(r.counters));
  assert.equal(r.counters.subrequests, 0);
  // No cron run in between: the answer came after the commit.
  const done = (await stack.api('GET', `/api/jobs/${job.id}`)).json;
  assert.equal(done.state, 'finished', JSON.stringify(done.batches));
  assert.equal(done.batches[0].result.sentCount, 4);
  const again = await stack.callback(p);
  assert.equal(again.status, 200);
  assert.ok(again.counters.d1Queries <= 3, JSON.stringify(again.counters));
  const events = (await stack.api('GET', '/api/events?state=applied')).json.events.filter((e) => e.msgId === msgId);
  assert.equal(events.length, 1);
  assert.equal(events[0].batchId, job.batches[0].jobId + '-0');
});

test('D1 fails while a push is stored: 503 and nothing half-applied; WeChat\'s retry after the restore is stored once and applied', async () => {
  const job = await submittedJob('push d1 down');
  const msgId = job.batches[0].msgId;
  const p = resultPush(msgId, { sent: 3, errors: 1 });
  stack.d1("CREATE TRIGGER test_events_down BEFORE INSERT ON events BEGIN SELECT RAISE(ABORT, 'test: events table unavailable'); END;");
  try {
    const r = await stack.callback(p);
    assert.equal(r.status, 503, r.text);
    assert.notEqual(r.text, 'success');
    // The batch update was in the same commit: rolled back with the event.
    const mid = (await stack.api('GET', `/api/jobs/${job.id}`)).json;
    assert.equal(mid.batches[0].state, 'submitted', JSON.stringify(mid.batches));
    assert.equal(mid.batches[0].result, null);
  } finally {
    stack.d1('DROP TRIGGER test_events_down;');
  }
  const retry = await stack.callback(p);
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.text, 'success');
  const done = (await stack.api('GET', `/api/jobs/${job.id}`)).json;
  assert.equal(done.batches[0].state, 'finished');
  assert.equal(done.batches[0].result.sentCount, 3);
  assert.equal(done.batches[0].result.errorCount, 1);
  const events = (await stack.api('GET', '/api/events')).json.events.filter((e) => e.msgId === msgId);
  assert.equal(events.length, 1);
  assert.equal(events[0].state, 'applied');
});

test('a commit fails in the middle of a batch attempt: the batch keeps its claim, and a later run completes it with the same clientmsgid and one delivery', async () => {
  const created = await stack.api('POST', '/api/jobs', { message: text('settle fails'), audience: { openids: openids(3, 'settle-fails') } });
  assert.equal(created.status, 201, created.text);
  const clientmsgid = created.json.batches[0].clientMsgId;
  const since = (await stack.simCtl('GET', 'stats')).calls;
  stack.d1("CREATE TRIGGER test_settle_fails BEFORE UPDATE ON batches WHEN NEW.state = 'submitted' BEGIN SELECT RAISE(ABORT, 'test: settle commit fails'); END;");
  try {
    await stack.cron();
    const report = await stack.lastCron();
    assert.match(report.error ?? '', /settle commit fails|internal/, JSON.stringify(report));
    const mid = (await stack.api('GET', `/api/jobs/${created.json.id}`)).json.batches[0];
    // WeChat accepted it, but nothing of the outcome was written: no msg_id, no ledger row.
    assert.equal(mid.state, 'sending', JSON.stringify(mid));
    assert.equal(mid.msgId, null);
    assert.equal(mid.attempts, 1);
  } finally {
    stack.d1('DROP TRIGGER test_settle_fails;');
  }
  const job = await driveJob(stack, created.json.id);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches));
  const sends = (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/send&since=${since}`)).calls
    .filter((c) => c.body.includes(clientmsgid));
  // The same bytes twice: accepted, then WeChat's dedupe (45065) gave the existing msg_id.
  assert.deepEqual(sends.map((c) => c.errcode), [0, 45065], JSON.stringify(sends));
  assert.equal(sends[0].body, sends[1].body);
  const simJobs = (await stack.simCtl('GET', 'jobs')).jobs.filter((j) => j.clientmsgid === clientmsgid);
  assert.equal(simJobs.length, 1);
  assert.equal(job.batches[0].msgId, String(simJobs[0].msgId));
  await noDuplicates();
});

test('a verified push core cannot parse is stored raw as unreadable, answered success, and listed by GET /api/events?state=unreadable', async () => {
  const v = stack.vars;
  const xml = '<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>not-a-number-7</MsgID></xml>';
  const p = signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml, mode: 'safe', nowSec: stack.nowSec() });
  for (let i = 0; i < 2; i++) {
    const r = await stack.callback(p);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'success');
  }
  const list = (await stack.api('GET', '/api/events?state=unreadable')).json;
  const mine = list.events.filter((e) => e.xml?.includes('not-a-number-7'));
  assert.equal(mine.length, 1, JSON.stringify(list));
  assert.equal(mine[0].state, 'unreadable');
  assert.match(mine[0].reason, /\S/); // core's parse error, for a person
  const bad = await stack.api('GET', '/api/events?state=nonsense');
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.path, 'state');
});
