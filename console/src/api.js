// The admin API on the same origin: bearer token from sessionStorage, JSON in and out, errors as
// the worker's `{ error: { code, message, … } }` body (AdminErrorBody in the npm package's types).
const KEY = 'wxmass.adminToken';
const ACCOUNT = 'wxmass.account';
export const DEFAULT_ACCOUNT = 'default';

export const getToken = () => sessionStorage.getItem(KEY) ?? '';
export const setToken = (token) => sessionStorage.setItem(KEY, token);
export const clearToken = () => sessionStorage.removeItem(KEY);

/** The official account the console works on (a worker may serve several). */
export const getAccount = () => sessionStorage.getItem(ACCOUNT) || DEFAULT_ACCOUNT;
export const setAccount = (id) => sessionStorage.setItem(ACCOUNT, id || DEFAULT_ACCOUNT);

/**
 * An account's path of an admin route: `/api/jobs` is the default account's, account X's is
 * `/api/accounts/X/jobs`. Routes about accounts themselves stay as they are.
 */
export function accountPath(path, account = getAccount()) {
  if (account === DEFAULT_ACCOUNT || !path.startsWith('/api/') || path.startsWith('/api/accounts')) return path;
  return `/api/accounts/${encodeURIComponent(account)}/${path.slice('/api/'.length)}`;
}

/** A failed call: the HTTP status (0 without an answer) and the worker's `error` object. */
export class ApiFailure extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.error = error ?? { code: 'http', message: `HTTP ${status}` };
  }
}

// Called when the worker answers 401 to a signed-in call (the token was changed under us).
let onUnauthorized = () => {};
export const whenUnauthorized = (f) => {
  onUnauthorized = f;
};

/**
 * `method route` with an optional JSON body (or FormData), for this tab's account and with its
 * token unless `account` or `token` is given. Resolves to the parsed answer; rejects with an
 * ApiFailure.
 */
export async function api(method, route, body, { token = getToken(), headers = {}, account } = {}) {
  const path = accountPath(route, account);
  const init = { method, headers: { authorization: `Bearer ${token}`, ...headers } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiFailure(0, { code: 'network', message: String(e?.message ?? e) });
  }
  const text = await res.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON */
  }
  if (!res.ok) {
    const failure = new ApiFailure(res.status, json?.error ?? { code: 'http', message: text.slice(0, 200) || `HTTP ${res.status}` });
    if (res.status === 401 && token === getToken()) onUnauthorized(failure);
    throw failure;
  }
  return json;
}

/**
 * POSTs a file's bytes as the body (`POST /api/material?…`, `POST /api/media/upload?…`) with
 * XMLHttpRequest, whose upload reports progress: `onProgress(sentBytes, totalBytes)`. Resolves to
 * the parsed answer; rejects with an ApiFailure as `api` does.
 */
export function uploadBytes(route, file, { onProgress } = {}) {
  const token = getToken();
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', accountPath(route));
    xhr.setRequestHeader('authorization', `Bearer ${token}`);
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new ApiFailure(0, { code: 'network', message: 'the upload did not reach the worker' }));
    xhr.onload = () => {
      let json = null;
      try {
        json = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        /* not JSON */
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(json);
      else {
        const failure = new ApiFailure(xhr.status, json?.error ?? { code: 'http', message: xhr.responseText.slice(0, 200) || `HTTP ${xhr.status}` });
        if (xhr.status === 401 && token === getToken()) onUnauthorized(failure);
        reject(failure);
      }
    };
    xhr.send(file);
  });
}
