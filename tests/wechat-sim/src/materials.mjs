// Temporary media (media/upload), permanent materials (material/*), tags and follower lists, as
// WeChat's documentation states them (the sources are listed in README.md, "Media, materials,
// tags and followers"). Written from those pages, not from core.
import { WxError } from './errors.mjs';

export const MEDIA_TYPES = ['image', 'voice', 'video', 'thumb'];
const MiB = 1024 * 1024;

/** What the platform accepts per type: formats (by magic bytes and extension) and size. */
export const LIMITS = {
  temporary: {
    image: { formats: ['jpeg', 'png', 'gif'], max: 10 * MiB },
    voice: { formats: ['amr', 'mp3'], max: 2 * MiB },
    video: { formats: ['mp4'], max: 10 * MiB },
    thumb: { formats: ['jpeg'], max: 64 * 1024 },
  },
  permanent: {
    image: { formats: ['bmp', 'png', 'jpeg', 'gif'], max: 10 * MiB },
    voice: { formats: ['mp3', 'wma', 'wav', 'amr'], max: 2 * MiB },
    video: { formats: ['mp4'], max: 10 * MiB },
    thumb: { formats: ['jpeg'], max: 64 * 1024 },
  },
};

const EXTENSIONS = { jpeg: ['jpg', 'jpeg'], png: ['png'], gif: ['gif'], bmp: ['bmp'], mp3: ['mp3'], amr: ['amr'], wma: ['wma'], wav: ['wav'], mp4: ['mp4'] };
const ASF = Buffer.from('3026b2758e66cf11a6d900aa0062ce6c', 'hex');

/** The format of a file by its first bytes, or null. */
export function sniff(d) {
  const at = (i, s) => d.length >= i + s.length && d.subarray(i, i + s.length).equals(Buffer.isBuffer(s) ? s : Buffer.from(s, 'latin1'));
  if (d.length >= 3 && d[0] === 0xff && d[1] === 0xd8 && d[2] === 0xff) return 'jpeg';
  if (at(0, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (at(0, 'GIF87a') || at(0, 'GIF89a')) return 'gif';
  if (at(0, '#!AMR')) return 'amr';
  if (at(0, ASF)) return 'wma';
  if (at(0, 'RIFF') && at(8, 'WAVE')) return 'wav';
  if (at(4, 'ftyp')) return 'mp4';
  if (at(0, 'ID3') || (d.length >= 2 && d[0] === 0xff && (d[1] & 0xe0) === 0xe0 && ((d[1] >> 1) & 3) === 1)) return 'mp3';
  if (at(0, 'BM')) return 'bmp';
  return null;
}

/**
 * Checks an uploaded file for `kind` (temporary | permanent) of `type`: 40004 unknown type,
 * 40006 empty, 40005 a format (by bytes or by the file name's extension) the type does not take,
 * 45001 over the type's size.
 */
export function checkFile(kind, type, part) {
  if (!MEDIA_TYPES.includes(type)) throw new WxError(40004, `type must be one of ${MEDIA_TYPES.join(', ')}`);
  const { formats, max } = LIMITS[kind][type];
  const data = part.data;
  if (data.length === 0) throw new WxError(40006, 'empty file');
  const format = sniff(data);
  if (!formats.includes(format)) throw new WxError(40005, `${type} takes ${formats.join('/')}, got ${format ?? 'unknown bytes'}`);
  const ext = /\.([A-Za-z0-9]+)$/.exec(part.filename ?? '')?.[1]?.toLowerCase();
  if (!formats.some((f) => EXTENSIONS[f].includes(ext))) throw new WxError(40005, `file name ${JSON.stringify(part.filename)} has no ${type} extension`);
  if (data.length > max) throw new WxError(45001, `${data.length} bytes, ${type} is at most ${max}`);
  return format;
}

/**
 * One page of a follower list: at most `perPage` OpenIDs after `next` (empty: from the start).
 * A page that reaches the end says next_openid "" unless it is exactly full: then it names its
 * last OpenID, and the page after it is `{count: 0, next_openid: ""}` without `data` (the quirk
 * SDKs guard against).
 */
export function followerPage(list, next, perPage, { total } = {}) {
  let start = 0;
  if (next) {
    const i = list.indexOf(next);
    if (i < 0) throw new WxError(40003, 'next_openid is not in this list');
    start = i + 1;
  }
  const ids = list.slice(start, start + perPage);
  const head = total === undefined ? {} : { total };
  if (ids.length === 0) return { ...head, count: 0, next_openid: '' };
  const full = ids.length === perPage;
  const end = start + ids.length >= list.length;
  return { ...head, count: ids.length, data: { openid: ids }, next_openid: end && !full ? '' : ids[ids.length - 1] };
}
