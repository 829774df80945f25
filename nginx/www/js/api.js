// The viewer's only way to the server: the public API under /api/, with the
// user's token (a JWT or an agk_ API key) as a Bearer credential. The token
// lives in sessionStorage: it goes away with the tab, never in a URL.

const TOKEN_KEY = 'agora.token';

export class ApiError extends Error {
  constructor(status, code, message, path, requestId) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.path = path;
    this.requestId = requestId;
  }
}

let unauthorizedHandler = null;

/** fn(err) is called once for any 401, after the token is dropped. */
export function onUnauthorized(fn) {
  unauthorizedHandler = fn;
}

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch { return ''; }
}

export function setToken(token) {
  sessionStorage.setItem(TOKEN_KEY, token);
}

export function clearToken() {
  try { sessionStorage.removeItem(TOKEN_KEY); } catch { /* storage disabled */ }
}

/** What the token says about its holder, without verifying it (the server does). */
export function describeToken(token) {
  if (!token) return null;
  if (token.startsWith('agk_')) return { kind: 'key', label: `API key ${token.slice(0, 12)}…` };
  const parts = token.split('.');
  if (parts.length === 3) {
    try {
      const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
      const claims = JSON.parse(json);
      const who = claims.email || claims.name || claims.sub || 'user';
      return { kind: 'jwt', label: String(who), sub: claims.sub, exp: claims.exp };
    } catch { /* not a JWT we can read: the server decides */ }
  }
  return { kind: 'token', label: 'Signed in' };
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/**
 * fetch of /api + path with the token as a Bearer credential (never in the
 * URL). Resolves to {res, token}; a network failure is an ApiError.
 */
async function send(path, opts, accept) {
  const token = opts.token ?? getToken();
  const headers = { Accept: accept };
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  try {
    const res = await fetch(`/api${path}${query(opts.params)}`, {
      method: opts.method || 'GET', headers, body, signal: opts.signal,
      credentials: 'omit', cache: 'no-store',
    });
    return { res, token };
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
}

/** The ApiError of a non-2xx answer whose body parsed to data (or null). */
function failure(res, data, token, opts) {
  const requestId = res.headers.get('X-Request-Id') || undefined;
  const e = (data && data.error) || {};
  const err = new ApiError(res.status, e.code || `http_${res.status}`,
    e.message || `The server answered ${res.status}.`, e.path, e.request_id || requestId);
  // A 401 for a token that is no longer the current one (signed out or in
  // again meanwhile) is stale: it must not throw the new token away.
  if (res.status === 401 && !opts.quiet401 && token === getToken()) {
    clearToken();
    if (unauthorizedHandler) unauthorizedHandler(err);
  }
  return err;
}

function parseJson(text) {
  if (!text) return null;
  try { return JSON.parse(text); } catch { return null; }
}

/**
 * api(path, {params, method, body, signal, token}) -> parsed JSON (or null for 204).
 * Throws ApiError for any non-2xx answer; a 401 also drops the token and
 * calls the unauthorized handler (unless opts.quiet401).
 */
export async function api(path, opts = {}) {
  const { res, token } = await send(path, opts, 'application/json');
  if (res.status === 204) return null;
  const data = parseJson(await res.text());
  if (!res.ok) throw failure(res, data, token, opts);
  if (data === null) {
    throw new ApiError(res.status, 'bad_answer', 'The server answered with something that is not JSON.', undefined,
      res.headers.get('X-Request-Id') || undefined);
  }
  return data;
}

/**
 * Saves what GET /api + path answers as a file named filename: fetched with
 * the token (so it never goes into a URL), then handed to the browser as a
 * blob. Throws ApiError as api() does.
 */
export async function download(path, filename, opts = {}) {
  const { res, token } = await send(path, opts, '*/*');
  if (!res.ok) throw failure(res, parseJson(await res.text()), token, opts);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // The click has started the download; the URL is no longer needed.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

/**
 * All items of a list route, following next_cursor. Asks for big pages and
 * falls back to the server's default when it refuses the page size.
 * onPage(itemsSoFar) is called after each page (progress). Stops at max items.
 */
export async function fetchAll(path, params = {}, { signal, max = 200000, onPage, pageSize = 1000 } = {}) {
  const items = [];
  let cursor;
  let limit = pageSize;
  for (;;) {
    let page;
    try {
      page = await api(path, { params: { ...params, limit, cursor }, signal });
    } catch (e) {
      if (e instanceof ApiError && e.status === 422 && e.path === 'limit' && limit !== undefined) {
        limit = limit > 200 ? 200 : undefined;
        continue;
      }
      throw e;
    }
    const got = Array.isArray(page.items) ? page.items : [];
    items.push(...got);
    if (onPage) onPage(items);
    cursor = page.next_cursor;
    if (!cursor || got.length === 0 || items.length >= max) break;
  }
  return items;
}
