// End-to-end: an audience built from WeChat — the 25,001 followers of a tag, or every follower —
// collected by the cron across runs within the Free plan's budget, sealed, and sent to once;
// an unknown tag ends failed; a run stopped between WeChat's answer and its commit counts no
// page twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, openids, driveJob } from './harness.mjs';

const TAG = 134;
const MEMBERS = openids(25_001, 'tagged');
const OUTSIDE = openids(7, 'untagged');
const FREE = 50;
const text = (content) => ({ msgtype: 'text', text: { content } });

let stack;
before(async () => {
  // 1,000 OpenIDs a page: 26 pages for the tag, more than one run's budget holds.
  stack = await startStack({ followersPerPage: 1000 });
  await stack.simCtl('POST', 'followers', { followers: [...MEMBERS, ...OUTSIDE], tags: { [TAG]: MEMBERS } });
});
after(async () => { await stack?.stop(); });

const audienceCount = () => stack.d1('SELECT count(*) AS n FROM audiences')[0].results[0].n;
const get = async (id) => (await stack.api('GET', `/api/audiences/${id}`)).json;

/** Runs the cron until the audience leaves `collecting`; each run's report and the audience after it. */
async function collect(id, maxRuns = 10) {
  const runs = [];
  for (let i = 0; i < maxRuns; i++) {
    await stack.cron();
    const report = await stack.lastCron();
    assert.ok(report.d1Queries <= FREE && report.subrequests <= FREE, JSON.stringify(report));
    const audience = await get(id);
    runs.push({ report, audience });
    if (audience.state !== 'collecting') break;
    await stack.advance(61_000);
  }
  return runs;
}

test('bad bodies are refused at their field and store nothing', async () => {
  const before = audienceCount();
  for (const [body, path] of [
    [{ source: { tagId: -1 } }, 'source.tagId'],
    [{ source: { tagId: 1.5 } }, 'source.tagId'],
    [{ source: {} }, 'source.tagId'],
    [{ source: 'everyone' }, 'source'],
    [{ name: 'x'.repeat(201) }, 'name'],
    [{ name: 7 }, 'name'],
    [{ sauce: 'followers' }, 'sauce'],
  ]) {
    const r = await stack.api('POST', '/api/audiences', body);
    assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
    const where = r.json.error.path ?? r.json.error.problems?.[0]?.path;
    assert.equal(where, path, r.text);
  }
  assert.equal(audienceCount(), before);
});

test('a tag of 25,001 followers is collected across runs (progress visible between them), sealed, and sent to once', async () => {
  const created = await stack.api('POST', '/api/audiences', { name: '星标用户', source: { tagId: TAG } });
  assert.equal(created.status, 201, created.text);
  assert.deepEqual([created.json.state, created.json.name, created.json.source, created.json.collected], ['collecting', '星标用户', { tagId: TAG }, 0]);
  const id = created.json.id;

  // A job before the audience is sealed: 409, saying it is still collecting and how far.
  const early = await stack.api('POST', '/api/jobs', { message: text('too early'), audience: { audienceId: id } });
  assert.equal(early.status, 409, early.text);
  assert.match(early.json.error.message, /still collecting.*0 OpenIDs.*0 pages/);

  const runs = await collect(id);
  const collecting = runs.filter((r) => r.audience.state === 'collecting');
  assert.ok(collecting.length >= 1, 'at least one run ended with the audience still collecting');
  assert.ok(runs.length >= 2, `collection spanned ${runs.length} runs`);
  // The first run stopped for its budget, with pages stored and the cursor moved on.
  assert.match(runs[0].report.stopped ?? '', /budget/, JSON.stringify(runs[0].report));
  assert.ok(runs[0].report.audiencePages > 0 && runs[0].report.audiencePages < 26, JSON.stringify(runs[0].report));
  assert.equal(runs[0].audience.collected, runs[0].report.audiencePages * 1000);
  assert.equal(runs[0].audience.pages, runs[0].report.audiencePages);
  // Progress rises from run to run; the last run seals.
  const counts = runs.map((r) => r.audience.collected);
  assert.deepEqual(counts, [...counts].sort((a, b) => a - b));
  const last = runs.at(-1);
  assert.equal(last.audience.state, 'sealed', JSON.stringify(last.audience));
  assert.equal(last.report.audiencesSealed, 1);
  assert.deepEqual([last.audience.collected, last.audience.pages, last.audience.valid, last.audience.duplicates, last.audience.batches], [25_001, 26, 25_001, 0, 3]);
  assert.equal(runs.reduce((n, r) => n + r.report.audiencePages, 0), 26, 'every page stored once');
  // What WeChat was asked: 26 pages of user/tag/get, each cursor once.
  const pageCalls = (await stack.simCtl('GET', 'calls?path=/cgi-bin/user/tag/get')).calls;
  assert.equal(pageCalls.length, 26);
  assert.equal(new Set(pageCalls.map((c) => JSON.stringify(c.body))).size, 26);

  await stack.simCtl('DELETE', 'calls');
  const job = await stack.api('POST', '/api/jobs', { message: text('to the tag, as a list'), audience: { audienceId: id } });
  assert.equal(job.status, 201, job.text);
  assert.equal(job.json.batches.length, 3);
  const shown = (await stack.api('GET', `/api/jobs/${job.json.id}`)).json;
  assert.deepEqual([shown.audience.name, shown.audience.source, shown.audience.openids], ['星标用户', { tagId: TAG }, 25_001]);
  const done = await driveJob(stack, job.json.id);
  assert.equal(done.state, 'finished', JSON.stringify(done.counts));
  const stats = await stack.simCtl('GET', 'stats');
  assert.equal(stats.duplicateDeliveries, 0);
  const sends = (await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/send')).calls.filter((c) => c.errcode === 0);
  assert.equal(sends.length, 3);
  // The call log keeps a body's first 64 KB: who got what is the simulator's delivery record.
  const delivered = (await stack.simCtl('GET', 'deliveries')).deliveries ?? {};
  const reached = Object.entries(delivered).filter(([, d]) => d.length > 0);
  assert.ok(reached.every(([, d]) => d.length === 1), 'no OpenID delivered twice');
  assert.deepEqual(new Set(reached.map(([o]) => o)), new Set(MEMBERS), 'exactly the tag\'s members');
});

test('a run stopped between WeChat\'s answer and its commit stores that page once, in a later run', async () => {
  await stack.simCtl('DELETE', 'calls');
  const created = await stack.api('POST', '/api/audiences', { source: { tagId: TAG } });
  const id = created.json.id;
  // Page 2's commit fails once: the run ends after WeChat answered it.
  stack.d1("CREATE TRIGGER test_page_two_down BEFORE INSERT ON audience_raw WHEN NEW.part = 2 BEGIN SELECT RAISE(ABORT, 'test: page commit fails'); END;");
  try {
    await stack.cron();
    const report = await stack.lastCron();
    assert.match(report.error ?? '', /internal|D1|commit|page/i, JSON.stringify(report));
    const after = await get(id);
    assert.deepEqual([after.state, after.pages, after.collected], ['collecting', 1, 1000], JSON.stringify(after));
  } finally {
    stack.d1('DROP TRIGGER test_page_two_down;');
  }
  await stack.advance(61_000);
  const runs = await collect(id);
  const sealed = runs.at(-1).audience;
  assert.deepEqual([sealed.state, sealed.collected, sealed.pages, sealed.valid, sealed.duplicates], ['sealed', 25_001, 26, 25_001, 0], JSON.stringify(sealed));
  // WeChat was asked page 2 twice; it was stored once.
  const calls = (await stack.simCtl('GET', 'calls?path=/cgi-bin/user/tag/get')).calls;
  assert.equal(calls.length, 27);
  assert.equal(new Set(calls.map((c) => JSON.stringify(c.body))).size, 26);
});

test('an unknown tag ends the audience failed, with WeChat\'s Chinese message, and no job can use it', async () => {
  const created = await stack.api('POST', '/api/audiences', { name: 'nobody', source: { tagId: 999 } });
  assert.equal(created.status, 201, created.text);
  const runs = await collect(created.json.id, 3);
  const failed = runs.at(-1).audience;
  assert.equal(failed.state, 'failed', JSON.stringify(failed));
  assert.match(failed.failReason, /45159/);
  assert.match(failed.failReasonZh, /非法的 tag_id/);
  const job = await stack.api('POST', '/api/jobs', { message: text('never'), audience: { audienceId: created.json.id } });
  assert.equal(job.status, 409, job.text);
  assert.match(job.json.error.message, /failed/);
  assert.equal((await stack.simCtl('GET', 'calls?path=/cgi-bin/message/mass/send')).calls.length, 0, 'nothing was sent');
});

test('"followers" collects every follower of the account, with WeChat\'s total', async () => {
  const created = await stack.api('POST', '/api/audiences', { source: 'followers' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.source, 'followers');
  const runs = await collect(created.json.id);
  const sealed = runs.at(-1).audience;
  assert.deepEqual([sealed.state, sealed.total, sealed.collected, sealed.valid, sealed.duplicates], ['sealed', 25_008, 25_008, 25_008, 0], JSON.stringify(sealed));
  // Collecting left the account's sends alone: no mass call was made for it.
  assert.ok(runs.every((r) => r.report.attempts === 0));
});
