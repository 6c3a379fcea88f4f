// The package in headless Chromium (Debian's), on a page served from 127.0.0.1 with
// `<script type="module">` and no bundler: it validates a message, parses a result event,
// round-trips the message crypto, plans a send and uploads an audience streamed from a File.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize, extname } from 'node:path';
import { chromium } from 'playwright-core';

const root = process.cwd();
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.wasm': 'application/wasm' };

export const EVENT_XML = `<xml><ToUserName><![CDATA[gh_4d00ed8d6399]]></ToUserName><FromUserName><![CDATA[oV5CrjpxgaGXNHIQigzNlgLTnwic]]></FromUserName><CreateTime>1481013459</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event><MsgID>9007199254740993</MsgID><Status><![CDATA[err(30003)]]></Status><TotalCount>0</TotalCount><FilterCount>0</FilterCount><SentCount>0</SentCount><ErrorCount>0</ErrorCount></xml>`;

function serve() {
  const server = http.createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname));
    const file = path === '/' ? join(root, 'browser/index.html') : join(root, path);
    if (!file.startsWith(root)) return res.writeHead(403).end();
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

test('headless Chromium: validate a message and parse a reply/event on a page without a bundler', async () => {
  const server = await serve();
  // A fresh profile each run (Playwright takes it as the persistent context's user-data-dir).
  const profile = mkdtempSync(join(tmpdir(), 'wxmass-chromium-'));
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      timeout: 30_000,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.addInitScript((xml) => {
      window.EVENT_XML = xml;
    }, EVENT_XML);
    const { port } = server.address();
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => window.__result !== undefined, null, { timeout: 20_000 });
    const result = await page.evaluate(() => window.__result);
    assert.deepEqual(errors, []);
    assert.equal(result.error, undefined, result.error);
    assert.equal(result.bad.ok, false);
    assert.deepEqual(result.bad.problems.map((p) => [p.path, p.rule]), [['toUser', 'count']]);
    assert.equal(result.body, '{"filter":{"is_to_all":false,"tag_id":2},"text":{"content":"群发"},"msgtype":"text"}');
    assert.deepEqual(result.thrown, { isWxmassError: true, code: 'validation', path: 'toUser[0]', rule: 'openid_format' });
    assert.equal(result.msgId, '9007199254740993');
    assert.equal(result.event.kind, 'mass_send_job_finish');
    assert.equal(result.event.msgId, '9007199254740993');
    assert.equal(result.event.status.code, 30003);
    assert.equal(result.roundTrip, true);
    assert.equal(result.batches, 1);
    assert.deepEqual(result.audience.requests, [
      ['/api/audiences', 'Bearer t', 'application/json', '{}'],
      ['/api/audiences/a1/openids?part=1', 'Bearer t', 'text/plain; charset=utf-8', 'oR5Gjjl_eiZoUpGozMo7dbBJ362A\noR5Gjjl_eiZoUpGozMo7dbBJ362B'],
      ['/api/audiences/a1/openids?part=2', 'Bearer t', 'text/plain; charset=utf-8', 'oR5Gjjl_eiZoUpGozMo7dbBJ362C'],
      ['/api/audiences/a1/seal', 'Bearer t', 'application/json', '{}'],
    ]);
    assert.deepEqual(result.audience.phases, ['create0:0', 'upload1:2', 'upload2:3', 'seal2:3', 'done2:3']);
    assert.deepEqual(result.audience.sealed, { id: 'a1', state: 'sealed', received: 3, valid: 3, invalid: 0, duplicates: 0, batches: 1, invalidShown: [] });
  } finally {
    server.close();
    await context?.close();
    rmSync(profile, { recursive: true, force: true });
  }
});
