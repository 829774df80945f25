// The Gantt's rows as data: each node execution with its offset from the
// run's start, its phases and span (nodeTiming), status and error. A node
// still running (no completed_at) is an open bar: it reaches to now, and
// stretchOpen moves its end as time passes. Pure, so the logic tests run
// it under node.
import { errorText, parseTimeMs, numOrNull as num, nodeTiming } from '../util.js';
import { isOpenRun } from '../live/rules.js';

/** An open row's span and shown duration: the time since it started (at least its phases). */
function stretch(r, t0, now) {
  const sofar = now - (t0 + r.offset);
  r.span = Math.max(r.prep + r.exec + r.post, Number.isFinite(sofar) ? sofar : 0);
  r.ms = r.span;
  r.end = r.offset + r.span;
}

/**
 * Rows from the timeline's node executions, with derived offsets and spans
 * (nodeTiming: prep, exec, post, dur, span, and ms, the duration shown).
 * now (ms since the epoch) is where the open bars of a live run end.
 */
export function prepareRows(execution, nodeExecutions, now = Date.now()) {
  const t0 = parseTimeMs(execution && execution.started_at);
  const live = isOpenRun(execution);
  return nodeExecutions.map((ne, index) => {
    let offset = num(ne.offset_ms);
    if (offset === null) {
      const ts = parseTimeMs(ne.started_at);
      offset = Number.isFinite(ts) && Number.isFinite(t0) ? ts - t0 : 0;
    }
    const timing = nodeTiming(ne);
    const err = errorText(ne.error);
    const status = ne.status || (err ? 'error' : 'success');
    const row = {
      index, ne, offset, ...timing, end: offset + timing.span,
      status, failed: status === 'error' || !!err, err,
      retries: Math.max(0, num(ne.retry_count) ?? 0),
      name: String(ne.node_name ?? '(unnamed)'),
      lname: String(ne.node_name ?? '').toLowerCase(),
      open: live && status === 'running' && !ne.completed_at && timing.dur === null,
    };
    if (row.open) stretch(row, t0, now);
    return row;
  });
}

/** Moves the end of every open row to now; true when there is one. */
export function stretchOpen(execution, rows, now = Date.now()) {
  const t0 = parseTimeMs(execution && execution.started_at);
  let any = false;
  for (const r of rows) {
    if (!r.open) continue;
    stretch(r, t0, now);
    any = true;
  }
  return any;
}

/**
 * The time the chart spans: the run's duration, or the last bar's end when
 * later; for a run still going, at least the time since it started.
 */
export function chartTotal(execution, rows, now = Date.now()) {
  let end = 0;
  for (const r of rows) if (r.end > end) end = r.end;
  let total = Math.max(1e-3, num(execution.duration_ms) ?? 0, end);
  if (isOpenRun(execution)) {
    const sofar = now - parseTimeMs(execution.started_at);
    if (Number.isFinite(sofar)) total = Math.max(total, sofar);
  }
  return total;
}
