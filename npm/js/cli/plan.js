// `wxmass plan`: plans a send with core (batches of OpenIDs with fixed clientmsgids, the quota
// it spends, when it may start) and writes the plan file `wxmass send` executes. The plan file
// holds the inputs (job id, message, audience, options) and what core made of them; `send`
// plans again from the inputs and refuses to go on unless core gives the same batches.
import { randomBytes } from 'node:crypto';

import { planSend, WxmassError } from '../index.js';
import * as wasm from '../wasm.js';

import { checkDirectory, readJson, readOpenIdLines, writeAtomic } from './files.js';
import { fetchLedger } from './jobs.js';
import { CliError, EXIT, int } from './term.js';

export const usage = `wxmass plan --message <file> (--openids <file> | --tag <id> | --everyone) [options]

Plans a send with core and prints: the counts (valid, invalid with their line numbers,
duplicates), the batches with their clientmsgids, the quota the send uses and the earliest start
in China time. With --out, writes the plan file for \`wxmass send\`.

  --openids <file>        OpenIDs, one a line (- for stdin); blank lines are skipped
  --tag <id>              send to a tag instead
  --everyone              send to every follower instead
  --message <file>        the message as JSON, e.g. {"msgType":"text","text":{"content":"hi"}}
  --job <id>              the job id written into every clientmsgid (default: cli-<time>-<random>);
                          the same job, message and list always give the same clientmsgids
  --out <plan.json>       write the plan file
  --account <kind>        service (default) or subscription
  --skip-invalid          plan the valid OpenIDs when some are invalid (default: refuse)
  --send-ignore-reprint   go on when WeChat judges an article a reprint
  --ledger <file>         the account's earlier sends, so the earliest start and the quota hold:
                          a JSON array of {at (Unix ms), kind (send|sendall), toAll, succeeded},
                          or a saved GET /api/status answer of a worker (its ledger)
  --ledger-from-worker    the same, from the worker's GET /api/status (WXMASS_URL,
                          WXMASS_ADMIN_TOKEN, --url, --account-id as for wxmass jobs)
  --json                  print the result as JSON

Without a ledger the plan knows no earlier sends and promises a start the account's quota may
not allow (WeChat then refuses with 45009 or 45028 and the send waits).

Exit 0 when planned, 1 when the input has problems (invalid OpenIDs without --skip-invalid, an
invalid message, an audience that cannot be sent to), 2 for usage errors.`;

export const options = {
  openids: { type: 'string' },
  tag: { type: 'string' },
  everyone: { type: 'boolean' },
  message: { type: 'string' },
  job: { type: 'string' },
  out: { type: 'string' },
  account: { type: 'string' },
  'skip-invalid': { type: 'boolean' },
  'send-ignore-reprint': { type: 'boolean' },
  ledger: { type: 'string' },
  'ledger-from-worker': { type: 'boolean' },
  url: { type: 'string' },
  'account-id': { type: 'string' },
};

/**
 * The account's earlier sends given on the command line (`--ledger <file>` or
 * `--ledger-from-worker`), or `undefined`. Core reads and checks the records (a time in seconds is
 * refused at its path) when the plan is summarized.
 */
export async function readLedger(values, env) {
  if (values.ledger !== undefined && values['ledger-from-worker']) {
    throw new CliError('give one of --ledger <file> and --ledger-from-worker', EXIT.USAGE);
  }
  if (values['ledger-from-worker']) return fetchLedger(values, env);
  if (values.ledger === undefined) return undefined;
  const file = await readJson(values.ledger, '--ledger');
  // A saved GET /api/status answer carries the ledger beside the quota.
  return Array.isArray(file) ? file : file?.ledger ?? file;
}

/** Core's summary given the ledger; a broken ledger is the input's problem (exit 1). */
export function summaryOf(plan, ledger, now) {
  try {
    return plan.summary({ ledger, now });
  } catch (e) {
    throw planError(e, null);
  }
}

/** The kind tag and version of a plan file. */
export const PLAN_FILE = { kind: 'wxmass-plan', version: 1 };

const defaultJobId = () => {
  const t = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `cli-${t.slice(0, 8)}-${t.slice(8)}-${randomBytes(2).toString('hex')}`;
};

/** The audience of a command line: exactly one of --openids, --tag, --everyone. */
export async function readAudience(values) {
  const given = ['openids', 'tag', 'everyone'].filter((k) => values[k] !== undefined && values[k] !== false);
  if (given.length !== 1) {
    throw new CliError('give exactly one audience: --openids <file>, --tag <id> or --everyone', EXIT.USAGE);
  }
  if (values.everyone) return { audience: 'everyone', lines: null };
  if (values.tag !== undefined) return { audience: { tagId: values.tag }, lines: null };
  const { openIds, lines } = await readOpenIdLines(values.openids);
  return { audience: { openIds }, lines };
}

/** Message problems or a plan refusal as a CliError (exit 1), with every problem. */
export function planError(e, lines) {
  if (!(e instanceof WxmassError)) return e;
  const problems = e.problems.map((p) => withLine(p, lines));
  return new CliError(e.message, EXIT.PROBLEMS, { code: e.code, rule: e.rule, path: e.path, problems });
}

/** A problem at `audience.openIds[i]` gets the line it came from. */
function withLine(p, lines) {
  const m = /^audience\.openIds\[(\d+)\]$/.exec(p.path);
  return m && lines ? { ...p, line: lines[Number(m[1])] } : p;
}

/** Core's plan of the inputs of a plan file (or of the command line). */
export function makePlan({ jobId, message, audience, account, skipInvalid, sendIgnoreReprint }, lines = null) {
  try {
    return planSend({ jobId, message, audience, account, skipInvalid, sendIgnoreReprint });
  } catch (e) {
    throw planError(e, lines);
  }
}

/** When the first call may go out, in words and China time. */
export function startText(decision, now) {
  switch (decision.decision) {
    case 'now':
      return `now, ${wasm.chinaTime(now)}`;
    case 'not_before':
      return `${wasm.chinaTime(decision.at)}, held by the quota rule ${decision.rule}`;
    default:
      return `never: ${decision.reason}`;
  }
}

/** @param {{ values: Record<string, any>, out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run({ values, env, out }) {
  if (values.message === undefined) throw new CliError('plan needs --message <file>', EXIT.USAGE);
  if (values.out !== undefined) await checkDirectory(values.out, '--out');
  const { audience, lines } = await readAudience(values);
  const message = await readJson(values.message, '--message');
  const inputs = {
    jobId: values.job ?? defaultJobId(),
    message,
    audience,
    account: values.account ?? 'service',
    // Always planned with the invalid ones skipped, so the counts can be shown; without
    // --skip-invalid a list with invalid OpenIDs is refused below.
    skipInvalid: true,
    sendIgnoreReprint: values['send-ignore-reprint'] ? true : undefined,
  };
  const ledger = await readLedger(values, env);
  const now = Date.now();
  const plan = makePlan(inputs, lines);
  try {
    const summary = summaryOf(plan, ledger, now);
    const batches = plan.batches();
    const entries = audience.openIds?.length ?? null;
    const invalidShown = summary.invalidShown.map((i) => ({ line: lines?.[i.position] ?? null, position: i.position, value: i.value }));
    const counts = {
      entries,
      valid: entries === null ? null : entries - summary.invalidSkipped,
      invalid: summary.invalidSkipped,
      duplicates: summary.duplicatesDropped,
      recipients: summary.recipients,
    };
    const refused = summary.invalidSkipped > 0 && !values['skip-invalid'];
    const never = summary.earliestStart.decision === 'never';
    const ok = !refused && !never;
    const planFile = {
      wxmass: PLAN_FILE.kind,
      version: PLAN_FILE.version,
      jobId: plan.jobId,
      account: plan.account,
      plannedAt: now,
      inputs: { ...inputs, skipInvalid: Boolean(values['skip-invalid']) },
      counts,
      batches,
      summary,
    };
    if (ok && values.out) await writeAtomic(values.out, `${JSON.stringify(planFile, null, 2)}\n`);
    out.result({ ok, jobId: plan.jobId, counts, invalidShown, batches, summary, out: ok ? values.out ?? null : null });

    const { c } = out;
    const kind = summary.msgType ?? summary.msgtype;
    out.out(`${c.bold(`Plan ${plan.jobId}`)}: ${kind} to ${summary.audience === 'openids' ? `${int(summary.recipients)} OpenIDs` : summary.audience} (${plan.account} account)`);
    if (entries !== null) {
      out.out(`  entries:      ${int(entries)} (non-blank lines of ${values.openids})`);
      out.out(`  valid:        ${int(counts.valid)}`);
      out.out(`  invalid:      ${counts.invalid === 0 ? '0' : c.red(int(counts.invalid))}${counts.invalid > invalidShown.length ? ` (the first ${invalidShown.length} shown)` : ''}`);
      for (const i of invalidShown) out.out(`    line ${i.line}: ${JSON.stringify(i.value)}`);
      out.out(`  duplicates:   ${int(counts.duplicates)}${counts.duplicates ? ' (dropped: each OpenID is sent to once)' : ''}`);
      out.out(`  recipients:   ${int(counts.recipients)}`);
    }
    if (refused) {
      out.out('');
      out.out(c.red(`Not planned: ${int(counts.invalid)} invalid OpenID${counts.invalid === 1 ? '' : 's'}. Fix ${counts.invalid === 1 ? 'it' : 'them'}, or plan again with --skip-invalid to send to the valid ones only.`));
      return EXIT.PROBLEMS;
    }
    out.out(`  batches:      ${batches.length}`);
    for (const b of batches) {
      const who = b.recipients === null ? (b.isToAll ? 'everyone' : summary.audience) : `${int(b.recipients)} OpenIDs`;
      out.out(`    ${String(b.index + 1).padStart(3)}  ${b.endpoint.padEnd(7)} ${who.padStart(14)}  clientmsgid ${b.clientMsgId}`);
    }
    const q = summary.quotaUsed;
    out.out(`  quota:        ${q.sendCalls} mass/send + ${q.sendallCalls} mass/sendall call${q.sendCalls + q.sendallCalls === 1 ? '' : 's'}${q.toAll ? ', 1 to everyone' : ''}, over ${summary.daysNeeded} China day${summary.daysNeeded === 1 ? '' : 's'}`);
    out.out(`  earliest:     ${never ? c.red(startText(summary.earliestStart, now)) : startText(summary.earliestStart, now)}`);
    for (const day of summary.schedule) {
      const which = day.firstBatch === day.lastBatch ? `batch ${day.firstBatch}` : `batches ${day.firstBatch}–${day.lastBatch}`;
      out.out(`    ${which} from ${wasm.chinaTime(day.startsAt)}`);
    }
    for (const note of summary.notes) out.out(`  ${c.dim(`note: ${note}`)}`);
    if (never) return EXIT.PROBLEMS;
    if (values.out) out.out(`\nPlan written to ${values.out}; send it with: wxmass send --plan ${values.out} --state <state.json>`);
    return EXIT.OK;
  } finally {
    plan.free();
  }
}

/**
 * A plan file, planned again by core from its inputs: the plan and the file. Refuses a file that
 * is not a plan, or whose batches core no longer gives (edited, or from another version's
 * clientmsgid scheme): sending it could repeat a send under new clientmsgids.
 */
export async function loadPlanFile(path) {
  const file = await readJson(path, '--plan');
  if (file?.wxmass !== PLAN_FILE.kind || file.version !== PLAN_FILE.version || typeof file.inputs !== 'object' || !Array.isArray(file.batches)) {
    throw new CliError(`--plan: ${path} is not a plan file of this version (write one with wxmass plan --out)`, EXIT.USAGE, { path });
  }
  const plan = makePlan(file.inputs);
  const now = plan.batches();
  const differs = now.length !== file.batches.length
    ? `core plans ${now.length} batches, the file has ${file.batches.length}`
    : now.map((b, i) => (b.clientMsgId === file.batches[i]?.clientMsgId ? null : `batch ${i + 1}: clientmsgid ${b.clientMsgId} now, ${file.batches[i]?.clientMsgId} in the file`)).find(Boolean);
  if (differs) {
    plan.free();
    throw new CliError(`--plan: ${path} does not match what core plans from its inputs (${differs}); plan again with wxmass plan`, EXIT.PROBLEMS, { path });
  }
  return { plan, file };
}
