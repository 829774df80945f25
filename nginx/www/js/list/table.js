// The list's table: a row per execution with its status, workflow (a link
// to the execution), session (a link to the session's executions), start,
// duration (with a bar relative to the page's longest), item counts, token
// usage and cost, and error. Clicking anywhere on a row that is not a link opens it. A live
// list replaces a row with executionRow() when its run changes, and moves
// the "so far" duration of running rows on with tickRunning().
import { executionHash, executionsHash } from '../router.js';
import {
  h, fmtDuration, fmtRelative, fmtTime, shortId, errorText, statusBadge, staleBadge, plural, userText, usageSummary,
} from '../util.js';

/** "3 nodes", or "3 of 5 nodes" while running when the workflow's node count (workflowNodes) is known. */
function nodesText(n, workflowNodes, running) {
  if (running && workflowNodes > 0) return `${n.toLocaleString('en-US')} of ${plural(workflowNodes, 'node')}`;
  return plural(n, 'node');
}

function countsText(c, workflowNodes, running) {
  if (!c) return h('span', { class: 'muted', text: '…' });
  const n = (k) => Number(c[k] || 0);
  return h('span', { class: 'counts', title: `${n('node_executions')} node executions, ${n('telemetry_events')} events, ${n('telemetry_spans')} spans, ${n('shared_state_snapshots')} state snapshots` },
    h('span', { class: 'counts-nodes', text: nodesText(n('node_executions'), workflowNodes, running) }),
    h('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
    h('span', { text: plural(n('telemetry_events'), 'event') }));
}

/** Tokens, and the cost under them; a dash for a run that reported no tokens. */
function usageCell(usage) {
  const u = usageSummary(usage);
  if (!u) return h('td', { class: 'col-usage col-num' }, h('span', { class: 'muted', text: '—' }));
  return h('td', { class: 'col-usage col-num', title: u.title },
    h('span', { class: 'usage-tokens', text: u.tokens }),
    h('span', { class: `sub usage-cost${u.incomplete ? ' is-incomplete' : ''}`, text: u.cost }));
}

/** How long a running execution has run, for its Duration cell. */
function elapsedText(startedAt, now) {
  const ms = now - Date.parse(startedAt);
  return Number.isFinite(ms) && ms >= 0 ? fmtDuration(ms) : '–';
}

/**
 * The row of execution e: maxDur scales the duration bar, now is the time
 * for relative ones; opts.workflowNodes (a live message's workflow_nodes)
 * makes the counts "N of M nodes" while it runs.
 */
export function executionRow(e, maxDur, now, workflowName, opts = {}) {
  const href = executionHash(e.id);
  const err = errorText(e.error);
  const dur = e.duration_ms === null || e.duration_ms === undefined ? NaN : Number(e.duration_ms);
  const durBar = Number.isFinite(dur) ? h('span', { class: 'dur-bar', 'aria-hidden': 'true' },
    h('span', { class: `dur-fill status-bg-${e.status}`, style: { width: `${Math.max(2, (dur / maxDur) * 100)}%` } })) : null;
  // a run still going has no duration yet: show how long it has been running
  const elapsed = !Number.isFinite(dur) && e.status === 'running' ? now - Date.parse(e.started_at) : NaN;
  const durText = Number.isFinite(dur) ? fmtDuration(dur)
    : Number.isFinite(elapsed) ? elapsedText(e.started_at, now) : '–';
  const running = e.status === 'running';
  const counts = h('td', { class: 'col-counts muted' }, countsText(e.counts, opts.workflowNodes, running));
  // A stale run has stopped sending: its time so far does not tick.
  const ticks = Number.isFinite(elapsed) && !e.stale;
  return h('tr', {
    class: `exec-row row-${e.status}${e.stale ? ' is-stale' : ''}`,
    dataset: { id: e.id, status: e.status, started: e.started_at, ticks: String(ticks) },
    onClick: (ev) => {
      if (ev.target.closest('a, button')) return;
      if (window.getSelection && String(window.getSelection())) return;
      location.hash = href;
    },
  },
  h('td', { class: 'col-status' }, statusBadge(e.status), e.stale ? staleBadge() : null),
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
  usageCell(e.usage),
  h('td', { class: 'col-error' }, err ? h('span', { class: 'error-text', title: err }, userText(err)) : h('span', { class: 'muted', text: '—' })));
}

/** Moves the "so far" duration of the running rows under root on to now. */
export function tickRunning(root, now = Date.now()) {
  for (const tr of root.querySelectorAll('tr.exec-row[data-ticks="true"]')) {
    const el = tr.querySelector('.dur-text');
    if (el) el.textContent = elapsedText(tr.dataset.started, now);
  }
}

/** The table of items (a page of executions); workflowName(id) names a workflow. */
export function executionsTable(items, workflowName) {
  const maxDur = Math.max(1, ...items.map((e) => Number(e.duration_ms) || 0));
  const tbody = h('tbody');
  const now = Date.now();
  for (const e of items) tbody.appendChild(executionRow(e, maxDur, now, workflowName));
  const table = h('table', { class: 'exec-table', dataset: { maxDur: String(maxDur) } },
    h('caption', { class: 'visually-hidden', text: 'Executions, newest first' }),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col', text: 'Status' }),
      h('th', { scope: 'col', text: 'Execution' }),
      h('th', { scope: 'col', class: 'col-session', text: 'Session' }),
      h('th', { scope: 'col', text: 'Started' }),
      h('th', { scope: 'col', class: 'col-num', text: 'Duration' }),
      h('th', { scope: 'col', class: 'col-counts', text: 'Recorded' }),
      h('th', { scope: 'col', class: 'col-usage col-num', title: 'Tokens of the run\'s model calls, with their cost in US dollars under them', text: 'Tokens' }),
      h('th', { scope: 'col', class: 'col-error', text: 'Error' }))),
    tbody);
  return h('div', { class: 'table-scroll' }, table);
}
