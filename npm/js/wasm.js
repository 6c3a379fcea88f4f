// Loads the WebAssembly module once, at import (top-level await), without a bundler:
// - Node: reads the .wasm beside this file from disk (Node's fetch cannot read file: URLs);
// - browsers and other runtimes: fetches it from the same URL (streaming compile).
// After bundling, keep wxmass_wasm_bg.wasm beside the bundle.
import init, {
  buildBodyInput,
  endpointNumber,
  endpoints,
  initSync,
  inputBuffer,
  parseEventInput,
  parseReplyInput,
  setErrorClasses,
  validateRequestInput,
} from './wxmass_wasm.js';
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

// Every text the facade hands to core goes into one input buffer in wasm memory by encodeInto
// (see npm/src/text_input.rs: wasm-bindgen's own copy of a string cost several times more). The
// buffer keeps room for texts up to this many UTF-16 units; a longer text gets a buffer of its
// own size, whose memory goes back to the module's allocator after the call.
const INPUT_KEPT_UNITS = 16384;
const utf8 = new TextEncoder();
let inputPtr = 0;
let inputCapacity = 0;
let inputView = null;

function reserveInput(capacity) {
  inputCapacity = capacity;
  inputPtr = inputBuffer(capacity);
  inputView = null;
}

/**
 * Runs `call(byteLength)` with `input` in the module's input buffer: a string as UTF-8, a
 * Uint8Array as is.
 */
function withInput(input, call) {
  const text = typeof input === 'string';
  // At most 3 UTF-8 bytes per UTF-16 unit.
  const need = text ? input.length * 3 : input.length;
  const long = need > INPUT_KEPT_UNITS * 3;
  if (need > inputCapacity) reserveInput(long ? need : Math.max(need, 4096));
  // Growing the memory (any allocation may) detaches earlier views of it.
  if (inputView === null || inputView.buffer !== memory.buffer) {
    inputView = new Uint8Array(memory.buffer, inputPtr, inputCapacity);
  }
  let len = input.length;
  if (text) len = utf8.encodeInto(input, inputView).written;
  else inputView.set(input);
  try {
    return call(len);
  } finally {
    if (long) reserveInput(INPUT_KEPT_UNITS * 3);
  }
}

// The input calls name an endpoint by its place in core's list (`endpoints()`); for any other
// name core's endpointNumber throws the unknown_endpoint error.
const endpointList = endpoints();
const endpointNumbers = new Map(endpointList.map((e, i) => [e.name, i]));
const numberOf = (endpoint) => endpointNumbers.get(endpoint) ?? endpointNumber(String(endpoint));

/** Whether calls to `endpoint` count against the per-minute mass-send limit. */
export function isMassEndpoint(endpoint) {
  return endpointList[numberOf(endpoint)].mass;
}

/** The validated body of a JSON request (JSON text in). */
export function buildBody(endpoint, json) {
  const n = numberOf(endpoint);
  return withInput(json, (len) => buildBodyInput(n, len));
}

/** `null` or every problem of a JSON request (JSON text in). */
export function validateRequest(endpoint, json) {
  const n = numberOf(endpoint);
  return withInput(json, (len) => validateRequestInput(n, len));
}

/** The typed reply of `endpoint` from its text or bytes. */
export function parseReply(endpoint, body) {
  const n = numberOf(endpoint);
  return withInput(body, (len) => parseReplyInput(n, len));
}
export const parseReplyText = parseReply;

/** The event or message of callback XML, text or bytes. */
export function parseEvent(xml) {
  return withInput(xml, parseEventInput);
}
export const parseEventText = parseEvent;
