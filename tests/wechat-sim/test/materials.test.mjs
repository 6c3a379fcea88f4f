// media/upload, add_material, the material lists, tags/get, user/tag/get and user/get: limits,
// errors and paging, and media ids that the mass endpoints then accept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startSim, api, ctl, getToken, openids } from '../testlib/helpers.mjs';

let sim;
let token;
before(async () => {
  sim = await startSim();
  token = await getToken(sim);
});
after(() => sim.close());

const KiB = 1024;
const MiB = 1024 * KiB;
const jpeg = (n = 100) => Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(n - 4, 1)]);
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(50, 2)]);
const gif = Buffer.from('GIF89a' + 'x'.repeat(40));
const bmp = Buffer.from('BM' + 'x'.repeat(40));
const mp3 = (n = 64) => Buffer.concat([Buffer.from('ID3'), Buffer.alloc(n - 3, 3)]);
const amr = Buffer.from('#!AMR\n' + 'x'.repeat(40));
const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WAVEfmt '), Buffer.alloc(30)]);
const mp4 = (n = 64) => Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypmp42'), Buffer.alloc(n - 12, 4)]);

function form(data, filename, extra = {}) {
  const fd = new FormData();
  fd.append('media', new Blob([data]), filename);
  for (const [k, v] of Object.entries(extra)) fd.append(k, v);
  return fd;
}
const upload = (type, data, filename) => api(sim, 'cgi-bin/media/upload', { token, query: type === undefined ? {} : { type }, body: form(data, filename) });
const material = (type, data, filename, extra) => api(sim, 'cgi-bin/material/add_material', { token, query: { type }, body: form(data, filename, extra) });
const sendAll = (body) => api(sim, 'cgi-bin/message/mass/sendall', { token, body: { filter: { is_to_all: true }, ...body } });

test('media/upload: each type gives a media_id (a thumb as thumb_media_id) that the mass endpoints accept', async () => {
  const image = await upload('image', jpeg(), 'a.jpg');
  assert.equal(image.json.type, 'image');
  assert.match(image.json.media_id, /^[A-Za-z0-9_-]{64}$/);
  assert.equal(typeof image.json.created_at, 'number');
  const voice = await upload('voice', amr, 'v.amr');
  const video = await upload('video', mp4(), 'v.mp4');
  const thumb = await upload('thumb', jpeg(), 't.jpg');
  assert.equal(thumb.json.type, 'thumb');
  assert.match(thumb.json.thumb_media_id, /^[A-Za-z0-9_-]{64}$/);
  assert.equal(thumb.json.media_id, undefined);

  assert.equal((await sendAll({ msgtype: 'image', image: { media_id: image.json.media_id } })).json.errcode, 0);
  assert.equal((await sendAll({ msgtype: 'voice', voice: { media_id: voice.json.media_id } })).json.errcode, 0);
  const mpvideo = await api(sim, 'cgi-bin/media/uploadvideo', { token, body: { media_id: video.json.media_id, title: 't', description: 'd' } });
  assert.equal(mpvideo.json.type, 'video');
  const preview = await api(sim, 'cgi-bin/message/mass/preview', { token, body: { touser: openids(1)[0], msgtype: 'mpvideo', mpvideo: { media_id: mpvideo.json.media_id } } });
  assert.equal(preview.json.errcode, 0);
  const news = await api(sim, 'cgi-bin/media/uploadnews', { token, body: { articles: [{ thumb_media_id: thumb.json.thumb_media_id, title: 'T', content: '<p>c</p>' }] } });
  assert.equal(news.json.type, 'news');
  // An image id is no voice.
  assert.equal((await sendAll({ msgtype: 'voice', voice: { media_id: image.json.media_id } })).json.errcode, 40007);
});

test('media/upload: type 40004, format 40005 (bytes or extension), empty 40006, size 45001, no media part 41005', async () => {
  assert.equal((await upload(undefined, jpeg(), 'a.jpg')).json.errcode, 40004);
  assert.equal((await upload('file', jpeg(), 'a.jpg')).json.errcode, 40004);
  assert.equal((await upload('thumb', png, 'a.png')).json.errcode, 40005);
  assert.equal((await upload('image', bmp, 'a.bmp')).json.errcode, 40005); // temporary images: jpg/png/gif
  assert.equal((await upload('image', gif, 'a.gif')).json.type, 'image');
  assert.equal((await upload('image', jpeg(), 'photo')).json.errcode, 40005);
  assert.equal((await upload('voice', wav, 'v.wav')).json.errcode, 40005); // temporary voice: amr/mp3
  assert.equal((await upload('image', Buffer.alloc(0), 'a.jpg')).json.errcode, 40006);
  assert.equal((await upload('thumb', jpeg(64 * KiB), 't.jpg')).json.type, 'thumb');
  assert.equal((await upload('thumb', jpeg(64 * KiB + 1), 't.jpg')).json.errcode, 45001);
  assert.equal((await upload('voice', mp3(2 * MiB + 1), 'v.mp3')).json.errcode, 45001);
  assert.equal((await upload('video', mp4(10 * MiB + 1), 'v.mp4')).json.errcode, 45001);
  const fd = new FormData();
  fd.append('file', new Blob([jpeg()]), 'a.jpg');
  assert.equal((await api(sim, 'cgi-bin/media/upload', { token, query: { type: 'image' }, body: fd })).json.errcode, 41005);
});

test('add_material: permanent formats, a video needs its description, images get a url, lists and counts page', async () => {
  await ctl(sim, 'POST', 'reset');
  token = await getToken(sim);
  const img = await material('image', bmp, 'a.bmp');
  assert.match(img.json.url, /^http:\/\/mmbiz\.qpic\.cn\//);
  assert.equal((await material('voice', wav, 'v.wav')).json.url, undefined);
  assert.equal((await material('video', mp4(), 'v.mp4')).json.errcode, 40035);
  assert.equal((await material('video', mp4(), 'v.mp4', { description: 'not json' })).json.errcode, 47001);
  assert.equal((await material('video', mp4(), 'v.mp4', { description: '{"introduction":"i"}' })).json.errcode, 40035);
  const video = await material('video', mp4(), 'v.mp4', { description: JSON.stringify({ title: '标题', introduction: 'intro' }) });
  assert.match(video.json.media_id, /^[A-Za-z0-9_-]{64}$/);
  for (let i = 0; i < 22; i++) await material('image', jpeg(), `p${i}.jpg`);

  const count = await api(sim, 'cgi-bin/material/get_materialcount', { method: 'GET', token });
  assert.deepEqual(count.json, { voice_count: 1, video_count: 1, image_count: 23, news_count: 0 });
  const page = (body) => api(sim, 'cgi-bin/material/batchget_material', { token, body });
  const first = await page({ type: 'image', offset: 0, count: 20 });
  assert.equal(first.json.total_count, 23);
  assert.equal(first.json.item_count, 20);
  assert.equal(first.json.item[0].name, 'p21.jpg'); // newest first
  const last = await page({ type: 'image', offset: 20, count: 20 });
  assert.equal(last.json.item_count, 3);
  assert.equal(last.json.item[2].media_id, img.json.media_id);
  assert.equal((await page({ type: 'thumb', offset: 0, count: 1 })).json.errcode, 40004);
  assert.equal((await page({ type: 'image', offset: 0, count: 21 })).json.errcode, 40035);
  assert.equal((await page({ type: 'image', offset: 0, count: 0 })).json.errcode, 40035);
  // A permanent image is a cover and an image message like a temporary one.
  assert.equal((await sendAll({ msgtype: 'image', image: { media_id: img.json.media_id } })).json.errcode, 0);
});

test('tags/get lists every tag with its name and follower count', async () => {
  await ctl(sim, 'POST', 'reset');
  token = await getToken(sim);
  const r = await api(sim, 'cgi-bin/tags/get', { method: 'GET', token });
  assert.deepEqual(r.json, { tags: [{ id: 2, name: '星标组', count: 10 }, { id: 100, name: 'tag 100', count: 10 }] });
  assert.equal((await api(sim, 'cgi-bin/tags/get', { token, body: '{}' })).json.errcode, 43001);
});

test('user/get and user/tag/get page 10,000 OpenIDs at a time; an exactly full last page is followed by an empty one', async () => {
  const followers = openids(20_000, 'oFol');
  const tagged = followers.slice(0, 12_345);
  await ctl(sim, 'POST', 'followers', { followers, tags: { 134: tagged } });
  const userGet = (next) => api(sim, 'cgi-bin/user/get', { method: 'GET', token, query: next ? { next_openid: next } : {} });
  const p1 = await userGet();
  assert.equal(p1.json.total, 20_000);
  assert.equal(p1.json.count, 10_000);
  assert.equal(p1.json.next_openid, followers[9_999]);
  const p2 = await userGet(p1.json.next_openid);
  assert.equal(p2.json.data.openid[0], followers[10_000]);
  assert.equal(p2.json.next_openid, followers[19_999]); // exactly full: the list does not say it ended
  const p3 = await userGet(p2.json.next_openid);
  assert.deepEqual(p3.json, { total: 20_000, count: 0, next_openid: '' });
  assert.equal((await userGet(openids(1, 'oNot')[0])).json.errcode, 40003);

  const tagGet = (body) => api(sim, 'cgi-bin/user/tag/get', { token, body });
  const t1 = await tagGet({ tagid: 134, next_openid: '' });
  assert.equal(t1.json.count, 10_000);
  assert.equal(t1.json.total, undefined);
  const t2 = await tagGet({ tagid: 134, next_openid: t1.json.next_openid });
  assert.equal(t2.json.count, 2_345);
  assert.equal(t2.json.next_openid, ''); // a short last page ends the list, as documented
  assert.equal((await tagGet({ tagid: 999 })).json.errcode, 45159);
  assert.equal((await tagGet({})).json.errcode, 40035);
  assert.equal((await tagGet({ tagid: 134, next_openid: 'x'.repeat(28) })).json.errcode, 40003);
  assert.equal((await tagGet({ tagid: 134, x: 1 })).json.errcode, 47001);
});
