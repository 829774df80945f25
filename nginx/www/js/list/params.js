// The list's parameters: what the address bar keeps (filters, cursor, page,
// page size), the query they make for GET /api/executions, the
// datetime-local fields' values, and whether a run a live message names
// belongs in the list. Pure.

export const STATUSES = ['success', 'error', 'running', 'cancelled'];
export const RANGES = [
  ['', 'Any time'], ['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Custom range…'],
];
const RANGE_MS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
export const FILTER_KEYS = ['workflow_id', 'status', 'session_id', 'range', 'since', 'until'];

/** The list's parameters from URLSearchParams, as a plain object without empty ones. */
export function paramsObject(params) {
  const o = {};
  for (const k of [...FILTER_KEYS, 'cursor', 'page', 'limit']) {
    const v = params.get(k);
    if (v) o[k] = v;
  }
  return o;
}

/** One key per filter set and page size: pages under it share their cursors. */
export function filterKey(p) {
  return FILTER_KEYS.map((k) => `${k}=${p[k] || ''}`).join('&') + `&limit=${p.limit || ''}`;
}

/** p without its place in the pages (cursor, page number). */
export function stripPaging(o) {
  const c = { ...o };
  delete c.cursor;
  delete c.page;
  return c;
}

/** datetime-local value <-> RFC 3339 (UTC). */
export function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}
export function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

/** The query for GET /api/executions: a named range becomes since = now - range. */
export function apiParams(p) {
  const q = { limit: p.limit || 50 };
  if (p.workflow_id) q.workflow_id = p.workflow_id;
  if (p.status) q.status = p.status;
  if (p.session_id) q.session_id = p.session_id;
  if (p.range && RANGE_MS[p.range]) q.since = new Date(Date.now() - RANGE_MS[p.range]).toISOString();
  if (p.range === 'custom') {
    if (p.since) q.since = p.since;
    if (p.until) q.until = p.until;
  }
  if (p.cursor) q.cursor = p.cursor;
  return q;
}

/**
 * Whether execution e belongs in the list p shows (a live message's run):
 * every filter checked as the API would (exact workflow, status and
 * session; the time range by started_at, a named one up to now). Only the
 * first page takes new rows: later ones hold older runs.
 */
export function matchesList(p, e, now = Date.now()) {
  if (!e || p.cursor) return false;
  if (p.workflow_id && e.workflow_id !== p.workflow_id) return false;
  if (p.status && e.status !== p.status) return false;
  if (p.session_id && e.session_id !== p.session_id) return false;
  const t = Date.parse(e.started_at);
  if (!Number.isFinite(t)) return false;
  if (p.range && RANGE_MS[p.range] && t < now - RANGE_MS[p.range]) return false;
  if (p.range === 'custom') {
    if (p.since && t < Date.parse(p.since)) return false;
    if (p.until && t >= Date.parse(p.until)) return false;
  }
  return true;
}
