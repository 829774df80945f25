// The Gantt timeline of one execution: one row per node execution, each bar
// placed by offset_ms and split into prep / exec / post. Rows are virtual:
// only those in view exist in the DOM, so 10,000+ rows scroll smoothly.
// Zoom: Ctrl/⌘ + wheel, the +/- buttons or keys, or a drag on the overview;
// pan: drag the chart, Shift + wheel, or ←/→.
//
// This module lays the parts out and runs them: one render per animation
// frame, the selection, the filters. The parts are in gantt/: model (rows
// as data), view (time window and geometry), toolbar, minimap (overview),
// axis, rows, detail, tooltip, interaction (pointer and keys) and critical
// (the critical path's marks, asked again at most once a second).
//
// A live run changes under the chart: update() takes its new node
// executions and keeps the zoom, the scroll, the filters and the selection
// (by node execution id); while the run goes on, its open bars (nodes still
// running) and the chart's end follow the clock, redrawn once a second.
import { h } from './util.js';
import { prepareRows, chartTotal, stretchOpen } from './gantt/model.js';
import { isOpenRun } from './live/rules.js';
import { createView } from './gantt/view.js';
import { createToolbar } from './gantt/toolbar.js';
import { createMinimap } from './gantt/minimap.js';
import { renderAxis } from './gantt/axis.js';
import { ROW_H, renderRows } from './gantt/rows.js';
import { createDetail } from './gantt/detail.js';
import { createTooltip } from './gantt/tooltip.js';
import { attachInteraction } from './gantt/interaction.js';
import { createCriticalPath } from './gantt/critical.js';

export { prepareRows };

const TICK_MS = 1000;

/**
 * createGantt({execution, nodeExecutions, selectedId, onSelect(ne|null), onShowEvents(nodeName),
 *              loadCriticalPath() -> Promise<Set of node execution ids>})
 * -> {el, select(index), update(execution, nodeExecutions), destroy()}
 * Without loadCriticalPath the chart has no critical path toggle.
 */
export function createGantt({ execution, nodeExecutions, selectedId, onSelect, onShowEvents, loadCriticalPath }) {
  const rows = prepareRows(execution, nodeExecutions);
  const total = chartTotal(execution, rows);
  let raf = 0;
  let ticker = 0;
  let destroyed = false;
  let filter = { q: '', failed: false };
  // What the parts share: the run, its rows, those the filters let through
  // (shown), the selected row's index (or -1), the view, a drag in
  // progress, the DOM. A live run replaces rows and total (update, tick).
  const g = { execution, rows, total, shown: rows, selected: -1, drag: null, view: createView(total, schedule), shownPos, select };

  // The critical path's marks (g.critical), asked again after live updates
  // while the toggle is on, at most once a second (gantt/critical.js).
  const critical = loadCriticalPath ? createCriticalPath({
    load: loadCriticalPath,
    onChange: (ids) => {
      g.critical = ids;
      schedule();
    },
  }) : null;

  // ------------------------------------------------------------- DOM
  const toolbar = createToolbar({
    rows, total, view: g.view, onFilter: applyFilter, onCritical: critical ? critical.show : null,
  });
  const minimap = createMinimap(g);
  const axis = h('div', { class: 'gantt-axis', 'aria-hidden': 'true' });
  const headCount = h('span', { class: 'muted', text: `${rows.length.toLocaleString('en-US')}` });
  const head = h('div', { class: 'gantt-head' },
    h('div', { class: 'gantt-head-label' }, h('span', { text: 'Node' }), headCount),
    axis);
  const gridlines = h('div', { class: 'gantt-gridlines', 'aria-hidden': 'true' });
  g.spacer = h('div', { class: 'gantt-spacer' });
  const body = g.body = h('div', {
    class: 'gantt-body', role: 'grid', tabindex: '0', 'aria-rowcount': String(rows.length), 'aria-colcount': '2',
    'aria-label': 'Node executions. Arrow keys: select; + and -: zoom; Shift+arrows or ← →: pan; 0: fit.',
  }, g.spacer);
  g.emptyRows = h('div', { class: 'gantt-norows', hidden: true, text: 'No node matches.' });
  const bodyWrap = h('div', { class: 'gantt-bodywrap' }, gridlines, body, g.emptyRows);
  const detail = createDetail({ onClose: () => { select(-1); body.focus(); }, onShowEvents });
  const tooltip = createTooltip(g);
  const mainCol = h('div', { class: 'gantt-main' }, head, bodyWrap);
  const noRuns = h('div', { class: 'state state-empty', hidden: true },
    h('p', { class: 'state-title', text: 'No node executions' }),
    h('p', { class: 'state-detail', text: 'This execution recorded no node runs, so there is nothing to draw.' }));
  const frame = h('div', { class: 'gantt-frame' }, mainCol, detail.el, noRuns);
  const el = g.el = h('section', { class: 'card gantt', 'aria-labelledby': 'gantt-title' },
    toolbar.el, minimap.el, frame, tooltip.el);

  /** A run without node executions shows why there is no chart (a live one until its first arrives). */
  function showEmpty(empty) {
    noRuns.hidden = !empty;
    mainCol.hidden = empty;
    minimap.el.hidden = empty;
    if (empty) toolbar.disable(); else toolbar.enable();
  }
  showEmpty(rows.length === 0);

  // ------------------------------------------------------------- rendering
  function schedule() {
    if (raf || destroyed) return;
    raf = requestAnimationFrame(() => {
      raf = 0;
      render();
    });
  }

  function measure() {
    // As tall as the rows need, at most about half the window.
    const maxH = Math.max(240, Math.min(560, Math.round(window.innerHeight * 0.56)));
    const want = `${Math.max(3 * ROW_H, Math.min(maxH, Math.max(g.shown.length, 1) * ROW_H + 2))}px`;
    if (body.style.height !== want) body.style.height = want;
    const lw = parseFloat(getComputedStyle(el).getPropertyValue('--gantt-label-w'));
    if (lw > 0) g.view.labelW = lw;
    g.view.trackW = Math.max(80, body.clientWidth - g.view.labelW);
  }

  function render() {
    if (destroyed || g.rows.length === 0) return;
    measure();
    renderAxis({ axis, gridlines, rangeLabel: toolbar.rangeLabel }, g.view, g.total);
    minimap.place();
    renderRows(g);
    // the details panel is as tall as the chart, and scrolls
    const want = `${head.offsetHeight + body.offsetHeight}px`;
    if (detail.el.style.maxHeight !== want) detail.el.style.maxHeight = want;
  }

  // ------------------------------------------------------------- selection and filters
  function shownPos(index) {
    if (g.shown === g.rows) return index;
    return g.shown.findIndex((r) => r.index === index);
  }

  function ensureVisible(pos) {
    const top = pos * ROW_H;
    if (top < body.scrollTop) body.scrollTop = top;
    else if (top + ROW_H > body.scrollTop + body.clientHeight) body.scrollTop = top + ROW_H - body.clientHeight;
    // and horizontally: bring the bar into the view when it is outside
    const r = g.rows[g.shown[pos].index];
    const { vs, ve } = g.view;
    if (r.end < vs || r.offset > ve) {
      const span = ve - vs;
      g.view.set(r.offset - span * 0.1, r.offset + span * 0.9);
    }
  }

  function select(index, { notify = true, scroll = true } = {}) {
    g.selected = index;
    if (index < 0 || !g.rows[index]) {
      g.selected = -1;
      detail.el.hidden = true;
      frame.classList.remove('has-detail');
      if (notify && onSelect) onSelect(null);
      schedule();
      return;
    }
    const pos = shownPos(index);
    if (scroll && pos >= 0) ensureVisible(pos);
    detail.show(g.rows[index]);
    frame.classList.add('has-detail');
    if (notify && onSelect) onSelect(g.rows[index].ne);
    schedule();
  }

  function filterRows() {
    const { q, failed } = filter;
    g.shown = !q && !failed ? g.rows : g.rows.filter((r) => (!q || r.lname.includes(q)) && (!failed || r.failed));
    body.setAttribute('aria-rowcount', String(g.shown.length));
  }

  function applyFilter(next) {
    filter = next;
    filterRows();
    body.scrollTop = 0;
    schedule();
  }

  // ------------------------------------------------------------- a live run
  /** The chart's end moved (new rows, or the clock): the view follows, the summary says it. */
  function setTotal(next) {
    g.total = next;
    g.view.setTotal(next);
    toolbar.update(g.rows, next);
  }

  /** New node executions of the run: rows, filters and selection again; zoom and scroll stay. */
  function update(nextExecution, nextNodeExecutions) {
    if (destroyed) return;
    const selectedId = g.selected >= 0 && g.rows[g.selected] ? String(g.rows[g.selected].ne.id) : null;
    // Following the newest rows at the bottom keeps following them.
    const atBottom = body.scrollHeight > body.clientHeight && body.scrollTop + body.clientHeight >= body.scrollHeight - 2;
    g.execution = nextExecution;
    g.rows = prepareRows(nextExecution, nextNodeExecutions);
    headCount.textContent = g.rows.length.toLocaleString('en-US');
    filterRows();
    showEmpty(g.rows.length === 0);
    setTotal(chartTotal(nextExecution, g.rows));
    const r = selectedId === null ? null : g.rows.find((x) => String(x.ne.id) === selectedId);
    if (r) {
      g.selected = r.index;
      detail.show(r);
    } else if (g.selected >= 0) {
      select(-1, { notify: false });
    }
    minimap.draw();
    if (atBottom) {
      g.spacer.style.height = `${g.shown.length * ROW_H}px`;
      body.scrollTop = body.scrollHeight;
    }
    syncTicker();
    // the marks stay until the answer comes
    if (critical) critical.changed();
    schedule();
  }

  /** Once a second while the run goes on: open bars and the chart's end reach to now. */
  function tick() {
    if (destroyed) return;
    stretchOpen(g.execution, g.rows);
    setTotal(chartTotal(g.execution, g.rows));
    minimap.draw();
    schedule();
  }

  function syncTicker() {
    const want = isOpenRun(g.execution) || g.rows.some((r) => r.open);
    if (want && !ticker) ticker = setInterval(tick, TICK_MS);
    else if (!want && ticker) { clearInterval(ticker); ticker = 0; }
  }

  attachInteraction(g, { onPanStart: tooltip.hide });
  body.addEventListener('scroll', schedule, { passive: true });

  const ro = new ResizeObserver(() => {
    minimap.draw();
    schedule();
  });
  ro.observe(body);
  ro.observe(minimap.el);

  if (selectedId !== undefined && selectedId !== null) {
    const r = rows.find((x) => String(x.ne.id) === String(selectedId));
    if (r) requestAnimationFrame(() => select(r.index, { notify: false }));
  }
  syncTicker();
  schedule();

  return {
    el,
    select: (index) => select(index),
    update,
    destroy() {
      destroyed = true;
      if (critical) critical.destroy();
      ro.disconnect();
      if (raf) cancelAnimationFrame(raf);
      if (ticker) clearInterval(ticker);
      ticker = 0;
    },
  };
}
