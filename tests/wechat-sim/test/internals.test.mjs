import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseJson, toJson, toControlJson } from '../src/json.mjs';
import { encrypt, decrypt, msgSignature, signature } from '../src/crypto.mjs';
import { parseMultipart, chinaDay, chinaMonth } from '../src/server.mjs';

test('parseJson keeps integers beyond 2^53 exact and rejects what JSON.parse rejects', () => {
  const v = parseJson('{"msg_id": 18446744073709551615, "n": 12, "f": 1.5e3, "s": "a\\u00e9\\"", "a": [true, null]}');
  assert.equal(v.msg_id, 18446744073709551615n);
  assert.equal(v.n, 12);
  assert.equal(v.f, 1500);
  assert.equal(v.s, 'aé"');
  assert.deepEqual(v.a, [true, null]);
  assert.equal(toJson(v), '{"msg_id":18446744073709551615,"n":12,"f":1500,"s":"aé\\"","a":[true,null]}');
  assert.equal(toControlJson({ id: 9007199254740993n }), '{"id":"9007199254740993"}');
  for (const bad of ['', '{', '[1,]', '{"a":1,}', '01', 'tru', '"\\x"', '{"a" 1}', '1 2', '"\n"']) {
    assert.throws(() => parseJson(bad), SyntaxError, bad);
    assert.throws(() => JSON.parse(bad), SyntaxError, bad);
  }
  const proto = parseJson('{"__proto__": {"polluted": 1}}');
  assert.equal({}.polluted, undefined);
  assert.deepEqual(Object.keys(proto), ['__proto__']);
});

test('crypto: round trip with a non-canonical key; signatures are order independent', () => {
  const key = 'kWxPqZ7nR2vT9sL4mJ8dF6hB3cY5gN1aE0uI7oK2pQH';
  const xml = '<xml><MsgID>1</MsgID><Note><![CDATA[中文]]></Note></xml>';
  const enc = encrypt(xml, key, 'wxabc');
  assert.deepEqual(decrypt(enc, key), { xml, appId: 'wxabc' });
  assert.equal(Buffer.from(enc, 'base64').length % 32, 0);
  assert.equal(signature('t', '1', 'n'), signature('t', '1', 'n'));
  assert.match(msgSignature('t', '1', 'n', enc), /^[0-9a-f]{40}$/);
  assert.throws(() => encrypt(xml, 'short', 'wx'), /43 characters/);
});

test('multipart parser: finds named parts and binary data', () => {
  const data = Buffer.from([0xff, 0xd8, 0xff, 0x0d, 0x0a, 0x2d, 0x2d]);
  const body = Buffer.concat([
    Buffer.from('--B\r\nContent-Disposition: form-data; name="other"\r\n\r\nx\r\n'),
    Buffer.from('--B\r\nContent-Disposition: form-data; name="media"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'),
    data,
    Buffer.from('\r\n--B--\r\n'),
  ]);
  const parts = parseMultipart(body, 'B');
  assert.equal(parts.length, 2);
  assert.equal(parts[1].name, 'media');
  assert.equal(parts[1].filename, 'a.jpg');
  assert.ok(parts[1].data.equals(data));
});

test('China calendar: 16:00 UTC is midnight in China', () => {
  const a = Date.parse('2025-01-31T15:59:59Z');
  const b = Date.parse('2025-01-31T16:00:00Z');
  assert.equal(chinaDay(b) - chinaDay(a), 1);
  assert.equal(chinaMonth(b) - chinaMonth(a), 1);
});
