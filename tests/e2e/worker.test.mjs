// End-to-end: the worker in workerd (wrangler dev, local D1) against the WeChat simulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, driveJob, openids, freePort } from './harness.mjs';
import { jobFinishXml, signedPush } from './push.mjs';

let stack;
before(async () => { stack = await startStack(); });
after(async () => { await stack?.stop(); });

const text = (content) => ({ msgtype: 'text', text: { content } });

/** A signed push of a MASSSENDJOBFINISH for `msgId` (a decimal string), in `mode`. */
function push(msgId, mode, extra = {}) {
  const v = stack.vars;
  return signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml: jobFinishXml({ msgId }), mode, nowSec: stack.nowSec(), ...extra });
}

/** The stored events of `msgId`, once `want` of them are there (the worker stores after answering). */
async function eventsOf(msgId, want = 1) {
  let mine = [];
  for (let i = 0; i < 20; i++) {
    const r = await stack.api('GET', '/api/events');
    mine = r.json.events.filter((e) => e.msgId === msgId);
    if (mine.length >= want) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return mine;
}

async function noDuplicates() {
  const stats = await stack.simCtl('GET', 'stats');
  assert.equal(stats.duplicateDeliveries, 0, `duplicate deliveries: ${JSON.stringify(stats.duplicates)}`);
}

test('admin routes need the bearer token (401)', async () => {
  const r = await stack.api('GET', '/api/jobs', undefined, { authorization: 'Bearer wrong' });
  assert.equal(r.status, 401);
  assert.equal(r.json.error.code, 'unauthorized');
  const r2 = await stack.api('GET', '/api/jobs', undefined, { authorization: '' });
  assert.equal(r2.status, 401);
});

test('bad input gets 400 with the field path', async () => {
  const r = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: ' ' } }, audience: { openids: openids(3) } });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.path, 'message.text.content');
  const r2 = await stack.api('POST', '/api/jobs', { message: text('x'), audience: { tagId: 'abc' } });
  assert.equal(r2.status, 400);
  assert.equal(r2.json.error.path, 'audience.tagId');
  const r3 = await stack.api('POST', '/api/messages/delete', { msgId: 0 });
  assert.equal(r3.status, 400);
  assert.ok(r3.json.error.problems.length >= 1);
});

test('URL verification echoes echostr; a bad signature gets 403', async () => {
  const v = await stack.simCtl('POST', 'callbacks/verify-url');
  assert.equal(v.ok, true, JSON.stringify(v));
  const r = await fetch(`${stack.workerUrl}/wechat/callback?signature=bad&timestamp=1&nonce=n&echostr=e`);
  assert.equal(r.status, 403);
  const p = await fetch(`${stack.workerUrl}/wechat/callback?signature=bad&timestamp=${Math.floor(Date.now() / 1000)}&nonce=n&encrypt_type=aes&msg_signature=bad`, { method: 'POST', body: '<xml><Encrypt><![CDATA[abc]]></Encrypt></xml>' });
  assert.equal(p.status, 403);
  // Nothing of the refused push was stored (whatever other tests stored before).
  const ev = await stack.api('GET', '/api/events');
  assert.equal(ev.json.events.filter((e) => e.xml?.includes('abc') || e.dedupeKey.includes('abc')).length, 0);
  assert.ok(!stack.logs().includes('storing a push failed'));
});

test('encrypted callback recorded once despite three deliveries', async () => {
  const msgId = '9007199254790001'; // above 2^53: wrong if it ever passes through a JS number
  const p = push(msgId, 'safe');
  for (let i = 0; i < 3; i++) {
    const r = await stack.callback(p); // WeChat's retries: the very same request
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'success');
  }
  const mine = await eventsOf(msgId);
  await new Promise((res) => setTimeout(res, 200)); // a late second record would show by now
  assert.equal((await eventsOf(msgId)).length, 1, JSON.stringify(mine));
  assert.equal(mine[0].kind, 'mass_send_job_finish');
  assert.equal(mine[0].payload.msgId, msgId);
});

test('compat mode push is verified and stored', async () => {
  const msgId = '9007199254790005';
  const r = await stack.callback(push(msgId, 'compat'));
  assert.equal(r.status, 200, r.text);
  assert.equal(r.text, 'success');
  assert.equal((await eventsOf(msgId)).length, 1);
});

test('a plain push to this safe-mode account is refused (403) and nothing is stored', async () => {
  const msgId = '9007199254790003';
  const r = await stack.callback(push(msgId, 'plain'));
  assert.equal(r.status, 403, r.text);
  assert.match(r.text, /plain_push_refused/);
  assert.equal((await stack.api('GET', '/api/events')).json.events.filter((e) => e.msgId === msgId).length, 0);
});

test('a push with a wrong msg_signature gets 403 and stores nothing; an over-cap body gets 413', async () => {
  const msgId = '9007199254790007';
  for (const mode of ['safe', 'compat', 'plain']) {
    const r = await stack.callback(push(msgId, mode, { badSignature: true }));
    assert.equal(r.status, 403, `${mode}: ${r.text}`);
  }
  const big = push('9007199254790009', 'plain');
  big.body = big.body.replace('</xml>', `<Pad>${'x'.repeat(130 * 1024)}</Pad></xml>`);
  const r = await stack.callback(big);
  assert.equal(r.status, 413, r.text);
  await new Promise((res) => setTimeout(res, 300));
  const ev = (await stack.api('GET', '/api/events')).json.events;
  assert.equal(ev.filter((e) => ['9007199254790007', '9007199254790009'].includes(e.msgId)).length, 0);
});

test('25,001 OpenIDs: 3 sends, 3 results from encrypted callbacks, recorded once despite retries', async () => {
  const list = openids(25_001, 'big');
  const created = await stack.api('POST', '/api/jobs', { message: text('hello 25,001'), audience: { openids: list } }, { 'idempotency-key': 'big-1' });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.state, 'planned');
  assert.equal(created.json.batches.length, 3);
  const again = await stack.api('POST', '/api/jobs', { message: text('hello 25,001'), audience: { openids: list } }, { 'idempotency-key': 'big-1' });
  assert.equal(again.status, 200);
  assert.equal(again.json.id, created.json.id);

  const job = await driveJob(stack, created.json.id);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches, null, 1));
  assert.equal(job.results.events, 3);
  assert.equal(job.results.totalCount, 25_001);
  const sends = (await stack.simCtl('GET', 'jobs')).jobs.filter((j) => !j.preview);
  assert.equal(sends.length, 3);

  // WeChat retries a push: deliver each event three more times; still one record each.
  await stack.simCtl('POST', 'callbacks/flush');
  const ids = job.batches.map((b) => b.msgId);
  const events = (await stack.api('GET', '/api/events')).json.events.filter((e) => ids.includes(e.msgId));
  assert.equal(events.length, 3);
  await noDuplicates();
});

test('two cron runs fired at once never take the same batch: 12 due batches, each clientmsgid sent exactly once', async () => {
  const jobs = [];
  for (let i = 0; i < 12; i++) {
    const created = await stack.api('POST', '/api/jobs', { message: text(`race ${i}`), audience: { openids: openids(3, `race-${i}`) } });
    assert.equal(created.status, 201, created.text);
    jobs.push(created.json);
  }
  const since = (await stack.simCtl('GET', 'stats')).calls;
  await Promise.all([stack.cron(), stack.cron(), stack.cron()]);
  for (const j of jobs) {
    const job = await driveJob(stack, j.id);
    assert.equal(job.state, 'finished', JSON.stringify(job.batches));
  }
  const sends = (await stack.simCtl('GET', `calls?path=cgi-bin/message/mass/send&since=${since}`)).calls;
  for (const j of jobs) {
    const mine = sends.filter((c) => c.body.includes(j.batches[0].clientMsgId));
    assert.equal(mine.length, 1, `${j.batches[0].clientMsgId} sent ${mine.length} times`);
  }
  await noDuplicates();
});

for (const [name, fault, expectAttempts] of [
  ['reply lost after accept', { kind: 'lose_reply', path: 'cgi-bin/message/mass/send' }, 2],
  ['HTTP 5xx', { kind: 'http_500', path: 'cgi-bin/message/mass/send' }, 2],
  ['errcode -1', { kind: 'errcode_-1', path: 'cgi-bin/message/mass/send' }, 2],
  ['45009 daily quota', { kind: 'quota_45009', path: 'cgi-bin/message/mass/send' }, 2],
]) {
  test(`fault: ${name} — the batch ends finished after ${expectAttempts} attempts, never delivered twice`, async () => {
    await stack.simCtl('POST', 'faults', fault);
    const created = await stack.api('POST', '/api/jobs', { message: text(`fault ${name}`), audience: { openids: openids(5, name) } });
    assert.equal(created.status, 201, created.text);
    const job = await driveJob(stack, created.json.id, { advanceMs: 25 * 3600 * 1000 });
    assert.equal(job.state, 'finished', JSON.stringify(job.batches, null, 1));
    assert.equal(job.batches[0].attempts, expectAttempts, JSON.stringify(job.batches[0]));
    await noDuplicates();
  });
}

test('fault: token expired mid-job — WeChat answered 42001, exactly one token refresh followed, the same request went out again', async () => {
  const since = (await stack.simCtl('GET', 'stats')).calls;
  await stack.simCtl('POST', 'faults', { kind: 'token_expired', path: 'cgi-bin/message/mass/send', invalidate: true });
  const created = await stack.api('POST', '/api/jobs', { message: text('token expired'), audience: { openids: openids(5, 'token-expired') } });
  assert.equal(created.status, 201, created.text);
  const job = await driveJob(stack, created.json.id);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches, null, 1));
  const calls = (await stack.simCtl('GET', `calls?since=${since}`)).calls;
  const sends = calls.filter((c) => c.path === '/cgi-bin/message/mass/send');
  assert.deepEqual(sends.map((c) => c.errcode), [42001, 0], JSON.stringify(sends));
  const refreshes = calls.filter((c) => c.path === '/cgi-bin/stable_token');
  assert.equal(refreshes.length, 1, JSON.stringify(refreshes));
  // The refresh came between the refused send and the retry, which used the new token.
  assert.ok(refreshes[0].seq > sends[0].seq && refreshes[0].seq < sends[1].seq);
  assert.notEqual(sends[0].query.access_token, sends[1].query.access_token);
  assert.equal(sends[0].body, sends[1].body);
  await noDuplicates();
});

test('no batch stuck: result events lost, the cron settles the batches by mass/get after 30 minutes', async () => {
  const { callbackUrl } = stack.sim.state.cfg;
  // WeChat's pushes go nowhere (a closed port), through all their retries.
  await stack.simCtl('POST', 'config', { callbackUrl: `http://127.0.0.1:${await freePort()}/wechat/callback` });
  try {
    const ok = await stack.api('POST', '/api/jobs', { message: text('lost event'), audience: { openids: openids(3, 'lost-ok') } });
    await stack.cron();
    await stack.simCtl('POST', 'faults', { kind: 'job_status', status: 'send fail' });
    const bad = await stack.api('POST', '/api/jobs', { message: text('lost event, failed'), audience: { openids: openids(3, 'lost-bad') } });
    await stack.cron();
    await stack.simCtl('POST', 'callbacks/flush');
    for (const j of [ok, bad]) {
      const job = (await stack.api('GET', `/api/jobs/${j.json.id}`)).json;
      assert.equal(job.batches[0].state, 'submitted', JSON.stringify(job.batches));
    }
    await stack.cron(); // not yet overdue: nothing asked
    assert.equal((await stack.simCtl('GET', 'calls?path=cgi-bin/message/mass/get')).calls.length, 0);

    await stack.advance(31 * 60_000);
    await stack.cron();
    const okJob = (await stack.api('GET', `/api/jobs/${ok.json.id}`)).json;
    assert.equal(okJob.state, 'finished', JSON.stringify(okJob.batches));
    assert.equal(okJob.batches[0].result.source, 'mass/get');
    assert.equal(okJob.batches[0].result.status, 'SEND_SUCCESS');
    assert.match(okJob.batches[0].lastOutcome, /counts are unknown/);
    const badJob = (await stack.api('GET', `/api/jobs/${bad.json.id}`)).json;
    assert.equal(badJob.state, 'failed', JSON.stringify(badJob.batches));
    assert.match(badJob.batches[0].failReason, /SEND_FAIL/);
    assert.equal((await stack.simCtl('GET', 'calls?path=cgi-bin/message/mass/get')).calls.length, 2);
  } finally {
    await stack.simCtl('POST', 'config', { callbackUrl });
  }
  await noDuplicates();
});

test('the worker restarted mid-job: the leased batch is re-sent with the same clientmsgid', async () => {
  // The send is slow; the worker dies while it is in flight.
  await stack.simCtl('POST', 'faults', { kind: 'delay', path: 'cgi-bin/message/mass/send', ms: 3000 });
  const created = await stack.api('POST', '/api/jobs', { message: text('restart'), audience: { openids: openids(4, 'restart') } });
  const cronRun = stack.cron().catch(() => 'killed');
  await new Promise((r) => setTimeout(r, 1000));
  await stack.restart();
  await cronRun;
  const job = await driveJob(stack, created.json.id);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches, null, 1));
  await noDuplicates();
});

test('cancel a job before it sends: the cron sends nothing of it; a second cancel after a send answers 409', async () => {
  // An hour ahead of the worker's clock (earlier tests moved it days ahead of this machine's): a
  // start more than a minute in the past is refused.
  const created = await stack.api('POST', '/api/jobs', { message: text('later'), audience: { openids: openids(3, 'cancel') }, sendAt: (stack.nowSec() + 3600) * 1000 });
  assert.equal(created.status, 201, created.text);
  const c = await stack.api('POST', `/api/jobs/${created.json.id}/cancel`);
  assert.equal(c.status, 200, c.text);
  assert.equal(c.json.cancelledBatches, 1);
  assert.equal(c.json.job.state, 'cancelled');
  // Past its sendAt, the cron runs: nothing of the job goes out.
  await stack.advance(2 * 3600e3);
  await stack.cron();
  await stack.cron();
  const job = (await stack.api('GET', `/api/jobs/${created.json.id}`)).json;
  assert.equal(job.state, 'cancelled');
  assert.equal(job.batches[0].state, 'cancelled');
  assert.equal(job.batches[0].attempts, 0);
  const sent = (await stack.simCtl('GET', 'calls?path=cgi-bin/message/mass/send')).calls;
  assert.equal(sent.filter((x) => x.body.includes(job.batches[0].clientMsgId)).length, 0);

  // A job whose batch went out cannot be cancelled.
  const sentJob = await stack.api('POST', '/api/jobs', { message: text('too late to cancel'), audience: { openids: openids(3, 'cancel-late') } });
  await stack.cron();
  const late = await stack.api('POST', `/api/jobs/${sentJob.json.id}/cancel`);
  assert.equal(late.status, 409, late.text);
  assert.equal(late.json.error.code, 'conflict');
  const after = (await stack.api('GET', `/api/jobs/${sentJob.json.id}`)).json;
  assert.notEqual(after.batches[0].state, 'cancelled');
  assert.equal((await stack.api('POST', '/api/jobs/jnosuchjob/cancel')).status, 404);

  // Half sent: batch 1 went out, WeChat was busy for batch 2 (it waits for a retry). The cancel
  // takes batch 2 and says why batch 1 stays, in English and Chinese.
  await stack.simCtl('POST', 'faults', { path: 'cgi-bin/message/mass/send', kind: 'errcode_-1', skip: 1, count: 1 });
  const half = await stack.api('POST', '/api/jobs', { message: text('half sent'), audience: { openids: openids(10_001, 'cancel-half') } });
  assert.equal(half.status, 201, half.text);
  await stack.cron();
  const partly = await stack.api('POST', `/api/jobs/${half.json.id}/cancel`);
  assert.equal(partly.status, 200, partly.text);
  assert.equal(partly.json.cancelledBatches, 1);
  assert.equal(partly.json.notCancelled.length, 1);
  const [kept] = partly.json.notCancelled;
  assert.equal(kept.index, 0);
  assert.match(kept.why, /\S/);
  assert.match(kept.whyZh, /[\u4e00-\u9fff]/);
  assert.notEqual(kept.whyZh, kept.why);
  await stack.simCtl('DELETE', 'faults');
});

test('media, preview, status, speed and delete pass through core to WeChat, and their answers say what WeChat said', async () => {
  const news = await stack.api('POST', '/api/media/uploadnews', { articles: [{ thumb_media_id: 'sim-thumb-media-id-0001', title: 't', content: 'c' }] });
  assert.equal(news.status, 200, news.text);
  assert.equal(news.json.type, 'news');
  assert.match(news.json.mediaId, /\S+/);
  const pv = await stack.api('POST', '/api/messages/preview', { touser: openids(1, 'pv')[0], msgtype: 'mpnews', mpnews: { media_id: news.json.mediaId } });
  assert.equal(pv.status, 200, pv.text);
  assert.equal(typeof pv.json.msgId, 'string', pv.text);
  const ss = await stack.api('POST', '/api/speed', { speed: 2 });
  assert.equal(ss.status, 200, ss.text);
  const sp = await stack.api('GET', '/api/speed');
  assert.equal(sp.status, 200, sp.text);
  assert.equal(sp.json.speed, 2, sp.text);
  assert.equal(typeof sp.json.realspeed, 'number', sp.text);
  const bad = await stack.api('POST', '/api/speed', { speed: 9 });
  assert.equal(bad.status, 400, bad.text);
  assert.equal(bad.json.error.problems[0].path, 'speed');

  // Send an mpnews job, then ask mass/get about it and delete its article.
  const created = await stack.api('POST', '/api/jobs', { message: { msgtype: 'mpnews', mpnews: { media_id: news.json.mediaId } }, audience: { openids: openids(2, 'del') } });
  assert.equal(created.status, 201, created.text);
  const job = await driveJob(stack, created.json.id);
  const msgId = job.batches[0].msgId;
  assert.match(msgId, /^\d+$/);
  const st = await stack.api('GET', `/api/messages/${msgId}`);
  assert.equal(st.status, 200, st.text);
  assert.equal(st.json.msgId, msgId);
  assert.equal(st.json.msgStatus, 'SEND_SUCCESS', st.text);
  const del = await stack.api('POST', '/api/messages/delete', { msg_id: msgId, article_idx: 1 });
  assert.equal(del.status, 200, del.text);
  const calls = (await stack.simCtl('GET', 'calls?path=cgi-bin/message/mass/delete')).calls;
  // The 64-bit id reaches WeChat digit for digit (it never passed through a JS number).
  assert.equal(calls.at(-1).body, `{"msg_id":${msgId},"article_idx":1}`);

  const png = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000a49444154789c6300010000050001', 'hex');
  const form = new FormData();
  form.append('media', new Blob([png], { type: 'image/png' }), 'a.png');
  const up = await fetch(`${stack.workerUrl}/api/media/uploadimg`, { method: 'POST', body: form, headers: { authorization: 'Bearer e2e-admin-token-0123456789' } });
  assert.equal(up.status, 200, await up.clone().text());
  assert.match((await up.json()).url, /^http/);
});

test('WeChat refusing admin input answers 422 wechat_rejected with its errcode and core\'s zh/en text', async () => {
  await stack.simCtl('POST', 'faults', { kind: 'errcode', errcode: 40035, path: 'cgi-bin/message/mass/delete' });
  const r = await stack.api('POST', '/api/messages/delete', { msg_id: '1000000001' });
  assert.equal(r.status, 422, r.text);
  assert.equal(r.json.error.code, 'wechat_rejected');
  assert.equal(r.json.error.errcode, 40035);
  assert.match(r.json.error.zh, /参数/);
  assert.match(r.json.error.en, /argument/i);
  // Busy is not the caller's mistake: 503 with Retry-After. (speed/set: GET /api/speed is a
  // read, answered from the cache for a minute after the test above asked it.)
  await stack.simCtl('POST', 'faults', { kind: 'errcode_-1', path: 'cgi-bin/message/mass/speed/set' });
  const busy = await stack.api('POST', '/api/speed', { speed: 2 });
  assert.equal(busy.status, 503, busy.text);
  assert.equal(busy.json.error.errcode, -1);
  assert.ok(Number(busy.headers.get('retry-after')) >= 1);
  // Unreachable is 502.
  await stack.simCtl('POST', 'faults', { kind: 'drop', path: 'cgi-bin/message/mass/speed/set' });
  const gone = await stack.api('POST', '/api/speed', { speed: 2 });
  assert.equal(gone.status, 502, gone.text);
  assert.equal(gone.json.error.code, 'upstream');
});
