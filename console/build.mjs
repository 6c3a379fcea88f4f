// Builds the console into console/dist/: public/ as is, two bundles by esbuild (minified ESM, the
// wxmass facade in each) — src/main.js as app.js (with Preact and htm), and the OpenID worker
// src/openid-worker.js as openid-worker.js, a module worker of its own that loads the same wasm —
// and the package's .wasm beside them, where its loader looks for it. Prints the sizes and fails
// when the JS of both bundles, without the wasm, is over its budget of 80 KB gzip. Run by
// scripts/build-console.
import { build } from 'esbuild';
import { copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const BUDGET = 80 * 1024;

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
cpSync(join(here, 'public'), dist, { recursive: true });
await build({
  entryPoints: { app: join(here, 'src', 'main.js'), 'openid-worker': join(here, 'src', 'openid-worker.js') },
  outdir: dist,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome91', 'firefox89', 'safari16.4'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // The package's Node branch imports node:fs by a name in a variable, only under Node.
  logOverride: { 'unsupported-dynamic-import': 'silent' },
});
const wasm = createRequire(import.meta.url).resolve('wxmass/wxmass_wasm_bg.wasm');
copyFileSync(wasm, join(dist, 'wxmass_wasm_bg.wasm'));

const gz = (file) => gzipSync(readFileSync(file), { level: 9 }).length;
const js = readdirSync(dist).filter((f) => f.endsWith('.js'));
const jsRaw = js.reduce((n, f) => n + readFileSync(join(dist, f)).length, 0);
const jsGz = js.reduce((n, f) => n + gz(join(dist, f)), 0);
const wasmFile = join(dist, 'wxmass_wasm_bg.wasm');
const each = js.map((f) => `${f} ${gz(join(dist, f))}`).join(', ');
console.log(`console/dist: js ${jsRaw} bytes (${jsGz} gzip: ${each}; budget ${BUDGET}), wasm ${readFileSync(wasmFile).length} bytes (${gz(wasmFile)} gzip), fetched by the page and by the OpenID worker`);
if (jsGz > BUDGET) {
  console.error(`console: the JS is ${jsGz} bytes gzip, over the ${BUDGET}-byte budget`);
  process.exit(1);
}
