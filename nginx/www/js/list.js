// The executions list: newest first, filters in the URL, keyset paging.
// This module loads a page and shows it (or why there is none); the parts
// are in list/: params (URL <-> API query), filters (the form), table (the
// rows), pager, and live (runs that start or change while the list is
// open, shown in place).
import { api } from './api.js';
import { executionsHash, navigate } from './router.js';
import { h, clear, shortId, loadingState, emptyState, errorState, userText } from './util.js';
import { getWorkflows } from './workflows.js';
import { FILTER_KEYS, paramsObject, apiParams, stripPaging } from './list/params.js';
import { createFilters } from './list/filters.js';
import { executionsTable } from './list/table.js';
import { rememberPage, pagerEl } from './list/pager.js';
import { followList } from './list/live.js';

export function renderList(outlet, initialParams) {
  let p = paramsObject(initialParams);
  let abort = null;
  let workflows = new Map();
  let destroyed = false;
  let nextCursor = null;   // the page shown has older ones after it

  document.title = 'Executions · Agora Cloud';

  const refreshBtn = h('button', { class: 'btn', type: 'button', onClick: () => load(), 'aria-label': 'Refresh the list' },
    h('span', { class: 'icon icon-refresh', 'aria-hidden': 'true' }), 'Refresh');
  const results = h('section', { class: 'card table-card', 'aria-label': 'Executions', 'aria-live': 'polite' });
  const live = followList({
    results, params: () => p, workflowName: (id) => workflowName(id), hasMore: () => !!nextCursor, reload: () => load(),
  });
  const head = h('div', { class: 'page-head' },
    h('div', {},
      h('h1', { text: 'Executions' }),
      h('p', { class: 'muted', text: 'Workflow runs, newest first. Open one to see its timeline.' })),
    h('div', { class: 'page-actions' }, live.el, refreshBtn));

  function go(next, opts) {
    const clean = {};
    for (const [k, v] of Object.entries(next)) if (v) clean[k] = v;
    navigate(['executions'], clean, opts);
  }
  const filters = createFilters({ params: () => p, go });

  const main = h('main', { class: 'page', id: 'main', tabindex: '-1' }, head, filters.el, results);
  outlet.appendChild(main);

  getWorkflows().then((list) => {
    if (destroyed) return;
    workflows = new Map(list.map((w) => [w.id, w]));
    filters.addWorkflows(list);
    filters.sync(p);
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
    live.loading();
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
      live.setItems([]);
      return;
    }
    if (destroyed || signal.aborted) return;
    results.removeAttribute('aria-busy');
    results.classList.remove('is-refreshing');
    showPage(page);
  }

  function showPage(page) {
    const items = Array.isArray(page.items) ? page.items : [];
    const pageNo = rememberPage(p);
    nextCursor = page.next_cursor || null;
    clear(results);
    if (items.length === 0) results.appendChild(noItems(pageNo));
    else {
      results.appendChild(executionsTable(items, workflowName));
      results.appendChild(pagerEl(p, items.length, page.next_cursor, go));
    }
    live.setItems(items);
  }

  /** Why a page is empty: past the end, the filters, or nothing uploaded yet. */
  function noItems(pageNo) {
    if (pageNo > 1) {
      return emptyState('No more executions', 'You reached the end of the list.',
        h('a', { class: 'btn', href: executionsHash(stripPaging(p)), text: 'Back to the first page' }));
    }
    if (FILTER_KEYS.some((k) => p[k])) {
      return emptyState('No executions match these filters',
        'Try another status, a wider time range, or clear the filters.',
        h('button', { class: 'btn', type: 'button', text: 'Clear filters', onClick: () => go({}) }));
    }
    return emptyState('No executions yet',
      'Executions appear here once a client uploads them with POST /api/executions/ingest.');
  }

  filters.sync(p);
  load();

  return {
    update(params) {
      p = paramsObject(params);
      filters.sync(p);
      load();
      live.retarget();
    },
    destroy() {
      destroyed = true;
      if (abort) abort.abort();
      live.close();
    },
  };
}
