import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../src/main.mjs', import.meta.url));

function start(args, env = {}) {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c) => (out += c));
  child.stderr.on('data', (c) => (err += c));
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no listen line: ' + out + err)), 5000);
    child.stdout.on('data', () => {
      const m = /wechat-sim listening on (http:\/\/127\.0\.0\.1:(\d+))\n/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve({ url: m[1], port: Number(m[2]) });
      }
    });
    exited.then(() => {
      clearTimeout(t);
      reject(new Error('exited early: ' + err));
    });
  });
  return { child, listening, exited, output: () => ({ out, err }) };
}

test('CLI: prints where it listens, writes the port file, serves, exits 0 on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wechat-sim-'));
  try {
    const portFile = join(dir, 'port');
    const p = start(['--port', '0', '--port-file', portFile, '--account', 'subscription', '--msg-id-start', '18446744073709551001'], { WECHAT_SIM_APP_ID: 'wxfedcba9876543210' });
    const { url, port } = await p.listening;
    assert.equal(readFileSync(portFile, 'utf8').trim(), String(port));
    const cfg = await (await fetch(url + '/__sim/config')).json();
    assert.equal(cfg.accountKind, 'subscription');
    assert.equal(cfg.appId, 'wxfedcba9876543210');
    assert.equal(cfg.nextMsgId, '18446744073709551001');
    const tok = await (await fetch(`${url}/cgi-bin/token?grant_type=client_credential&appid=wxfedcba9876543210&secret=${cfg.appSecret}`)).json();
    assert.ok(tok.access_token);
    const r = await fetch(`${url}/cgi-bin/message/mass/sendall?access_token=${tok.access_token}`, {
      method: 'POST',
      body: JSON.stringify({ filter: { is_to_all: true }, text: { content: 'hi' }, msgtype: 'text' }),
    });
    assert.match(await r.text(), /"msg_id":18446744073709551001\b/); // u64 near the top, exact
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.equal(code, 0);
    assert.equal(p.output().out.trim().split('\n').length, 1, 'exactly one stdout line');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: SIGINT also exits 0; bad flag exits 2; --help', async () => {
  const p = start(['--port=0', '--time-scale=0.01', '--callback-mode', 'plain']);
  await p.listening;
  p.child.kill('SIGINT');
  assert.equal((await p.exited).code, 0);

  const bad = start(['--no-such-flag']);
  await assert.rejects(bad.listening);
  assert.equal((await bad.exited).code, 2);

  const badCfg = start(['--callback-mode', 'loud']);
  await assert.rejects(badCfg.listening);
  assert.equal((await badCfg.exited).code, 1);

  const help = start(['--help']);
  await assert.rejects(help.listening);
  assert.equal((await help.exited).code, 0);
  assert.match(help.output().out, /--callback-url/);
});
