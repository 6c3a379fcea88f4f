// The demo behind scripts/demo (not a test): one 25,001-follower job, start to finish. With
// --serve the simulator and the worker keep running afterwards, with the cron fired every 10
// seconds, and the admin console's URL is printed; Ctrl-C stops everything.
import { startStack, openids, ADMIN_TOKEN } from './harness.mjs';

const serve = process.argv.includes('--serve');
const stack = await startStack();
const show = (job) => console.log(`job ${job.id}: ${job.state.padEnd(9)} batches ${JSON.stringify(job.counts)} results ${JSON.stringify(job.results)}`);
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await stack.stop();
};
try {
  console.log(`simulator ${stack.sim.url}, worker ${stack.workerUrl}`);
  const list = openids(25_001, 'demo');
  const created = await stack.api('POST', '/api/jobs', { message: { msgtype: 'text', text: { content: 'Hello from wxmass' } }, audience: { openids: list } }, { 'idempotency-key': 'demo-1' });
  if (created.status !== 201) throw new Error(created.text);
  show(created.json);
  for (let i = 0; i < 20; i++) {
    await stack.cron();
    await stack.simCtl('POST', 'callbacks/flush');
    await new Promise((r) => setTimeout(r, 200));
    const job = (await stack.api('GET', `/api/jobs/${created.json.id}`)).json;
    show(job);
    if (['finished', 'failed', 'partly_failed'].includes(job.state)) {
      for (const b of job.batches) console.log(`  batch ${b.index}: ${b.recipients} OpenIDs, clientmsgid ${b.clientMsgId}, msg_id ${b.msgId}, ${b.state} ${JSON.stringify(b.result)}`);
      const stats = await stack.simCtl('GET', 'stats');
      console.log(`simulator: ${stats.sends} sends, ${stats.deliveries} deliveries, duplicate deliveries ${stats.duplicateDeliveries}`);
      break;
    }
    await stack.advance(61_000);
  }
} catch (e) {
  await stop();
  throw e;
}
if (!serve) {
  await stop();
} else {
  // Cloudflare runs the cron every minute; wrangler dev only when asked, so ask every 10 s.
  const timer = setInterval(() => { stack.cron().catch(() => {}); }, 10_000);
  const quit = async () => {
    clearInterval(timer);
    await stop();
    process.exit(0);
  };
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
  console.log(`
The admin console: ${stack.workerUrl}/
Sign in with the admin token: ${ADMIN_TOKEN}
The demo job is under 群发任务 / Jobs. The simulator (${stack.sim.url}) knows the media ids
sim-thumb-media-id-0001 (a cover), sim-image-media-id-0001, sim-voice-media-id-0001 and the
card sim-card-id-0001; tags 2 and 100. The cron runs every 10 s. Ctrl-C stops the worker and the simulator.`);
}
