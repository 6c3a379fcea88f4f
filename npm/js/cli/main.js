#!/usr/bin/env node
// The wxmass command line: check, plan, send, jobs, errcode, media, tags, audience. Arguments are read with node:util's
// parseArgs; every WeChat rule, text and decision comes from the package (core in WebAssembly).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import * as audience from './audience.js';
import * as check from './check.js';
import * as errcode from './errcode.js';
import * as jobs from './jobs.js';
import * as media from './media.js';
import * as plan from './plan.js';
import * as send from './send.js';
import * as tags from './tags.js';
import { CliError, createOutput, EXIT, guardStream } from './term.js';

const commands = { check, plan, send, jobs, errcode, media, tags, audience };

const version = () => JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;

const USAGE = `wxmass — WeChat Official Account mass sending (高级群发接口) from a terminal

  wxmass check <endpoint> <file.json | ->     every problem of a request body (path, rule, zh/en)
  wxmass plan --openids <file> --message <file> [--job <id>] [--out plan.json]
                                              counts, batches with clientmsgids, quota, start
  wxmass send --plan plan.json --state state.json [--dry-run]
                                              send straight to WeChat; a re-run resumes
  wxmass jobs create | list | show | watch | cancel
                                              jobs on a wxmass worker (WXMASS_URL, WXMASS_ADMIN_TOKEN)
  wxmass errcode <code>                       a WeChat error code: zh, en and what to do
  wxmass media upload <file> --type <t> [--permanent --title --introduction]
                                              a file becomes a media_id (checked before upload)
  wxmass tags                                 the account's tags: id, followers, name
  wxmass audience from-tag [<id>] [--out f]   OpenIDs of a tag's followers (or all), for plan
  wxmass audience followers [--out f]         OpenIDs of every follower

  wxmass <command> --help                     the command's options
  --json                                      machine-readable output on stdout

Colour is on for a terminal and off with NO_COLOR or without a TTY (FORCE_COLOR=1 forces it).
Exit codes: 0 ok, 1 problems found, 2 usage, 3 WeChat rejected, 4 transport (no answer),
5 the worker or a service answered with a server error, 130 interrupted (progress saved).
A closed output pipe (wxmass … | head) ends a command quietly; send and jobs create go on to
their end, since stopping them half-way would leave a send half done.`;

/** Commands whose work must not stop half-way when nobody reads their output any more. */
const FINISH_WITHOUT_READER = new Set(['send', 'jobs create']);

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function main(argv, { env = process.env, stdout: rawStdout = process.stdout, stderr: rawStderr = process.stderr, onReaderGone = () => {} } = {}) {
  const json = argv.includes('--json');
  const [name, ...args] = argv;
  const commandLine = name === 'jobs' ? `jobs ${args.find((a) => !a.startsWith('-')) ?? ''}` : name;
  // The reader of stdout gone (`| head`): a command that only shows something ends quietly; one
  // that sends goes on without output (stderr still shows progress, if anyone reads it).
  const stdout = guardStream(rawStdout, () => {
    if (!FINISH_WITHOUT_READER.has(commandLine)) onReaderGone();
  });
  const stderr = guardStream(rawStderr);
  const out = createOutput({ json, stdout, stderr, env });
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? stderr : stdout).write(`${USAGE}\n`);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    stdout.write(`${version()}\n`);
    return EXIT.OK;
  }
  try {
    const command = Object.hasOwn(commands, name) ? commands[name] : null;
    if (!command) throw new CliError(`unknown command ${JSON.stringify(name)}; one of ${Object.keys(commands).join(', ')} (wxmass --help)`, EXIT.USAGE);
    if (args.includes('--help') || args.includes('-h')) {
      stdout.write(`${command.usage}\n`);
      return EXIT.OK;
    }
    // A negative error code (-1) is a value, not an option.
    const given = name === 'errcode' ? args.flatMap((a) => (/^-\d+$/.test(a) ? ['--', a] : [a])) : args;
    let parsed;
    try {
      parsed = parseArgs({ args: given, options: { ...command.options, json: { type: 'boolean' } }, allowPositionals: true, strict: true });
    } catch (e) {
      throw new CliError(`${name}: ${e.message.replace(/\. To specify a positional argument.*$/s, '')} (wxmass ${name} --help)`, EXIT.USAGE);
    }
    const code = await command.run({ positionals: parsed.positionals, values: parsed.values, env, out });
    await stdout.flush();
    return code;
  } catch (e) {
    if (!(e instanceof CliError)) {
      stderr.write(`wxmass: unexpected error: ${e?.stack ?? e}\n`);
      if (json) stdout.write(`${JSON.stringify({ ok: false, error: { message: String(e?.message ?? e), exitCode: EXIT.PROBLEMS } })}\n`);
      return EXIT.PROBLEMS;
    }
    if (json) {
      // One line: after `send` or `watch` events it is the last line of the stream.
      stdout.write(`${JSON.stringify({ ok: false, error: { message: e.message, exitCode: e.exitCode, ...e.detail } })}\n`);
    } else {
      const { ce } = out;
      out.info(`${ce.red('error:')} ${e.message}`);
      for (const p of e.detail.problems ?? []) {
        out.info(`  ${ce.bold(p.path === '' ? '(body)' : p.path)}${p.line ? ` (line ${p.line})` : ''}  ${ce.dim(`[${p.rule}]`)}`);
        out.info(`    en: ${p.message}`);
        if (p.zh) out.info(`    zh: ${p.zh}`);
      }
    }
    return e.exitCode;
  }
}

// A reader that went away ends a command that only shows something: quietly, with the exit code
// of what was already found (a pending check still says 1 for problems), or 0.
let finished = null;
const code = await main(process.argv.slice(2), {
  onReaderGone: () => {
    setImmediate(() => process.exit(finished ?? process.exitCode ?? EXIT.OK));
  },
});
finished = code;
// Let pending writes to pipes finish; exit with the code even if a handle (a keep-alive socket)
// would keep the loop alive.
process.exitCode = code;
setImmediate(() => process.exit(code));
