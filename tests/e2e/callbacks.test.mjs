// End-to-end: callbacks in front of a live account. The configured mode is enforced (a plain
// push to a safe-mode account, a forged plain push, a compat push whose plain fields lie), every
// push that is not a mass-send result goes on to the account's own server (FORWARD_URL) and its
// answer back to WeChat byte for byte, and stored pushes are kept only as long as they should be.
// The simulator pushes as WeChat would (POST /__sim/callbacks/push) and shows what it got back.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startStack, startUpstream, driveJob, openids } from './harness.mjs';
import { jobFinishXml, signedPush } from './push.mjs';

const text = (content) => ({ msgtype: 'text', text: { content } });
const REPLY = '<xml><ToUserName><![CDATA[oUser]]></ToUserName><FromUserName><![CDATA[gh_account]]></FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[您好，已收到 ✓]]></Content></xml>';

/**
 * WeChat pushes one message (`message` or `xml`) and reports what the worker answered. WeChat
 * waits 5 s for an answer; the simulator's default is scaled with its clock (50 ms here), which a
 * loaded machine can miss, so a test that is not about the wait gives it WeChat's own.
 */
async function push(stack, spec) {
  const r = await fetch(`${stack.sim.url}/__sim/callbacks/push`, { method: 'POST', body: JSON.stringify({ timeoutMs: 5000, ...spec }) });
  const json = await r.json();
  assert.equal(r.status, 200, JSON.stringify(json));
  return json;
}

const events = async (stack, query = '') => (await stack.api('GET', `/api/events?limit=100${query}`)).json;

describe('safe mode, forwarding to the account\'s server', () => {
  let stack;
  let upstream;
  before(async () => {
    upstream = await startUpstream();
    stack = await startStack({ callbackMode: 'safe' }, { vars: { FORWARD_URL: upstream.url } });
  });
  after(async () => { await stack?.stop(); await upstream?.close(); });

  test('a plain push to a safe-mode account (the encryption dropped) is refused with 403; nothing stored or forwarded', async () => {
    const before = await events(stack);
    const forwardedBefore = upstream.received.length;
    const r = await push(stack, { message: { msgType: 'text', content: 'downgraded' }, tamper: 'drop_encryption' });
    assert.equal(r.status, 403, JSON.stringify(r));
    assert.match(r.body, /plain_push_refused/);
    assert.ok(!r.request.query.includes('msg_signature'));
    const after = await events(stack);
    assert.equal(after.total, before.total);
    assert.equal(upstream.received.length, forwardedBefore);
  });

  test('a user\'s text message is forwarded with WeChat\'s query and ciphertext, and the reply XML reaches WeChat byte for byte', async () => {
    upstream.answer({ status: 200, body: REPLY, contentType: 'application/xml; charset=utf-8' });
    const before = (await events(stack)).total;
    const r = await push(stack, { message: { msgType: 'text', content: '你好', msgId: '9007199254740993' } });
    assert.equal(r.status, 200, JSON.stringify(r));
    assert.equal(Buffer.from(r.bodyBase64, 'base64').toString('utf8'), REPLY);
    assert.deepEqual(Buffer.from(r.bodyBase64, 'base64'), Buffer.from(REPLY, 'utf8'));
    assert.match(r.contentType, /application\/xml/);
    const got = upstream.received.at(-1);
    assert.equal(got.query, r.request.query, 'the same query string, msg_signature and all');
    assert.equal(got.body, r.request.body, 'the same ciphertext envelope');
    assert.match(got.query, /encrypt_type=aes/);
    assert.match(got.contentType, /xml/);
    // Not a mass-send result, and STORE_ALL_PUSHES is off: not kept here.
    assert.equal((await events(stack)).total, before);
  });

  test('a menu click is forwarded too, and an empty answer goes back empty', async () => {
    upstream.answer({ status: 200, body: '', contentType: null });
    const r = await push(stack, { message: { msgType: 'event', event: 'CLICK', eventKey: 'V1001_TODAY' } });
    assert.equal(r.status, 200, JSON.stringify(r));
    assert.equal(r.bodyBase64, '');
    assert.match(upstream.received.at(-1).body, /<Encrypt>/);
  });

  for (const [name, behaviour] of [
    ['down (connection closed)', { drop: true }],
    ['failing (HTTP 500)', { status: 500, body: 'oops' }],
    ['slow (6 s)', { delayMs: 6000, body: REPLY }],
  ]) {
    test(`the account's server ${name}: WeChat gets success, and the push is kept as forward_failed`, async () => {
      upstream.answer(behaviour);
      const content = `when the server is ${name}`;
      const started = Date.now();
      // WeChat's real wait, 5 s (the simulator's own durations are scaled down).
      const r = await push(stack, { message: { msgType: 'text', content }, timeoutMs: 5000 });
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.body, 'success');
      assert.ok(Date.now() - started < 5000, `answered after ${Date.now() - started} ms`);
      const failed = (await events(stack, '&state=forward_failed')).events.filter((e) => e.payload?.fields?.Content === content || JSON.stringify(e.payload).includes(content));
      assert.equal(failed.length, 1, JSON.stringify((await events(stack, '&state=forward_failed')).events.slice(0, 3)));
      assert.match(failed[0].reason, /forward/);
      const status = (await stack.api('GET', '/api/status')).json;
      assert.ok(status.callback.forwardFailed >= 1, JSON.stringify(status));
      assert.equal(status.callback.mode, 'safe');
    });
  }

  test('a mass-send result is stored and applied here, and not forwarded without FORWARD_ALL', async () => {
    upstream.answer({ status: 200, body: 'success' });
    const forwardedBefore = upstream.received.length;
    const created = await stack.api('POST', '/api/jobs', { message: text('result, not forwarded'), audience: { openids: openids(3, 'fwd-result') } });
    assert.equal(created.status, 201, created.text);
    const job = await driveJob(stack, created.json.id);
    assert.equal(job.state, 'finished', JSON.stringify(job.batches));
    assert.equal(job.results.events, 1);
    assert.equal(upstream.received.length, forwardedBefore, 'nothing of the result reached the account\'s server');
  });
});

describe('plain mode', () => {
  let stack;
  before(async () => {
    stack = await startStack({ callbackMode: 'plain' }, { vars: { ENCODING_AES_KEY: null } });
  });
  after(async () => { await stack?.stop(); });

  test('a captured query with another body is refused as replayed; the genuine push again is stored once', async () => {
    const v = stack.vars;
    const msgId = '9007199254790101';
    const genuine = signedPush({ token: v.CALLBACK_TOKEN, appId: v.APP_ID, xml: jobFinishXml({ msgId, sent: 2 }), mode: 'plain', nowSec: stack.nowSec() });
    const ok = await stack.callback(genuine);
    assert.equal(ok.status, 200, ok.text);
    // The same signed query, a forged result: nobody sent, err(30003).
    const forged = { query: genuine.query, body: jobFinishXml({ msgId, status: 'err(30003)', sent: 0 }) };
    const refused = await stack.callback(forged);
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.text, /replayed/);
    const again = await stack.callback(genuine);
    assert.equal(again.status, 200);
    assert.equal(again.text, 'success');
    const mine = (await events(stack)).events.filter((e) => e.msgId === msgId);
    assert.equal(mine.length, 1);
    assert.equal(mine[0].payload.sentCount, 2);
    assert.ok(!JSON.stringify(mine).includes('30003'), JSON.stringify(mine));
  });

  test('the simulator\'s tampered plain push (signed for one body, carrying another) is refused once the genuine one was seen', async () => {
    const r1 = await push(stack, { message: { msgType: 'text', content: 'genuine' } });
    assert.equal(r1.status, 200, JSON.stringify(r1));
    const forged = { query: r1.request.query, body: r1.request.body.replace('genuine', 'forged') };
    const r2 = await stack.callback(forged);
    assert.equal(r2.status, 403, r2.text);
  });

  test('plain mode says so in the log', async () => {
    for (let i = 0; i < 20 && !stack.logs().includes('CALLBACK_MODE is plain'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.match(stack.logs(), /CALLBACK_MODE is plain/);
    assert.equal((await stack.api('GET', '/api/status')).json.callback.mode, 'plain');
  });
});

describe('compat mode, FORWARD_ALL, STORE_ALL_PUSHES and retention', () => {
  let stack;
  let upstream;
  before(async () => {
    upstream = await startUpstream();
    stack = await startStack({ callbackMode: 'compat' }, {
      vars: { CALLBACK_MODE: 'compat', FORWARD_URL: upstream.url, FORWARD_ALL: 'true', STORE_ALL_PUSHES: 'true', EVENT_RETENTION_DAYS: '1' },
    });
  });
  after(async () => { await stack?.stop(); await upstream?.close(); });

  test('a compat push whose plain fields disagree with <Encrypt>: only <Encrypt> is stored', async () => {
    const v = stack.vars;
    const msgId = '9007199254790201';
    const p = signedPush({ token: v.CALLBACK_TOKEN, encodingAESKey: v.ENCODING_AES_KEY, appId: v.APP_ID, xml: jobFinishXml({ msgId, sent: 2 }), mode: 'compat', nowSec: stack.nowSec() });
    // The plain fields beside <Encrypt> claim a rejection with nothing sent.
    p.body = p.body.replace('<![CDATA[send success]]>', '<![CDATA[err(30003)]]>').replace('<SentCount>2</SentCount>', '<SentCount>0</SentCount>');
    assert.match(p.body, /err\(30003\)/);
    const r = await stack.callback(p);
    assert.equal(r.status, 200, r.text);
    const mine = (await events(stack)).events.filter((e) => e.msgId === msgId);
    assert.equal(mine.length, 1);
    assert.ok(!JSON.stringify(mine[0].payload).includes('30003'), JSON.stringify(mine[0].payload));
    assert.equal(mine[0].payload.sentCount, 2);
  });

  test('a plain push to a compat-mode account is refused', async () => {
    const r = await push(stack, { message: { msgType: 'text', content: 'no encryption' }, tamper: 'drop_encryption' });
    assert.equal(r.status, 403, JSON.stringify(r));
  });

  test('with FORWARD_ALL a mass-send result is stored here and forwarded; the result is applied to its batch', async () => {
    const forwardedBefore = upstream.received.length;
    const created = await stack.api('POST', '/api/jobs', { message: text('forward all'), audience: { openids: openids(3, 'fwd-all') } });
    assert.equal(created.status, 201, created.text);
    const job = await driveJob(stack, created.json.id);
    assert.equal(job.state, 'finished', JSON.stringify(job.batches));
    const forwarded = upstream.received.slice(forwardedBefore);
    assert.ok(forwarded.some((x) => x.body.includes('<Encrypt>')), JSON.stringify(forwarded));
    assert.equal(job.events.length, 1);
    assert.equal(job.events[0].state, 'applied');
  });

  test('retention: pushes older than EVENT_RETENTION_DAYS are purged by the cron; a result linked to its batch is kept', async () => {
    const r = await push(stack, { message: { msgType: 'text', content: 'keep me a day' } });
    assert.equal(r.status, 200, JSON.stringify(r));
    const stored = (await events(stack, '&state=stored')).events.filter((e) => JSON.stringify(e.payload).includes('keep me a day'));
    assert.equal(stored.length, 1, 'STORE_ALL_PUSHES keeps it');
    const linked = (await events(stack, '&state=applied')).events;
    assert.ok(linked.length >= 1);

    await stack.advance(2 * 86_400_000);
    await stack.cron();
    const report = await stack.lastCron();
    assert.ok(report.purged >= 1, JSON.stringify(report));
    const left = (await events(stack)).events;
    assert.equal(left.filter((e) => JSON.stringify(e.payload).includes('keep me a day')).length, 0);
    for (const e of linked) {
      assert.ok(left.some((x) => x.dedupeKey === e.dedupeKey), `linked result ${e.dedupeKey} was deleted`);
    }
    assert.ok(left.every((e) => e.batchId), JSON.stringify(left.map((e) => [e.state, e.batchId])));
  });
});
