#!/usr/bin/env node
// CLI: `node src/main.mjs [options]` (or `npm start -- [options]`). Prints one line
// `wechat-sim listening on http://127.0.0.1:PORT` on stdout; SIGTERM/SIGINT close it and exit 0.
import { readFileSync, writeFileSync } from 'node:fs';
import { createSimulator } from './server.mjs';

// flag -> [config key, parser]; each also reads env WECHAT_SIM_<FLAG IN UPPER_SNAKE>.
const num = (v) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`not a number: ${v}`);
  return n;
};
const bool = (v) => v === true || v === 'true' || v === '1';
const FLAGS = {
  port: ['port', num],
  host: ['host', String],
  account: ['accountKind', String],
  'app-id': ['appId', String],
  'app-secret': ['appSecret', String],
  'token-lifetime': ['tokenLifetimeSec', num],
  'time-scale': ['timeScale', num],
  'msg-id-start': ['msgIdStart', String],
  'msg-data-id-start': ['msgDataIdStart', String],
  'callback-url': ['callbackUrl', String],
  'callback-mode': ['callbackMode', String],
  'callback-token': ['callbackToken', String],
  'aes-key': ['encodingAESKey', String],
  'callback-delay-ms': ['callbackDelayMs', num],
  'callback-timeout-ms': ['callbackTimeoutMs', num],
  'callback-retries': ['callbackRetries', num],
  'rate-limit': ['rateLimitPerMinute', num],
  'error-fraction': ['errorFraction', num],
  followers: ['followerCount', num],
  'strict-followers': ['strictFollowers', bool],
  'strict-fields': ['strictFields', bool],
  verbose: ['verbose', bool],
};

const HELP = `wechat-sim: local WeChat mass-send API simulator (see tests/wechat-sim/README.md)

usage: node src/main.mjs [--flag value ...]

  --port N               port on 127.0.0.1 (0 = pick a free one; default 0)
  --port-file PATH       write the chosen port to PATH
  --config FILE          JSON file of options (same names as createSimulator options)
${Object.entries(FLAGS).filter(([f]) => f !== 'port').map(([f, [k]]) => `  --${f.padEnd(21)}${k}`).join('\n')}
  --help

Every flag can also be given as an environment variable, e.g. WECHAT_SIM_PORT=8090,
WECHAT_SIM_CALLBACK_URL=http://127.0.0.1:8787/wechat/callback. Flags win over env.`;

function parseArgs(argv, env) {
  const opts = {};
  let portFile = env.WECHAT_SIM_PORT_FILE ?? null;
  for (const [flag, [key, parse]] of Object.entries(FLAGS)) {
    const e = env['WECHAT_SIM_' + flag.toUpperCase().replaceAll('-', '_')];
    if (e !== undefined && e !== '') opts[key] = parse(e);
  }
  if (env.WECHAT_SIM_CONFIG) Object.assign(opts, JSON.parse(readFileSync(env.WECHAT_SIM_CONFIG, 'utf8')));
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') return { help: true };
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a}`);
    const name = m[1];
    const takeValue = () => m[2] ?? (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : true);
    if (name === 'port-file') portFile = takeValue();
    else if (name === 'config') Object.assign(opts, JSON.parse(readFileSync(takeValue(), 'utf8')));
    else if (FLAGS[name]) {
      const [key, parse] = FLAGS[name];
      opts[key] = parse(takeValue());
    } else throw new Error(`unknown flag --${name} (see --help)`);
  }
  return { opts, portFile };
}

async function main() {
  let parsed;
  try {
    parsed = parseArgs(process.argv.slice(2), process.env);
  } catch (e) {
    process.stderr.write(`wechat-sim: ${e.message}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(HELP + '\n');
    return;
  }
  // Handlers first: a supervisor may signal as soon as it reads the listening line.
  let sim = null;
  let stopping = false;
  const stop = async (sig) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`[wechat-sim] ${sig}: closing\n`);
    if (sim) await sim.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  try {
    sim = await createSimulator(parsed.opts);
  } catch (e) {
    process.stderr.write(`wechat-sim: cannot start: ${e.message}\n`);
    process.exit(1);
  }
  if (parsed.portFile) writeFileSync(parsed.portFile, String(sim.port) + '\n');
  process.stdout.write(`wechat-sim listening on ${sim.url}\n`);
  const c = sim.state.cfg;
  process.stderr.write(
    `[wechat-sim] ${c.accountKind} account appid=${c.appId} secret=${c.appSecret}; ` +
      `callback ${c.callbackUrl ?? '(none; POST /__sim/config {"callbackUrl":...})'} mode=${c.callbackMode}; ` +
      `control API at ${sim.url}/__sim/\n`,
  );
  process.on('uncaughtException', (e) => process.stderr.write(`[wechat-sim] uncaught: ${e?.stack ?? e}\n`));
  process.on('unhandledRejection', (e) => process.stderr.write(`[wechat-sim] unhandled rejection: ${e?.stack ?? e}\n`));
}

main();
