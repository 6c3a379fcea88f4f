// uploadAudience against an in-test node:http server that keeps the worker's audience contract in
// memory: numbered parts in order (409 part_out_of_order otherwise), a part kept by number and
// body hash (the same again answers the same, another body is 422 part_reused), a 4 MiB body
// cap, an idempotent seal, and faults on demand (drop the connection after storing a part, 503,
// 429 with Retry-After, a 4xx, a request that never answers).
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash } from 'node:crypto';
import { uploadAudience, WxmassError } from 'wxmass';

const TOKEN = 'admin-secret';
const MAX_BODY = 4 * 1024 * 1024;
const VALID = /^[A-Za-z0-9_-]{28}$/;

let server;
let base;
/** Every request, in order: { route, part, status (null when dropped), hash, body, contentType, auth, at }. */
let log;
/** Faults still to happen: { route, part?, action, ... }; the first match is used once. */
let faults;
let audiences;
let nextId;

function reset() {
  log = [];
  faults = [];
  audiences = new Map();
  nextId = 1;
}

const sha = (text) => createHash('sha256').update(text).digest('hex');

function send(res, status, body, headers = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  return status;
}
const fail = (res, status, code, message, extra = {}, headers) => send(res, status, { error: { code, message, ...extra } }, headers);

function takeFault(route, part) {
  const i = faults.findIndex((f) => f.route === route && (f.part === undefined || f.part === part));
  return i < 0 ? null : faults.splice(i, 1)[0];
}

function parseOpenIds(contentType, text) {
  if (contentType.startsWith('text/plain')) return text === '' ? [] : text.split('\n');
  const list = JSON.parse(text);
  if (!Array.isArray(list) || list.some((s) => typeof s !== 'string')) throw new Error('not an array of strings');
  return list;
}

function handle(req, res, text) {
  const url = new URL(req.url, 'http://x');
  let parts = url.pathname.split('/').filter(Boolean); // api, audiences, id?, openids|seal?
  // A worker of several accounts answers account X's audiences under /api/accounts/X/….
  let account = null;
  if (parts[0] === 'api' && parts[1] === 'accounts' && parts.length > 3) {
    account = decodeURIComponent(parts[2]);
    parts = ['api', ...parts.slice(3)];
  }
  const route = parts.length === 2 ? 'create' : parts[3] === 'openids' ? 'part' : parts[3] === 'seal' ? 'seal' : 'other';
  const part = route === 'part' ? Number(url.searchParams.get('part')) : null;
  const entry = { route, part, account, status: null, hash: sha(text), body: text, contentType: req.headers['content-type'] ?? '', auth: req.headers.authorization, at: Date.now() };
  log.push(entry);
  if (req.method !== 'POST' || parts[0] !== 'api' || parts[1] !== 'audiences' || route === 'other') return (entry.status = fail(res, 404, 'not_found', 'no such path'));
  if (req.headers.authorization !== `Bearer ${TOKEN}`) return (entry.status = fail(res, 401, 'unauthorized', 'no or wrong bearer token'));
  if (Buffer.byteLength(text) > MAX_BODY) return (entry.status = fail(res, 413, 'too_large', 'body over 4 MiB'));

  const fault = takeFault(route, part);
  if (fault?.action === 'status') {
    return (entry.status = fail(res, fault.status, fault.code, fault.message ?? fault.code, {}, fault.headers));
  }
  if (fault?.action === 'hang') return; // never answers; the server closes it at the end

  if (route === 'create') {
    assert.equal(text, '{}');
    const id = `a${String(nextId++).padStart(24, '0')}`;
    audiences.set(id, { id, state: 'open', parts: [], received: 0, ids: [] });
    return (entry.status = send(res, 201, { id, state: 'open', received: 0, parts: 0 }));
  }
  const a = audiences.get(parts[2]);
  if (!a) return (entry.status = fail(res, 404, 'not_found', `no audience ${parts[2]}`));

  if (route === 'seal') {
    if (a.state === 'open') {
      if (a.parts.length === 0) return (entry.status = fail(res, 409, 'conflict', 'no parts yet'));
      const seen = new Set();
      let invalid = 0;
      let duplicates = 0;
      for (const id of a.ids) {
        if (!VALID.test(id)) invalid++;
        else if (seen.has(id)) duplicates++;
        else seen.add(id);
      }
      Object.assign(a, { state: 'sealed', sealed: { id: a.id, state: 'sealed', received: a.received, valid: seen.size, invalid, duplicates, batches: Math.ceil(seen.size / 10_000) } });
    }
    return (entry.status = send(res, 200, a.sealed));
  }

  // A part.
  if (!Number.isInteger(part) || part < 1) return (entry.status = fail(res, 400, 'required', '?part= must be 1, 2, …', { path: 'part' }));
  const earlier = a.parts[part - 1];
  if (earlier) {
    if (fault?.action === 'forget') {
      // A worker that no longer answers a stored part again: it only says which part comes next.
      return (entry.status = fail(res, 409, 'part_out_of_order', 'next is another part', { path: 'part', expectedPart: a.parts.length + 1 }));
    }
    if (earlier.hash === entry.hash) return (entry.status = send(res, 200, earlier.answer));
    return (entry.status = fail(res, 422, 'part_reused', `part ${part} was already uploaded with another body`, { path: 'part', value: String(part) }));
  }
  if (a.state !== 'open') return (entry.status = fail(res, 409, 'conflict', 'sealed'));
  if (part !== a.parts.length + 1) {
    return (entry.status = fail(res, 409, 'part_out_of_order', `part ${part} cannot come now`, { path: 'part', value: String(part), expectedPart: a.parts.length + 1 }));
  }
  let ids;
  try {
    ids = parseOpenIds(entry.contentType, text);
  } catch (e) {
    return (entry.status = fail(res, 400, 'json', e.message));
  }
  const firstPosition = a.received;
  const invalidShown = [];
  let invalid = 0;
  ids.forEach((id, i) => {
    if (VALID.test(id)) return;
    invalid++;
    if (invalidShown.length < 20) invalidShown.push({ position: firstPosition + i, value: id });
  });
  a.received += ids.length;
  a.ids.push(...ids);
  const answer = { audienceId: a.id, part, firstPosition, received: ids.length, valid: ids.length - invalid, invalid, invalidShown, totalReceived: a.received };
  a.parts.push({ hash: entry.hash, answer });
  if (fault?.action === 'drop') {
    // Stored, but the answer never arrives: the connection goes down.
    req.socket.destroy();
    return;
  }
  entry.status = send(res, 201, answer);
}

before(async () => {
  reset();
  server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}/`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(reset);

const openid = (i) => `o${String(i).padStart(27, '0')}`;
const partsSent = (route = 'part') => log.filter((e) => e.route === route);
const storedIds = () => [...audiences.values()][0].ids;

test('250,001 OpenIDs in parts of 100,000: three text parts in order, progress after each step, the seal answer', async () => {
  const ids = Array.from({ length: 250_001 }, (_, i) => openid(i));
  ids[7] = 'not-an-openid';
  ids[150_000] = 'also*bad';
  ids[250_000] = ids[3]; // a duplicate, in the last part alone
  const events = [];
  const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, onProgress: (p) => events.push({ ...p }) });

  const id = [...audiences.keys()][0];
  assert.deepEqual(log.map((e) => [e.route, e.part]), [['create', null], ['part', 1], ['part', 2], ['part', 3], ['seal', null]]);
  for (const e of log) assert.equal(e.auth, `Bearer ${TOKEN}`);
  const [p1, p2, p3] = partsSent();
  assert.equal(p1.body, ids.slice(0, 100_000).join('\n'));
  assert.equal(p2.body, ids.slice(100_000, 200_000).join('\n'));
  assert.equal(p3.body, ids.slice(200_000).join('\n'));
  for (const p of [p1, p2, p3]) assert.equal(p.contentType, 'text/plain; charset=utf-8');
  assert.deepEqual(storedIds(), ids);

  const at = (phase, part, sentOpenIds) => ({ phase, part, sentOpenIds, totalOpenIds: 250_001, audienceId: id });
  assert.deepEqual(events, [at('create', 0, 0), at('upload', 1, 100_000), at('upload', 2, 200_000), at('upload', 3, 250_001), at('seal', 3, 250_001), at('done', 3, 250_001)]);

  assert.deepEqual(result, {
    id,
    state: 'sealed',
    received: 250_001,
    valid: 249_998,
    invalid: 2,
    duplicates: 1,
    batches: 25,
    invalidShown: [{ position: 7, value: 'not-an-openid' }, { position: 150_000, value: 'also*bad' }],
  });
});

test('a part stored but its answer lost is sent again under the same number and counted once', async () => {
  const ids = Array.from({ length: 25 }, (_, i) => openid(i));
  faults.push({ route: 'part', part: 2, action: 'drop' });
  const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10 });
  const parts = partsSent();
  assert.deepEqual(parts.map((e) => [e.part, e.status]), [[1, 201], [2, null], [2, 200], [3, 201]]);
  assert.equal(parts[2].hash, parts[1].hash, 'the retry carries the same body');
  assert.equal(parts[1].body, ids.slice(10, 20).join('\n'));
  assert.deepEqual(storedIds(), ids);
  assert.equal(result.received, 25);
  assert.equal(result.valid, 25);
});

test('a 409 part_out_of_order naming the next part after a lost answer means the part landed: go on', async () => {
  const ids = Array.from({ length: 25 }, (_, i) => openid(i));
  faults.push({ route: 'part', part: 2, action: 'drop' }, { route: 'part', part: 2, action: 'forget' });
  const events = [];
  const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10, onProgress: (p) => events.push(`${p.phase}${p.part}:${p.sentOpenIds}`) });
  assert.deepEqual(partsSent().map((e) => [e.part, e.status]), [[1, 201], [2, null], [2, 409], [3, 201]]);
  assert.deepEqual(events, ['create0:0', 'upload1:10', 'upload2:20', 'upload3:25', 'seal3:25', 'done3:25']);
  assert.equal(result.received, 25);
});

test('503 once, then the same part succeeds; 429 waits for Retry-After', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => openid(i));
  faults.push({ route: 'part', part: 1, action: 'status', status: 503, code: 'busy' });
  faults.push({ route: 'part', part: 2, action: 'status', status: 429, code: 'rate_limited', headers: { 'retry-after': '1' } });
  faults.push({ route: 'seal', action: 'status', status: 502, code: 'upstream' });
  const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10 });
  const parts = partsSent();
  assert.deepEqual(parts.map((e) => [e.part, e.status]), [[1, 503], [1, 201], [2, 429], [2, 201], [3, 201]]);
  assert.equal(parts[1].hash, parts[0].hash);
  assert.ok(parts[3].at - parts[2].at >= 950, `waited ${parts[3].at - parts[2].at} ms after Retry-After: 1`);
  assert.deepEqual(partsSent('seal').map((e) => e.status), [502, 200]);
  assert.deepEqual(storedIds(), ids);
  assert.equal(result.received, 30);
});

test('retries run out: the last answer is thrown, with the part to resume from', async () => {
  faults.push(...Array.from({ length: 3 }, () => ({ route: 'part', part: 1, action: 'status', status: 500, code: 'internal', message: 'the worker failed' })));
  const err = await uploadAudience({ url: base, adminToken: TOKEN, openIds: [openid(1)], retries: 2 }).then(() => null, (e) => e);
  assert.ok(err instanceof WxmassError);
  assert.equal(err.status, 500);
  assert.equal(err.code, 'internal');
  assert.equal(err.part, 1);
  assert.match(err.message, /the worker failed/);
  assert.equal(partsSent().length, 3);
});

test('a 4xx surfaces at once as a WxmassError with the status, the worker code and message', async () => {
  const err = await uploadAudience({ url: base, adminToken: 'wrong', openIds: [openid(1)] }).then(() => null, (e) => e);
  assert.ok(err instanceof WxmassError);
  assert.ok(err instanceof Error);
  assert.equal(err.status, 401);
  assert.equal(err.code, 'unauthorized');
  assert.match(err.message, /401 unauthorized: no or wrong bearer token/);
  assert.equal(err.audienceId, null);
  assert.equal(log.length, 1, 'a 4xx is not retried');

  faults.push({ route: 'part', part: 2, action: 'status', status: 400, code: 'validation', message: 'bad part' });
  const ids = Array.from({ length: 30 }, (_, i) => openid(i));
  const bad = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10 }).then(() => null, (e) => e);
  assert.equal(bad.code, 'validation');
  assert.equal(bad.status, 400);
  assert.equal(bad.part, 2);
  const id = [...audiences.keys()][0];
  assert.equal(bad.audienceId, id);

  // Resume where it stopped: the same list and partSize, from the failed part.
  const events = [];
  const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10, audienceId: id, startPart: bad.part, onProgress: (p) => events.push(`${p.phase}${p.part}`) });
  assert.deepEqual(log.slice(-3).map((e) => [e.route, e.part, e.status]), [['part', 2, 201], ['part', 3, 201], ['seal', null, 200]]);
  assert.deepEqual(events, ['upload2', 'upload3', 'seal3', 'done3']);
  assert.equal(result.id, id);
  assert.equal(result.received, 30);
  assert.deepEqual(storedIds(), ids);
});

test('a resume that cuts its parts otherwise gets part_reused; an empty list, the seal refused', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => openid(i));
  const stop = (p) => {
    if (p.phase === 'upload') throw new Error('stop after part 1');
  };
  const stopped = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10, onProgress: stop }).catch((e) => e);
  assert.equal(stopped.message, 'stop after part 1');
  const id = [...audiences.keys()][0];
  const reused = await uploadAudience({ url: base, adminToken: TOKEN, audienceId: id, openIds: ids, partSize: 15 }).catch((e) => e);
  assert.ok(reused instanceof WxmassError);
  assert.equal(reused.code, 'part_reused');
  assert.equal(reused.status, 422);
  assert.equal(reused.part, 1);
  assert.equal(reused.path, 'part');
  assert.equal(reused.audienceId, id);
  assert.deepEqual(partsSent().map((e) => [e.part, e.status]), [[1, 201], [1, 422]]);

  reset();
  const empty = await uploadAudience({ url: base, adminToken: TOKEN, openIds: [] }).catch((e) => e);
  assert.equal(empty.status, 409);
  assert.equal(empty.code, 'conflict');
  assert.equal(empty.audienceId, [...audiences.keys()][0]);
  assert.deepEqual(log.map((e) => e.route), ['create', 'seal']);
});

test('a 409 that does not name the next part is thrown, with expectedPart', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => openid(i));
  const a = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids.slice(0, 10), partSize: 10, onProgress: (p) => { if (p.phase === 'upload') throw new Error('stop after part 1'); } }).catch((e) => e);
  assert.equal(a.message, 'stop after part 1');
  const id = [...audiences.keys()][0];
  const err = await uploadAudience({ url: base, adminToken: TOKEN, audienceId: id, startPart: 3, openIds: ids, partSize: 10 }).catch((e) => e);
  assert.ok(err instanceof WxmassError);
  assert.equal(err.status, 409);
  assert.equal(err.code, 'part_out_of_order');
  assert.equal(err.detail.expectedPart, 2);
  assert.equal(err.part, 3);
  assert.deepEqual(partsSent().map((e) => [e.part, e.status]), [[1, 201], [3, 409]]);
});

test('an async iterable (a stream of lines) is uploaded as it comes; the total is known at the end', async () => {
  const ids = Array.from({ length: 25 }, (_, i) => openid(i));
  let pulled = 0;
  async function* lines() {
    for (const id of ids) {
      pulled++;
      await new Promise((r) => setImmediate(r));
      yield id;
    }
  }
  const events = [];
  const result = await uploadAudience({
    url: base.slice(0, -1),
    adminToken: TOKEN,
    openIds: lines(),
    partSize: 10,
    onProgress: (p) => events.push([p.phase, p.part, p.sentOpenIds, p.totalOpenIds, pulled]),
  });
  assert.deepEqual(events, [
    ['create', 0, 0, undefined, 0],
    ['upload', 1, 10, undefined, 11], // part 1 went once the 11th entry came; not the whole list
    ['upload', 2, 20, undefined, 21],
    ['upload', 3, 25, undefined, 25],
    ['seal', 3, 25, 25, 25],
    ['done', 3, 25, 25, 25],
  ]);
  assert.deepEqual(partsSent().map((e) => e.body), [ids.slice(0, 10), ids.slice(10, 20), ids.slice(20)].map((l) => l.join('\n')));
  assert.equal(result.received, 25);

  // A Set (a sync iterable) works too.
  reset();
  await uploadAudience({ url: base, adminToken: TOKEN, openIds: new Set(ids), partSize: 20 });
  assert.deepEqual(storedIds(), ids);
});

test('entries a line would not carry (empty, spaces, line breaks, quotes) go as a JSON array part, at their positions', async () => {
  const ids = Array.from({ length: 12 }, (_, i) => openid(i));
  ids[11] = '';
  ids[12] = ' ';
  ids[13] = 'a\nb';
  ids[14] = 'say "hi" \\ 群发';
  ids.push(...Array.from({ length: 15 }, (_, i) => openid(100 + i)));
  const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10 });
  const parts = partsSent();
  assert.deepEqual(parts.map((e) => e.contentType), ['text/plain; charset=utf-8', 'application/json', 'text/plain; charset=utf-8']);
  assert.deepEqual(JSON.parse(parts[1].body), ids.slice(10, 20));
  assert.deepEqual(storedIds(), ids);
  assert.deepEqual(result.invalidShown, ids.slice(11, 15).map((value, i) => ({ position: 11 + i, value })));
  assert.equal(result.received, 30);
});

test('parts stay under the 4 MiB body cap: cut at ~3.5 MiB before partSize', async () => {
  for (const [unit, contentType] of [['x', 'text/plain; charset=utf-8'], ['群', 'application/json']]) {
    reset();
    const long = Array.from({ length: 9_000 }, (_, i) => `${i}`.padEnd(1000, unit));
    const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: long });
    const parts = partsSent();
    assert.ok(parts.length >= 3, `${parts.length} parts`);
    for (const p of parts) {
      assert.equal(p.status, 201);
      assert.equal(p.contentType, contentType);
      assert.ok(Buffer.byteLength(p.body) <= 3.5 * 1024 * 1024, `${Buffer.byteLength(p.body)} bytes`);
    }
    // Cut at the limit, not far below it.
    assert.ok(Buffer.byteLength(parts[0].body) > 3.4 * 1024 * 1024, `${Buffer.byteLength(parts[0].body)} bytes`);
    assert.deepEqual(storedIds(), long);
    assert.equal(result.received, 9_000);
  }
});

test('abort: before the start, during a request, during a Retry-After wait and between parts', async () => {
  const ids = Array.from({ length: 30 }, (_, i) => openid(i));
  const early = AbortSignal.abort();
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, signal: early }), { name: 'AbortError' });
  assert.equal(log.length, 0);

  faults.push({ route: 'part', part: 1, action: 'hang' });
  const during = new AbortController();
  setTimeout(() => during.abort(), 200);
  const t0 = Date.now();
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10, signal: during.signal }), { name: 'AbortError' });
  assert.ok(Date.now() - t0 < 2000);
  assert.deepEqual(log.map((e) => [e.route, e.part]), [['create', null], ['part', 1]], 'nothing after the aborted request');

  reset();
  faults.push({ route: 'part', part: 1, action: 'status', status: 429, code: 'rate_limited', headers: { 'retry-after': '30' } });
  const waiting = new AbortController();
  setTimeout(() => waiting.abort(new Error('user cancelled')), 200);
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 10, signal: waiting.signal }), { message: 'user cancelled' });
  assert.deepEqual(partsSent().map((e) => e.status), [429]);

  reset();
  const between = new AbortController();
  const err = await uploadAudience({
    url: base,
    adminToken: TOKEN,
    openIds: ids,
    partSize: 10,
    signal: between.signal,
    onProgress: (p) => {
      if (p.phase === 'upload' && p.part === 1) between.abort();
    },
  }).catch((e) => e);
  assert.equal(err.name, 'AbortError');
  assert.deepEqual(partsSent().map((e) => e.part), [1]);
  assert.equal(partsSent('seal').length, 0);
});

test('account: every request goes to that account\'s paths (/api/accounts/{id}/audiences…)', async () => {
  const ids = Array.from({ length: 5 }, (_, i) => openid(i));
  const result = await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids, partSize: 3, account: 'shop/1' });
  assert.deepEqual(log.map((e) => [e.route, e.part, e.account]), [['create', null, 'shop/1'], ['part', 1, 'shop/1'], ['part', 2, 'shop/1'], ['seal', null, 'shop/1']]);
  assert.deepEqual(storedIds(), ids);
  assert.equal(result.valid, 5);
  // Without it, the default account's paths.
  reset();
  await uploadAudience({ url: base, adminToken: TOKEN, openIds: ids });
  assert.deepEqual(log.map((e) => e.account), [null, null, null]);
});

test('options are checked before any request', async () => {
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: 'o1\no2' }), TypeError);
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: [openid(1), 2] }), /openIds\[1\] is number/);
  await assert.rejects(uploadAudience({ url: base, openIds: [] }), /adminToken/);
  await assert.rejects(uploadAudience({ url: 'not a url', adminToken: TOKEN, openIds: [] }), TypeError);
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: [], startPart: 2 }), /audienceId/);
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: [], partSize: 0 }), /partSize/);
  await assert.rejects(uploadAudience({ url: base, adminToken: TOKEN, openIds: [], account: '' }), /account/);
  assert.equal(log.length, 0);
});
