// The admin API on the same origin: bearer token from sessionStorage, JSON in and out, errors as
// the worker's `{ error: { code, message, … } }` body (AdminErrorBody in the npm package's types).
const KEY = 'wxmass.adminToken';

export const getToken = () => sessionStorage.getItem(KEY) ?? '';
export const setToken = (token) => sessionStorage.setItem(KEY, token);
export const clearToken = () => sessionStorage.removeItem(KEY);

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
 * `method path` with an optional JSON body (or FormData), the token of this tab unless `token`
 * is given. Resolves to the parsed answer; rejects with an ApiFailure.
 */
export async function api(method, path, body, { token = getToken(), headers = {} } = {}) {
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
