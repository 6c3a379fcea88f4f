// Terminal output of the wxmass command line: exit codes, colour (off without a TTY or with
// NO_COLOR), --json output, and a progress line that redraws on a TTY and prints plain lines
// elsewhere. Node only.

/** The documented exit codes. */
export const EXIT = Object.freeze({
  /** Done, nothing wrong. */
  OK: 0,
  /** The input has problems (every one is printed), or a job or send ended with some. */
  PROBLEMS: 1,
  /** The command line or the environment is wrong (unknown option, missing file or variable). */
  USAGE: 2,
  /** WeChat (or the worker on its behalf) refused a request. */
  REJECTED: 3,
  /** WeChat, the token service or the worker could not be reached (no answer); a batch gave up after lost replies. */
  TRANSPORT: 4,
  /**
   * The worker or the token service answered with a server error (5xx) or "too many requests"
   * (429): it was reached and is failing, which trying the network again will not mend.
   */
  SERVER: 5,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM; progress is saved and a re-run resumes. */
  INTERRUPTED: 130,
});

/** An error the command line reports as one line (or one JSON object) and an exit code. */
export class CliError extends Error {
  /**
   * @param {string} message
   * @param {number} exitCode one of EXIT
   * @param {Record<string, unknown>} [detail] extra fields for --json
   */
  constructor(message, exitCode, detail = {}) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
    this.detail = detail;
  }
}

/**
 * Whether to colour `stream`: never with NO_COLOR set (https://no-color.org), always with
 * FORCE_COLOR set to anything but 0, otherwise only on a TTY.
 * @param {{ isTTY?: boolean }} stream
 * @param {Record<string, string | undefined>} env
 */
export function colourOn(stream, env) {
  if (env.NO_COLOR) return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return env.FORCE_COLOR !== '0';
  return Boolean(stream.isTTY);
}

const SGR = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] };

/** `{ bold, dim, red, green, yellow, cyan }`: each wraps text in SGR codes, or returns it as is. */
export function palette(on) {
  /** @type {Record<keyof typeof SGR, (s: string) => string>} */
  const p = /** @type {any} */ ({});
  for (const [name, [open, close]] of Object.entries(SGR)) {
    p[name] = on ? (s) => `\x1b[${open}m${s}\x1b[${close}m` : (s) => String(s);
  }
  return p;
}

/**
 * `stream` as the command line writes to it: once the reader has gone (EPIPE: `wxmass … | head`
 * exited), writes are dropped instead of crashing the process with an unhandled 'error' event,
 * and `onClosed` is told once. Other write errors are left to Node.
 */
export function guardStream(stream, onClosed = () => {}) {
  let closed = false;
  if (typeof stream.on === 'function') {
    stream.on('error', (e) => {
      if (e?.code !== 'EPIPE') throw e;
      if (!closed) {
        closed = true;
        onClosed();
      }
    });
  }
  return {
    get isTTY() {
      return stream.isTTY;
    },
    get closed() {
      return closed;
    },
    write(text) {
      if (!closed) stream.write(text);
    },
    /**
     * Resolves once everything written so far has left the process: a pipe takes 64 KiB at a
     * time, and an exit before then cuts a long output (an audience of 10,000 OpenIDs) short.
     */
    flush() {
      if (closed || typeof stream.write !== 'function') return Promise.resolve();
      return new Promise((resolve) => {
        stream.write('', () => resolve());
      });
    },
  };
}

/**
 * Where a command writes: `out(text)` to stdout, `info(text)` to stderr (progress and notes),
 * `event(obj)` one JSON line on stdout (--json), `result(obj)` the final JSON document.
 */
export function createOutput({ json = false, stdout = process.stdout, stderr = process.stderr, env = process.env } = {}) {
  const c = palette(!json && colourOn(stdout, env));
  const ce = palette(colourOn(stderr, env));
  const live = Boolean(stderr.isTTY) && !json;
  let drawn = 0; // lines of the live area last drawn on stderr
  const clearLive = () => {
    if (drawn === 0) return;
    stderr.write(`\x1b[${drawn}F\x1b[0J`);
    drawn = 0;
  };
  return {
    json,
    c,
    ce,
    /** Whether stdout's reader has gone (a closed pipe): output is dropped from then on. */
    get stdoutClosed() {
      return Boolean(stdout.closed);
    },
    /** Whether stderr is a terminal where a progress area is redrawn in place. */
    live,
    out: (text = '') => {
      if (!json) stdout.write(`${text}\n`);
    },
    info: (text = '') => {
      clearLive();
      stderr.write(`${text}\n`);
    },
    /** On a TTY: replaces the live area with `lines`; elsewhere prints them once. */
    draw: (lines) => {
      if (!live) {
        for (const l of lines) stderr.write(`${l}\n`);
        return;
      }
      clearLive();
      for (const l of lines) stderr.write(`\x1b[2K${l}\n`);
      drawn = lines.length;
    },
    /** Leaves the live area as it is (the next output goes below it). */
    keep: () => {
      drawn = 0;
    },
    event: (obj) => {
      if (json) stdout.write(`${JSON.stringify(obj)}\n`);
    },
    result: (obj) => {
      if (json) stdout.write(`${JSON.stringify(obj, null, 2)}\n`);
    },
  };
}

/** 25001 → `25,001`. */
export const int = (n) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? '?'));

/** Milliseconds as `1 h 2 min`, `3 min 4 s`, `5 s`. */
export function duration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const parts = [];
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (!h && (s % 60 || parts.length === 0)) parts.push(`${s % 60} s`);
  return parts.join(' ');
}

/** `[#####.....]` for `done` of `total`, `width` cells. */
export function bar(done, total, width = 24) {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

/** Pads `text` (which may hold SGR codes) to `width` visible characters. */
export function pad(text, width) {
  // eslint-disable-next-line no-control-regex
  const visible = String(text).replace(/\x1b\[[0-9;]*m/g, '').length;
  return visible >= width ? String(text) : String(text) + ' '.repeat(width - visible);
}
