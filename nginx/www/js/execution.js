// One execution: header, Gantt timeline, and panels for events, spans,
// state evolution and the workflow graph. The URL keeps the open panel and
// the selected node execution, so a link shows the same thing.
// This module loads the execution and wires the parts together; the header
// card, the tabs and following a run live are in execution/. A run that has
// not ended is followed live: its updates go into the parts in place (no
// reload: the Gantt keeps its zoom and scroll, the panels what is open).
import { api, ApiError } from './api.js';
import { executionHash, executionsHash, navigate } from './router.js';
import { h, clear, shortId, loadingState, errorState, userText, visibleText } from './util.js';
import { getWorkflow } from './workflows.js';
import { createGantt } from './gantt.js';
import { renderEvents } from './events.js';
import { renderSpans } from './spans.js';
import { renderState } from './state.js';
import { renderGraph } from './graph.js';
import { renderBreakdown } from './breakdown.js';
import { renderHeader, notFoundState, tickElapsed } from './execution/header.js';
import { createTabs } from './execution/tabs.js';
import { followExecution } from './execution/live.js';
import { isTerminal } from './live/rules.js';

const TABS = [
  { id: 'events', label: 'Events', count: 'telemetry_events' },
  { id: 'spans', label: 'Spans', count: 'telemetry_spans' },
  { id: 'state', label: 'State', count: 'shared_state_snapshots' },
  { id: 'graph', label: 'Graph' },
  { id: 'breakdown', label: 'Breakdown' },
];
const TAB_OF_COUNT = { telemetry_events: 'events', telemetry_spans: 'spans', shared_state_snapshots: 'state' };

export function renderExecution(outlet, id, initialParams) {
  let params = new URLSearchParams(initialParams);
  let destroyed = false;
  let abort = new AbortController();
  let gantt = null;
  let tabs = null;
  let data = null;        // {exec, nodeExecutions, workflowPromise}
  let live = null;        // following the run (followExecution), while it has not ended
  let wfName = '';        // the workflow's name, once it arrived
  let headerBox = null;

  const main = h('main', { class: 'page page-exec', id: 'main', tabindex: '-1' });
  outlet.appendChild(main);

  function currentTab() {
    const t = params.get('tab');
    return TABS.some((x) => x.id === t) ? t : 'events';
  }

  function syncUrl(changes) {
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === undefined || v === '') params.delete(k); else params.set(k, String(v));
    }
    navigate(['executions', id], Object.fromEntries(params), { replace: true, silent: true });
  }

  function build() {
    clear(main);
    document.title = `Execution ${shortId(id)} · Agora Cloud`;
    const crumbName = h('span', { class: 'crumb-wf', text: 'Execution' });
    main.appendChild(h('nav', { class: 'breadcrumbs', 'aria-label': 'Breadcrumb' },
      h('ol', {},
        h('li', {}, h('a', { href: executionsHash(), text: 'Executions' })),
        h('li', {}, crumbName),
        h('li', { 'aria-current': 'page' }, h('span', { class: 'mono', title: id, text: shortId(id) })))));
    headerBox = h('section', { class: 'card exec-header', 'aria-label': 'Execution summary' }, loadingState('Loading execution…'));
    const ganttBox = h('div', { class: 'gantt-slot' });
    const tabsBox = h('section', { class: 'card tabs-card', 'aria-label': 'Execution details' });
    main.append(headerBox, ganttBox, tabsBox);
    load(headerBox, ganttBox, tabsBox, crumbName);
  }

  async function load(headerBox, ganttBox, tabsBox, crumbName) {
    const signal = abort.signal;
    let exec;
    let timeline;
    try {
      [exec, timeline] = await Promise.all([
        api(`/executions/${encodeURIComponent(id)}`, { signal }),
        api(`/executions/${encodeURIComponent(id)}/timeline`, { signal }),
      ]);
    } catch (e) {
      if (e.name === 'AbortError' || destroyed) return;
      clear(headerBox);
      headerBox.appendChild(e instanceof ApiError && e.status === 404 ? notFoundState(id) : errorState(e, () => build()));
      return;
    }
    if (destroyed) return;
    const tlExec = (timeline && timeline.execution) || {};
    exec = { ...tlExec, ...exec };
    const nodeExecutions = Array.isArray(timeline && timeline.node_executions) ? timeline.node_executions : [];
    const workflowPromise = exec.workflow_id ? getWorkflow(exec.workflow_id) : Promise.reject(new Error('no workflow'));
    workflowPromise.catch(() => {});
    data = { exec, nodeExecutions, workflowPromise };

    if (!isTerminal(exec.status)) {
      live = followExecution({
        id, current: () => data, apply: applyLive, tick: () => tickElapsed(headerBox),
      });
    }
    showHeader();
    workflowPromise.then((wf) => {
      if (destroyed || !wf) return;
      const name = wf.name || shortId(wf.id);
      wfName = name;
      clear(crumbName).appendChild(userText(name));
      const title = headerBox.querySelector('.exec-wf-name');
      if (title) clear(title).appendChild(userText(name));
      document.title = `${visibleText(name)} · ${shortId(id)} · Agora Cloud`;
    }).catch(() => {});

    gantt = createGantt({
      execution: exec,
      nodeExecutions,
      selectedId: params.get('node'),
      onSelect: (ne) => syncUrl({ node: ne ? ne.id : null }),
      loadCriticalPath: async () => {
        const cp = await api(`/executions/${encodeURIComponent(id)}/critical-path`);
        return new Set(cp.critical_path.steps.map((s) => String(s.id)));
      },
      onShowEvents: (name) => {
        selectTab('events');
        const events = tabs && tabs.panel('events');
        if (events && events.setFilters) events.setFilters({ node: name, type: '' });
        syncUrl({ ev_node: name, ev_type: null });
        tabsBox.scrollIntoView({ behavior: 'smooth', block: 'start' });
      },
    });
    ganttBox.appendChild(gantt.el);
    clear(tabsBox);
    tabs = createTabs(tabsBox, {
      tabs: TABS,
      counts: exec.counts || {},
      makePanel,
      onUserSelect: (tabId) => syncUrl({ tab: tabId === 'events' ? null : tabId }),
    });
    selectTab(currentTab());
  }

  function showHeader() {
    const { exec, nodeExecutions } = data;
    renderHeader(headerBox, { id, exec, nodeExecutions, onReload: () => reload(), workflowName: wfName, liveEl: live && live.el });
  }

  /**
   * The run's new state from the live subscription: into the header, the
   * Gantt, the tab counts and the panels whose items grew.
   */
  function applyLive({ exec, nodeExecutions, added, reloaded }) {
    if (destroyed || !data) return;
    const before = data.exec.counts || {};
    const nodesChanged = nodeExecutions !== data.nodeExecutions;
    data.exec = exec;
    data.nodeExecutions = nodeExecutions;
    showHeader();
    if (gantt) gantt.update(exec, nodeExecutions);
    if (!tabs) return;
    const counts = exec.counts || {};
    tabs.setCounts(counts);
    for (const [key, tabId] of Object.entries(TAB_OF_COUNT)) {
      const grew = reloaded ? counts[key] !== before[key] : Number(added && added[key]) > 0;
      const panel = grew && tabs.panel(tabId);
      // The run's count lets the panel check that it holds every item.
      if (panel && panel.refresh) panel.refresh(counts[key]);
    }
    // The graph is laid out once: a hidden one is made anew when it opens,
    // the one shown when the run has ended (its final colours).
    const ended = isTerminal(exec.status);
    if (nodesChanged || ended) {
      tabs.renew('graph', ended);
      tabs.renew('breakdown', ended);
    }
  }

  /** The view in a tab's panel, made the first time the tab opens. */
  function makePanel(tabId, el) {
    const { exec, workflowPromise } = data;
    if (tabId === 'events') {
      return renderEvents(el, {
        executionId: id, startedAt: exec.started_at, node: params.get('ev_node'), type: params.get('ev_type'),
        onFilter: (f) => syncUrl({ ev_node: f.node, ev_type: f.type }),
      });
    }
    if (tabId === 'spans') return renderSpans(el, { executionId: id, startedAt: exec.started_at, durationMs: exec.duration_ms });
    if (tabId === 'state') return renderState(el, { executionId: id, startedAt: exec.started_at });
    if (tabId === 'breakdown') {
      return renderBreakdown(el, { executionId: id, onNodeClick: (neId) => showNode((ne) => String(ne.id) === String(neId)) });
    }
    return renderGraph(el, {
      workflowPromise, nodeExecutions: data.nodeExecutions,
      onNodeClick: (name) => showNode((ne) => ne.node_name === name),
    });
  }

  /** Selects the first node execution that matches on the Gantt, and brings the chart into view. */
  function showNode(matches) {
    const i = data ? data.nodeExecutions.findIndex(matches) : -1;
    if (i >= 0 && gantt) {
      gantt.select(i);
      gantt.el.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    }
  }

  function selectTab(tabId) {
    if (data && tabs) tabs.select(tabId);
  }

  function reload() {
    teardown();
    destroyed = false;
    abort = new AbortController();
    build();
  }

  function teardown() {
    destroyed = true;
    abort.abort();
    if (live) live.close();
    live = null;
    if (gantt) gantt.destroy();
    gantt = null;
    if (tabs) tabs.destroy();
    tabs = null;
    data = null;
  }

  build();

  return {
    update(next) {
      const prevTab = currentTab();
      const prevNode = params.get('node');
      params = new URLSearchParams(next);
      if (currentTab() !== prevTab) selectTab(currentTab());
      const node = params.get('node');
      if (node !== prevNode && gantt && data) {
        const i = data.nodeExecutions.findIndex((ne) => String(ne.id) === node);
        gantt.select(i);
      }
    },
    destroy: teardown,
  };
}

export { executionHash };
