// The demo behind scripts/demo (not a test): one 25,001-follower job, start to finish.
import { startStack, openids } from './harness.mjs';

const stack = await startStack();
const show = (job) => console.log(`job ${job.id}: ${job.state.padEnd(9)} batches ${JSON.stringify(job.counts)} results ${JSON.stringify(job.results)}`);
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
} finally {
  await stack.stop();
}
