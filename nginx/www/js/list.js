// The executions list: newest first, filters in the URL, keyset paging.
import { api } from './api.js';
import { executionHash, executionsHash, navigate } from './router.js';
import {
  h, clear, fmtDuration, fmtRelative, fmtTime, shortId, errorText, statusBadge,
  loadingState, emptyState, errorState, plural, userText,
} from './util.js';
import { getWorkflows } from './workflows.js';

const STATUSES = ['success', 'error', 'running', 'cancelled'];
const RANGES = [
  ['', 'Any time'], ['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['24h', 'Last 24 hours'],
  ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Custom range…'],
];
const RANGE_MS = { '15m': 15 * 60e3, '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
const FILTER_KEYS = ['workflow_id', 'status', 'session_id', 'range', 'since', 'until'];
const PAGE_SIZES = ['25', '50', '100', '200'];

// Cursors of the pages seen, per filter set, so "Newer" can step back.
const cursorTrail = new Map();
// Counts fetched for rows whose list item has none, by execution id.

function paramsObject(params) {
  const o = {};
  for (const k of [...FILTER_KEYS, 'cursor', 'page', 'limit']) {
    const v = params.get(k);
    if (v) o[k] = v;
  }
  return o;
}

function filterKey(p) {
  return FILTER_KEYS.map((k) => `${k}=${p[k] || ''}`).join('&') + `&limit=${p.limit || ''}`;
}

/** datetime-local value <-> RFC 3339 (UTC). */
function toLocalInput(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const off = d.getTimezoneOffset() * 60000;
  return new Date(d.getTime() - off).toISOString().slice(0, 16);
}
function fromLocalInput(v) {
  if (!v) return '';
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString();
}

function apiParams(p) {
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

export function renderList(outlet, initialParams) {
  let p = paramsObject(initialParams);
  let abort = null;
  let workflows = new Map();
  let destroyed = false;

  document.title = 'Executions · Agora Cloud';

  const refreshBtn = h('button', { class: 'btn', type: 'button', onClick: () => load(), 'aria-label': 'Refresh the list' },
    h('span', { class: 'icon icon-refresh', 'aria-hidden': 'true' }), 'Refresh');
  const head = h('div', { class: 'page-head' },
    h('div', {},
      h('h1', { text: 'Executions' }),
      h('p', { class: 'muted', text: 'Workflow runs, newest first. Open one to see its timeline.' })),
    h('div', { class: 'page-actions' }, refreshBtn));

  // ------------------------------------------------------------- filters
  const wfSelect = h('select', { id: 'f-workflow', name: 'workflow_id' }, h('option', { value: '', text: 'All workflows' }));
  const stSelect = h('select', { id: 'f-status', name: 'status' },
    h('option', { value: '', text: 'Any status' }),
    STATUSES.map((s) => h('option', { value: s, text: s[0].toUpperCase() + s.slice(1) })));
  const sessInput = h('input', { id: 'f-session', name: 'session_id', type: 'search', placeholder: 'Session id', autocomplete: 'off', spellcheck: 'false' });
  const rangeSelect = h('select', { id: 'f-range', name: 'range' }, RANGES.map(([v, l]) => h('option', { value: v, text: l })));
  const sinceInput = h('input', { id: 'f-since', type: 'datetime-local', 'aria-label': 'From (local time)' });
  const untilInput = h('input', { id: 'f-until', type: 'datetime-local', 'aria-label': 'Until (local time)' });
  const customBox = h('div', { class: 'filter-custom', hidden: true },
    h('label', { class: 'filter' }, h('span', { class: 'filter-label', text: 'From' }), sinceInput),
    h('label', { class: 'filter' }, h('span', { class: 'filter-label', text: 'Until' }), untilInput));
  const clearBtn = h('button', { class: 'btn btn-ghost', type: 'button', text: 'Clear filters', onClick: () => go({}) });
  const form = h('form', {
    class: 'filters card', role: 'search', 'aria-label': 'Filter executions',
    onSubmit: (e) => { e.preventDefault(); apply(); },
  },
  h('label', { class: 'filter', for: 'f-workflow' }, h('span', { class: 'filter-label', text: 'Workflow' }), wfSelect),
  h('label', { class: 'filter', for: 'f-status' }, h('span', { class: 'filter-label', text: 'Status' }), stSelect),
  h('label', { class: 'filter', for: 'f-session' }, h('span', { class: 'filter-label', text: 'Session' }), sessInput),
  h('label', { class: 'filter', for: 'f-range' }, h('span', { class: 'filter-label', text: 'Time range' }), rangeSelect),
  customBox,
  h('div', { class: 'filter-buttons' },
    h('button', { class: 'btn btn-primary', type: 'submit', text: 'Apply' }),
    clearBtn));
  for (const el of [wfSelect, stSelect]) el.addEventListener('change', apply);
  rangeSelect.addEventListener('change', () => {
    customBox.hidden = rangeSelect.value !== 'custom';
    if (rangeSelect.value !== 'custom') apply();
    else sinceInput.focus();
  });

  function apply() {
    const next = {
      workflow_id: wfSelect.value, status: stSelect.value, session_id: sessInput.value.trim(),
      range: rangeSelect.value, limit: p.limit,
    };
    if (next.range === 'custom') {
      next.since = fromLocalInput(sinceInput.value);
      next.until = fromLocalInput(untilInput.value);
    }
    go(next);
  }

  function go(next, opts) {
    const clean = {};
    for (const [k, v] of Object.entries(next)) if (v) clean[k] = v;
    navigate(['executions'], clean, opts);
  }

  function syncForm() {
    wfSelect.value = p.workflow_id || '';
    if (p.workflow_id && wfSelect.value !== p.workflow_id) {
      wfSelect.appendChild(h('option', { value: p.workflow_id, text: `Workflow ${shortId(p.workflow_id)}` }));
      wfSelect.value = p.workflow_id;
    }
    stSelect.value = p.status || '';
    sessInput.value = p.session_id || '';
    rangeSelect.value = p.range || '';
    customBox.hidden = p.range !== 'custom';
    sinceInput.value = p.since ? toLocalInput(p.since) : '';
    untilInput.value = p.until ? toLocalInput(p.until) : '';
    clearBtn.hidden = !FILTER_KEYS.some((k) => p[k]);
  }

  // ------------------------------------------------------------- results
  const results = h('section', { class: 'card table-card', 'aria-label': 'Executions', 'aria-live': 'polite' });
  const main = h('main', { class: 'page', id: 'main', tabindex: '-1' }, head, form, results);
  outlet.appendChild(main);

  getWorkflows().then((list) => {
    if (destroyed) return;
    workflows = new Map(list.map((w) => [w.id, w]));
    const sorted = [...list].sort((a, b) => String(a.name).localeCompare(String(b.name)));
    for (const w of sorted) wfSelect.appendChild(h('option', { value: w.id, text: w.name || shortId(w.id) }));
    syncForm();
    // names arrived after the rows: fill them in
    for (const cell of results.querySelectorAll('[data-workflow-id]')) {
      const w = workflows.get(cell.dataset.workflowId);
      if (w) clear(cell).appendChild(userText(w.name));
    }
  }).catch(() => { /* the list still works with ids */ });

  function workflowName(id) {
    const w = workflows.get(id);
    return w ? w.name : shortId(id);
  }

  async function load() {
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    results.setAttribute('aria-busy', 'true');
    if (!results.querySelector('table')) {
      clear(results).appendChild(loadingState('Loading executions…'));
    } else {
      results.classList.add('is-refreshing');
    }
    let page;
    try {
      page = await api('/executions', { params: apiParams(p), signal });
    } catch (e) {
      if (e.name === 'AbortError' || destroyed) return;
      results.removeAttribute('aria-busy');
      results.classList.remove('is-refreshing');
      clear(results).appendChild(errorState(e, () => load()));
      return;
    }
    if (destroyed || signal.aborted) return;
    results.removeAttribute('aria-busy');
    results.classList.remove('is-refreshing');
    showPage(page, signal);
  }

  function showPage(page, signal) {
    const items = Array.isArray(page.items) ? page.items : [];
    const pageNo = Number(p.page || 1);
    const key = filterKey(p);
    const trail = cursorTrail.get(key) || [];
    trail[pageNo - 1] = p.cursor || '';
    cursorTrail.set(key, trail);
    clear(results);

    if (items.length === 0) {
      const filtered = FILTER_KEYS.some((k) => p[k]);
      if (pageNo > 1) {
        results.appendChild(emptyState('No more executions', 'You reached the end of the list.',
          h('a', { class: 'btn', href: executionsHash(stripPaging(p)), text: 'Back to the first page' })));
      } else if (filtered) {
        results.appendChild(emptyState('No executions match these filters',
          'Try another status, a wider time range, or clear the filters.',
          h('button', { class: 'btn', type: 'button', text: 'Clear filters', onClick: () => go({}) })));
      } else {
        results.appendChild(emptyState('No executions yet',
          'Executions appear here once a client uploads them with POST /api/executions/ingest.'));
      }
      return;
    }

    const maxDur = Math.max(1, ...items.map((e) => Number(e.duration_ms) || 0));
    const tbody = h('tbody');
    const now = Date.now();
    for (const e of items) tbody.appendChild(row(e, maxDur, now));
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
    results.appendChild(h('div', { class: 'table-scroll' }, table));

    const prevCursor = pageNo > 1 ? trail[pageNo - 2] : undefined;
    const newer = h('button', {
      class: 'btn', type: 'button', disabled: pageNo <= 1, 'aria-label': 'Newer executions',
      onClick: () => {
        // The page before, when this tab saw it; else the first page.
        if (pageNo - 1 <= 1 || !prevCursor) go(stripPaging(p));
        else go({ ...stripPaging(p), cursor: prevCursor, page: pageNo - 1 });
      },
    }, '← Newer');
    const older = h('button', {
      class: 'btn', type: 'button', disabled: !page.next_cursor, 'aria-label': 'Older executions', id: 'older-page',
      onClick: () => go({ ...stripPaging(p), cursor: page.next_cursor, page: pageNo + 1 }),
    }, 'Older →');
    const sizeSelect = h('select', { id: 'page-size', 'aria-label': 'Rows per page' },
      PAGE_SIZES.map((s) => h('option', { value: s, text: `${s} per page` })));
    sizeSelect.value = PAGE_SIZES.includes(String(p.limit)) ? String(p.limit) : '50';
    sizeSelect.addEventListener('change', () => go({ ...stripPaging(p), limit: sizeSelect.value === '50' ? '' : sizeSelect.value }));
    results.appendChild(h('div', { class: 'pager' },
      h('span', { class: 'muted pager-info', text: `Page ${pageNo} · ${items.length} shown` }),
      sizeSelect,
      h('div', { class: 'pager-buttons' }, newer, older)));
  }

  function stripPaging(o) {
    const c = { ...o };
    delete c.cursor;
    delete c.page;
    return c;
  }

  function row(e, maxDur, now) {
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
    const tr = h('tr', {
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
    return tr;
  }

  function countsText(c) {
    if (!c) return h('span', { class: 'muted', text: '…' });
    const n = (k) => Number(c[k] || 0);
    return h('span', { class: 'counts', title: `${n('node_executions')} node executions, ${n('telemetry_events')} events, ${n('telemetry_spans')} spans, ${n('shared_state_snapshots')} state snapshots` },
      h('span', { text: plural(n('node_executions'), 'node') }),
      h('span', { class: 'sep', 'aria-hidden': 'true', text: '·' }),
      h('span', { text: plural(n('telemetry_events'), 'event') }));
  }

  syncForm();
  load();

  return {
    update(params) {
      p = paramsObject(params);
      syncForm();
      load();
    },
    destroy() {
      destroyed = true;
      if (abort) abort.abort();
    },
  };
}
