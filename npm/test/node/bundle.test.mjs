// The package through a bundler: esbuild bundles a tiny consumer (ESM, top-level await kept),
// the .wasm is placed beside the bundle as the README says, and Node runs the bundle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const require = createRequire(import.meta.url);

test('esbuild bundle (platform node and browser) of a consumer runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wxmass-esbuild-'));
  try {
    const entry = join(dir, 'app.mjs');
    writeFileSync(
      entry,
      `import { buildSendAll, parseReply, WxmassError } from 'wxmass';
       const req = buildSendAll({ filter: { isToAll: true }, msgType: 'text', text: { content: 'hi' } });
       let rule = '';
       try { buildSendAll({ filter: { isToAll: true }, msgType: 'text', text: { content: '' } }); } catch (e) { rule = e instanceof WxmassError ? e.rule : 'wrong class'; }
       console.log(JSON.stringify({ body: req.body, id: parseReply('send', '{"msg_id":9007199254740993}').msgId, rule }));`,
    );
    const wasm = require.resolve('wxmass/wxmass_wasm_bg.wasm');
    for (const platform of ['node', 'browser']) {
      const outfile = join(dir, platform, 'app.js');
      const result = await build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        platform,
        target: 'es2022',
        outfile,
        nodePaths: [join(process.cwd(), 'node_modules')],
        logLevel: 'silent',
      });
      assert.deepEqual(result.errors, []);
      copyFileSync(wasm, join(dir, platform, 'wxmass_wasm_bg.wasm'));
      const out = JSON.parse(execFileSync(process.execPath, [outfile], { encoding: 'utf8' }));
      assert.deepEqual(out, {
        body: '{"filter":{"is_to_all":true},"text":{"content":"hi"},"msgtype":"text"}',
        id: '9007199254740993',
        rule: 'required',
      }, platform);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
