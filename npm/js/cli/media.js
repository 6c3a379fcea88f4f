// `wxmass media upload FILE --type image|voice|video|thumb [--permanent --title --introduction]`:
// a file becomes a media_id (media/upload, kept 3 days) or a permanent material (add_material).
// Core checks the type, the format from the bytes, the file name and the size first, so a wrong
// file is refused here, before any call to WeChat.
import { basename } from 'node:path';

import { validateAddMaterial, validateMediaUpload } from '../index.js';

import { readInput } from './files.js';
import { CliError, EXIT } from './term.js';
import { AUTH_OPTIONS, AUTH_USAGE, clientFrom, refusal, talking } from './wechat.js';

export const usage = `wxmass media upload <file> --type image|voice|video|thumb [options]

Uploads a file to WeChat and prints its media_id: what an image or voice mass message sends,
what uploadvideo turns into a video message, and (thumb or image) an article's cover.

  --type <t>             image (JPEG/PNG/GIF, 10 MiB), voice (AMR/MP3, 2 MiB, 60 s),
                         video (MP4, 10 MiB), thumb (JPEG, 64 KiB)
  --permanent            a permanent material (material/add_material) instead of a temporary
                         one (media/upload, kept 3 days); images may also be BMP, voices WMA/WAV
  --title <text>         a permanent video's title (required for one)
  --introduction <text>  a permanent video's introduction
  --json                 the result as JSON on stdout

${AUTH_USAGE}

The format is told by the file's first bytes and its name's extension, the size by its length:
a file WeChat would refuse is refused here first (exit 1, naming the rule in English and Chinese).
Exit 0 uploaded, 1 the file was refused, 2 usage, 3 WeChat refused, 4 no answer.`;

export const options = {
  type: { type: 'string' },
  permanent: { type: 'boolean' },
  title: { type: 'string' },
  introduction: { type: 'string' },
  ...AUTH_OPTIONS,
};

/** @param {{ positionals: string[], values: Record<string, any>, env: Record<string, string | undefined>, out: ReturnType<import('./term.js').createOutput> }} ctx */
export async function run({ positionals, values, env, out }) {
  const [action, file, ...rest] = positionals;
  if (action !== 'upload') throw new CliError(`media: unknown action ${JSON.stringify(action ?? '')}; use: wxmass media upload <file> --type <t>`, EXIT.USAGE);
  if (file === undefined || rest.length > 0) throw new CliError('media upload takes one file: wxmass media upload <file> --type <t>', EXIT.USAGE);
  if (values.type === undefined) throw new CliError('media upload needs --type image|voice|video|thumb', EXIT.USAGE);
  const permanent = Boolean(values.permanent);
  if (!permanent && (values.title !== undefined || values.introduction !== undefined)) {
    throw new CliError('--title and --introduction describe a permanent video: add --permanent', EXIT.USAGE);
  }
  const media = await readInput(file, 'media upload');
  const body = { type: values.type, filename: basename(file), media, title: values.title, introduction: values.introduction };
  const checked = permanent ? validateAddMaterial(body) : validateMediaUpload(body);
  if (!checked.ok) {
    const n = checked.problems.length;
    throw refusal({ message: `${file}: ${n} problem${n === 1 ? '' : 's'}; nothing was uploaded`, problems: checked.problems }, { file });
  }
  const client = clientFrom('media upload', values, env);
  const endpoint = permanent ? 'material/add_material' : 'media/upload';
  const reply = await talking(`the upload of ${file}`, () => client.call(endpoint, body));
  const result = { ok: true, file, type: values.type, permanent, mediaId: reply.mediaId, ...(reply.url ? { url: reply.url } : {}), ...(reply.createdAt ? { createdAt: reply.createdAt } : {}) };
  out.result(result);
  out.out(reply.mediaId);
  out.info(`${out.ce.green('uploaded')} ${file} as ${permanent ? 'a permanent' : 'a temporary (3 days)'} ${values.type}${reply.url ? `: ${reply.url}` : ''}`);
  return EXIT.OK;
}
