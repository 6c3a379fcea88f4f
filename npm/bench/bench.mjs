#!/usr/bin/env node
// Benchmarks of the npm package against what Node users would otherwise use, in one run:
//   node npm/bench/bench.mjs        (after scripts/build-npm; installs its comparison packages)
// Prints ops/s and ratios for parseEvent vs xml2js (node-webot's `wechat`) and fast-xml-parser,
// decrypt+parse vs wechat-crypto + xml2js, build+validate of a tag sendall vs what a user would
// write instead (a hand rename to wire names, validation by ajv or zod, JSON.stringify) and vs a
// bare JSON.stringify, planSend of 1,000,000 OpenIDs, and the .wasm size raw and gzip. Not a
// test: figures vary by machine; the README records one run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { interleavedOpsPerSec, opsPerSec, planMillion, tagSend, tagSendWire } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!['xml2js', 'fast-xml-parser', 'wechat-crypto', 'ajv', 'zod'].every((m) => existsSync(join(here, 'node_modules', m)))) {
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: here, stdio: 'inherit' });
}
const wasmFile = join(here, '../dist/wxmass_wasm_bg.wasm');
if (!existsSync(wasmFile)) {
  console.error('npm/dist is missing: run scripts/build-npm first');
  process.exit(1);
}
const wx = await import('../dist/index.js');
const require = createRequire(import.meta.url);
const xml2js = require('xml2js');
const { XMLParser } = require('fast-xml-parser');
const WXBizMsgCrypt = require('wechat-crypto');
const Ajv = require('ajv');
const { z } = await import('zod');

// ---- inputs -----------------------------------------------------------------------------------

const EVENT = `<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>1000001625</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>0</TotalCount><FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount><CopyrightCheckResult><Count>2</Count><ResultList><item><ArticleIdx>1</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState><OriginalArticleUrl><![CDATA[Url_1]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType><CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent><NeedShowReprintSource>1</NeedShowReprintSource></item><item><ArticleIdx>2</ArticleIdx><UserDeclareState>0</UserDeclareState><AuditState>2</AuditState><OriginalArticleUrl><![CDATA[Url_2]]></OriginalArticleUrl><OriginalArticleType>1</OriginalArticleType><CanReprint>1</CanReprint><NeedReplaceContent>1</NeedReplaceContent><NeedShowReprintSource>1</NeedShowReprintSource></item></ResultList><CheckState>2</CheckState></CopyrightCheckResult><ArticleUrlResult><Count>1</Count><ResultList><item><ArticleIdx>1</ArticleIdx><ArticleUrl><![CDATA[Url]]></ArticleUrl></item></ResultList></ArticleUrlResult></xml>`;
const TOKEN = 'wxmassbenchtoken';
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
const APPID = 'wxb11529c136998cb6';
const TIMESTAMP = '1700000000';
const NONCE = 'benchnonce';
const crypto = new wx.MessageCrypto({ token: TOKEN, encodingAesKey: KEY, appId: APPID });
const encrypt = crypto.encrypt(EVENT);
const msgSignature = crypto.signature({ timestamp: TIMESTAMP, nonce: NONCE, encrypt });
const theirCrypto = new WXBizMsgCrypt(TOKEN, KEY, APPID);

const xml2jsParse = (xml) => {
  let out;
  // xml2js calls back synchronously for a string input (async: false, its default)
  xml2js.parseString(xml, { explicitArray: false, trim: true }, (err, r) => {
    if (err) throw err;
    out = r;
  });
  return out;
};
const fxp = new XMLParser({ ignoreAttributes: true, parseTagValue: false });

// same answers first: the comparison is only fair if all three read the event
const ours = wx.parseEvent(EVENT);
const theirs = xml2jsParse(EVENT).xml;
const fast = fxp.parse(EVENT).xml;
if (ours.msgId !== theirs.MsgID || ours.msgId !== String(fast.MsgID)) throw new Error('parsers disagree');
const dec = theirCrypto.decrypt(encrypt);
if (dec.message !== EVENT || crypto.decrypt({ msgSignature, timestamp: TIMESTAMP, nonce: NONCE, encrypt }) !== EVENT) throw new Error('crypto disagrees');
if (wx.buildSendAll(tagSend).body !== JSON.stringify(tagSendWire)) throw new Error('bodies disagree');

// What a user would write instead of buildSendAll: rename the camelCase object to WeChat's wire
// names by hand, validate the wire body against a schema (ajv with a JSON Schema, or zod), and
// JSON.stringify it. The schemas hold the sendall rules a schema can say: the filter (tag_id
// required unless is_to_all), the six message kinds with their required non-empty ids or text,
// the message's own entry present for its msgtype, send_ignore_reprint 0 or 1, clientmsgid at
// most 64 characters, and no unknown fields anywhere.
const KINDS = ['mpnews', 'text', 'voice', 'image', 'mpvideo', 'wxcard'];
const WIRE_NAMES = { mediaId: 'media_id', cardId: 'card_id', cardExt: 'card_ext' };
function renameSendAll(s) {
  const filter = { is_to_all: s.filter.isToAll };
  if (s.filter.tagId !== undefined) filter.tag_id = s.filter.tagId;
  const message = {};
  for (const [k, v] of Object.entries(s[s.msgType] ?? {})) message[WIRE_NAMES[k] ?? k] = v;
  const body = { filter, [s.msgType]: message, msgtype: s.msgType };
  if (s.sendIgnoreReprint !== undefined) body.send_ignore_reprint = s.sendIgnoreReprint;
  if (s.clientMsgId !== undefined) body.clientmsgid = s.clientMsgId;
  return body;
}
const nonEmpty = { type: 'string', minLength: 1 };
const entry = (props, required) => ({ type: 'object', properties: props, required, additionalProperties: false });
const sendAllSchema = {
  type: 'object',
  properties: {
    filter: {
      type: 'object',
      properties: { is_to_all: { type: 'boolean' }, tag_id: { type: 'integer', minimum: 0 } },
      required: ['is_to_all'],
      additionalProperties: false,
      if: { properties: { is_to_all: { const: false } } },
      then: { required: ['tag_id'] },
    },
    msgtype: { enum: KINDS },
    mpnews: entry({ media_id: nonEmpty }, ['media_id']),
    text: entry({ content: nonEmpty }, ['content']),
    voice: entry({ media_id: nonEmpty }, ['media_id']),
    image: entry({ media_id: nonEmpty }, ['media_id']),
    mpvideo: entry({ media_id: nonEmpty }, ['media_id']),
    wxcard: entry({ card_id: nonEmpty, card_ext: { type: 'string' } }, ['card_id']),
    send_ignore_reprint: { enum: [0, 1] },
    clientmsgid: { type: 'string', minLength: 1, maxLength: 64 },
  },
  required: ['filter', 'msgtype'],
  additionalProperties: false,
  allOf: KINDS.map((k) => ({ if: { properties: { msgtype: { const: k } } }, then: { required: [k] } })),
};
const ajvValidate = new Ajv({ allErrors: true }).compile(sendAllSchema);
const zEntry = (shape) => z.strictObject(shape).optional();
const zNonEmpty = z.string().min(1);
const zodSendAll = z
  .strictObject({
    filter: z
      .strictObject({ is_to_all: z.boolean(), tag_id: z.number().int().nonnegative().optional() })
      .refine((f) => f.is_to_all || f.tag_id !== undefined, { message: 'tag_id is required unless is_to_all', path: ['tag_id'] }),
    mpnews: zEntry({ media_id: zNonEmpty }),
    text: zEntry({ content: zNonEmpty }),
    voice: zEntry({ media_id: zNonEmpty }),
    image: zEntry({ media_id: zNonEmpty }),
    mpvideo: zEntry({ media_id: zNonEmpty }),
    wxcard: zEntry({ card_id: zNonEmpty, card_ext: z.string().optional() }),
    msgtype: z.enum(KINDS),
    send_ignore_reprint: z.union([z.literal(0), z.literal(1)]).optional(),
    clientmsgid: z.string().min(1).max(64).optional(),
  })
  .refine((b) => b[b.msgtype] !== undefined, { message: 'the entry of msgtype is required', path: ['msgtype'] });
function ajvBuild(s) {
  const body = renameSendAll(s);
  if (!ajvValidate(body)) throw new Error(JSON.stringify(ajvValidate.errors));
  return JSON.stringify(body);
}
function zodBuild(s) {
  const r = zodSendAll.safeParse(renameSendAll(s));
  if (!r.success) throw r.error;
  return JSON.stringify(r.data);
}
// same answers first: all three write the same body and refuse the same broken input
const wireBody = JSON.stringify(tagSendWire);
if (ajvBuild(tagSend) !== wireBody || zodBuild(tagSend) !== wireBody) throw new Error('peers disagree on the body');
const broken = { ...tagSend, filter: { isToAll: false }, mpnews: { mediaId: '' }, extra: 1 };
for (const [name, build] of [['buildSendAll', (s) => wx.buildSendAll(s)], ['ajv', ajvBuild], ['zod', zodBuild]]) {
  let refused = false;
  try {
    build(broken);
  } catch {
    refused = true;
  }
  if (!refused) throw new Error(`${name} accepts a broken sendall`);
}

const rows = [];
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
function compare(label, a, b, target) {
  const ratio = a.ops / b.ops;
  rows.push([label, `${fmt(a.ops)} vs ${fmt(b.ops)} ops/s`, `${ratio.toFixed(2)}×`, target]);
  console.log(`${label.padEnd(52)} ${a.name} ${fmt(a.ops)} ops/s | ${b.name} ${fmt(b.ops)} ops/s | ratio ${ratio.toFixed(2)}× (target ${target})`);
}

console.log(`node ${process.version}, ${process.arch}`);
const parseOurs = { name: 'parseEvent', ops: opsPerSec(() => wx.parseEvent(EVENT)) };
compare('parseEvent vs xml2js (node-webot wechat)', parseOurs, { name: 'xml2js', ops: opsPerSec(() => xml2jsParse(EVENT)) }, '≥ 3×');
compare('parseEvent vs fast-xml-parser', parseOurs, { name: 'fast-xml-parser', ops: opsPerSec(() => fxp.parse(EVENT)) }, '≥ 1×');
compare(
  'decrypt+parse vs wechat-crypto + xml2js',
  { name: 'wxmass', ops: opsPerSec(() => wx.parseEvent(crypto.decrypt({ msgSignature, timestamp: TIMESTAMP, nonce: NONCE, encrypt }))) },
  {
    name: 'wechat-crypto+xml2js',
    ops: opsPerSec(() => {
      if (theirCrypto.getSignature(TIMESTAMP, NONCE, encrypt) !== msgSignature) throw new Error('signature');
      return xml2jsParse(theirCrypto.decrypt(encrypt).message);
    }),
  },
  '≥ 1×',
);
// The build and everything it is compared with, in interleaved rounds (median of 7): the ratios
// are what the rows are about, and separate one-second runs of each drift apart by ±15 % here.
if (!wx.validateSendAll(tagSend).ok) throw new Error('validate');
// The floor of any build that lets core read the camelCase object and write the body: the
// facade's own JSON.stringify of the input, the text into linear memory and a body of the same
// size back out (what wasm-bindgen does around the call), with no work in between.
const scratch = new Uint8Array(4096);
const utf8In = new TextEncoder();
const utf8Out = new TextDecoder();
const ops = interleavedOpsPerSec({
  build: () => wx.buildSendAll(tagSend),
  zod: () => zodBuild(tagSend),
  ajv: () => ajvBuild(tagSend),
  stringify: () => JSON.stringify(tagSendWire),
  // Of the build, reading and checking alone: the same crossing in, core's parse and field walk
  // and rules, and no body written or decoded (validateSendAll answers { ok, problems }).
  check: () => wx.validateSendAll(tagSend),
  floor: () => {
    const { written } = utf8In.encodeInto(JSON.stringify(tagSend), scratch);
    return utf8Out.decode(scratch.subarray(0, written));
  },
});
// Against what a user would pick instead: time as a multiple of theirs (below 1: faster).
const SHOWN = { zod: 'rename+zod+stringify', ajv: 'rename+ajv+stringify', stringify: 'JSON.stringify' };
function timeRatio(label, name, target) {
  const ratio = ops[name] / ops.build;
  rows.push([label, `${fmt(ops.build)} vs ${fmt(ops[name])} ops/s`, `${ratio.toFixed(2)}× the time`, target]);
  console.log(`${label.padEnd(52)} buildSendAll ${fmt(ops.build)} ops/s | ${SHOWN[name]} ${fmt(ops[name])} ops/s | takes ${ratio.toFixed(2)}× the time${target ? ` (target ${target})` : ''}`);
}
timeRatio('build tag sendall vs rename + zod + JSON.stringify', 'zod', '≤ 2.5×');
timeRatio('build tag sendall vs rename + ajv + JSON.stringify', 'ajv', '');
timeRatio('build tag sendall vs bare JSON.stringify', 'stringify', '');
for (const [label, name] of [
  ['  of which read+check (validateSendAll, no body out)', 'check'],
  ['  floor: stringify camelCase + text in and out, no work', 'floor'],
]) {
  const ratio = ops.stringify / ops[name];
  rows.push([label, `${fmt(ops[name])} ops/s`, `${ratio.toFixed(2)}× JSON.stringify's time`, '']);
  console.log(`${label.padEnd(52)} ${fmt(ops[name])} ops/s | takes ${ratio.toFixed(2)}× the time of JSON.stringify`);
}

const plan = planMillion(wx);
rows.push(['planSend, 1,000,000 OpenIDs (100 batches)', `first ${plan.first.toFixed(0)} ms, median of 5 ${plan.median.toFixed(0)} ms`, '', '< 300 ms']);
console.log(`${'planSend, 1,000,000 OpenIDs (100 batches)'.padEnd(52)} first ${plan.first.toFixed(0)} ms, median of 5 ${plan.median.toFixed(0)} ms (target < 300 ms)`);

const wasm = readFileSync(wasmFile);
const gz = gzipSync(wasm, { level: 9 }).length;
rows.push(['.wasm size', `${(wasm.length / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip`, '', '≤ 150 KB gzip']);
console.log(`${'.wasm size'.padEnd(52)} ${wasm.length} bytes raw, ${gz} bytes gzip -9 (target ≤ 150 KB gzip)`);

console.log('\n| measure | figures | ratio | target |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
