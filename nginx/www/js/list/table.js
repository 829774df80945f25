// The list's table: a row per execution with its status, workflow (a link
// to the execution), session (a link to the session's executions), start,
// duration (with a bar relative to the page's longest), item counts and
// error. Clicking anywhere on a row that is not a link opens it.
import { executionHash, executionsHash } from '../router.js';
import { h, fmtDuration, fmtRelative, fmtTime, shortId, errorText, statusBadge, plural, userText } from '../util.js';

function countsText(c) {
  if (!c) return h('span', { class: 'muted', text: '…' });
  const n = (k) => Number(c[k] || 0);
  return h('span', { class: 'counts', title: `${n('node_executions')} node executions, ${n('telemetry_events')} events, ${n('telemetry_spans')} spans, ${n('shared_state_snapshots')} state snapshots` },
    h('span', { text: plural(n('node_executions'), 'node') }),
    h('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
    h('span', { text: plural(n('telemetry_events'), 'event') }));
}

function row(e, maxDur, now, workflowName) {
  const href = executionHash(e.id);
  const err = errorText(e.error);
  const dur = e.duration_ms === null || e.duration_ms === undefined ? NaN : Number(e.duration_ms);
  const durBar = Number.isFinite(dur) ? h('span', { class: 'dur-bar', 'aria-hidden': 'true' },
    h('span', { class: `dur-fill status-bg-${e.status}`, style: { width: `${Math.max(2, (dur / maxDur) * 100)}%` } })) : null;
  // a run still going has no duration yet: show how long it has been running
  const elapsed = !Number.isFinite(dur) && e.status === 'running' ? now - Date.parse(e.started_at) : NaN;
  const durText = Number.isFinite(dur) ? fmtDuration(dur)
    : Number.isFinite(elapsed) && elapsed >= 0 ? fmtDuration(elapsed) : '–';
  const counts = h('td', { class: 'col-counts muted' }, countsText(e.counts));
  return h('tr', {
    class: `exec-row row-${e.status}`, dataset: { id: e.id, status: e.status },
    onClick: (ev) => {
      if (ev.target.closest('a, button')) return;
      if (window.getSelection && String(window.getSelection())) return;
      location.hash = href;
    },
  },
  h('td', {}, statusBadge(e.status)),
  h('td', { class: 'col-exec' },
    h('a', { href, class: 'exec-link col-workflow', dataset: { workflowId: e.workflow_id } }, userText(workflowName(e.workflow_id))),
    h('span', { class: 'sub mono exec-id', title: e.id, text: shortId(e.id) })),
  h('td', { class: 'col-session mono' }, e.session_id
    ? h('a', { href: executionsHash({ session_id: e.session_id }), class: 'session-link', title: `Show session ${e.session_id}` }, userText(e.session_id))
    : '–'),
  h('td', { class: 'col-started' }, h('span', { title: `${fmtTime(e.started_at)} (${e.started_at})`, text: fmtRelative(e.started_at, now) }),
    h('span', { class: 'sub muted', text: fmtTime(e.started_at) })),
  h('td', { class: 'col-num' }, h('span', { class: 'dur-text', text: durText }),
    Number.isFinite(elapsed) ? h('span', { class: 'sub muted', text: 'so far' }) : durBar),
  counts,
  h('td', { class: 'col-error' }, err ? h('span', { class: 'error-text', title: err }, userText(err)) : h('span', { class: 'muted', text: '—' })));
}

/** The table of items (a page of executions); workflowName(id) names a workflow. */
export function executionsTable(items, workflowName) {
  const maxDur = Math.max(1, ...items.map((e) => Number(e.duration_ms) || 0));
  const tbody = h('tbody');
  const now = Date.now();
  for (const e of items) tbody.appendChild(row(e, maxDur, now, workflowName));
  const table = h('table', { class: 'exec-table' },
    h('caption', { class: 'visually-hidden', text: 'Executions, newest first' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Status' }),
      h('th', { scope: 'col', text: 'Execution' }),
      h('th', { scope: 'col', class: 'col-session', text: 'Session' }),
      h('th', { scope: 'col', text: 'Started' }),
      h('th', { scope: 'col', class: 'col-num', text: 'Duration' }),
      h('th', { scope: 'col', class: 'col-counts', text: 'Recorded' }),
      h('th', { scope: 'col', class: 'col-error', text: 'Error' }))),
    tbody);
  return h('div', { class: 'table-scroll' }, table);
}
