// State panel: the shared-state snapshots in order, each with what changed
// since the one before (keys added, removed, changed: old -> new). While a
// run is live, refresh() fetches only the snapshots stored since (feed.js)
// and appends their cards (all redrawn when one sorts before the last).
import { itemFeed } from './feed.js';
import { snapshotDiffs } from './statediff.js';
import {
  h, clear, fmtTime, fmtMs, jsonPreview, jsonPretty, parseTimeMs,
  loadingState, emptyState, errorState, userText, pagedRows, taskQueue,
} from './util.js';

const PAGE = 100;

/** The API's order: sequence (none last), then id. */
const seqKey = (x) => (x.sequence === null || x.sequence === undefined ? Infinity : Number(x.sequence));
const snapshotOrder = (a, b) => seqKey(a) - seqKey(b) || Number(a.id) - Number(b.id);

function valueEl(v, cls) {
  const text = jsonPreview(v, 160);
  const full = jsonPretty(v);
  return h('code', { class: `val ${cls}`, title: full.length > 160 ? full.slice(0, 2000) : null }, userText(text));
}

export function renderState(container, { executionId, startedAt }) {
  let destroyed = false;
  const abort = new AbortController();
  const t0 = parseTimeMs(startedAt);
  const onlyChanges = h('input', { type: 'checkbox', id: 'state-only-changes' });
  const count = h('span', { class: 'muted panel-count' });
  const body = h('div', { class: 'panel-body' });
  container.append(h('div', { class: 'panel-toolbar' },
    h('label', { class: 'check', for: 'state-only-changes' }, onlyChanges, 'Hide snapshots without changes'),
    h('div', { class: 'toolbar-spacer' }), count), body);
  let snapshots = null;
  let diffs = [];
  let pager = null;
  const tasks = taskQueue(); // the load and the refreshes, one at a time

  const feed = itemFeed(`/executions/${encodeURIComponent(executionId)}/state-snapshots`, { max: 50000, compare: snapshotOrder });

  function load() {
    clear(body).appendChild(loadingState('Loading state snapshots…'));
    return tasks.run(loadNow);
  }

  async function loadNow() {
    try {
      snapshots = await feed.load(abort.signal);
      if (destroyed) return;
      diffs = snapshotDiffs(snapshots);
      draw();
    } catch (e) {
      if (e.name === 'AbortError' || destroyed) return;
      clear(body).appendChild(errorState(e, load));
    }
  }

  /**
   * A live run's new snapshots (runCount: the run's snapshots from the
   * message): the cards for them appended, each diffed against the one
   * before (all redrawn when one sorts before a card already shown).
   */
  function refresh(runCount) {
    feed.expect(runCount);
    return tasks.again(refreshNow);
  }

  async function refreshNow() {
    if (destroyed || !snapshots) return;
    try {
      const before = snapshots.length;
      const { added } = await feed.next(abort.signal);
      if (destroyed) return;
      snapshots = feed.items;
      const inOrder = added && added.every(([i], k) => i === before + k);
      if (!inOrder || !pager) {
        diffs = snapshotDiffs(snapshots);
        draw();
        return;
      }
      if (!added.length) return;
      diffs.push(...snapshotDiffs(snapshots, before));
      count.textContent = `${snapshots.length.toLocaleString('en-US')} snapshots`;
      pager.add(shownIndexes(before));
    } catch {
      // the next message, or the Reload button, tries again
    }
  }

  /** The indexes from `from` on that the filter lets through. */
  function shownIndexes(from) {
    const out = [];
    for (let i = from; i < snapshots.length; i++) {
      const d = diffs[i];
      if (!onlyChanges.checked || i === 0 || d.added.length + d.removed.length + d.changed.length > 0) out.push(i);
    }
    return out;
  }

  function draw() {
    clear(body);
    pager = null;
    count.textContent = `${snapshots.length.toLocaleString('en-US')} snapshots`;
    if (!snapshots.length) {
      body.appendChild(emptyState('No state snapshots', 'This execution uploaded no shared-state snapshots.'));
      return;
    }
    const list = h('ol', { class: 'state-list', 'aria-label': 'State snapshots in order' });
    pager = pagedRows(list, shownIndexes(0), card, { page: PAGE });
    body.append(list, pager.el);
  }

  function card(i) {
    const s = snapshots[i];
    const d = diffs[i];
    const ts = parseTimeMs(s.timestamp);
    const off = Number.isFinite(ts) && Number.isFinite(t0) ? ts - t0 : null;
    const n = d.added.length + d.removed.length + d.changed.length;
    const chips = h('span', { class: 'diff-chips' },
      d.added.length ? h('span', { class: 'diff-chip chip-added', text: `+${d.added.length} added` }) : null,
      d.removed.length ? h('span', { class: 'diff-chip chip-removed', text: `−${d.removed.length} removed` }) : null,
      d.changed.length ? h('span', { class: 'diff-chip chip-changed', text: `~${d.changed.length} changed` }) : null,
      n === 0 ? h('span', { class: 'muted', text: 'no changes' }) : null);
    const rows = [];
    for (const a of d.added) {
      rows.push(h('tr', { class: 'diff-added', dataset: { kind: 'added', path: a.path } },
        h('td', { class: 'diff-sign', 'aria-label': 'added', text: '+' }),
        h('td', { class: 'diff-path mono' }, userText(a.path)),
        h('td', {}, valueEl(a.value, 'val-new'))));
    }
    for (const r of d.removed) {
      rows.push(h('tr', { class: 'diff-removed', dataset: { kind: 'removed', path: r.path } },
        h('td', { class: 'diff-sign', 'aria-label': 'removed', text: '−' }),
        h('td', { class: 'diff-path mono' }, userText(r.path)),
        h('td', {}, valueEl(r.value, 'val-old'))));
    }
    for (const c of d.changed) {
      rows.push(h('tr', { class: 'diff-changed', dataset: { kind: 'changed', path: c.path } },
        h('td', { class: 'diff-sign', 'aria-label': 'changed', text: '~' }),
        h('td', { class: 'diff-path mono' }, userText(c.path)),
        h('td', {}, h('span', { class: 'diff-change' }, valueEl(c.before, 'val-old'),
          h('span', { class: 'arrow', 'aria-label': 'becomes', text: '→' }), valueEl(c.after, 'val-new')))));
    }
    return h('li', { class: 'state-card', dataset: { sequence: String(s.sequence ?? i) } },
      h('div', { class: 'state-head' },
        h('span', { class: 'seq-pill mono', title: 'sequence', text: `#${s.sequence ?? i}` }),
        h('span', { class: 'state-node' }, s.node_name ? userText(s.node_name) : '—'),
        s.phase ? h('span', { class: 'phase-chip' }, userText(s.phase)) : null,
        h('span', { class: 'muted mono small', title: fmtTime(s.timestamp), text: off === null ? '' : `+${fmtMs(off)}` }),
        h('span', { class: 'toolbar-spacer' }),
        chips),
      i === 0 ? h('p', { class: 'muted small state-note', text: 'Initial state: every key counts as added.' }) : null,
      rows.length ? h('table', { class: 'diff-table' },
        h('caption', { class: 'visually-hidden', text: `Changes in snapshot ${s.sequence ?? i}` }),
        h('tbody', {}, rows)) : null,
      h('details', { class: 'full-state' },
        h('summary', { text: 'Full state' }),
        h('pre', { class: 'json' }, userText(jsonPretty(s.state)))));
  }

  onlyChanges.addEventListener('change', () => { if (snapshots) draw(); });
  load();
  return {
    refresh,
    destroy() {
      destroyed = true;
      abort.abort();
    },
  };
}
