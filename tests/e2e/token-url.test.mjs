// End-to-end on a subscription account whose access_token comes from an operator's token service
// (TOKEN_URL) instead of stable_token: the worker has no AppSecret at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startStack, driveJob, freePort } from './harness.mjs';

let stack;
let tokenServer;
let tokenHits = 0;
let refusedHits = 0;
const TOKEN_URL_SECRET = 'token-service-secret-0123';

before(async () => {
  // The operator's service: GET → {"access_token","expires_in"}, taken from the simulator's
  // cgi-bin/token with the account's credentials (which only this service holds).
  const port = await freePort();
  tokenServer = http.createServer(async (req, res) => {
    tokenHits += 1;
    // The service trusts only the worker: TOKEN_URL_SECRET as a bearer token.
    if (req.headers.authorization !== `Bearer ${TOKEN_URL_SECRET}`) {
      refusedHits += 1;
      res.writeHead(401);
      res.end();
      return;
    }
    const { appId, appSecret } = stack.sim.state.cfg;
    const r = await fetch(`${stack.sim.url}/cgi-bin/token?grant_type=client_credential&appid=${appId}&secret=${appSecret}`);
    const { access_token, expires_in } = await r.json();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token, expires_in }));
  });
  await new Promise((r) => tokenServer.listen(port, '127.0.0.1', r));
  stack = await startStack({ accountKind: 'subscription' }, { vars: { TOKEN_URL: `http://127.0.0.1:${port}/wechat/access_token`, TOKEN_URL_SECRET, APP_SECRET: null } });
});
after(async () => {
  await stack?.stop();
  await new Promise((r) => tokenServer?.close(r) ?? r());
});

const tagJob = (content) => ({ message: { msgtype: 'text', text: { content } }, audience: { tagId: 2 } });

test('TOKEN_URL: the access_token comes from the operator\'s service, never from stable_token', async () => {
  const sp = await stack.api('GET', '/api/speed');
  assert.equal(sp.status, 200, sp.text);
  const created = await stack.api('POST', '/api/jobs', tagJob('via the token service'));
  assert.equal(created.status, 201, created.text);
  const job = await driveJob(stack, created.json.id);
  assert.equal(job.state, 'finished', JSON.stringify(job.batches, null, 1));
  assert.ok(tokenHits >= 1, `token service hits ${tokenHits}`);
  assert.equal(refusedHits, 0, 'every call to the token service carried TOKEN_URL_SECRET');
  const stable = (await stack.simCtl('GET', 'calls?path=cgi-bin/stable_token')).calls;
  assert.equal(stable.length, 0);
});

test('a new job\'s quota verdict counts the sends already made (subscription: one sendall a day)', async () => {
  // A China day later than anything sent before, one sendall goes out...
  await stack.advance(25 * 3600e3);
  const first = await stack.api('POST', '/api/jobs', tagJob('the first of the day'));
  assert.equal(first.status, 201, first.text);
  assert.equal(first.json.summary.earliestStart.decision, 'now', JSON.stringify(first.json.summary));
  const sent = await driveJob(stack, first.json.id);
  assert.equal(sent.state, 'finished', JSON.stringify(sent.batches));
  // ...so the next one that day must wait for the next.
  const created = await stack.api('POST', '/api/jobs', tagJob('the second of the day'));
  assert.equal(created.status, 201, created.text);
  const start = created.json.summary.earliestStart;
  assert.equal(start.decision, 'not_before', JSON.stringify(created.json.summary));
  assert.ok(start.at > stack.nowSec() * 1000, JSON.stringify(start));
});
