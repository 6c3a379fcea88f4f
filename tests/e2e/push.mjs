// WeChat's callback pushes, built from the spec with Node's crypto alone (not from core, not from
// the simulator), so the worker's callback route is checked against a third reading of the spec:
//   signature     = sha1(sort([token, timestamp, nonce]).join(""))
//   msg_signature = sha1(sort([token, timestamp, nonce, encrypt]).join(""))
//   encrypt       = base64(AES-256-CBC(key = base64(EncodingAESKey + "="), IV = key[0..16],
//                   PKCS#7 to 32-byte blocks, 16 random bytes ‖ u32be(len(xml)) ‖ xml ‖ AppID))
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

const sha1 = (parts) => createHash('sha1').update([...parts].sort().join('')).digest('hex');

/** The 32-byte key of a 43-character EncodingAESKey (its 2 spare bits ignored). */
export function aesKey(encodingAESKey) {
  const key = Buffer.from(`${encodingAESKey}=`, 'base64');
  if (key.length !== 32) throw new Error(`EncodingAESKey decodes to ${key.length} bytes, not 32`);
  return key;
}

/** `<Encrypt>` for `xml`. */
export function encrypt(xml, encodingAESKey, appId) {
  const key = aesKey(encodingAESKey);
  const msg = Buffer.from(xml, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const plain = Buffer.concat([randomBytes(16), len, msg, Buffer.from(appId, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const padded = Buffer.concat([plain, Buffer.alloc(pad, pad)]);
  const c = createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  c.setAutoPadding(false);
  return Buffer.concat([c.update(padded), c.final()]).toString('base64');
}

const cdata = (s) => `<![CDATA[${s}]]>`;

/** A MASSSENDJOBFINISH event. `msgId` is a decimal string (64-bit: never a JS number). */
export function jobFinishXml({ msgId, status = 'send success', total = 2, filter = total, sent = filter, errors = 0, createTime = Math.floor(Date.now() / 1000) }) {
  return '<xml>'
    + `<ToUserName>${cdata('gh_5f1a0c0de001')}</ToUserName>`
    + `<FromUserName>${cdata('oE2EloadTesterOpenId000000001')}</FromUserName>`
    + `<CreateTime>${createTime}</CreateTime>`
    + `<MsgType>${cdata('event')}</MsgType>`
    + `<Event>${cdata('MASSSENDJOBFINISH')}</Event>`
    + `<MsgID>${msgId}</MsgID>`
    + `<Status>${cdata(status)}</Status>`
    + `<TotalCount>${total}</TotalCount>`
    + `<FilterCount>${filter}</FilterCount>`
    + `<SentCount>${sent}</SentCount>`
    + `<ErrorCount>${errors}</ErrorCount>`
    + '</xml>';
}

/**
 * A signed push of `xml` as WeChat sends it in `mode` (`plain`, `compat` or `safe`):
 * `{ query, body }`, the query string without `?`. `nowSec` is the timestamp (Unix seconds).
 */
export function signedPush({ token, encodingAESKey, appId, xml, mode = 'safe', nowSec = Math.floor(Date.now() / 1000), badSignature = false }) {
  const timestamp = String(nowSec);
  const nonce = randomBytes(6).toString('hex');
  const q = new URLSearchParams({ signature: sha1([token, timestamp, nonce]), timestamp, nonce, openid: 'oE2EloadTesterOpenId000000001' });
  if (mode === 'plain') {
    if (badSignature) q.set('signature', sha1(['not the token', timestamp, nonce]));
    return { query: q.toString(), body: xml };
  }
  const enc = encrypt(xml, encodingAESKey, appId);
  q.set('encrypt_type', 'aes');
  q.set('msg_signature', sha1([badSignature ? 'not the token' : token, timestamp, nonce, enc]));
  const envelope = `<ToUserName>${cdata('gh_5f1a0c0de001')}</ToUserName><Encrypt>${cdata(enc)}</Encrypt>`;
  // Compatible mode: the plain fields and <Encrypt> side by side (only the latter is trusted).
  const body = mode === 'compat' ? xml.replace('</xml>', `<Encrypt>${cdata(enc)}</Encrypt></xml>`) : `<xml>${envelope}</xml>`;
  return { query: q.toString(), body };
}
