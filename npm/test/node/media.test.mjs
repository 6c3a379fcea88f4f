// Issue 27 from the installed package: media/upload and add_material built and checked by core
// (format from the bytes, extension, size) before anything is sent, the material, tag and
// follower calls, core's follower pager, and the client's calls and follower helper against the
// WeChat simulator (a media_id it returns is then sendable).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as wx from 'wxmass';

const repo = process.env.WXMASS_REPO;
assert.ok(repo, 'WXMASS_REPO must point at the repository (scripts/test-npm sets it)');
const { createSimulator } = await import(`${repo}/tests/wechat-sim/src/server.mjs`);

let sim;
let cfg;
before(async () => {
  sim = await createSimulator({ timeScale: 0.001, log: () => {} });
  cfg = await (await fetch(`${sim.url}/__sim/config`)).json();
});
after(() => sim?.close());

const jpeg = (n = 64) => {
  const b = new Uint8Array(n).fill(7);
  b.set([0xff, 0xd8, 0xff, 0xe0]);
  return b;
};
const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const mp4 = new Uint8Array([0, 0, 0, 0x18, ...new TextEncoder().encode('ftypmp42'), 0, 0, 0, 0]);
const client = (extra = {}) => createClientFor(extra);
const createClientFor = (extra) => wx.createClient({ appId: cfg.appId, appSecret: cfg.appSecret, apiBase: sim.url, ...extra });

test('endpoints name the new calls with their methods; the file uploads are not JSON', () => {
  const byName = Object.fromEntries(wx.endpoints.map((e) => [e.name, e]));
  for (const name of ['media/upload', 'material/add_material', 'material/batchget_material', 'user/tag/get']) assert.equal(byName[name].method, 'POST', name);
  for (const name of ['material/get_materialcount', 'tags/get', 'user/get']) assert.equal(byName[name].method, 'GET', name);
  assert.equal(byName['media/upload'].mass, false);
  assert.equal(byName.sendall.method, 'POST');
});

test('buildMediaUpload: multipart with the caller\'s boundary, the type in the query, bytes as given', () => {
  const req = wx.buildMediaUpload({ type: 'thumb', filename: 'cover.jpg', media: jpeg(), boundary: 'b0und' }, { accessToken: 'T' });
  assert.equal(req.method, 'POST');
  assert.equal(req.url, 'https://api.weixin.qq.com/cgi-bin/media/upload?type=thumb&access_token=T');
  assert.equal(req.contentType, 'multipart/form-data; boundary=b0und');
  assert.ok(req.body instanceof Uint8Array);
  const text = Buffer.from(req.body).toString('latin1');
  assert.ok(text.startsWith('--b0und\r\nContent-Disposition: form-data; name="media"; filename="cover.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'));
  assert.ok(text.endsWith('\r\n--b0und--\r\n'));
  // buildRequest dispatches the same way.
  assert.deepEqual(wx.buildRequest('media/upload', { type: 'thumb', filename: 'cover.jpg', media: jpeg(), boundary: 'b0und' }, { accessToken: 'T' }), req);
});

test('media refusals name the field and the rule in en and zh, before any call', () => {
  const thumbPng = wx.validateMediaUpload({ type: 'thumb', filename: 'c.png', media: png });
  assert.equal(thumbPng.ok, false);
  assert.deepEqual(thumbPng.problems.map((p) => [p.path, p.rule]), [['filename', 'media_format'], ['media', 'media_format']]);
  assert.match(thumbPng.problems[1].message, /must be JPEG for an upload of type thumb/);
  assert.match(thumbPng.problems[1].zh, /类型为 thumb 的上传须是 JPEG/);
  const big = wx.validateMediaUpload({ type: 'thumb', filename: 'c.jpg', media: jpeg(64 * 1024 + 1) });
  assert.deepEqual(big.problems.map((p) => [p.path, p.rule, p.value]), [['media', 'max_bytes', '65537']]);
  assert.equal(wx.validateMediaUpload({ type: 'thumb', filename: 'c.jpg', media: jpeg(64 * 1024) }).ok, true);
  const badType = wx.validateMediaUpload({ type: 'file', filename: 'c.jpg', media: jpeg() });
  assert.deepEqual(badType.problems.map((p) => [p.path, p.rule]), [['type', 'type']]);
  assert.throws(() => wx.buildMediaUpload({ type: 'video', filename: 'clip', media: new Uint8Array(0) }), (e) => e instanceof wx.WxmassError && e.code === 'validation' && e.problems.length === 2);
  const video = wx.validateAddMaterial({ type: 'video', filename: 'v.mp4', media: mp4 });
  assert.deepEqual(video.problems.map((p) => [p.path, p.rule]), [['title', 'required']]);
  assert.equal(wx.validateAddMaterial({ type: 'video', filename: 'v.mp4', media: mp4, title: 'T', introduction: 'I' }).ok, true);
});

test('JSON builders: material pages, tags, a tag\'s page, user/get with its cursor in the URL', () => {
  assert.deepEqual(JSON.parse(wx.buildBatchGetMaterial({ type: 'image', count: 20 }).body), { type: 'image', offset: 0, count: 20 });
  assert.deepEqual(wx.validateBatchGetMaterial({ type: 'image', count: 21 }).problems.map((p) => [p.path, p.rule]), [['count', 'range']]);
  const tags = wx.buildTagsGet();
  assert.equal(tags.method, 'GET');
  assert.equal(tags.body, '');
  assert.deepEqual(JSON.parse(wx.buildUserTagGet({ tagId: 134 }).body), { tagid: 134, next_openid: '' });
  const a = wx.buildUserGet({ nextOpenid: 'ocYxcuBt0mRugKZ7tGAHPnUaOW7Y' }, { accessToken: 'T' });
  const b = wx.buildUserGet({ nextOpenid: 'ocYxcuAEy30bX0NXmGn4ypqx3tI0' }, { accessToken: 'T' });
  assert.equal(a.url, 'https://api.weixin.qq.com/cgi-bin/user/get?next_openid=ocYxcuBt0mRugKZ7tGAHPnUaOW7Y&access_token=T');
  assert.notEqual(a.url, b.url);
  assert.deepEqual(wx.validateUserGet({ nextOpenid: 'NEXT_OPENID' }).problems.map((p) => [p.path, p.rule]), [['nextOpenid', 'openid_format']]);
});

test('replies: a thumb\'s thumb_media_id is mediaId; tags; follower pages in camelCase', () => {
  assert.deepEqual(wx.parseReply('media/upload', '{"type":"thumb","thumb_media_id":"T1","created_at":1}'), { type: 'thumb', mediaId: 'T1', createdAt: 1 });
  assert.deepEqual(wx.parseReply('tags/get', '{"tags":[{"id":2,"name":"星标组","count":3}]}'), { tags: [{ id: 2, name: '星标组', count: 3 }] });
  assert.deepEqual(wx.parseReply('user/get', '{"total":23000,"count":0,"next_openid":""}'), { total: 23000, count: 0, data: { openid: [] }, nextOpenid: '' });
  assert.throws(() => wx.parseReply('user/tag/get', '{"errcode":45159,"errmsg":"invalid tag id"}'), (e) => e instanceof wx.ApiError && e.errcode === 45159);
});

test('FollowerPager: pages until an empty next_openid or an empty page; a page that does not move on throws', () => {
  const id = (i) => `o${String(i).padStart(27, '0')}`;
  const pager = new wx.FollowerPager({ tagId: 2 });
  assert.equal(pager.endpoint, 'user/tag/get');
  assert.deepEqual(JSON.parse(pager.nextRequest().body), { tagid: 2, next_openid: '' });
  const step = pager.feed(JSON.stringify({ count: 2, data: { openid: [id(1), id(2)] }, next_openid: id(2) }));
  assert.deepEqual(step, { openIds: [id(1), id(2)], total: null, done: false });
  assert.equal(pager.cursor, id(2));
  assert.equal(pager.feed('{"count":0,"next_openid":""}').done, true);
  assert.equal(pager.nextRequest(), null);
  const stuck = new wx.FollowerPager({ cursor: id(2) });
  assert.throws(() => stuck.feed(JSON.stringify({ total: 3, count: 1, data: { openid: [id(3)] }, next_openid: id(2) })), (e) => e instanceof wx.WxmassError && e.code === 'paging');
  assert.throws(() => new wx.FollowerPager({ tagId: 'x' }), (e) => e instanceof wx.WxmassError && e.path === 'tagId');
});

test('client: upload each type, send with the ids, list tags and materials, and page 20,001 followers', async () => {
  const c = client();
  const image = await c.call('media/upload', { type: 'image', filename: 'a.png', media: png });
  assert.equal(image.type, 'image');
  const thumb = await c.call('media/upload', { type: 'thumb', filename: 't.jpg', media: jpeg() });
  assert.match(thumb.mediaId, /^[A-Za-z0-9_-]{64}$/);
  const news = await c.call('uploadnews', { articles: [{ thumbMediaId: thumb.mediaId, title: 'T', content: '<p>x</p>' }] });
  const video = await c.call('material/add_material', { type: 'video', filename: 'v.mp4', media: mp4, title: '标题', introduction: 'i' });
  const mpvideo = await c.call('uploadvideo', { mediaId: video.mediaId, title: 't', description: 'd' });
  for (const message of [{ msgType: 'image', image: { mediaId: image.mediaId } }, { msgType: 'mpnews', mpnews: { mediaId: news.mediaId } }, { msgType: 'mpvideo', mpvideo: { mediaId: mpvideo.mediaId } }]) {
    const sent = await c.call('sendall', { filter: { isToAll: false, tagId: 2 }, ...message });
    assert.match(sent.msgId, /^\d+$/);
  }
  const material = await c.call('material/add_material', { type: 'image', filename: 'p.jpg', media: jpeg() });
  assert.match(material.url, /^http:\/\/mmbiz\.qpic\.cn\//);
  assert.deepEqual(await c.call('material/get_materialcount', {}), { voiceCount: 0, videoCount: 1, imageCount: 1, newsCount: 0 });
  const page = await c.call('material/batchget_material', { type: 'image', offset: 0, count: 1 });
  assert.equal(page.item[0].mediaId, material.mediaId);
  const { tags } = await c.call('tags/get', {});
  assert.deepEqual(tags.map((t) => t.id), [2, 100]);

  // A refusal before any call: the simulator never sees it.
  const before = (await (await fetch(`${sim.url}/__sim/stats`)).json()).calls;
  await assert.rejects(c.call('media/upload', { type: 'thumb', filename: 't.png', media: png }), (e) => e instanceof wx.WxmassError && e.code === 'validation');
  assert.equal((await (await fetch(`${sim.url}/__sim/stats`)).json()).calls, before);

  const followers = Array.from({ length: 20_001 }, (_, i) => `oNpm${String(i).padStart(24, '0')}`);
  await fetch(`${sim.url}/__sim/followers`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ followers, tags: { 134: followers.slice(0, 20_000) } }) });
  const seen = [];
  const all = await c.followers({ onPage: (p) => seen.push([p.openIds.length, p.done]) });
  assert.equal(all.openIds.length, 20_001);
  assert.deepEqual(all.openIds, followers);
  assert.equal(all.total, 20_001);
  assert.deepEqual(seen, [[10_000, false], [10_000, false], [1, true]]);
  // Exactly two full pages: the third, empty page ends it.
  const tagged = await c.followers({ tagId: 134 });
  assert.equal(tagged.openIds.length, 20_000);
  assert.equal(tagged.pages, 3);
  await assert.rejects(c.followers({ tagId: 999 }), (e) => e instanceof wx.ApiError && e.errcode === 45159);
});
