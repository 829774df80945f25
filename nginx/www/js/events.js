// Events panel: the execution's telemetry events in time order, filtered by
// type and node (the API's event_type / node_name filters). While a run is
// live, refresh() fetches only the events stored since (feed.js) and puts
// each new one in its place, below the others or between them, so what is
// open or scrolled stays put.
import { fetchAll } from './api.js';
import { itemFeed, sortedIndex, timeOrder } from './feed.js';
import {
  h, clear, fmtTime, fmtMs, jsonPreview, jsonPretty, hueOf, parseTimeMs,
  loadingState, emptyState, errorState, userText, pagedRows, taskQueue,
} from './util.js';

const PAGE = 300;
const MAX = 100000;
const eventOrder = timeOrder('timestamp'); // the API's

export function renderEvents(container, { executionId, startedAt, node, type, onFilter }) {
  const t0 = parseTimeMs(startedAt);
  let destroyed = false;
  let abort = null;
  let filters = { node: node || '', type: type || '' };
  let all = null; // unfiltered, for the filter options
  let shownEvents = []; // what the table holds (or will, a page at a time)
  let pager = null;     // the table's pagedRows, null while none is shown
  const tasks = taskQueue(); // loads and refreshes, one at a time
  const refreshAbort = new AbortController();
  const path = `/executions/${encodeURIComponent(executionId)}/telemetry-events`;
  const feed = itemFeed(path, { max: MAX, compare: eventOrder });

  const typeSelect = h('select', { id: 'ev-type', 'aria-label': 'Event type' }, h('option', { value: '', text: 'All types' }));
  const nodeSelect = h('select', { id: 'ev-node', 'aria-label': 'Node' }, h('option', { value: '', text: 'All nodes' }));
  const count = h('span', { class: 'muted panel-count', 'aria-live': 'polite' });
  const clearBtn = h('button', { class: 'btn btn-ghost', type: 'button', text: 'Clear', hidden: true, onClick: () => setFilters({ node: '', type: '' }) });
  const bar = h('div', { class: 'panel-toolbar' },
    h('label', { class: 'filter', for: 'ev-type' }, h('span', { class: 'filter-label', text: 'Type' }), typeSelect),
    h('label', { class: 'filter', for: 'ev-node' }, h('span', { class: 'filter-label', text: 'Node' }), nodeSelect),
    clearBtn, h('div', { class: 'toolbar-spacer' }), count);
  const list = h('div', { class: 'panel-body' });
  container.append(bar, list);

  typeSelect.addEventListener('change', () => setFilters({ ...filters, type: typeSelect.value }));
  nodeSelect.addEventListener('change', () => setFilters({ ...filters, node: nodeSelect.value }));

  function setFilters(f, { notify = true } = {}) {
    filters = { node: f.node || '', type: f.type || '' };
    if (notify && onFilter) onFilter(filters);
    syncSelects();
    load();
  }

  function ensureOption(select, value) {
    if (value && ![...select.options].some((o) => o.value === value)) select.appendChild(h('option', { value, text: value }));
  }

  function syncSelects() {
    ensureOption(typeSelect, filters.type);
    ensureOption(nodeSelect, filters.node);
    typeSelect.value = filters.type;
    nodeSelect.value = filters.node;
    clearBtn.hidden = !filters.type && !filters.node;
  }

  function fillOptions(events) {
    const types = [...new Set(events.map((e) => e.event_type).filter(Boolean))].sort();
    const nodes = [...new Set(events.map((e) => e.node_name).filter(Boolean))].sort();
    for (const t of types) ensureOption(typeSelect, t);
    for (const n of nodes) ensureOption(nodeSelect, n);
    syncSelects();
  }

  function load() {
    if (abort) abort.abort();
    abort = new AbortController();
    const signal = abort.signal;
    clear(list).appendChild(loadingState('Loading events…'));
    count.textContent = '';
    pager = null;
    return tasks.run(() => loadNow(signal));
  }

  async function loadNow(signal) {
    if (signal.aborted) return;
    try {
      if (!all) {
        all = await feed.load(signal, (items) => { count.textContent = `${items.length.toLocaleString('en-US')} loaded…`; });
        if (destroyed || signal.aborted) return;
        fillOptions(all);
      }
      let events = all;
      if (filters.type || filters.node) {
        const params = {};
        if (filters.type) params.event_type = filters.type;
        if (filters.node) params.node_name = filters.node;
        events = await fetchAll(path, params, { signal, max: MAX });
      }
      if (destroyed || signal.aborted) return;
      show(events);
    } catch (e) {
      if (e.name === 'AbortError' || destroyed) return;
      clear(list).appendChild(errorState(e, () => load()));
    }
  }

  function countText() {
    count.textContent = filters.type || filters.node
      ? `${shownEvents.length.toLocaleString('en-US')} of ${all.length.toLocaleString('en-US')} events`
      : `${shownEvents.length.toLocaleString('en-US')} events`;
  }

  const matches = (e) => (!filters.type || e.event_type === filters.type) && (!filters.node || e.node_name === filters.node);

  /**
   * A live run's new events (count: the run's events from the message):
   * only those stored since are fetched, each put in its place in the table.
   */
  function refresh(runCount) {
    feed.expect(runCount);
    return tasks.again(refreshNow);
  }

  async function refreshNow() {
    if (destroyed || !all) return;
    try {
      const { added } = await feed.next(refreshAbort.signal);
      if (destroyed) return;
      all = feed.items;
      if (added === null) { // reloaded whole (feed.js)
        fillOptions(all);
        show(all.filter(matches));
        return;
      }
      fillOptions(added.map(([, e]) => e));
      const more = added.map(([, e]) => e).filter(matches);
      if (!pager) {
        if (more.length) show(all.filter(matches));
        return;
      }
      for (const e of more) {
        const i = sortedIndex(shownEvents, e, eventOrder);
        shownEvents.splice(i, 0, e);
        pager.insert(i, e);
      }
      countText();
    } catch {
      // the next message, or the Reload button, tries again
    }
  }

  function show(events) {
    clear(list);
    shownEvents = events.slice();
    pager = null;
    countText();
    if (!events.length) {
      list.appendChild(all.length
        ? emptyState('No events match', 'No event has this type and node.', h('button', { class: 'btn', type: 'button', text: 'Clear filters', onClick: () => setFilters({}) }))
        : emptyState('No events recorded', 'This execution uploaded no telemetry events.'));
      return;
    }
    const tbody = h('tbody');
    const table = h('table', { class: 'data-table events-table' },
      h('caption', { class: 'visually-hidden', text: 'Telemetry events in time order' }),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'col-time', text: 'Time' }),
        h('th', { scope: 'col', text: 'Type' }),
        h('th', { scope: 'col', text: 'Node' }),
        h('th', { scope: 'col', text: 'Data' }))),
      tbody);
    pager = pagedRows(tbody, events.slice(), eventRows, { page: PAGE });
    list.append(h('div', { class: 'table-scroll' }, table), pager.el);
  }

  function eventRows(e) {
    const ts = parseTimeMs(e.timestamp);
    const off = Number.isFinite(ts) && Number.isFinite(t0) ? ts - t0 : null;
    const hasData = e.data !== null && e.data !== undefined && !(typeof e.data === 'object' && Object.keys(e.data).length === 0);
    const detailRow = h('tr', { class: 'detail-row', hidden: true },
      h('td', { colspan: '4' }, h('pre', { class: 'json' }, userText(jsonPretty(e.data)))));
    const toggle = hasData ? h('button', {
      class: 'linkish mono', type: 'button', 'aria-expanded': 'false', title: 'Show the event data',
      onClick: () => {
        const open = detailRow.hidden;
        detailRow.hidden = !open;
        toggle.setAttribute('aria-expanded', String(open));
      },
    }, userText(jsonPreview(e.data, 110))) : h('span', { class: 'muted', text: '—' });
    const hue = hueOf(String(e.event_type || ''));
    const chip = h('span', { class: 'type-chip', style: { '--hue': String(hue) } }, userText(e.event_type));
    return [h('tr', { class: 'event-row', dataset: { type: e.event_type || '', node: e.node_name || '' } },
      h('td', { class: 'col-time mono' }, h('span', { text: off === null ? '–' : `+${fmtMs(off)}` }),
        h('span', { class: 'sub muted', text: fmtTime(e.timestamp) })),
      h('td', {}, chip),
      h('td', { class: 'mono' }, e.node_name ? h('button', {
        class: 'linkish', type: 'button', title: `Only events of ${e.node_name}`,
        onClick: () => setFilters({ ...filters, node: e.node_name }),
      }, userText(e.node_name)) : h('span', { class: 'muted', text: '—' })),
      h('td', { class: 'col-data' }, toggle)), detailRow];
  }

  syncSelects();
  load();

  return {
    setFilters: (f) => setFilters(f, { notify: false }),
    refresh,
    destroy() {
      destroyed = true;
      if (abort) abort.abort();
      refreshAbort.abort();
    },
  };
}
