// POST /__sim/callbacks/push: any message pushed to the account's callback URL as WeChat would,
// and what the account's server answered, byte for byte. Checked by an independent receiver:
// signature, msg_signature and AES decryption are re-implemented here with node:crypto.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startSim, ctl, sleep, sha1, sig, field, decryptIndependently } from '../testlib/helpers.mjs';

const TOKEN = 'pushtoken42';
const AES_KEY = 'kWxPqZ7nR2vT9sL4mJ8dF6hB3cY5gN1aE0uI7oK2pQH'; // last char has non-zero trailing bits
const APPID = 'wx0123456789abcdef';
const GH = 'gh_5f1a0c0de001';
const USER = 'oUser_abcdefghijklmnopqrstu1'; // 28 chars
const BIG_ID = '9007199254740993'; // 2^53 + 1: a JS number would make it ...992

/** The account's server: records each request; `answer(rec, n)` → {status, type, body} or 'hang'. */
let receiver;
let received;
let answer;
before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url, 'http://x');
      const rec = {
        method: req.method, path: u.pathname, rawQuery: u.search.slice(1), query: Object.fromEntries(u.searchParams),
        contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(rec);
      const a = answer(rec, received.length);
      if (a === 'hang') return;
      res.writeHead(a.status ?? 200, { 'content-type': a.type ?? 'text/plain' }).end(a.body ?? 'success');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
});
after(async () => {
  receiver.closeAllConnections();
  await new Promise((r) => receiver.close(r));
});
beforeEach(() => {
  received = [];
  answer = () => ({ status: 200, body: 'success' });
});

const cbUrl = (path = '/wechat/callback') => `http://127.0.0.1:${receiver.address().port}${path}`;

async function withSim(opts, fn) {
  const sim = await startSim({ callbackUrl: cbUrl(), callbackToken: TOKEN, encodingAESKey: AES_KEY, appId: APPID, ...opts });
  try {
    await fn(sim);
  } finally {
    await sim.close();
  }
}

/** POST /__sim/callbacks/push; returns { status, json, text }. */
async function push(sim, body) {
  const res = await fetch(sim.url + '/__sim/callbacks/push', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: JSON.parse(text), text };
}

const textMsg = (extra = {}) => ({ msgType: 'text', content: '你好, wxmass', fromUser: USER, msgId: BIG_ID, ...extra });

test('plain text message: WeChat text XML, URL signature over token/timestamp/nonce, CreateTime from the simulated clock', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    await ctl(sim, 'POST', 'clock', { at: '2025-01-31T23:59:00+08:00' });
    const r = await push(sim, { message: textMsg() });
    assert.equal(r.status, 200);
    assert.equal(received.length, 1);
    const rec = received[0];
    assert.equal(rec.method, 'POST');
    assert.equal(rec.path, '/wechat/callback');
    assert.match(rec.contentType, /^text\/xml/);
    const q = rec.query;
    assert.deepEqual(Object.keys(q).sort(), ['nonce', 'openid', 'signature', 'timestamp']);
    assert.equal(q.signature, sig(TOKEN, q.timestamp, q.nonce));
    assert.equal(q.openid, USER);
    const t = Number(q.timestamp);
    assert.ok(t >= 1738339140 && t <= 1738339142, `timestamp ${t} follows the simulated clock`);
    const expected = [
      '<xml>',
      `<ToUserName><![CDATA[${GH}]]></ToUserName>`,
      `<FromUserName><![CDATA[${USER}]]></FromUserName>`,
      `<CreateTime>${q.timestamp}</CreateTime>`,
      '<MsgType><![CDATA[text]]></MsgType>',
      '<Content><![CDATA[你好, wxmass]]></Content>',
      `<MsgId>${BIG_ID}</MsgId>`,
      '</xml>',
    ].join('\n');
    assert.equal(rec.body, expected);
    const a = r.json;
    assert.equal(a.status, 200);
    assert.equal(a.error, null);
    assert.equal(a.contentType, 'text/plain');
    assert.equal(a.body, 'success');
    assert.equal(a.bodyBase64, Buffer.from('success').toString('base64'));
    assert.equal(typeof a.ms, 'number');
    assert.deepEqual(a.request, { query: rec.rawQuery, body: rec.body, xml: expected });
  }));

test('64-bit MsgId stays exact: in the XML sent and in the answer\'s JSON text', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    for (const id of [BIG_ID, '18446744073709551615', '1']) {
      received = [];
      const r = await push(sim, { message: textMsg({ msgId: id }) });
      assert.equal(field(received[0].body, 'MsgId'), id);
      assert.ok(r.text.includes(`<MsgId>${id}</MsgId>`));
    }
    // without msgId one is issued, above 2^53 as well, and a fresh one each time
    received = [];
    await push(sim, { message: { msgType: 'text', content: 'a', fromUser: USER } });
    await push(sim, { message: { msgType: 'text', content: 'b', fromUser: USER } });
    const ids = received.map((x) => field(x.body, 'MsgId'));
    assert.ok(ids.every((id) => /^\d+$/.test(id) && BigInt(id) > 2n ** 53n));
    assert.notEqual(ids[0], ids[1]);
  }));

test('safe mode: only ToUserName + Encrypt; AES-256-CBC decrypts to the XML and AppID; msg_signature over the Encrypt', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    const r = await push(sim, { message: textMsg({ content: '退订 <b>&' }), mode: 'safe' });
    const { query: q, body } = received[0];
    assert.equal(q.signature, sig(TOKEN, q.timestamp, q.nonce));
    assert.equal(q.encrypt_type, 'aes');
    assert.equal(q.openid, USER);
    const enc = field(body, 'Encrypt');
    assert.ok(enc);
    assert.equal(q.msg_signature, sig(TOKEN, q.timestamp, q.nonce, enc));
    assert.equal(body, `<xml>\n<ToUserName><![CDATA[${GH}]]></ToUserName>\n<Encrypt><![CDATA[${enc}]]></Encrypt>\n</xml>`);
    const { xml, appId } = decryptIndependently(enc, AES_KEY);
    assert.equal(appId, APPID);
    assert.equal(xml, r.json.request.xml);
    assert.equal(field(xml, 'Content'), '退订 <b>&');
    assert.equal(field(xml, 'MsgId'), BIG_ID);
    assert.equal(r.json.request.body, body);
  }));

test('compat mode: the plain fields and an Encrypt of the same XML side by side', () =>
  withSim({ callbackMode: 'compat' }, async (sim) => {
    const r = await push(sim, { message: textMsg() }); // mode defaults to the configured callbackMode
    const { query: q, body } = received[0];
    const enc = field(body, 'Encrypt');
    assert.equal(q.encrypt_type, 'aes');
    assert.equal(q.signature, sig(TOKEN, q.timestamp, q.nonce));
    assert.equal(q.msg_signature, sig(TOKEN, q.timestamp, q.nonce, enc));
    const { xml } = decryptIndependently(enc, AES_KEY);
    assert.equal(xml, r.json.request.xml);
    assert.equal(body, xml.replace(/<\/xml>$/, `<Encrypt><![CDATA[${enc}]]></Encrypt>\n</xml>`));
    for (const f of ['ToUserName', 'FromUserName', 'CreateTime', 'MsgType', 'Content', 'MsgId']) assert.equal(field(body, f), field(xml, f), f);
  }));

test('menu CLICK event: Event and EventKey, no MsgId; safe by default config', () =>
  withSim({}, async (sim) => {
    const r = await push(sim, { message: { msgType: 'event', event: 'CLICK', eventKey: 'MENU_LATEST', fromUser: USER } });
    const { query: q, body } = received[0];
    assert.equal(q.encrypt_type, 'aes', 'default callbackMode is safe');
    const { xml } = decryptIndependently(field(body, 'Encrypt'), AES_KEY);
    assert.equal(xml, [
      '<xml>',
      `<ToUserName><![CDATA[${GH}]]></ToUserName>`,
      `<FromUserName><![CDATA[${USER}]]></FromUserName>`,
      `<CreateTime>${q.timestamp}</CreateTime>`,
      '<MsgType><![CDATA[event]]></MsgType>',
      '<Event><![CDATA[CLICK]]></Event>',
      '<EventKey><![CDATA[MENU_LATEST]]></EventKey>',
      '</xml>',
    ].join('\n'));
    assert.equal(r.json.request.xml, xml);
  }));

test('given xml is pushed as is, to a given url; openid and ToUserName taken from it', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    const xml = '<xml><ToUserName><![CDATA[gh_other000001]]></ToUserName><FromUserName><![CDATA[oRaw]]></FromUserName>'
      + '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/y]]></PicUrl>'
      + '<MediaId><![CDATA[m1]]></MediaId><MsgId>18446744073709551615</MsgId></xml>\n';
    const r = await push(sim, { xml, url: cbUrl('/other?account=7') });
    assert.equal(received[0].path, '/other');
    assert.equal(received[0].body, xml);
    assert.equal(received[0].query.account, '7', 'keeps the URL\'s own query');
    assert.equal(received[0].query.openid, 'oRaw');
    assert.equal(r.json.request.xml, xml);
    received = [];
    await push(sim, { xml, mode: 'safe' });
    assert.match(received[0].body, /^<xml>\n<ToUserName><!\[CDATA\[gh_other000001\]\]><\/ToUserName>\n<Encrypt>/);
    assert.equal(decryptIndependently(field(received[0].body, 'Encrypt'), AES_KEY).xml, xml);
  }));

test('the answer comes back byte for byte: reply XML with Chinese text and CDATA; non-UTF-8 bytes in bodyBase64', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    const reply = `<xml>\r\n<ToUserName><![CDATA[${USER}]]></ToUserName>\n<FromUserName><![CDATA[${GH}]]></FromUserName>\n`
      + '<CreateTime>1738339140</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n'
      + '<Content><![CDATA[您好！回复“退订”取消 ]]]]><![CDATA[> 🎉]]></Content>\n</xml>  ';
    answer = () => ({ status: 200, type: 'application/xml; charset=UTF-8', body: reply });
    const r = (await push(sim, { message: textMsg() })).json;
    assert.equal(r.status, 200);
    assert.equal(r.error, null);
    assert.equal(r.contentType, 'application/xml; charset=UTF-8');
    assert.equal(r.body, reply);
    assert.equal(r.bodyBase64, Buffer.from(reply, 'utf8').toString('base64'));
    const gbk = Buffer.from([0xc4, 0xe3, 0xba, 0xc3, 0x0a, 0xff, 0x00]); // 你好 in GBK, then bytes invalid in UTF-8
    answer = () => ({ status: 200, type: 'text/xml; charset=GBK', body: gbk });
    const g = (await push(sim, { message: textMsg() })).json;
    assert.deepEqual(Buffer.from(g.bodyBase64, 'base64'), gbk);
    answer = () => ({ status: 200, body: '' });
    const e = (await push(sim, { message: textMsg() })).json;
    assert.equal(e.body, '');
    assert.equal(e.bodyBase64, '');
  }));

test('one attempt only: no answer within callbackTimeoutMs (scaled) gives status null and an error; 500 is reported, not retried', () =>
  withSim({ callbackMode: 'plain', callbackTimeoutMs: 5000 }, async (sim) => {
    answer = () => 'hang';
    const r = (await push(sim, { message: textMsg() })).json;
    assert.equal(r.status, null);
    assert.match(r.error, /no answer within 50 ms/);
    assert.equal(r.contentType, null);
    assert.equal(r.body, null);
    assert.equal(r.bodyBase64, null);
    assert.ok(r.ms >= 45, `ms ${r.ms}`);
    assert.equal(received[0].body, r.request.body, 'it was sent');
    answer = () => ({ status: 500, type: 'text/html', body: '<h1>boom</h1>' });
    const f = (await push(sim, { message: textMsg() })).json;
    assert.equal(f.status, 500);
    assert.equal(f.error, 'HTTP 500');
    assert.equal(f.body, '<h1>boom</h1>');
    await sleep(150); // longer than the scaled retry interval: nothing more arrives
    assert.equal(received.length, 2);
    const stats = await ctl(sim, 'GET', 'stats');
    assert.equal(stats.callbacksPending + stats.callbacksDelivered + stats.callbacksFailed, 0, 'not a MASSSENDJOBFINISH callback');
  }));

test('connection refused: status null and the error', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    const dead = http.createServer();
    await new Promise((r) => dead.listen(0, '127.0.0.1', r));
    const port = dead.address().port;
    await new Promise((r) => dead.close(r));
    const r = (await push(sim, { message: textMsg(), url: `http://127.0.0.1:${port}/cb` })).json;
    assert.equal(r.status, null);
    assert.match(r.error, /ECONNREFUSED/);
    assert.equal(r.bodyBase64, null);
  }));

test('tamper "body", plain: the query is signed as usual, the body says "forged"', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    const r = (await push(sim, { message: textMsg(), tamper: 'body' })).json;
    const { query: q, body } = received[0];
    assert.equal(q.signature, sig(TOKEN, q.timestamp, q.nonce));
    assert.equal(field(body, 'Content'), 'forged');
    assert.equal(field(r.request.xml, 'Content'), '你好, wxmass');
    assert.equal(body, r.request.xml.replace('<![CDATA[你好, wxmass]]>', '<![CDATA[forged]]>'));
    assert.equal(r.request.body, body);
    received = [];
    await push(sim, { message: { msgType: 'event', eventKey: 'K1', fromUser: USER }, tamper: 'body' });
    assert.equal(field(received[0].body, 'EventKey'), 'forged', 'without Content the EventKey is forged');
  }));

test('tamper "body", safe and compat: msg_signature is for the real message, the Encrypt sent holds the forged one', () =>
  withSim({ callbackMode: 'safe' }, async (sim) => {
    for (const mode of ['safe', 'compat']) {
      received = [];
      const r = (await push(sim, { message: textMsg(), mode, tamper: 'body' })).json;
      const { query: q, body } = received[0];
      const enc = field(body, 'Encrypt');
      assert.equal(q.signature, sig(TOKEN, q.timestamp, q.nonce), mode);
      assert.match(q.msg_signature, /^[0-9a-f]{40}$/);
      assert.notEqual(q.msg_signature, sig(TOKEN, q.timestamp, q.nonce, enc), `${mode}: signature does not cover the body`);
      const { xml } = decryptIndependently(enc, AES_KEY);
      assert.equal(field(xml, 'Content'), 'forged');
      assert.equal(field(r.request.xml, 'Content'), '你好, wxmass');
      if (mode === 'compat') assert.equal(field(body, 'Content'), 'forged');
    }
  }));

test('tamper "drop_encryption": a safe/compat account gets a plain-looking push (no encrypt_type, no msg_signature)', () =>
  withSim({ callbackMode: 'safe' }, async (sim) => {
    for (const mode of [undefined, 'compat']) {
      received = [];
      const r = (await push(sim, { message: textMsg(), mode, tamper: 'drop_encryption' })).json;
      const { query: q, body } = received[0];
      assert.deepEqual(Object.keys(q).sort(), ['nonce', 'openid', 'signature', 'timestamp']);
      assert.equal(q.signature, sig(TOKEN, q.timestamp, q.nonce));
      assert.equal(body, r.request.xml);
      assert.equal(field(body, 'Encrypt'), null);
      assert.equal(field(body, 'Content'), '你好, wxmass');
    }
    const p = await push(sim, { message: textMsg(), mode: 'plain', tamper: 'drop_encryption' });
    assert.equal(p.status, 400);
    assert.match(p.json.error, /drop_encryption/);
  }));

test('bad input: 400 with a clear message, nothing pushed', () =>
  withSim({ callbackMode: 'plain' }, async (sim) => {
    const cases = [
      [{ message: textMsg(), mode: 'aes' }, /unknown mode "aes"/],
      [{}, /give xml .* or message/],
      [{ mode: 'plain' }, /give xml .* or message/],
      [{ message: { msgType: 'image', fromUser: USER } }, /unknown msgType "image"/],
      [{ message: { content: 'x', fromUser: USER } }, /unknown msgType/],
      [{ message: { msgType: 'event', event: 'VIEW', eventKey: 'k', fromUser: USER } }, /unknown event "VIEW"/],
      [{ message: { msgType: 'event', fromUser: USER } }, /eventKey/],
      [{ message: { msgType: 'text', fromUser: USER } }, /content/],
      [{ message: textMsg({ msgId: 9007199254740993 }) }, /msgId must be a decimal string/],
      [{ message: textMsg({ msgId: '18446744073709551616' }) }, /msgId/],
      [{ message: textMsg(), tamper: 'signature' }, /unknown tamper/],
      [{ message: textMsg(), url: 'ftp://x/y' }, /url must be an http/],
      [{ xml: 42 }, /xml must be a non-empty string/],
      [{ xml: '<xml><MsgType>image</MsgType></xml>', tamper: 'body' }, /Content or EventKey/],
      [{ xml: '<xml>', mode: 'compat' }, /end with <\/xml>/],
    ];
    for (const [body, re] of cases) {
      const r = await push(sim, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.error, re, JSON.stringify(body));
    }
    await ctl(sim, 'POST', 'config', { callbackUrl: null });
    const r = await push(sim, { message: textMsg() });
    assert.equal(r.status, 400);
    assert.match(r.json.error, /no url given and no callbackUrl configured/);
    assert.equal(received.length, 0);
  }));

test('MASSSENDJOBFINISH attempts record the answer text and content-type', () =>
  withSim({ callbackMode: 'plain', callbackRetries: 1 }, async (sim) => {
    answer = (_r, n) => (n === 1 ? { status: 503, body: '稍后再试' } : { status: 200, type: 'text/plain; charset=utf-8', body: 'success' });
    const token = (await (await fetch(`${sim.url}/cgi-bin/stable_token`, {
      method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', appid: APPID, secret: '0123456789abcdef0123456789abcdef' }),
    })).json()).access_token;
    await fetch(`${sim.url}/cgi-bin/message/mass/sendall?access_token=${token}`, {
      method: 'POST', body: JSON.stringify({ filter: { is_to_all: true }, text: { content: 'hi' }, msgtype: 'text' }),
    });
    await ctl(sim, 'POST', 'callbacks/flush');
    await ctl(sim, 'POST', 'callbacks/flush');
    const cb = (await ctl(sim, 'GET', 'callbacks')).callbacks[0];
    assert.equal(cb.state, 'delivered');
    assert.deepEqual(cb.attempts.map((a) => [a.status, a.answer, a.contentType]), [
      [503, '稍后再试', 'text/plain'],
      [200, 'success', 'text/plain; charset=utf-8'],
    ]);
  }));

test('timeoutMs sets the real wait for the answer, whatever the time scale', async () => {
  const slow = http.createServer((req, res) => { req.resume(); setTimeout(() => res.end('late but in time'), 300); });
  await new Promise((r) => slow.listen(0, '127.0.0.1', r));
  const sim = await startSim({ callbackUrl: `http://127.0.0.1:${slow.address().port}/cb` });
  try {
    const ctl = (body) => fetch(`${sim.url}/__sim/callbacks/push`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
    const scaled = await ctl({ message: { msgType: 'text', content: 'x' } });
    assert.equal(scaled.status, null, 'the scaled wait (50 ms) ends first');
    const real = await ctl({ message: { msgType: 'text', content: 'x' }, timeoutMs: 2000 });
    assert.equal(real.status, 200, JSON.stringify(real));
    assert.equal(real.body, 'late but in time');
    const bad = await fetch(`${sim.url}/__sim/callbacks/push`, { method: 'POST', body: JSON.stringify({ message: { msgType: 'text', content: 'x' }, timeoutMs: -1 }) });
    assert.equal(bad.status, 400);
  } finally {
    await sim.close();
    slow.closeAllConnections();
    await new Promise((r) => slow.close(r));
  }
});
