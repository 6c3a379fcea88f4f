// WeChat message crypto ("safe mode" / 安全模式), as the platform applies it to pushed events.
//
// key = base64decode(EncodingAESKey + "=")  (43 chars -> 32 bytes; real keys are random, so the
//       last character usually carries non-zero trailing bits: decode leniently, like WeChat)
// iv  = key[0..16]
// plaintext = 16 random bytes || uint32 big-endian length of xml || xml || AppID
// padding   = PKCS#7 to a multiple of 32 bytes (WeChat's block size, not AES's 16)
// msg_signature = sha1(sort([token, timestamp, nonce, encrypt]).join(""))
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';

const BLOCK = 32;

/** 32-byte AES key from a 43-character EncodingAESKey. */
export function aesKey(encodingAESKey) {
  if (typeof encodingAESKey !== 'string' || !/^[A-Za-z0-9+/]{43}$/.test(encodingAESKey)) {
    throw new Error('EncodingAESKey must be 43 characters of [A-Za-z0-9]');
  }
  const key = Buffer.from(encodingAESKey + '=', 'base64');
  if (key.length !== 32) throw new Error('EncodingAESKey does not decode to 32 bytes');
  return key;
}

function pad(buf) {
  const n = BLOCK - (buf.length % BLOCK);
  return Buffer.concat([buf, Buffer.alloc(n, n)]);
}

function unpad(buf) {
  const n = buf[buf.length - 1];
  if (n < 1 || n > BLOCK || n > buf.length) throw new Error('bad PKCS#7 padding');
  for (let k = buf.length - n; k < buf.length; k++) if (buf[k] !== n) throw new Error('bad PKCS#7 padding');
  return buf.subarray(0, buf.length - n);
}

/** Encrypt an XML string for AppID; returns the base64 text that goes into <Encrypt>. */
export function encrypt(xml, encodingAESKey, appId, random16 = randomBytes(16)) {
  const key = aesKey(encodingAESKey);
  const body = Buffer.from(xml, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(body.length, 0);
  const plain = pad(Buffer.concat([random16, len, body, Buffer.from(appId, 'utf8')]));
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(plain), c.final()]).toString('base64');
}

/** Inverse of encrypt: returns { xml, appId }. */
export function decrypt(encrypted, encodingAESKey) {
  const key = aesKey(encodingAESKey);
  const d = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  d.setAutoPadding(false);
  const plain = unpad(Buffer.concat([d.update(Buffer.from(encrypted, 'base64')), d.final()]));
  const len = plain.readUInt32BE(16);
  if (20 + len > plain.length) throw new Error('bad length prefix');
  return {
    xml: plain.subarray(20, 20 + len).toString('utf8'),
    appId: plain.subarray(20 + len).toString('utf8'),
  };
}

/** sha1 over the sorted, concatenated parts (both `signature` and `msg_signature`). */
export function sha1Sorted(parts) {
  return createHash('sha1').update([...parts].map(String).sort().join('')).digest('hex');
}

/** URL `signature`: sha1(sort([token, timestamp, nonce])). */
export function signature(token, timestamp, nonce) {
  return sha1Sorted([token, timestamp, nonce]);
}

/** Safe-mode `msg_signature`: sha1(sort([token, timestamp, nonce, encrypt])). */
export function msgSignature(token, timestamp, nonce, encrypted) {
  return sha1Sorted([token, timestamp, nonce, encrypted]);
}
