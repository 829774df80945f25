// The rules of live updates that need no browser (docs/LIVE.md): the
// messages a project channel's rows hold, what a message's seq means
// against the last one seen, how long to wait before reconnecting, which
// statuses end a run, and how node executions from a message merge into
// the ones shown. Pure, so the logic tests run them under node.

/** The statuses after which an execution changes no more (ingest answers 409). */
export const TERMINAL = new Set(['success', 'error', 'cancelled']);
/** Node execution statuses that are final (README, live node executions). */
const NODE_TERMINAL = new Set(['success', 'error', 'skipped']);

export function isTerminal(status) {
  return TERMINAL.has(String(status || ''));
}

/** Whether a run still grows: running, not stale (a stale run only looks running), not completed. */
export function isOpenRun(execution) {
  return !!execution && execution.status === 'running' && !execution.stale &&
    !execution.completed_at && (execution.duration_ms === null || execution.duration_ms === undefined);
}

/**
 * What to do with a message of seq for an execution whose last applied seq
 * is last (undefined: none seen yet):
 *   'apply'     the next one, or the first seen (nothing to compare it with);
 *   'duplicate' seq <= last: already applied (a replay, or the same message
 *               seen through two hosts): ignore;
 *   'gap'       seq > last + 1: messages were missed: reload through the API.
 */
export function seqVerdict(last, seq) {
  if (last === undefined || last === null) return 'apply';
  if (seq <= last) return 'duplicate';
  if (seq > last + 1) return 'gap';
  return 'apply';
}

/**
 * The API's text of a time given in microseconds since the epoch
 * (agora.rfc3339: "YYYY-MM-DDTHH:MM:SS.ffffffZ", UTC), or null.
 */
export function microsToTime(us) {
  if (typeof us !== 'number' || !Number.isSafeInteger(us)) return null;
  const ms = Math.floor(us / 1000);
  const d = new Date(ms);
  if (Number.isNaN(d.getTime())) return null;
  const sub = String(us - ms * 1000).padStart(3, '0');
  return d.toISOString().replace(/Z$/, `${sub}Z`);
}

// Names that would reach an object's prototype, never a message's member.
const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

/**
 * The messages of a rows frame (a project channel, docs/LIVE.md section 3):
 * one per row, each {"type": "execution", ...} built from the column
 * names: "a.b" is member b of member a, and a name ending in ":us" holds
 * microseconds since the epoch, given back as the API's text (a time too
 * far from the epoch for an exact number comes as that text already). A
 * row whose length is not the columns' is left out.
 */
export function decodeRows(frame) {
  const columns = Array.isArray(frame.columns) ? frame.columns : [];
  const ok = (c) => typeof c === 'string' && c && !c.split('.').some((k) => !k || UNSAFE_KEYS.has(k.replace(/:us$/, '')));
  if (!Array.isArray(frame.rows) || !columns.every(ok)) return [];
  const paths = columns.map((c) => {
    const micros = c.endsWith(':us');
    return { micros, keys: (micros ? c.slice(0, -3) : c).split('.') };
  });
  const out = [];
  for (const row of frame.rows) {
    if (!Array.isArray(row) || row.length !== paths.length) continue;
    const msg = { type: 'execution' };
    paths.forEach(({ micros, keys }, i) => {
      let at = msg;
      for (const k of keys.slice(0, -1)) {
        if (!at[k] || typeof at[k] !== 'object') at[k] = {};
        at = at[k];
      }
      const v = row[i];
      at[keys[keys.length - 1]] = micros && typeof v === 'number' ? microsToTime(v) : v;
    });
    out.push(msg);
  }
  return out;
}

/**
 * The messages one received frame holds, in order: a project channel's
 * rows (decodeRows), an older batch's messages ({"type": "batch"}, which
 * a replay may still hold after an upgrade), or the message itself. What
 * is not an object holds none.
 */
export function unbatch(frame) {
  if (!frame || typeof frame !== 'object') return [];
  if (frame.type === 'rows') return decodeRows(frame);
  if (frame.type !== 'batch') return [frame];
  return Array.isArray(frame.messages) ? frame.messages.filter((m) => m && typeof m === 'object') : [];
}

const BACKOFF_MS = [1000, 2000, 4000, 8000, 15000];

/** The wait before reconnect attempt n (0-based) after failures: 1 s, 2 s, 4 s, 8 s, then 15 s. */
export function backoffMs(attempt) {
  return BACKOFF_MS[Math.min(Math.max(0, attempt), BACKOFF_MS.length - 1)];
}

/** started_at then id, the timeline's order (ORDER BY started_at, id). */
function byStart(a, b) {
  const ta = Date.parse(a.started_at);
  const tb = Date.parse(b.started_at);
  if (ta !== tb && Number.isFinite(ta) && Number.isFinite(tb)) return ta - tb;
  if (a.started_at !== b.started_at) return String(a.started_at) < String(b.started_at) ? -1 : 1;
  return Number(a.id) - Number(b.id);
}

/**
 * The node executions shown, with those of a message merged in by `id` (the
 * server's row id): a known id is replaced, a new one added; in the
 * timeline's order. A node execution already final is never replaced by a
 * running one: the store refuses that change, so such a copy can only be
 * older than what is shown (a message applied after a reload that had it).
 */
export function mergeNodes(current, incoming) {
  if (!Array.isArray(incoming) || incoming.length === 0) return current;
  const byId = new Map(current.map((ne, i) => [String(ne.id), i]));
  const out = current.slice();
  let resort = false;
  for (const ne of incoming) {
    if (!ne || ne.id === undefined || ne.id === null) continue;
    const i = byId.get(String(ne.id));
    if (i === undefined) {
      byId.set(String(ne.id), out.length);
      out.push(ne);
      resort = true;
    } else if (!(NODE_TERMINAL.has(out[i].status) && !NODE_TERMINAL.has(ne.status))) {
      out[i] = ne;
      if (ne.started_at !== current[i].started_at) resort = true;
    }
  }
  if (resort) out.sort(byStart);
  return out;
}

/**
 * The execution shown, updated by a message's copy: its members win, but
 * the members a message lacks are kept from before (a project channel's
 * carries no project_id or metadata; a truncated one no error or
 * session_id either), a run
 * already finished never goes back to running, and counts (rows stored,
 * which only grow) never go down. So a copy older than what is shown
 * (a message that waited while the page loaded) changes nothing wrongly.
 */
export function mergeExecution(current, incoming) {
  if (!incoming) return current;
  if (current && isTerminal(current.status) && !isTerminal(incoming.status)) return current;
  const merged = { ...(current || {}), ...incoming };
  if (current && current.counts && incoming.counts) {
    merged.counts = { ...current.counts };
    for (const [k, v] of Object.entries(incoming.counts)) {
      if (!(Number(merged.counts[k]) >= Number(v))) merged.counts[k] = v;
    }
  }
  return merged;
}
