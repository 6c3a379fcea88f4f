// What `npx wrangler deploy` would upload, checked offline with --dry-run (no Cloudflare account
// and no network needed): wrangler.toml's [build] runs scripts/build-worker, the bundle holds the
// JS entry and a valid WebAssembly module small enough for the Free plan, the admin console's files
// go up as static assets, and the bindings wrangler prints are the D1 database DB, the assets and
// every var of wrangler.toml's [vars].
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');
const WASM_OPT = join(ROOT, 'node_modules', '.bin', 'wasm-opt');
const ENV = { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true', NO_COLOR: '1' };
const MB = 1_000_000;

/** The names of wrangler.toml's [vars] (keys of the section, commented-out ones left out). */
function configuredVars() {
  const toml = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8');
  const section = toml.split(/^\[vars\]\s*$/m)[1]?.split(/^\[/m)[0] ?? '';
  return [...section.matchAll(/^([A-Z][A-Z0-9_]*)\s*=/gm)].map((m) => m[1]);
}

test('wrangler deploy --dry-run builds through [build] and bundles a valid worker, offline', (t) => {
  const outdir = mkdtempSync(join(tmpdir(), 'wxmass-deploy-'));
  try {
    const started = Date.now();
    // A cold build compiles the worker (minutes); a current one only prints the size.
    const r = spawnSync(WRANGLER, ['deploy', '--dry-run', '--outdir', outdir], {
      cwd: ROOT, env: ENV, encoding: 'utf8', timeout: 20 * 60_000, maxBuffer: 64 << 20,
    });
    const output = `${r.stdout}\n${r.stderr}`;
    const tail = `\n--- wrangler output (tail) ---\n${output.slice(-4000)}`;
    assert.equal(r.error, undefined, `wrangler did not run: ${r.error}${tail}`);
    assert.equal(r.status, 0, `wrangler deploy --dry-run exited ${r.status}${tail}`);

    // [build] ran the project's build scripts (without it wrangler ships whatever worker/build holds).
    assert.match(output, /\[custom build\] Running: bash scripts\/build-worker/, `no [build] run${tail}`);
    assert.match(output, /worker bundle: wasm \d+ bytes/, `scripts/build-worker did not finish${tail}`);
    // ...then the admin console's (scripts/build-console), whose files go up as static assets.
    // (The size line names each bundle since the console has an OpenID worker: `gzip: app.js …;`.)
    assert.match(output, /console\/dist: js \d+ bytes \(\d+ gzip[^)]*budget 81920\)/, `scripts/build-console did not finish${tail}`);
    assert.match(output, /Read \d+ files from the assets directory \S*console\/dist/, `no console assets${tail}`);
    assert.match(output, /env\.ASSETS\s+Assets/, `the ASSETS binding is not listed${tail}`);

    // The bundle: the JS entry and the .wasm it imports.
    const files = readdirSync(outdir);
    assert.ok(files.includes('index.js'), `no index.js in ${files.join(', ')}`);
    const wasmFiles = files.filter((f) => f.endsWith('.wasm'));
    assert.equal(wasmFiles.length, 1, `expected one .wasm in ${files.join(', ')}`);
    const js = readFileSync(join(outdir, 'index.js'));
    const wasm = readFileSync(join(outdir, wasmFiles[0]));
    assert.ok(js.toString('utf8').includes(wasmFiles[0]), `index.js does not import ${wasmFiles[0]}`);
    assert.deepEqual([...wasm.subarray(0, 4)], [0x00, 0x61, 0x73, 0x6d], 'the .wasm does not start with \\0asm');
    // Node cannot compile it (it uses the Wasm GC and exception-handling opcodes workerd runs), so
    // binaryen's wasm-opt, the build's own, parses and validates it: no passes, no output.
    const check = spawnSync(WASM_OPT, ['--all-features', join(outdir, wasmFiles[0])], { encoding: 'utf8' });
    assert.equal(check.status, 0, `${wasmFiles[0]} (${wasm.length} bytes) is not a valid WebAssembly module:\n${check.stderr}`);
    const wasmGz = gzipSync(wasm, { level: 9 }).length;
    const jsGz = gzipSync(js, { level: 9 }).length;
    assert.ok(wasmGz < MB, `the .wasm is ${wasmGz} bytes gzipped, not under 1 MB`);
    assert.ok(wasmGz + jsGz < MB, `the bundle is ${wasmGz + jsGz} bytes gzipped, not under 1 MB`);

    // The bindings wrangler would deploy: the D1 database and every var.
    assert.match(output, /env\.DB\b.*D1 Database/, `the D1 binding DB is not listed${tail}`);
    const vars = configuredVars();
    for (const name of ['WECHAT_API_BASE', 'APP_ID', 'ACCOUNT_KIND', 'D1_QUERIES_PER_INVOCATION', 'SUBREQUESTS_PER_INVOCATION']) {
      assert.ok(vars.includes(name), `wrangler.toml's [vars] has no ${name}`);
    }
    for (const name of vars) {
      assert.match(output, new RegExp(`env\\.${name}\\b.*Environment Variable`), `var ${name} is not listed${tail}`);
    }
    assert.match(output, /--dry-run: exiting now/, `wrangler did not stop before uploading${tail}`);
    t.diagnostic(`deploy --dry-run: ${Date.now() - started} ms, ${wasmFiles[0]} ${wasm.length} B (${wasmGz} B gzip), index.js ${js.length} B (${jsGz} B gzip)`);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
});
