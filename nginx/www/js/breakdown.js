// Breakdown panel: where a run's time went, from GET
// /api/executions/{id}/critical-path: the critical path step by step (how
// each step is tied to the one before, how long it waited), busy, parallel
// and idle time, per node its runs, wall time, phases and part of the
// path, and the longest stretches when no node ran. A step's node name
// selects its row on the Gantt.
import { api } from './api.js';
import { h, clear, fmtDuration, fmtMs, loadingState, emptyState, errorState, userText } from './util.js';

const VIA_TEXT = {
  start: 'first: nothing ended before it',
  edge: 'waited for the node before it in the workflow',
  time: 'waited for the last node to end before it',
};

function pct(part, whole) {
  return whole > 0 ? `${Math.round((100 * part) / whole)}%` : '–';
}

function stat(label, value, detail) {
  return h('div', { class: 'bd-stat' },
    h('span', { class: 'bd-stat-label muted', text: label }),
    h('span', { class: 'bd-stat-value mono', text: value }),
    detail ? h('span', { class: 'bd-stat-detail muted', text: detail }) : null);
}

function pathTable(cp, onNodeClick) {
  const rows = cp.critical_path.steps.map((s, i) => h('tr', { class: 'bd-step', dataset: { id: String(s.id), via: s.via } },
    h('td', { class: 'mono muted', text: String(i + 1) }),
    h('td', { class: 'mono' }, onNodeClick
      ? h('button', { class: 'linkish', type: 'button', title: 'Select it on the timeline', onClick: () => onNodeClick(s.id) }, userText(s.node_name))
      : userText(s.node_name)),
    h('td', { class: 'mono', text: `+${fmtMs(s.offset_ms)}` }),
    h('td', { class: 'mono' }, fmtDuration(s.duration_ms), s.open ? h('span', { class: 'muted', text: ' so far' }) : null),
    h('td', { class: 'mono', text: s.gap_before_ms > 0 ? fmtDuration(s.gap_before_ms) : '–' }),
    h('td', { class: 'muted', text: VIA_TEXT[s.via] || s.via })));
  return h('table', { class: 'data-table bd-path' },
    h('caption', { class: 'visually-hidden', text: 'The critical path, first step first' }),
    h('thead', {}, h('tr', {},
      ...['#', 'Node', 'Starts', 'Took', 'Waited before', 'Tied to the step before'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, rows));
}

function nodesTable(cp) {
  const busy = cp.breakdown.busy_ms;
  const rows = cp.breakdown.nodes.map((n) => h('tr', { class: 'bd-node', dataset: { node: n.node_name } },
    h('td', { class: 'mono' }, userText(n.node_name)),
    h('td', { class: 'num', text: n.runs.toLocaleString('en-US') }),
    h('td', { class: 'num mono' }, fmtDuration(n.wall_ms),
      h('span', { class: 'bd-share', 'aria-hidden': 'true' }, h('span', { style: { width: pct(Math.min(n.wall_ms, busy), busy) } }))),
    h('td', { class: 'num mono', text: fmtDuration(n.prep_ms) }),
    h('td', { class: 'num mono', text: fmtDuration(n.exec_ms) }),
    h('td', { class: 'num mono', text: fmtDuration(n.post_ms) }),
    h('td', { class: 'num mono', text: fmtDuration(n.other_ms) }),
    h('td', { class: 'num mono', text: n.critical_runs ? `${fmtDuration(n.critical_ms)} (${n.critical_runs})` : '–' })));
  return h('table', { class: 'data-table bd-nodes' },
    h('caption', { class: 'visually-hidden', text: 'Time per node, the longest first' }),
    h('thead', {}, h('tr', {},
      ...['Node', 'Runs', 'Wall time', 'Prep', 'Exec', 'Post', 'Other', 'On the path (runs)']
        .map((t, i) => h('th', { scope: 'col', class: i ? 'num' : '', text: t })))),
    h('tbody', {}, rows));
}

function gapsList(cp, names) {
  const { gaps } = cp.breakdown;
  if (!gaps.count) return h('p', { class: 'muted', text: 'No moment of the run without a node running.' });
  const around = (g) => {
    const after = g.after_id === null ? 'the run started' : names.get(String(g.after_id)) || `#${g.after_id}`;
    const before = g.before_id === null ? 'the run ended' : names.get(String(g.before_id)) || `#${g.before_id}`;
    return `after ${after}, before ${before}`;
  };
  return h('div', {},
    h('p', { class: 'muted', text: `${gaps.count.toLocaleString('en-US')} stretch${gaps.count === 1 ? '' : 'es'} without a node running, ${fmtDuration(gaps.total_ms)} in all${gaps.count > gaps.largest.length ? `; the ${gaps.largest.length} longest:` : ':'}` }),
    h('ul', { class: 'bd-gaps' }, gaps.largest.map((g) => h('li', { class: 'mono' },
      h('span', { text: `+${fmtMs(g.offset_ms)}` }), ' ', h('strong', { text: fmtDuration(g.duration_ms) }), ' ',
      h('span', { class: 'muted' }, userText(around(g)))))));
}

/** renderBreakdown(container, {executionId, onNodeClick(nodeExecutionId)}) -> {destroy()} */
export function renderBreakdown(container, { executionId, onNodeClick }) {
  const abort = new AbortController();
  container.appendChild(loadingState('Working out the critical path…'));

  function show(cp) {
    clear(container);
    if (!cp.critical_path.steps.length) {
      container.appendChild(emptyState('No node executions', 'Nothing ran in this execution, so there is no path to show.'));
      return;
    }
    const names = new Map(cp.critical_path.steps.map((s) => [String(s.id), s.node_name]));
    const { breakdown: b, critical_path: path } = cp;
    container.append(
      h('div', { class: 'bd-stats' },
        stat('Run', fmtDuration(cp.duration_ms), cp.running ? 'so far' : null),
        stat('Critical path', fmtDuration(path.duration_ms), `${path.steps.length.toLocaleString('en-US')} step${path.steps.length === 1 ? '' : 's'}, ${fmtDuration(path.wait_ms)} waiting`),
        stat('Busy', fmtDuration(b.busy_ms), pct(b.busy_ms, cp.duration_ms)),
        stat('Parallel', fmtDuration(b.parallel_ms), pct(b.parallel_ms, cp.duration_ms)),
        stat('Idle', fmtDuration(b.idle_ms), pct(b.idle_ms, cp.duration_ms))),
      h('h3', { class: 'bd-heading', text: 'Critical path' }),
      h('div', { class: 'table-scroll' }, pathTable(cp, onNodeClick)),
      h('h3', { class: 'bd-heading', text: 'Time per node' }),
      h('div', { class: 'table-scroll' }, nodesTable(cp)),
      h('h3', { class: 'bd-heading', text: 'When nothing ran' }),
      gapsList(cp, names));
  }

  api(`/executions/${encodeURIComponent(executionId)}/critical-path`, { signal: abort.signal })
    .then((cp) => { if (!abort.signal.aborted) show(cp); })
    .catch((e) => {
      if (e.name === 'AbortError') return;
      clear(container).appendChild(errorState(e, () => {
        clear(container);
        const again = renderBreakdown(container, { executionId, onNodeClick });
        abort.signal.addEventListener('abort', () => again.destroy());
      }));
    });

  return { destroy: () => abort.abort() };
}
