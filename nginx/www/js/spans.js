// Spans panel: the execution's spans as a tree by parent_span_id, with a
// waterfall bar per span. Keyboard: ↑/↓ move, → expands, ← collapses,
// Enter shows the attributes. While a run is live, refresh() fetches only
// the spans stored since (feed.js) and redraws the tree from what it holds,
// quietly (what is collapsed or open stays so).
import { itemFeed, timeOrder } from './feed.js';
import {
  h, clear, fmtDuration, fmtMs, fmtTime, jsonPretty, parseTimeMs, hueOf,
  loadingState, emptyState, errorState, userText, taskQueue,
} from './util.js';

const LIMIT = 1000;
const spanOrder = timeOrder('start_time'); // the API's

/** Builds the forest: [{span, children, depth}] roots; a span whose parent is unknown is a root. */
export function buildSpanTree(spans) {
  const nodes = spans.map((span) => ({ span, children: [] }));
  const byId = new Map();
  for (const n of nodes) if (n.span.span_id && !byId.has(n.span.span_id)) byId.set(n.span.span_id, n);
  const roots = [];
  for (const n of nodes) {
    const p = n.span.parent_span_id ? byId.get(n.span.parent_span_id) : null;
    if (p && p !== n) p.children.push(n);
    else roots.push(n);
  }
  // guard against cycles: keep only what is reachable from roots once
  const seen = new Set();
  const visit = (n, depth) => {
    seen.add(n);
    n.depth = depth;
    n.children = n.children.filter((c) => !seen.has(c));
    for (const c of n.children) visit(c, depth + 1);
  };
  for (const r of roots) visit(r, 0);
  for (const n of nodes) if (!seen.has(n)) { roots.push(n); visit(n, 0); }
  const byStart = (a, b) => parseTimeMs(a.span.start_time) - parseTimeMs(b.span.start_time);
  roots.sort(byStart);
  for (const n of nodes) n.children.sort(byStart);
  return roots;
}

export function renderSpans(container, { executionId, startedAt, durationMs }) {
  let destroyed = false;
  const abort = new AbortController();
  const body = h('div', { class: 'panel-body' });
  const count = h('span', { class: 'muted panel-count' });
  const expandAll = h('button', { class: 'btn btn-ghost', type: 'button', text: 'Expand all' });
  const collapseAll = h('button', { class: 'btn btn-ghost', type: 'button', text: 'Collapse all' });
  container.append(h('div', { class: 'panel-toolbar' }, expandAll, collapseAll, h('div', { class: 'toolbar-spacer' }), count), body);
  body.appendChild(loadingState('Loading spans…'));

  let roots = [];
  const collapsed = new Set();
  const open = new Set(); // spans whose attributes are shown
  let t0 = parseTimeMs(startedAt);
  let t1 = Number.isFinite(t0) && Number(durationMs) > 0 ? t0 + Number(durationMs) : NaN;
  let focusKey = null;
  let limit = LIMIT;
  const tasks = taskQueue(); // the load and the refreshes, one at a time
  const feed = itemFeed(`/executions/${encodeURIComponent(executionId)}/telemetry-spans`, { max: 100000, compare: spanOrder });

  function load() {
    clear(body).appendChild(loadingState('Loading spans…'));
    return tasks.run(() => loadNow(false));
  }

  /**
   * A live run's new spans (runCount: the run's spans from the message):
   * the tree drawn again, keeping the focus when it was in it.
   */
  function refresh(runCount) {
    feed.expect(runCount);
    return tasks.again(() => loadNow(true));
  }

  async function loadNow(quiet) {
    try {
      let spans;
      if (quiet) {
        const { added } = await feed.next(abort.signal);
        if (added && !added.length) return;
        spans = feed.items;
      } else {
        spans = await feed.load(abort.signal);
      }
      if (destroyed) return;
      count.textContent = `${spans.length.toLocaleString('en-US')} spans`;
      if (!spans.length) {
        clear(body).appendChild(emptyState('No spans recorded', 'This execution uploaded no telemetry spans.'));
        expandAll.hidden = collapseAll.hidden = true;
        return;
      }
      expandAll.hidden = collapseAll.hidden = false;
      for (const s of spans) {
        const a = parseTimeMs(s.start_time);
        let b = parseTimeMs(s.end_time);
        if (!Number.isFinite(b) && Number.isFinite(a) && s.duration_ms != null) b = a + Number(s.duration_ms);
        if (Number.isFinite(a) && !(a >= t0)) t0 = a;
        if (Number.isFinite(b) && !(b <= t1)) t1 = b;
      }
      roots = buildSpanTree(spans);
      const hadFocus = quiet && body.contains(document.activeElement);
      draw();
      if (hadFocus) focusCurrent();
    } catch (e) {
      if (e.name === 'AbortError' || destroyed || quiet) return;
      clear(body).appendChild(errorState(e, load));
    }
  }

  const keyOf = (n) => n.span.span_id || `#${n.span.id}`;

  function flatten() {
    const out = [];
    const walk = (n) => {
      out.push(n);
      if (!collapsed.has(keyOf(n))) for (const c of n.children) walk(c);
    };
    for (const r of roots) walk(r);
    return out;
  }

  function draw() {
    const flat = flatten();
    const tree = h('div', { class: 'span-tree', role: 'tree', 'aria-label': 'Spans by parent' });
    const head = h('div', { class: 'span-head', 'aria-hidden': 'true' },
      h('span', { text: 'Span' }), h('span', { text: 'Node' }), h('span', { class: 'col-num', text: 'Duration' }),
      h('span', { class: 'span-wf-head' }, h('span', { text: '0' }), h('span', { text: fmtDuration(t1 - t0) })));
    const shown = flat.slice(0, limit);
    if (!shown.some((n) => keyOf(n) === focusKey)) focusKey = shown.length ? keyOf(shown[0]) : null;
    for (const n of shown) tree.appendChild(rowEl(n));
    clear(body).append(head, tree);
    if (flat.length > limit) {
      body.appendChild(h('div', { class: 'show-more' }, h('button', {
        class: 'btn', type: 'button', text: `Show ${Math.min(LIMIT, flat.length - limit)} more (${flat.length - limit} left)`,
        onClick: () => { limit += LIMIT; draw(); },
      })));
    }
  }

  function rowEl(n) {
    const s = n.span;
    const key = keyOf(n);
    const hasKids = n.children.length > 0;
    const isOpen = !collapsed.has(key);
    const a = parseTimeMs(s.start_time);
    let dur = s.duration_ms != null ? Number(s.duration_ms) : parseTimeMs(s.end_time) - a;
    if (!Number.isFinite(dur)) dur = 0;
    const span = Math.max(1e-6, t1 - t0);
    const left = Number.isFinite(a) ? ((a - t0) / span) * 100 : 0;
    const width = Math.max(0.3, (dur / span) * 100);
    const status = s.status || 'unset';
    const caret = hasKids ? h('button', {
      class: 'caret', type: 'button', tabindex: '-1', 'aria-label': isOpen ? `Collapse ${s.name}` : `Expand ${s.name}`,
      text: isOpen ? '▾' : '▸',
      onClick: (ev) => { ev.stopPropagation(); toggleCollapse(key); },
    }) : h('span', { class: 'caret caret-leaf', 'aria-hidden': 'true' });
    const attrs = open.has(key) ? h('div', { class: 'span-attrs' },
      h('dl', { class: 'facts facts-compact' },
        h('dt', { text: 'Span id' }), h('dd', { class: 'mono', text: s.span_id || '–' }),
        h('dt', { text: 'Parent' }), h('dd', { class: 'mono', text: s.parent_span_id || '(root)' }),
        h('dt', { text: 'Trace' }), h('dd', { class: 'mono', text: s.trace_id || '–' }),
        h('dt', { text: 'Kind' }), h('dd', {}, s.kind ? userText(s.kind) : '–'),
        h('dt', { text: 'Status' }), h('dd', {}, userText(status)),
        h('dt', { text: 'Start' }), h('dd', { class: 'mono', text: fmtTime(s.start_time) }),
        h('dt', { text: 'End' }), h('dd', { class: 'mono', text: fmtTime(s.end_time) }),
        h('dt', { text: 'Duration' }), h('dd', { class: 'mono', text: fmtMs(dur) })),
      h('pre', { class: 'json' }, userText(jsonPretty(s.attributes ?? {})))) : null;
    const row = h('div', {
      class: `span-row${status === 'error' ? ' is-failed' : ''}${key === focusKey ? ' is-focus' : ''}`,
      role: 'treeitem', 'aria-level': String(n.depth + 1), 'aria-expanded': hasKids ? String(isOpen) : null,
      'aria-selected': open.has(key) ? 'true' : 'false',
      tabindex: key === focusKey ? '0' : '-1', dataset: { spanId: s.span_id || '', depth: String(n.depth), key },
      onKeydown: (ev) => onKey(ev, n),
    },
    h('div', { class: 'span-main', onClick: () => { focusKey = key; toggleOpen(key); } },
      h('span', { class: 'span-name', style: { 'padding-left': `${n.depth * 18}px` } }, caret,
        h('span', { class: 'span-label', title: s.name }, userText(s.name)),
        s.kind && s.kind !== 'internal' ? h('span', { class: 'type-chip small', style: { '--hue': String(hueOf(s.kind)) } }, userText(s.kind)) : null,
        status === 'error' ? h('span', { class: 'badge status-error small', text: 'error' }) : null),
      h('span', { class: 'span-node mono muted' }, s.node_name ? userText(s.node_name) : null),
      h('span', { class: 'col-num mono', text: fmtDuration(dur) }),
      h('span', { class: 'span-wf', 'aria-hidden': 'true' },
        h('span', { class: `span-bar status-${status}`, style: { left: `${Math.min(99.7, left)}%`, width: `${Math.min(width, 100 - Math.min(99.7, left))}%` } }))),
    attrs);
    return row;
  }

  function toggleCollapse(key) {
    if (collapsed.has(key)) collapsed.delete(key); else collapsed.add(key);
    focusKey = key;
    draw();
    focusCurrent();
  }

  function toggleOpen(key) {
    if (open.has(key)) open.delete(key); else open.add(key);
    draw();
    focusCurrent();
  }

  function focusCurrent() {
    const el = body.querySelector('.span-row[tabindex="0"]');
    if (el) el.focus({ preventScroll: false });
  }

  function onKey(ev, n) {
    const rowsEls = [...body.querySelectorAll('.span-row')];
    const i = rowsEls.indexOf(ev.currentTarget);
    const key = keyOf(n);
    const moveTo = (j) => {
      const el = rowsEls[Math.max(0, Math.min(rowsEls.length - 1, j))];
      if (!el) return;
      for (const r of rowsEls) r.tabIndex = -1;
      el.tabIndex = 0;
      focusKey = el.dataset.key;
      el.focus();
    };
    switch (ev.key) {
      case 'ArrowDown': moveTo(i + 1); break;
      case 'ArrowUp': moveTo(i - 1); break;
      case 'Home': moveTo(0); break;
      case 'End': moveTo(rowsEls.length - 1); break;
      case 'ArrowRight':
        if (n.children.length && collapsed.has(key)) toggleCollapse(key); else moveTo(i + 1);
        break;
      case 'ArrowLeft':
        if (n.children.length && !collapsed.has(key)) toggleCollapse(key);
        else {
          const depth = n.depth;
          for (let j = i - 1; j >= 0; j--) if (Number(rowsEls[j].dataset.depth) < depth) { moveTo(j); break; }
        }
        break;
      case 'Enter': case ' ': focusKey = key; toggleOpen(key); break;
      default: return;
    }
    ev.preventDefault();
    ev.stopPropagation();
  }

  expandAll.addEventListener('click', () => { collapsed.clear(); draw(); });
  collapseAll.addEventListener('click', () => {
    for (const r of roots) if (r.children.length) collapsed.add(keyOf(r));
    draw();
  });

  load();
  return {
    refresh,
    destroy() {
      destroyed = true;
      abort.abort();
    },
  };
}
