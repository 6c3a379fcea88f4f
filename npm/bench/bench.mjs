#!/usr/bin/env node
// Benchmarks of the npm package against what Node users would otherwise use, in one run:
//   node npm/bench/bench.mjs        (after scripts/build-npm; installs its comparison packages)
// Prints ops/s and ratios for parseEvent vs xml2js (node-webot's `wechat`) and fast-xml-parser,
// decrypt+parse vs wechat-crypto + xml2js, build+validate of a tag sendall vs JSON.stringify,
// planSend of 1,000,000 OpenIDs, and the .wasm size raw and gzip. Not a test: figures vary by
// machine; the README records one run.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

import { opsPerSec, tagSend, tagSendWire } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (!existsSync(join(here, 'node_modules/xml2js'))) {
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
const build = { name: 'buildSendAll', ops: opsPerSec(() => wx.buildSendAll(tagSend)) };
const stringify = { name: 'JSON.stringify', ops: opsPerSec(() => JSON.stringify(tagSendWire)) };
const slowdown = stringify.ops / build.ops;
rows.push(['build+validate tag sendall vs JSON.stringify', `${fmt(build.ops)} vs ${fmt(stringify.ops)} ops/s`, `${slowdown.toFixed(2)}× the time`, '≤ 2×']);
console.log(`${'build+validate tag sendall vs JSON.stringify'.padEnd(52)} buildSendAll ${fmt(build.ops)} ops/s | JSON.stringify ${fmt(stringify.ops)} ops/s | takes ${slowdown.toFixed(2)}× the time (target ≤ 2×)`);
// Of that, reading and checking alone: the same crossing in, core's parse and field walk and
// rules, and no body written or decoded (validateSendAll answers { ok, problems }).
if (!wx.validateSendAll(tagSend).ok) throw new Error('validate');
const check = { name: 'validateSendAll', ops: opsPerSec(() => wx.validateSendAll(tagSend)) };
const checkRatio = stringify.ops / check.ops;
rows.push(['  of which read+check (validateSendAll, no body out)', `${fmt(check.ops)} ops/s`, `${checkRatio.toFixed(2)}× the time`, '']);
console.log(`${'  of which read+check (validateSendAll)'.padEnd(52)} ${fmt(check.ops)} ops/s | takes ${checkRatio.toFixed(2)}× the time of JSON.stringify`);
// The floor of any build that lets core read the camelCase object and write the body: the
// facade's own JSON.stringify of the input, the text into linear memory and a body of the same
// size back out (what wasm-bindgen does around the call), with no work in between.
const scratch = new Uint8Array(4096);
const utf8In = new TextEncoder();
const utf8Out = new TextDecoder();
const floor = {
  name: 'floor',
  ops: opsPerSec(() => {
    const { written } = utf8In.encodeInto(JSON.stringify(tagSend), scratch);
    return utf8Out.decode(scratch.subarray(0, written));
  }),
};
const floorRatio = stringify.ops / floor.ops;
rows.push(['  floor: stringify camelCase + text in and out, no work', `${fmt(floor.ops)} ops/s`, `${floorRatio.toFixed(2)}× the time`, '']);
console.log(`${'  floor: stringify + text in and out of wasm, no work'.padEnd(52)} ${fmt(floor.ops)} ops/s | takes ${floorRatio.toFixed(2)}× the time of JSON.stringify`);

const openids = Array.from({ length: 1_000_000 }, (_, i) => 'oR5Gjjl_eiZoUpGozMo' + String(i).padStart(9, '0'));
const planTimes = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  const plan = wx.planSend({ jobId: 'bench-1m', message: { msgType: 'text', text: { content: 'hi' } }, audience: { openIds: openids } });
  planTimes.push(performance.now() - t0);
  if (plan.batchCount !== 100) throw new Error('plan');
  plan.free();
}
const sorted = [...planTimes].sort((a, b) => a - b);
rows.push(['planSend, 1,000,000 OpenIDs (100 batches)', `first ${planTimes[0].toFixed(0)} ms, median of 5 ${sorted[2].toFixed(0)} ms`, '', '< 300 ms']);
console.log(`${'planSend, 1,000,000 OpenIDs (100 batches)'.padEnd(52)} first ${planTimes[0].toFixed(0)} ms, median of 5 ${sorted[2].toFixed(0)} ms (target < 300 ms)`);

const wasm = readFileSync(wasmFile);
const gz = gzipSync(wasm, { level: 9 }).length;
rows.push(['.wasm size', `${(wasm.length / 1024).toFixed(1)} KiB raw, ${(gz / 1024).toFixed(1)} KiB gzip`, '', '≤ 150 KB gzip']);
console.log(`${'.wasm size'.padEnd(52)} ${wasm.length} bytes raw, ${gz} bytes gzip -9 (target ≤ 150 KB gzip)`);

console.log('\n| measure | figures | ratio | target |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
