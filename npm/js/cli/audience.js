// `wxmass audience from-tag <id>` and `wxmass audience followers`: an OpenID list built from the
// account's own followers (user/tag/get, user/get), paged by core's pager, one OpenID a line:
// what `wxmass plan --openids` reads.
import { checkDirectory, writeAtomic } from './files.js';
import { CliError, EXIT, int } from './term.js';
import { AUTH_OPTIONS, AUTH_USAGE, clientFrom, talking } from './wechat.js';

export const usage = `wxmass audience from-tag <tag id> [--out <file>] [--json]
wxmass audience followers [--out <file>] [--json]

Builds an OpenID audience from the account itself: the followers of one tag (user/tag/get;
wxmass tags lists the ids), or every follower (user/get; "from-tag" without an id is the same).
WeChat gives 10,000 OpenIDs a page; each page is said on stderr.

  --out <file>   write the OpenIDs there, one a line (written atomically), for
                 wxmass plan --openids <file>; without it they go to stdout
  --json         the result as JSON on stdout (with the OpenIDs when there is no --out)

${AUTH_USAGE}

Exit 0 done, 2 usage, 3 WeChat refused (45159: no such tag), 4 no answer.`;

export const options = { out: { type: 'string' }, ...AUTH_OPTIONS };

/** @param {{ positionals: string[], values: Record<string, any>, env: Record<string, string | undefined>, out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run({ positionals, values, env, out }) {
  const [action, id, ...rest] = positionals;
  if (rest.length > 0) throw new CliError('audience takes at most one tag id', EXIT.USAGE);
  let tagId;
  if (action === 'from-tag') {
    if (id !== undefined) {
      if (!/^\d{1,19}$/.test(id)) throw new CliError(`audience from-tag: the tag id must be a non-negative integer (got ${JSON.stringify(id)}); wxmass tags lists them`, EXIT.USAGE, { value: id });
      tagId = id;
    }
  } else if (action === 'followers') {
    if (id !== undefined) throw new CliError('audience followers takes no tag id (use audience from-tag <id>)', EXIT.USAGE);
  } else {
    throw new CliError(`audience: unknown action ${JSON.stringify(action ?? '')}; use from-tag <id> or followers`, EXIT.USAGE);
  }
  if (values.out !== undefined) await checkDirectory(values.out, '--out');
  const client = clientFrom(`audience ${action}`, values, env);
  const what = tagId === undefined ? 'the follower list (user/get)' : `the followers of tag ${tagId} (user/tag/get)`;
  const onPage = (p) => {
    out.info(`page ${p.pages}: ${int(p.openIds.length)} OpenIDs, ${int(p.fetched)}${p.total === null ? '' : ` of ${int(p.total)}`} so far${p.done ? ', done' : ''}`);
  };
  const got = await talking(what, () => client.followers({ tagId, onPage }));
  const text = got.openIds.length === 0 ? '' : `${got.openIds.join('\n')}\n`;
  const summary = { ok: true, source: tagId === undefined ? 'followers' : 'tag', ...(tagId === undefined ? {} : { tagId: Number(tagId) }), count: got.openIds.length, total: got.total, pages: got.pages };
  if (values.out !== undefined) {
    await writeAtomic(values.out, text);
    out.result({ ...summary, out: values.out });
    out.info(`${out.ce.green('wrote')} ${int(got.openIds.length)} OpenIDs to ${values.out}`);
  } else {
    out.result({ ...summary, openIds: got.openIds });
    if (got.openIds.length > 0) out.out(got.openIds.join('\n'));
  }
  return EXIT.OK;
}
