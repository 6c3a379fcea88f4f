// `wxmass errcode <code>`: core's text for a WeChat error code (zh and en) and its class, which
// says what to do about it (retry, refresh-token, quota, duplicate, fatal).
import { errorInfo } from '../index.js';

import { CliError, EXIT } from './term.js';

export const usage = `wxmass errcode <code>

Prints WeChat's Chinese text of an errcode, its English translation and its class: retry (send
the same request again later), refresh-token (get a new access_token, then retry), quota (wait
for the next window), duplicate (the clientmsgid was seen before), fatal (fix the request).
Exit 0 when core knows the code, 1 when it does not.`;

export const options = {};

/** @param {{ positionals: string[], out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run({ positionals, out }) {
  if (positionals.length !== 1) throw new CliError('errcode takes one code, e.g. wxmass errcode 45065', EXIT.USAGE);
  const text = positionals[0];
  if (!/^-?\d{1,19}$/.test(text)) {
    throw new CliError(`errcode: ${JSON.stringify(text)} is not an integer`, EXIT.USAGE, { value: text });
  }
  const code = Number(text);
  const info = errorInfo(code);
  if (info === null) {
    out.result({ code, known: false });
    out.out(`${out.c.bold(String(code))}  ${out.c.yellow('not in core\'s table of WeChat error codes')}`);
    return EXIT.PROBLEMS;
  }
  out.result({ ...info, known: true });
  const { c } = out;
  out.out(`${c.bold(String(info.code))}  ${c.cyan(info.class)}`);
  out.out(`  zh: ${info.zh}`);
  out.out(`  en: ${info.en}`);
  return EXIT.OK;
}
