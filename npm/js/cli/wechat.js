// What the commands that call WeChat directly share (media, tags, audience; send has its own
// resumable loop): credentials from the environment, the client, and WeChat's answers as exit
// codes. Node only.
import { ApiError, createClient, WxmassError } from '../index.js';

import { tokenService } from './send.js';
import { CliError, EXIT } from './term.js';

export const AUTH_USAGE = `Authentication, one of:
  APP_ID and APP_SECRET                  environment variables: tokens from stable_token
  --token-url <url> (or WXMASS_TOKEN_URL) a token service answering {"access_token","expires_in"},
                                         called with Authorization: Bearer $WXMASS_TOKEN_URL_SECRET
  --api-base <url>   WeChat's API base or a fixed-IP proxy (default $WECHAT_API_BASE or
                     https://api.weixin.qq.com)`;

export const AUTH_OPTIONS = {
  'api-base': { type: 'string' },
  'token-url': { type: 'string' },
};

/** A client for `command`, from the environment and the options (a usage error without credentials). */
export function clientFrom(command, values, env) {
  const apiBase = values['api-base'] ?? env.WECHAT_API_BASE ?? undefined;
  const tokenUrl = values['token-url'] ?? env.WXMASS_TOKEN_URL;
  let auth;
  if (tokenUrl) auth = { tokenProvider: tokenService(tokenUrl, env.WXMASS_TOKEN_URL_SECRET, 15_000) };
  else if (env.APP_ID && env.APP_SECRET) auth = { appId: env.APP_ID, appSecret: env.APP_SECRET };
  else throw new CliError(`${command} needs credentials: APP_ID and APP_SECRET in the environment, or --token-url (WXMASS_TOKEN_URL)`, EXIT.USAGE);
  try {
    return createClient({ ...auth, apiBase });
  } catch (e) {
    throw new CliError(`--api-base: ${e.message}`, EXIT.USAGE);
  }
}

/** A core validation error as the command line's refusal (exit 1, every problem listed). */
export function refusal(e, detail = {}) {
  return new CliError(e.message, EXIT.PROBLEMS, { problems: e.problems, ...detail });
}

/** Runs `work`, turning WeChat's refusals and lost answers into the command line's exit codes. */
export async function talking(what, work) {
  try {
    return await work();
  } catch (e) {
    if (e instanceof CliError) throw e;
    if (e instanceof ApiError) {
      throw new CliError(`WeChat refused ${what}: ${e.errcode} ${e.en ?? e.message}${e.zh ? ` (${e.zh})` : ''}`, EXIT.REJECTED, { errcode: e.errcode, class: e.class });
    }
    if (e instanceof WxmassError && e.code === 'validation') throw refusal(e);
    if (e instanceof WxmassError && e.code === 'http_status') throw new CliError(`${what}: ${e.message}`, EXIT.SERVER);
    if (e instanceof WxmassError) throw new CliError(`${what}: ${e.message}`, EXIT.PROBLEMS);
    throw new CliError(`${what}: no answer from WeChat: ${e.cause?.message ?? e.message}`, EXIT.TRANSPORT);
  }
}
