// The Gantt's rows as data: each node execution with its offset from the
// run's start, its phases and span (nodeTiming), status and error. Pure, so
// the logic tests run it under node.
import { errorText, parseTimeMs, numOrNull as num, nodeTiming } from '../util.js';

/**
 * Rows from the timeline's node executions, with derived offsets and spans
 * (nodeTiming: prep, exec, post, dur, span, and ms, the duration shown).
 */
export function prepareRows(execution, nodeExecutions) {
  const t0 = parseTimeMs(execution && execution.started_at);
  return nodeExecutions.map((ne, index) => {
    let offset = num(ne.offset_ms);
    if (offset === null) {
      const ts = parseTimeMs(ne.started_at);
      offset = Number.isFinite(ts) && Number.isFinite(t0) ? ts - t0 : 0;
    }
    const timing = nodeTiming(ne);
    const err = errorText(ne.error);
    const status = ne.status || (err ? 'error' : 'success');
    return {
      index, ne, offset, ...timing, end: offset + timing.span,
      status, failed: status === 'error' || !!err, err,
      retries: Math.max(0, num(ne.retry_count) ?? 0),
      name: String(ne.node_name ?? '(unnamed)'),
      lname: String(ne.node_name ?? '').toLowerCase(),
    };
  });
}

/** The time the chart spans: the run's duration, or the last bar's end when later. */
export function chartTotal(execution, rows) {
  return Math.max(1e-3, num(execution.duration_ms) ?? 0, ...rows.map((r) => r.end));
}
