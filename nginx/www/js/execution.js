// One execution: header, Gantt timeline, and panels for events, spans,
// state evolution and the workflow graph. The URL keeps the open panel and
// the selected node execution, so a link shows the same thing.
import { api, ApiError } from './api.js';
import { executionHash, executionsHash, navigate } from './router.js';
import {
  h, append, clear, fmtDuration, fmtTime, fmtRelative, errorText, statusBadge, jsonPretty, copyText, shortId,
  loadingState, errorState, userText, visibleText,
} from './util.js';
import { getWorkflow } from './workflows.js';
import { createGantt } from './gantt.js';
import { renderEvents } from './events.js';
import { renderSpans } from './spans.js';
import { renderState } from './state.js';
import { renderGraph } from './graph.js';

const TABS = [
  { id: 'events', label: 'Events', count: 'telemetry_events' },
  { id: 'spans', label: 'Spans', count: 'telemetry_spans' },
  { id: 'state', label: 'State', count: 'shared_state_snapshots' },
  { id: 'graph', label: 'Graph' },
];

export function renderExecution(outlet, id, initialParams) {
  let params = new URLSearchParams(initialParams);
  let destroyed = false;
  let abort = new AbortController();
  let gantt = null;
  let panels = new Map(); // tab id -> {el, view}
  let data = null;        // {exec, timeline, workflowPromise}
  let tabButtons = new Map();
  let tabPanelsBox = null;

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
    const headerBox = h('section', { class: 'card exec-header', 'aria-label': 'Execution summary' }, loadingState('Loading execution…'));
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
      if (e instanceof ApiError && e.status === 404) {
        headerBox.appendChild(h('div', { class: 'state state-empty', role: 'alert' },
          h('p', { class: 'state-title', text: 'Execution not found' }),
          h('p', { class: 'state-detail', text: `There is no execution ${id} that you can see: it does not exist, or it belongs to an organization you are not a member of.` }),
          h('div', { class: 'state-actions' }, h('a', { class: 'btn', href: executionsHash(), text: 'Back to executions' }))));
      } else {
        headerBox.appendChild(errorState(e, () => build()));
      }
      return;
    }
    if (destroyed) return;
    const tlExec = (timeline && timeline.execution) || {};
    exec = { ...tlExec, ...exec };
    const nodeExecutions = Array.isArray(timeline && timeline.node_executions) ? timeline.node_executions : [];
    const workflowPromise = exec.workflow_id ? getWorkflow(exec.workflow_id) : Promise.reject(new Error('no workflow'));
    workflowPromise.catch(() => {});
    data = { exec, nodeExecutions, workflowPromise };

    renderHeader(headerBox, exec, nodeExecutions);
    workflowPromise.then((wf) => {
      if (destroyed || !wf) return;
      const name = wf.name || shortId(wf.id);
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
      onShowEvents: (name) => {
        selectTab('events');
        const p = panels.get('events');
        if (p && p.view.setFilters) p.view.setFilters({ node: name, type: '' });
        syncUrl({ ev_node: name, ev_type: null });
        tabsBox.scrollIntoView({ behavior: 'smooth', block: 'start' });
      },
    });
    ganttBox.appendChild(gantt.el);
    renderTabs(tabsBox, exec);
  }

  function renderHeader(box, exec, nodeExecutions) {
    clear(box);
    const counts = exec.counts || {};
    const failed = nodeExecutions.filter((n) => n.status === 'error').length;
    const retries = nodeExecutions.reduce((s, n) => s + (Number(n.retry_count) || 0), 0);
    const err = errorText(exec.error);
    const copyBtn = h('button', { class: 'btn', type: 'button', title: 'Copy a link to this view' },
      h('span', { class: 'icon icon-link', 'aria-hidden': 'true' }), h('span', { class: 'btn-text', text: 'Copy link' }));
    copyBtn.addEventListener('click', async () => {
      const ok = await copyText(location.href);
      const label = copyBtn.querySelector('.btn-text');
      label.textContent = ok ? 'Copied' : 'Copy failed';
      setTimeout(() => { label.textContent = 'Copy link'; }, 1600);
    });
    const refreshBtn = h('button', { class: 'btn', type: 'button', 'aria-label': 'Reload this execution', onClick: () => reload() },
      h('span', { class: 'icon icon-refresh', 'aria-hidden': 'true' }), 'Reload');
    // "06:07:52.609" big, the date under it
    const when = (iso) => {
      const t = fmtTime(iso);
      return [h('span', { class: 'fact-time mono', text: t.slice(11) }), h('span', { class: 'fact-date', text: t.slice(0, 10) })];
    };
    const fact = (label, value, opts = {}) => h('div', { class: 'fact' },
      h('dt', { text: label }), h('dd', { class: opts.cls || '', title: opts.title || null }, value));
    const nodeText = [`${(counts.node_executions ?? nodeExecutions.length).toLocaleString('en-US')}`];
    const meta = exec.metadata && typeof exec.metadata === 'object' && Object.keys(exec.metadata).length ? exec.metadata : null;
    append(box, [
      h('div', { class: 'exec-title-row' },
        statusBadge(exec.status, 'badge-lg'),
        h('h1', { class: 'exec-title' }, h('span', { class: 'exec-wf-name', text: 'Execution' })),
        h('div', { class: 'page-actions' }, copyBtn, refreshBtn)),
      h('div', { class: 'exec-ids' },
        h('span', {}, h('span', { class: 'muted', text: 'Execution ' }), h('code', { class: 'mono', text: exec.id || id })),
        exec.session_id ? h('span', {}, h('span', { class: 'muted', text: 'Session ' }),
          h('a', { class: 'mono', href: executionsHash({ session_id: exec.session_id }), title: 'All executions of this session' }, userText(exec.session_id))) : null),
      h('dl', { class: 'exec-facts' },
        fact('Started', when(exec.started_at), { title: `${exec.started_at} (${fmtRelative(exec.started_at)})` }),
        fact('Completed', exec.completed_at ? when(exec.completed_at) : (exec.status === 'running' ? 'still running' : '–'), { title: exec.completed_at || null }),
        fact('Duration', fmtDuration(exec.duration_ms), { cls: 'fact-big' }),
        fact('Node runs', [nodeText[0],
          failed ? h('span', { class: 'fact-note err', text: ` · ${failed} failed` }) : null,
          retries ? h('span', { class: 'fact-note', text: ` · ${retries} ${retries === 1 ? 'retry' : 'retries'}` }) : null], { cls: 'fact-big' }),
        fact('Events', String((counts.telemetry_events ?? '–').toLocaleString('en-US')), { cls: 'fact-big' }),
        fact('Spans', String((counts.telemetry_spans ?? '–').toLocaleString('en-US')), { cls: 'fact-big' }),
        fact('Snapshots', String((counts.shared_state_snapshots ?? '–').toLocaleString('en-US')), { cls: 'fact-big' })),
      err ? h('div', { class: 'callout callout-error exec-error', role: 'note' },
        h('strong', { text: 'Execution error' }),
        h('pre', { class: 'error-pre' }, userText(typeof exec.error === 'string' ? exec.error : jsonPretty(exec.error)))) : null,
      meta ? h('details', { class: 'meta' },
        h('summary', { text: `Metadata (${Object.keys(meta).length})` }),
        h('pre', { class: 'json' }, userText(jsonPretty(meta)))) : null]);
  }

  function renderTabs(box, exec) {
    clear(box);
    const counts = exec.counts || {};
    const list = h('div', { class: 'tablist', role: 'tablist', 'aria-label': 'Execution details' });
    tabPanelsBox = h('div', { class: 'tabpanels' });
    tabButtons = new Map();
    for (const t of TABS) {
      const n = t.count ? counts[t.count] : undefined;
      const b = h('button', {
        class: 'tab', type: 'button', role: 'tab', id: `tab-${t.id}`, 'aria-controls': `panel-${t.id}`,
        'aria-selected': 'false', tabindex: '-1', dataset: { tab: t.id },
        onClick: () => selectTab(t.id, true),
        onKeydown: (ev) => {
          const ids = TABS.map((x) => x.id);
          let i = ids.indexOf(t.id);
          if (ev.key === 'ArrowRight') i = (i + 1) % ids.length;
          else if (ev.key === 'ArrowLeft') i = (i - 1 + ids.length) % ids.length;
          else if (ev.key === 'Home') i = 0;
          else if (ev.key === 'End') i = ids.length - 1;
          else return;
          ev.preventDefault();
          selectTab(ids[i], true);
          tabButtons.get(ids[i]).focus();
        },
      }, t.label, n !== undefined && n !== null ? h('span', { class: 'tab-count', text: Number(n).toLocaleString('en-US') }) : null);
      tabButtons.set(t.id, b);
      list.appendChild(b);
    }
    box.append(list, tabPanelsBox);
    panels = new Map();
    selectTab(currentTab());
  }

  function selectTab(tabId, fromUser = false) {
    if (!data || !tabPanelsBox) return;
    for (const [tid, b] of tabButtons) {
      const on = tid === tabId;
      b.setAttribute('aria-selected', String(on));
      b.tabIndex = on ? 0 : -1;
      b.classList.toggle('is-active', on);
    }
    for (const [tid, p] of panels) p.el.hidden = tid !== tabId;
    if (!panels.has(tabId)) {
      const el = h('div', { class: `tabpanel panel-${tabId}`, role: 'tabpanel', id: `panel-${tabId}`, 'aria-labelledby': `tab-${tabId}`, tabindex: '-1' });
      tabPanelsBox.appendChild(el);
      const { exec, nodeExecutions, workflowPromise } = data;
      let view;
      if (tabId === 'events') {
        view = renderEvents(el, {
          executionId: id, startedAt: exec.started_at, node: params.get('ev_node'), type: params.get('ev_type'),
          onFilter: (f) => syncUrl({ ev_node: f.node, ev_type: f.type }),
        });
      } else if (tabId === 'spans') {
        view = renderSpans(el, { executionId: id, startedAt: exec.started_at, durationMs: exec.duration_ms });
      } else if (tabId === 'state') {
        view = renderState(el, { executionId: id, startedAt: exec.started_at });
      } else {
        view = renderGraph(el, {
          workflowPromise, nodeExecutions,
          onNodeClick: (name) => {
            const i = nodeExecutions.findIndex((ne) => ne.node_name === name);
            if (i >= 0 && gantt) {
              gantt.select(i);
              gantt.el.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
            }
          },
        });
      }
      panels.set(tabId, { el, view });
    }
    if (fromUser) syncUrl({ tab: tabId === 'events' ? null : tabId });
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
    if (gantt) gantt.destroy();
    gantt = null;
    for (const p of panels.values()) if (p.view && p.view.destroy) p.view.destroy();
    panels = new Map();
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
