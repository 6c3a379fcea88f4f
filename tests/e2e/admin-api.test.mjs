// End-to-end: the admin API follows HTTP's conventions — Idempotency-Key, strict sendAt,
// case-insensitive Bearer, 405 with Allow, generic 500s, and paged lists that cost a fixed
// number of D1 queries however many jobs there are.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openids, ADMIN_TOKEN } from './harness.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const text = (content) => ({ msgtype: 'text', text: { content } });
const tagJob = (content, extra = {}) => ({ message: text(content), audience: { tagId: 2 }, ...extra });

test('Idempotency-Key: the same body answers 200 with the first job, another body 422, and concurrent creates make one job', async () => {
  const body = { message: text('idem'), audience: { openids: openids(3, 'idem') } };
  const first = await stack.api('POST', '/api/jobs', body, { 'idempotency-key': 'idem-1' });
  assert.equal(first.status, 201, first.text);
  // The same request with its keys in another order is the same request.
  const same = await stack.api('POST', '/api/jobs', JSON.stringify({ audience: body.audience, message: body.message }), { 'idempotency-key': 'idem-1' });
  assert.equal(same.status, 200, same.text);
  assert.equal(same.json.id, first.json.id);
  const other = await stack.api('POST', '/api/jobs', { ...body, message: text('idem, changed') }, { 'idempotency-key': 'idem-1' });
  assert.equal(other.status, 422, other.text);
  assert.equal(other.json.error.code, 'idempotency_key_reused');
  assert.match(other.json.error.message, new RegExp(first.json.id));
  const invalid = await stack.api('POST', '/api/jobs', { message: text(' ') }, { 'idempotency-key': 'idem-1' });
  assert.equal(invalid.status, 422, invalid.text);

  const racers = await Promise.all(Array.from({ length: 6 }, () => stack.api('POST', '/api/jobs', tagJob('race for one key'), { 'idempotency-key': 'idem-race' })));
  const ids = new Set(racers.map((r) => r.json?.id));
  assert.equal(ids.size, 1, racers.map((r) => `${r.status} ${r.text.slice(0, 200)}`).join('\n'));
  assert.deepEqual(racers.map((r) => r.status).sort(), [200, 200, 200, 200, 200, 201]);
  const bad = await stack.api('POST', '/api/jobs', tagJob('x'), { 'idempotency-key': 'has space' });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error.path, 'Idempotency-Key');
});

test('sendAt: RFC 3339 with an offset or Unix milliseconds; anything else is 400 at path sendAt', async () => {
  const china = await stack.api('POST', '/api/jobs', tagJob('at 8 China time', { sendAt: '2030-03-07T08:00:00+08:00' }));
  assert.equal(china.status, 201, china.text);
  assert.equal(china.json.sendAt, Date.UTC(2030, 2, 7, 0, 0, 0));
  const ms = await stack.api('POST', '/api/jobs', tagJob('at ms', { sendAt: 1899072000000 }));
  assert.equal(ms.status, 201, ms.text);
  assert.equal(ms.json.sendAt, 1899072000000);
  for (const sendAt of ['1', 'March 7', '2030-02-30T08:00:00+08:00', '2030-03-07T08:00:00', 1899072000, -5, 1.5, true]) {
    const r = await stack.api('POST', '/api/jobs', tagJob('bad time', { sendAt }));
    assert.equal(r.status, 400, `${JSON.stringify(sendAt)}: ${r.text}`);
    assert.equal(r.json.error.path, 'sendAt', r.text);
    assert.ok(['time', 'type'].includes(r.json.error.problems[0].rule), r.text);
  }
  const noOffset = await stack.api('POST', '/api/jobs', tagJob('bad time', { sendAt: '2030-03-07T08:00:00' }));
  assert.match(noOffset.json.error.problems[0].message, /\+08:00/);
});

test('the Authorization scheme is case-insensitive; a known path with another method answers 405 with Allow', async () => {
  for (const scheme of ['bearer', 'BEARER', 'Bearer']) {
    const r = await stack.api('GET', '/api/jobs', undefined, { authorization: `${scheme} ${ADMIN_TOKEN}` });
    assert.equal(r.status, 200, `${scheme}: ${r.text}`);
  }
  const wrong = await stack.api('GET', '/api/jobs', undefined, { authorization: `Basic ${ADMIN_TOKEN}` });
  assert.equal(wrong.status, 401);
  const del = await stack.api('DELETE', '/api/jobs');
  assert.equal(del.status, 405, del.text);
  assert.equal(del.headers.get('allow'), 'GET, POST');
  assert.equal(del.json.error.code, 'method_not_allowed');
  const put = await stack.api('PUT', '/api/jobs/j0/cancel');
  assert.equal(put.status, 405);
  assert.equal(put.headers.get('allow'), 'POST');
  const cb = await fetch(`${stack.workerUrl}/wechat/callback`, { method: 'PUT' });
  assert.equal(cb.status, 405);
  assert.equal((await stack.api('GET', '/api/nothing-here')).status, 404);
});

test('a 500 carries a generic message and an error id; the details go to the log only', async () => {
  stack.d1("CREATE TRIGGER test_jobs_down BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'test: SECRET-DETAIL-42'); END;");
  let r;
  try {
    r = await stack.api('POST', '/api/jobs', tagJob('will fail'));
  } finally {
    stack.d1('DROP TRIGGER test_jobs_down;');
  }
  assert.equal(r.status, 500, r.text);
  assert.equal(r.json.error.code, 'internal');
  assert.match(r.json.error.id, /^[0-9a-f]{16}$/);
  assert.ok(!/SECRET-DETAIL|D1_|SQLITE|at .*\.js|wasm/i.test(r.text), r.text);
  for (let i = 0; i < 20 && !stack.logs().includes(r.json.error.id); i++) await new Promise((res) => setTimeout(res, 100));
  assert.match(stack.logs(), new RegExp(`error ${r.json.error.id}: .*SECRET-DETAIL-42`));
});

test('GET /api/jobs pages through 100 jobs in one D1 query a page; GET /api/jobs/{id} takes at most 3', async () => {
  const created = new Set();
  for (let i = 0; i < 100; i++) {
    const r = await stack.api('POST', '/api/jobs', tagJob(`paging ${i}`, { sendAt: Date.now() + 86400e3 }));
    assert.equal(r.status, 201, r.text);
    created.add(r.json.id);
  }
  const all = await stack.api('GET', '/api/jobs?limit=100');
  assert.equal(all.status, 200);
  assert.equal(all.json.jobs.length, 100);
  assert.ok(all.counters.d1Queries <= 3, JSON.stringify(all.counters));
  assert.ok(all.json.jobs.every((j) => j.state && j.batches === 1));

  const seen = [];
  let cursor = null;
  for (let page = 0; page < 10; page++) {
    const r = await stack.api('GET', `/api/jobs?limit=30${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    assert.ok(r.counters.d1Queries <= 3, JSON.stringify(r.counters));
    seen.push(...r.json.jobs.map((j) => j.id));
    cursor = r.json.nextCursor;
    if (!cursor) break;
  }
  assert.equal(new Set(seen).size, seen.length, 'no job twice');
  for (const id of created) assert.ok(seen.includes(id), `job ${id} missing from the pages`);

  const one = await stack.api('GET', `/api/jobs/${[...created][0]}`);
  assert.equal(one.status, 200);
  // The job, its batches, its pushes, the media its message names: one round trip.
  assert.ok(one.counters.d1Queries <= 4, JSON.stringify(one.counters));
  assert.equal((await stack.api('GET', '/api/jobs?limit=0')).status, 400);
  assert.equal((await stack.api('GET', '/api/jobs?cursor=nonsense')).json.error.path, 'cursor');
});

// speed/set: a mass call that changes something, so neither cached nor held to the reads' share
// (GET /api/speed is a read: tests/e2e/tenancy.test.mjs, finding 3).
test('admin calls share the pacer and the ledger: a call with no answer counts, and the 61st mass call in a minute answers 429 without reaching WeChat', async () => {
  const since = (await stack.simCtl('GET', 'stats')).calls;
  await stack.simCtl('POST', 'faults', { kind: 'drop', path: 'cgi-bin/message/mass/speed/set' });
  const lost = await stack.api('POST', '/api/speed', { speed: 1 });
  assert.equal(lost.status, 502, lost.text);
  let answered = 0;
  let refused = null;
  for (let i = 0; i < 60 && !refused; i++) {
    const r = await stack.api('POST', '/api/speed', { speed: 1 });
    if (r.status === 200) answered += 1; else refused = r;
  }
  // 1 unanswered + 59 answered fill the rolling minute.
  assert.equal(answered, 59);
  assert.equal(refused?.status, 429, refused?.text);
  assert.equal(refused.json.error.code, 'rate_limited');
  assert.ok(Number(refused.headers.get('retry-after')) >= 1);
  const calls = (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/speed/set&since=${since}`)).calls;
  assert.equal(calls.length, 60);
  const rows = stack.d1("SELECT count(*) AS n, sum(answered = 0) AS unanswered FROM calls WHERE endpoint = 'speed/set'")[0].results[0];
  assert.deepEqual(rows, { n: 60, unanswered: 1 });
  // A minute later there is room again.
  await stack.advance(61_000);
  assert.equal((await stack.api('POST', '/api/speed', { speed: 1 })).status, 200);
});
