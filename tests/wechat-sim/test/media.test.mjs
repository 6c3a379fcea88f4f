import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, api, ctl, getToken } from '../testlib/helpers.mjs';

let sim;
let token;
before(async () => {
  sim = await startSim();
  token = await getToken(sim);
});
after(() => sim.close());

const JPEG = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(100, 1)]);
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100, 2)]);
const upload = (data, name = 'media', filename = 'a.jpg') => {
  const fd = new FormData();
  fd.append(name, new Blob([data]), filename);
  return api(sim, 'cgi-bin/media/uploadimg', { token, body: fd });
};
const news = (articles, extra = {}) => api(sim, 'cgi-bin/media/uploadnews', { token, body: { articles, ...extra } });
const art = (o = {}) => ({ thumb_media_id: 'sim-thumb-media-id-0001', title: 'T', content: '<p>c</p>', ...o });

test('uploadimg: jpg and png give an mmbiz URL', async () => {
  const a = await upload(JPEG);
  assert.match(a.json.url, /^http:\/\/mmbiz\.qpic\.cn\/mmbiz_jpg\/[A-Za-z0-9_-]+\/0$/);
  const b = await upload(PNG, 'media', 'b.png');
  assert.match(b.json.url, /^http:\/\/mmbiz\.qpic\.cn\/mmbiz_png\//);
  const m = await ctl(sim, 'GET', 'media');
  assert.ok(m.imageUrls.some((i) => i.url === a.json.url));
});

test('uploadimg: gif 40005, 1 MB 40006, empty 40006, no media part 41005, not multipart 41005', async () => {
  assert.equal((await upload(Buffer.from('GIF89a....'))).json.errcode, 40005);
  const big = Buffer.concat([JPEG, Buffer.alloc(1024 * 1024)]);
  assert.equal((await upload(big)).json.errcode, 40006);
  assert.equal((await upload(Buffer.alloc(0))).json.errcode, 40006);
  assert.equal((await upload(JPEG, 'file')).json.errcode, 41005);
  assert.equal((await api(sim, 'cgi-bin/media/uploadimg', { token, body: '{}' })).json.errcode, 41005);
  assert.equal((await api(sim, 'cgi-bin/media/uploadimg', { token: 'x', body: '{}' })).json.errcode, 40001);
});

test('uploadnews: 1 and 8 articles accepted with opaque media_id', async () => {
  const one = await news([art({ author: 'a', digest: 'd', content_source_url: 'https://x', show_cover_pic: 1, need_open_comment: 0, only_fans_can_comment: 1 })]);
  assert.equal(one.json.type, 'news');
  assert.match(one.json.media_id, /^[A-Za-z0-9_-]{64}$/);
  assert.equal(typeof one.json.created_at, 'number');
  const eight = await news(Array.from({ length: 8 }, () => art()));
  assert.equal(eight.json.type, 'news');
  assert.notEqual(eight.json.media_id, one.json.media_id);
});

test('uploadnews errors: 0 articles 44003, 9 articles 45008, missing fields, unknown fields, flags', async () => {
  assert.equal((await news([])).json.errcode, 44003);
  assert.equal((await api(sim, 'cgi-bin/media/uploadnews', { token, body: {} })).json.errcode, 44003);
  assert.equal((await news(Array.from({ length: 9 }, () => art()))).json.errcode, 45008);
  assert.equal((await news(Array.from({ length: 10 }, () => art()))).json.errcode, 45008); // seed 001's old limit
  assert.equal((await news([art({ title: undefined })])).json.errcode, 40035);
  assert.equal((await news([art({ title: '' })])).json.errcode, 40035);
  assert.equal((await news([art({ content: '' })])).json.errcode, 44004);
  assert.equal((await news([art({ thumb_media_id: undefined })])).json.errcode, 40007);
  assert.equal((await news([art({ thumb_media_id: 'never-issued' })])).json.errcode, 40007);
  assert.equal((await news([art({ thumb_media_id: 'sim-voice-media-id-0001' })])).json.errcode, 40007);
  const unk = await news([art({ thumbmediaid: 'x' })]);
  assert.equal(unk.json.errcode, 47001);
  assert.match(unk.json.errmsg, /articles\[0\]\.thumbmediaid/);
  assert.equal((await news([art()], { extra: 1 })).json.errcode, 47001);
  assert.equal((await news([art({ show_cover_pic: 2 })])).json.errcode, 40035);
  assert.equal((await news([art({ show_cover_pic: '1' })])).json.errcode, 47001);
  assert.equal((await news([art({ title: 5 })])).json.errcode, 47001);
  assert.equal((await news('not-an-array')).json.errcode, 47001);
  assert.equal((await news(['x'])).json.errcode, 47001);
  assert.equal((await api(sim, 'cgi-bin/media/uploadnews', { token, body: '' })).json.errcode, 44002);
  assert.equal((await api(sim, 'cgi-bin/media/uploadnews', { token, body: '{"articles":[' })).json.errcode, 47001);
  assert.equal((await api(sim, 'cgi-bin/media/uploadnews', { token, body: '[]' })).json.errcode, 47001);
  assert.equal((await api(sim, 'cgi-bin/media/uploadnews', { token, method: 'GET' })).json.errcode, 43002);
});

test('uploadnews with strictFields off ignores unknown fields', async () => {
  await ctl(sim, 'POST', 'config', { strictFields: false });
  try {
    assert.equal((await news([art({ extra: 1 })])).json.type, 'news');
  } finally {
    await ctl(sim, 'POST', 'config', { strictFields: true });
  }
});

test('uploadvideo: uploaded video -> mass-send video id; errors 40007/47001', async () => {
  const ok = await api(sim, 'cgi-bin/media/uploadvideo', { token, body: { media_id: 'sim-video-media-id-0001', title: 'T', description: 'D' } });
  assert.equal(ok.json.type, 'video');
  assert.match(ok.json.media_id, /^[A-Za-z0-9_-]{64}$/);
  assert.equal(typeof ok.json.created_at, 'number');
  const v = (b) => api(sim, 'cgi-bin/media/uploadvideo', { token, body: b });
  assert.equal((await v({ title: 'T' })).json.errcode, 40007);
  assert.equal((await v({ media_id: 'unknown' })).json.errcode, 40007);
  assert.equal((await v({ media_id: 'sim-image-media-id-0001' })).json.errcode, 40007);
  assert.equal((await v({ media_id: 'sim-video-media-id-0001', title: 1 })).json.errcode, 47001);
  assert.equal((await v({ media_id: 'sim-video-media-id-0001', thumb: 'x' })).json.errcode, 47001);
});

test('control: pre-seeded media ids are usable', async () => {
  await ctl(sim, 'POST', 'media', { media_id: 'my-thumb', type: 'thumb' });
  assert.equal((await news([art({ thumb_media_id: 'my-thumb' })])).json.type, 'news');
  await assert.rejects(ctl(sim, 'POST', 'media', { media_id: 'x', type: 'gif' }), /type must be/);
});
