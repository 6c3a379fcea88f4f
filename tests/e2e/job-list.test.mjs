// End-to-end (issue 26, the worker's side): a job names the token that created it (and keeps
// naming it when another token retries the creation with the same Idempotency-Key); the jobs list
// filters by the state it shows, on the server, with the same cursor paging; and every free-form
// text a batch or a push carries has its Chinese twin beside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, startUpstream, driveJob, openids, ADMIN_TOKEN } from './harness.mjs';
import { signedPush } from './push.mjs';

let stack;
let upstream;
before(async () => {
  // The account's own server fails, so a push that is not a mass-send result is kept as
  // forward_failed, with its reason.
  upstream = await startUpstream();
  upstream.answer({ status: 500, body: 'oops' });
  stack = await startStack({ strictFollowers: false }, { vars: { FORWARD_URL: upstream.url } });
});
after(async () => { await stack?.stop(); await upstream?.close(); });

const text = (content) => ({ msgtype: 'text', text: { content } });
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const HAN = /[\u4e00-\u9fff]/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function makeToken(role, label) {
  const r = await stack.api('POST', '/api/tokens', { role, accounts: ['*'], label });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const storedCreator = (id) => stack.d1(`SELECT created_by FROM jobs WHERE id = '${id}'`)[0].results[0].created_by;

test('each job names the token that created it; a retry by another token with the same key keeps the first creator', async () => {
  const alice = await makeToken('operator', 'alice (campaigns)');
  const bob = await makeToken('admin', 'bob');
  const later = Date.now() + 86_400_000;
  const body = (n) => ({ message: text(`who ${n}`), audience: { openids: openids(2, `who-${n}`) }, sendAt: later });
  const a = await stack.api('POST', '/api/jobs', body('a'), { ...bearer(alice.token), 'idempotency-key': 'who-a' });
  assert.equal(a.status, 201, a.text);
  assert.deepEqual(a.json.createdBy, { tokenId: alice.id, label: 'alice (campaigns)', role: 'operator' });
  const b = await stack.api('POST', '/api/jobs', body('b'), bearer(bob.token));
  assert.equal(b.status, 201, b.text);
  assert.deepEqual(b.json.createdBy, { tokenId: bob.id, label: 'bob', role: 'admin' });
  const c = await stack.api('POST', '/api/jobs', body('c'));
  assert.deepEqual(c.json.createdBy, { tokenId: null, label: 'ADMIN_TOKEN', role: 'admin' });

  // Bob retries Alice's creation: the same job, still Alice's, in the answer and in D1.
  const retry = await stack.api('POST', '/api/jobs', body('a'), { ...bearer(bob.token), 'idempotency-key': 'who-a' });
  assert.equal(retry.status, 200, retry.text);
  assert.equal(retry.json.id, a.json.id);
  assert.equal(retry.json.createdBy.tokenId, alice.id);
  assert.deepEqual(JSON.parse(storedCreator(a.json.id)), { tokenId: alice.id, label: 'alice (campaigns)', role: 'operator' });

  assert.deepEqual((await stack.api('GET', `/api/jobs/${b.json.id}`)).json.createdBy, b.json.createdBy);
  const listed = (await stack.api('GET', '/api/jobs?limit=100')).json.jobs;
  const by = Object.fromEntries(listed.map((j) => [j.id, j.createdBy]));
  assert.equal(by[a.json.id].tokenId, alice.id);
  assert.equal(by[b.json.id].tokenId, bob.id);
  assert.equal(by[c.json.id].label, 'ADMIN_TOKEN');
});

test('a job made before creators were recorded shows createdBy null', async () => {
  const made = await stack.api('POST', '/api/jobs', { message: text('old'), audience: { openids: openids(2, 'old') }, sendAt: Date.now() + 86_400_000 });
  // As migration 0009 leaves a row it found: no creator.
  stack.d1(`UPDATE jobs SET created_by = NULL WHERE id = '${made.json.id}'`);
  assert.equal((await stack.api('GET', `/api/jobs/${made.json.id}`)).json.createdBy, null);
  const item = (await stack.api('GET', '/api/jobs?limit=100')).json.jobs.find((j) => j.id === made.json.id);
  assert.equal(item.createdBy, null);
});

/** Every job of `query`, page after page; each answer's D1 queries too. */
async function allPages(query) {
  const jobs = [];
  const queries = [];
  let cursor = null;
  for (let i = 0; i < 100; i++) {
    const r = await stack.api('GET', `/api/jobs?${query}${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(r.status, 200, r.text);
    jobs.push(...r.json.jobs);
    queries.push(r.counters.d1Queries);
    cursor = r.json.nextCursor;
    if (!cursor) return { jobs, queries };
  }
  throw new Error('the pages did not end');
}

test('?state= lists exactly the jobs in those states, page after page, in a bounded number of D1 queries', async () => {
  const later = Date.now() + 86_400_000;
  const create = async (name, extra = {}) => {
    const r = await stack.api('POST', '/api/jobs', { message: text(`state ${name}`), audience: { openids: openids(2, `state-${name}`) }, ...extra });
    assert.equal(r.status, 201, r.text);
    return r.json.id;
  };
  const finished = [await create('finished 1'), await create('finished 2')];
  for (const id of finished) assert.equal((await driveJob(stack, id)).state, 'finished');
  await stack.simCtl('POST', 'faults', { kind: 'job_status', status: 'send fail' });
  const failed = await create('failed');
  assert.equal((await driveJob(stack, failed)).state, 'failed');
  const cancelled = await create('cancelled', { sendAt: later });
  assert.equal((await stack.api('POST', `/api/jobs/${cancelled}/cancel`)).status, 200);
  const planned = await create('planned', { sendAt: later });

  const everything = (await allPages('limit=100')).jobs;
  const stateOf = Object.fromEntries(everything.map((j) => [j.id, j.state]));
  assert.equal(stateOf[cancelled], 'cancelled');
  assert.equal(stateOf[planned], 'planned');
  const shown = new Set(everything.map((j) => j.state));
  assert.ok(shown.size >= 4, [...shown].join());

  for (const states of [['finished', 'failed'], ['cancelled'], ['planned', 'cancelled', 'partly_failed']]) {
    const want = everything.filter((j) => states.includes(j.state)).map((j) => j.id);
    const { jobs, queries } = await allPages(`limit=1&state=${states.join(',')}`);
    assert.deepEqual(jobs.map((j) => j.id), want, `state=${states}`);
    assert.ok(jobs.every((j) => states.includes(j.state)));
    // The unfiltered page reads in one query; a filtered one in at most five more.
    const unfiltered = (await stack.api('GET', '/api/jobs?limit=1')).counters.d1Queries;
    assert.ok(Math.max(...queries) <= unfiltered + 4, `${queries} vs ${unfiltered}`);
  }
  assert.deepEqual((await allPages('state=failed')).jobs.map((j) => j.id), [failed]);
  assert.deepEqual((await allPages('state=sending')).jobs, []);
});

test('an unknown state is 400 at state, naming the value and the states there are', async () => {
  const r = await stack.api('GET', '/api/jobs?state=finished,pending');
  assert.equal(r.status, 400, r.text);
  assert.equal(r.json.error.path, 'state');
  assert.equal(r.json.error.value, 'pending');
  assert.match(r.json.error.message, /"pending"/);
  assert.match(r.json.error.message, /planned, sending, submitted, finished, partly_failed, failed, cancelled/);
});

test('a batch WeChat refused carries its reasons in Chinese too, made where the English is', async () => {
  // 40007: WeChat's own message for it is 不合法的媒体文件 id.
  await stack.simCtl('POST', 'faults', { kind: 'errcode', errcode: 40007, path: 'cgi-bin/message/mass/send' });
  const r = await stack.api('POST', '/api/jobs', { message: text('zh twin'), audience: { openids: openids(2, 'zh-twin') } });
  const job = await driveJob(stack, r.json.id);
  assert.equal(job.state, 'failed', JSON.stringify(job.batches));
  const b = job.batches[0];
  assert.equal(b.state, 'failed');
  for (const field of ['failReason', 'lastOutcome']) {
    assert.match(b[field], /40007/, field);
    assert.match(b[`${field}Zh`], HAN, `${field}Zh: ${b[`${field}Zh`]}`);
    assert.notEqual(b[`${field}Zh`], b[field]);
  }
  assert.match(b.failReasonZh, /不合法的媒体文件 id/);
  assert.ok(!/Invalid media_id/.test(b.failReasonZh), b.failReasonZh);
  // Stored beside the English, not made up when read.
  const row = stack.d1(`SELECT fail_reason_zh, last_outcome_zh FROM batches WHERE job_id = '${r.json.id}'`)[0].results[0];
  assert.equal(row.fail_reason_zh, b.failReasonZh);
  assert.equal(row.last_outcome_zh, b.lastOutcomeZh);
});

test('a push kept as forward_failed (and unreadable) carries its reason in Chinese too', async () => {
  const v = stack.vars;
  const xml = '<xml><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>not-a-number-26</MsgID></xml>';
  const p = signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml, mode: 'safe', nowSec: stack.nowSec() });
  assert.equal((await stack.callback(p)).status, 200);
  let kept = [];
  for (let i = 0; i < 20 && kept.length === 0; i++) {
    kept = (await stack.api('GET', '/api/events?state=forward_failed&limit=100')).json.events.filter((e) => e.xml?.includes('not-a-number-26'));
    if (kept.length === 0) await sleep(100);
  }
  assert.equal(kept.length, 1);
  const e = kept[0];
  assert.match(e.reason, /forward failed/);
  assert.match(e.reason, /unreadable/);
  assert.match(e.reasonZh, HAN, e.reasonZh);
  assert.notEqual(e.reasonZh, e.reason);
  assert.match(e.reasonZh, /转发/);
  // Core's parse error, in Chinese too (the element named as WeChat writes it).
  assert.match(e.reasonZh, /无法读取：缺少元素 ToUserName/);
  assert.match(e.reason, /also unreadable: missing element ToUserName/);
});
