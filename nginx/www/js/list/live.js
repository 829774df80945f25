// The executions list following its runs live (docs/LIVE.md, project
// channels): one subscription per project the list can show (the filtered
// workflow's project, else the caller's projects, at most MAX_PROJECTS). A
// message updates its run's row in place; a run the list does not hold yet
// goes in at its place (newest first) when it passes the list's filters.
// Nothing is reloaded whole: the scroll stays where the reader has it. A
// gap in an execution's seq reloads that execution, a (re)connect the page's
// executions, through the API. Messages that come while the list loads a
// page wait for it, then apply over it. A project channel sends a short
// window's updates as one message of rows; client.js hands them here one
// by one, decoded, in order, so a message is a few row updates in one go.
// Running rows count their time once a second.
import { api } from '../api.js';
import { openLive } from '../live/client.js';
import { createIndicator } from '../live/indicator.js';
import { mergeExecution } from '../live/rules.js';
import { parseTimeMs } from '../util.js';
import { getWorkflows } from '../workflows.js';
import { executionRow, tickRunning } from './table.js';
import { apiParams, matchesList } from './params.js';
import { recountPager } from './pager.js';

const MAX_PROJECTS = 10;
const TICK_MS = 1000;

/** Whether execution a comes before b in the list: started later, or as late with a greater id. */
function newer(a, b) {
  const ta = parseTimeMs(a.started_at);
  const tb = parseTimeMs(b.started_at);
  if (ta !== tb) return ta > tb;
  return String(a.id) > String(b.id);
}

/**
 * followList({results: the element holding the table, params() -> the
 * list's parameters, workflowName(id), hasMore() -> whether older pages
 * exist, reload(): load the page again (when it showed no table)})
 * -> {el: the live indicator, setItems(items), retarget(), close()}
 */
export function followList({ results, params, workflowName, hasMore, reload }) {
  const indicator = createIndicator('list-live-status');
  const clients = new Map();        // project id -> its subscription
  const known = new Map();          // execution id -> the execution its row shows
  const workflowNodes = new Map();  // execution id -> the nodes its workflow declares
  const ticker = setInterval(() => tickRunning(results), TICK_MS);
  let closed = false;
  let wanted = null;                // the projects subscribed to, as a key
  let generation = 0;
  let waiting = [];                 // messages that came while a page loaded
  let loading = true;
  let pageReload = null;            // the reload of the page's executions in flight

  function showState() {
    const states = [...clients.values()].map((c) => c.state());
    for (const s of ['reconnecting', 'connecting', 'live']) {
      if (states.includes(s)) { indicator.set(s); return; }
    }
    indicator.set('unavailable');
  }

  /** The projects whose runs the list can show. */
  async function projectsFor(p) {
    if (p.workflow_id) {
      const wf = (await getWorkflows()).find((w) => w.id === p.workflow_id);
      return wf && wf.project_id ? [wf.project_id] : [];
    }
    const page = await api('/projects');
    return (Array.isArray(page.items) ? page.items : []).slice(0, MAX_PROJECTS).map((x) => x.id);
  }

  /** Subscribes to the projects of the list's filters (again when they changed). */
  async function retarget() {
    const mine = ++generation;
    let ids;
    try {
      ids = await projectsFor(params());
    } catch {
      ids = [];
    }
    if (closed || mine !== generation) return;
    const key = [...ids].sort().join(',');
    if (key === wanted) return;
    wanted = key;
    for (const [pid, c] of clients) {
      if (!ids.includes(pid)) { c.close(); clients.delete(pid); }
    }
    for (const pid of ids) {
      if (clients.has(pid)) continue;
      clients.set(pid, openLive({ target: { project_id: pid }, onMessage, onResync, onState: showState }));
    }
    showState();
  }

  function tbody() {
    return results.querySelector('table.exec-table tbody');
  }

  function rowOf(body, id) {
    for (const tr of body.rows) if (tr.dataset.id === id) return tr;
    return null;
  }

  function makeRow(e, body) {
    const maxDur = Number(body.closest('table').dataset.maxDur) || 1;
    return executionRow(e, maxDur, Date.now(), workflowName, { workflowNodes: workflowNodes.get(e.id) });
  }

  /**
   * Runs change, which may move rows above the reader's: the first row in
   * view stays where it is on the screen.
   */
  function keepScroll(body, change) {
    const anchor = [...body.rows].find((tr) => tr.getBoundingClientRect().bottom > 0);
    const top = anchor ? anchor.getBoundingClientRect().top : 0;
    change();
    if (!anchor || !anchor.isConnected || window.scrollY <= 0) return;
    const moved = anchor.getBoundingClientRect().top - top;
    if (moved) window.scrollBy(0, moved);
  }

  /** Shows execution e: its row replaced, or a new row at its place when the list takes it. */
  function place(incoming) {
    const body = tbody();
    const e = mergeExecution(known.get(incoming.id), incoming);
    const tr = body && rowOf(body, e.id);
    if (tr) {
      if (JSON.stringify(known.get(e.id)) === JSON.stringify(e)) return;
      known.set(e.id, e);
      const next = makeRow(e, body);
      next.classList.add('is-changed');
      tr.replaceWith(next);
      return;
    }
    if (!matchesList(params(), e)) return;
    if (!body) {
      // the list said it had none: it now has a run to show
      if (results.querySelector('.state-empty')) reload();
      return;
    }
    const before = [...body.rows].find((r) => newer(e, known.get(r.dataset.id) || { started_at: r.dataset.started, id: r.dataset.id }));
    // older than every row shown: its place is on a later page, if any
    if (!before && hasMore()) return;
    known.set(e.id, e);
    const next = makeRow(e, body);
    next.classList.add('is-new');
    keepScroll(body, () => body.insertBefore(next, before || null));
    recountPager(results, body.rows.length);
  }

  function onMessage(msg) {
    if (!msg || msg.type !== 'execution' || !msg.execution || !msg.execution.id) return undefined;
    const m = Number(msg.workflow_nodes);
    if (m > 0) workflowNodes.set(msg.execution.id, m);
    // A project message is slim (no project_id, metadata: mergeExecution
    // keeps the row's own). Cut to fit, it lacks session_id and error too:
    // a row needs them (and the session filter), so the execution comes
    // from the API; the messages after it wait.
    if (msg.truncated) return onResync(msg.execution.id);
    show(msg.execution);
    return undefined;
  }

  /**
   * A page being loaded may be older or newer than e: e waits for it, then
   * applies over it (mergeExecution keeps what only moves forward).
   */
  function show(e) {
    if (!loading) place(e);
    else if (waiting.length < 1000) waiting.push(e);
  }

  async function reloadPage() {
    const page = await api('/executions', { params: apiParams(params()) });
    for (const e of Array.isArray(page.items) ? page.items : []) show(e);
  }

  /** Reloads one execution (a gap in its seq), or the page's (after a connect), through the API. */
  async function onResync(id) {
    if (id) {
      show(await api(`/executions/${encodeURIComponent(id)}`));
      return undefined;
    }
    // every project's subscription opens at once: one reload serves them all
    if (!pageReload) pageReload = reloadPage().finally(() => { pageReload = null; });
    return pageReload;
  }

  retarget();

  return {
    el: indicator.el,
    /** The list loads a page: messages wait for it. */
    loading() {
      loading = true;
    },
    /** The executions of the page the list just drew (or none: it failed); what waited applies now. */
    setItems(items) {
      known.clear();
      for (const e of items) known.set(e.id, e);
      loading = false;
      const queued = waiting;
      waiting = [];
      for (const e of queued) place(e);
    },
    retarget,
    close() {
      closed = true;
      clearInterval(ticker);
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
