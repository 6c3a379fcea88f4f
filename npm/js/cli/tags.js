// `wxmass tags`: the account's tags (tags/get), with the id a send to a tag or
// `wxmass audience from-tag` needs.
import { CliError, EXIT, int, pad } from './term.js';
import { AUTH_OPTIONS, AUTH_USAGE, clientFrom, talking } from './wechat.js';

export const usage = `wxmass tags [--json]

Lists the account's tags: id, followers, name. Use the id with wxmass plan --tag <id> or
wxmass audience from-tag <id>.

${AUTH_USAGE}

Exit 0 listed, 2 usage, 3 WeChat refused, 4 no answer.`;

export const options = { ...AUTH_OPTIONS };

/** @param {{ positionals: string[], values: Record<string, any>, env: Record<string, string | undefined>, out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run({ positionals, values, env, out }) {
  if (positionals.length > 0) throw new CliError('tags takes no arguments', EXIT.USAGE);
  const client = clientFrom('tags', values, env);
  const { tags } = await talking('tags/get', () => client.call('tags/get', {}));
  out.result({ ok: true, tags });
  const { c } = out;
  out.out(c.dim(`${pad('id', 8)} ${pad('followers', 10)} name`));
  for (const t of tags) out.out(`${pad(String(t.id), 8)} ${pad(int(t.count), 10)} ${t.name}`);
  return EXIT.OK;
}
