// The issue-27 commands as a user runs them (the installed bin as a child process) against the
// WeChat simulator: media upload (temporary and permanent), tags, audience from-tag and
// followers; a file WeChat would refuse is refused before any call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { dir, wxmass } from './cli-helpers.mjs';

const repo = process.env.WXMASS_REPO;
assert.ok(repo, 'WXMASS_REPO must point at the repository (scripts/test-npm sets it)');
const { createSimulator } = await import(`${repo}/tests/wechat-sim/src/server.mjs`);

let sim;
let env;
before(async () => {
  sim = await createSimulator({ timeScale: 0.001, log: () => {} });
  const cfg = await (await fetch(`${sim.url}/__sim/config`)).json();
  env = { APP_ID: cfg.appId, APP_SECRET: cfg.appSecret, WECHAT_API_BASE: sim.url };
});
after(() => sim?.close());

const calls = async () => (await (await fetch(`${sim.url}/__sim/stats`)).json()).calls;
const jpeg = (n = 64) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(n - 4, 7)]);
const mp4 = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(20)]);

test('media upload: a temporary thumb prints its media_id; --json gives the result; the id is sendable', async () => {
  const d = dir();
  writeFileSync(join(d, 'cover.jpg'), jpeg());
  const r = await wxmass(['media', 'upload', join(d, 'cover.jpg'), '--type', 'thumb'], { env });
  assert.equal(r.code, 0, r.stderr);
  const id = r.stdout.trim();
  assert.match(id, /^[A-Za-z0-9_-]{64}$/);
  assert.match(r.stderr, /uploaded .*cover\.jpg as a temporary \(3 days\) thumb/);
  const news = await fetch(`${sim.url}/cgi-bin/media/uploadnews?access_token=${await token()}`, { method: 'POST', body: JSON.stringify({ articles: [{ thumb_media_id: id, title: 'T', content: '<p>x</p>' }] }) });
  assert.equal((await news.json()).type, 'news');

  writeFileSync(join(d, 'clip.mp4'), mp4);
  const j = await wxmass(['media', 'upload', join(d, 'clip.mp4'), '--type', 'video', '--permanent', '--title', '标题', '--introduction', 'intro', '--json'], { env });
  assert.equal(j.code, 0, j.stderr);
  const result = JSON.parse(j.stdout);
  assert.equal(result.ok, true);
  assert.equal(result.permanent, true);
  assert.match(result.mediaId, /^[A-Za-z0-9_-]{64}$/);
});

async function token() {
  const cfg = await (await fetch(`${sim.url}/__sim/config`)).json();
  const r = await fetch(`${sim.url}/cgi-bin/stable_token`, { method: 'POST', body: JSON.stringify({ grant_type: 'client_credential', appid: cfg.appId, secret: cfg.appSecret }) });
  return (await r.json()).access_token;
}

test('media upload refuses a wrong or oversized file before any call (exit 1, path, rule, en and zh); usage errors exit 2', async () => {
  const d = dir();
  writeFileSync(join(d, 'cover.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]));
  writeFileSync(join(d, 'big.jpg'), jpeg(64 * 1024 + 1));
  const before = await calls();
  const wrong = await wxmass(['media', 'upload', join(d, 'cover.png'), '--type', 'thumb'], { env });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /nothing was uploaded/);
  assert.match(wrong.stderr, /media .*\[media_format\]/);
  assert.match(wrong.stderr, /en: media must be JPEG for an upload of type thumb/);
  assert.match(wrong.stderr, /zh: media 类型为 thumb 的上传须是 JPEG/);
  const big = await wxmass(['media', 'upload', join(d, 'big.jpg'), '--type', 'thumb', '--json'], { env });
  assert.equal(big.code, 1);
  const err = JSON.parse(big.stdout).error;
  assert.deepEqual(err.problems.map((p) => [p.path, p.rule]), [['media', 'max_bytes']]);
  assert.match(err.problems[0].zh, /不能超过 65536 字节/);
  const video = await wxmass(['media', 'upload', join(d, 'big.jpg'), '--type', 'video', '--permanent'], { env });
  assert.equal(video.code, 1);
  assert.match(video.stderr, /title/);
  assert.equal(await calls(), before, 'nothing reached WeChat');
  assert.equal((await wxmass(['media', 'upload', join(d, 'big.jpg')], { env })).code, 2);
  assert.equal((await wxmass(['media', 'upload', join(d, 'nope.jpg'), '--type', 'thumb'], { env })).code, 2);
  assert.equal((await wxmass(['media', 'upload', join(d, 'cover.png'), '--type', 'image', '--title', 'x'], { env })).code, 2);
  const noCreds = await wxmass(['media', 'upload', join(d, 'cover.png'), '--type', 'image'], {});
  assert.equal(noCreds.code, 2);
  assert.match(noCreds.stderr, /APP_ID and APP_SECRET/);
});

test('tags lists id, followers and name; --json gives them', async () => {
  const r = await wxmass(['tags'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^2\s+10\s+星标组$/m);
  assert.match(r.stdout, /^100\s+10\s+tag 100$/m);
  const j = await wxmass(['tags', '--json'], { env });
  assert.deepEqual(JSON.parse(j.stdout).tags, [{ id: 2, name: '星标组', count: 10 }, { id: 100, name: 'tag 100', count: 10 }]);
});

test('audience from-tag writes a tag\'s followers across pages; followers (or from-tag without an id) takes everyone; an unknown tag exits 3', async () => {
  const followers = Array.from({ length: 10_005 }, (_, i) => `oCli${String(i).padStart(24, '0')}`);
  await fetch(`${sim.url}/__sim/followers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ followers, tags: { 134: followers.slice(5) } }) });
  const d = dir();
  const out = join(d, 'tag134.txt');
  const r = await wxmass(['audience', 'from-tag', '134', '--out', out, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { ok: true, source: 'tag', tagId: 134, count: 10_000, total: null, pages: 2, out });
  assert.match(r.stderr, /page 1: 10,000 OpenIDs/);
  assert.equal(readFileSync(out, 'utf8'), `${followers.slice(5).join('\n')}\n`);
  // What plan reads.
  writeFileSync(join(d, 'msg.json'), JSON.stringify({ msgtype: 'text', text: { content: 'hi' } }));
  const plan = await wxmass(['plan', '--openids', out, '--message', join(d, 'msg.json'), '--json'], { env });
  assert.equal(plan.code, 0, plan.stderr);

  const all = await wxmass(['audience', 'followers'], { env });
  assert.equal(all.code, 0, all.stderr);
  assert.equal(all.stdout, `${followers.join('\n')}\n`);
  const same = await wxmass(['audience', 'from-tag', '--json'], { env });
  const j = JSON.parse(same.stdout);
  assert.equal(j.count, 10_005);
  assert.equal(j.total, 10_005);
  assert.equal(j.openIds.length, 10_005);

  const unknown = await wxmass(['audience', 'from-tag', '999'], { env });
  assert.equal(unknown.code, 3);
  assert.match(unknown.stderr, /45159/);
  assert.equal((await wxmass(['audience', 'from-tag', 'abc'], { env })).code, 2);
  assert.equal((await wxmass(['audience', 'nope'], { env })).code, 2);
});
