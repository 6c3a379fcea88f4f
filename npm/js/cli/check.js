// `wxmass check <endpoint> <file.json | ->`: every problem core finds in a request body, each
// with its path, rule and the message in Chinese and English.
import { basename } from 'node:path';

import { endpoints, validateUploadImg, WxmassError } from '../index.js';
import * as wasm from '../wasm.js';

import { readInput } from './files.js';
import { CliError, EXIT } from './term.js';

export const usage = `wxmass check <endpoint> <file.json | ->

Checks a request body against WeChat's rules (core's validation) without sending it, and prints
every problem: the field path, the rule, and the message in Chinese and English. The body may use
WeChat's names or camelCase. <endpoint> is one of: ${endpoints.map((e) => e.name).join(', ')}
(uploadimg checks an image file). Exit 0 when the body is valid, 1 when it has problems.`;

export const options = {};

/** @param {{ positionals: string[], out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run({ positionals, out }) {
  if (positionals.length !== 2) throw new CliError('check takes an endpoint and a file, e.g. wxmass check send body.json', EXIT.USAGE);
  const [endpoint, file] = positionals;
  const known = endpoints.find((e) => e.name === endpoint || e.path === endpoint);
  if (!known) {
    throw new CliError(`check: unknown endpoint ${JSON.stringify(endpoint)}; one of ${endpoints.map((e) => e.name).join(', ')}`, EXIT.USAGE, { value: endpoint });
  }
  const bytes = await readInput(file, 'check');
  let problems;
  try {
    problems = known.name === 'uploadimg'
      ? validateUploadImg({ filename: file === '-' ? 'stdin' : basename(file), media: bytes }).problems
      // The text as it is: core reads the JSON (a msg_id above 2^53 stays exact, a syntax error
      // is reported with its line and column).
      : wasm.validateRequest(known.name, bytes.toString('utf8')) ?? [];
  } catch (e) {
    if (e instanceof WxmassError) throw new CliError(e.message, EXIT.USAGE);
    throw e;
  }
  const name = file === '-' ? 'stdin' : file;
  out.result({ ok: problems.length === 0, endpoint: known.name, file: name, problems });
  const { c } = out;
  if (problems.length === 0) {
    out.out(`${c.green('✓')} ${name}: a valid ${known.name} request`);
    return EXIT.OK;
  }
  out.out(`${c.red('✗')} ${name}: ${problems.length} problem${problems.length === 1 ? '' : 's'} for ${known.name}`);
  for (const p of problems) {
    out.out('');
    out.out(`  ${c.bold(p.path === '' ? '(body)' : p.path)}  ${c.dim(`[${p.rule}]`)}`);
    out.out(`    en: ${p.message}`);
    out.out(`    zh: ${p.zh}`);
  }
  return EXIT.PROBLEMS;
}
