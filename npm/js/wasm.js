// Loads the WebAssembly module once, at import (top-level await), without a bundler:
// - Node: reads the .wasm beside this file from disk (Node's fetch cannot read file: URLs);
// - browsers and other runtimes: fetches it from the same URL (streaming compile).
// After bundling, keep wxmass_wasm_bg.wasm beside the bundle.
import init, { initSync, setErrorClasses } from './wxmass_wasm.js';
import { ApiError, WxmassError } from './errors.js';

const url = new URL('./wxmass_wasm_bg.wasm', import.meta.url);
const isNode = typeof process !== 'undefined' && process.versions?.node != null;
let exports;

if (isNode && url.protocol === 'file:') {
  // Specifiers in variables: bundlers targeting browsers must not try to resolve Node modules.
  const fsName = 'node:fs/promises';
  const urlName = 'node:url';
  const [{ readFile }, { fileURLToPath }] = await Promise.all([
    import(/* @vite-ignore */ fsName),
    import(/* @vite-ignore */ urlName),
  ]);
  exports = initSync({ module: await readFile(fileURLToPath(url)) });
} else {
  exports = await init({ module_or_path: url });
}
setErrorClasses(WxmassError, ApiError);

/** The module's memory: the facade writes a large OpenID list straight into it (OpenIdBuffer). */
export const memory = exports.memory;

export * from './wxmass_wasm.js';
