// The compare page's table: one row per node execution in run order
// (aligned pairs side by side, nodes only one run has on their side), with
// durations and their delta, what differs, and the shared-state diff at
// the node's end inline under the row.
import { h, fmtDuration, jsonPreview, pagedRows, statusBadge, userText } from '../util.js';

const PAGE = 300;

function fmtDelta(ms) {
  if (ms === null || ms === undefined) return '–';
  if (ms === 0) return '±0';
  return `${ms > 0 ? '+' : '−'}${fmtDuration(Math.abs(ms))}`;
}

function side(ne) {
  if (!ne) return [h('td', { class: 'cmp-absent', colspan: '3', text: 'not run' })];
  return [
    h('td', {}, statusBadge(ne.status, 'small')),
    h('td', { class: 'mono' }, ne.action === null || ne.action === undefined ? h('span', { class: 'muted', text: '–' }) : userText(ne.action)),
    h('td', { class: 'col-num' }, fmtDuration(ne.duration_ms)),
  ];
}

function diffEntries(d) {
  const items = [];
  for (const e of d.changed) items.push(h('li', { class: 'cmp-chg' }, h('code', {}, userText(e.path)), ': ', userText(jsonPreview(e.a, 80)), ' → ', userText(jsonPreview(e.b, 80))));
  for (const e of d.added) items.push(h('li', { class: 'cmp-add' }, h('code', {}, userText(e.path)), ' only in B: ', userText(jsonPreview(e.value, 80))));
  for (const e of d.removed) items.push(h('li', { class: 'cmp-rem' }, h('code', {}, userText(e.path)), ' only in A: ', userText(jsonPreview(e.value, 80))));
  if (d.truncated) items.push(h('li', { class: 'muted', text: 'more differences not shown' }));
  return h('ul', { class: 'cmp-diff' }, items);
}

/** The rows of one node execution (its diff row after it when its state differs). */
function rowsOf(r, i, divRow) {
  const p = r.pair;
  const tr = h('tr', {
    class: `cmp-row cmp-${r.kind}${i === divRow ? ' is-diverged' : ''}${p && p.differs.length ? ' is-differs' : ''}`,
    id: `cmp-row-${i}`, dataset: { row: String(i) },
  },
  h('td', { class: 'col-num muted', text: String(i + 1) }),
  h('td', {}, h('span', { class: 'mono' }, userText(r.name)), r.ordinal > 1 ? h('span', { class: 'muted', text: ` #${r.ordinal}` }) : null,
    i === divRow ? h('span', { class: 'badge small cmp-div-badge', text: 'first divergence' }) : null),
  side(r.a), side(r.b),
  h('td', { class: 'col-num' }, p ? fmtDelta(p.delta.duration_ms) : (r.kind === 'a' ? 'only A' : 'only B')),
  h('td', {}, p ? p.differs.join(', ') : ''));
  const d = p && p.state_diff;
  if (!d || d.equal) return tr;
  return [tr, h('tr', { class: `cmp-diff-row${i === divRow ? ' is-diverged' : ''}` },
    h('td', {}), h('td', { colspan: '9' },
      h('span', { class: 'muted', text: p.before_equal ? 'State after it (from the same state before): ' : 'State after it: ' }),
      diffEntries(d)))];
}

/** The table card; rows from mergedRows. The divergence's row is shown
 *  from the start, however far down it is. */
export function renderTable(rows, divRow) {
  const body = h('tbody');
  const indexed = rows.map((r, i) => ({ r, i }));
  const paged = pagedRows(body, indexed, ({ r, i }) => rowsOf(r, i, divRow), { page: Math.max(PAGE, divRow + 50), noun: 'more rows' });
  return h('section', { class: 'card table-card', 'aria-label': 'Node executions side by side' },
    h('div', { class: 'table-scroll' },
      h('table', { class: 'data-table cmp-table' },
        h('thead', {},
          h('tr', {},
            h('th', { class: 'col-num', text: '#' }), h('th', { text: 'Node' }),
            h('th', { text: 'A status' }), h('th', { text: 'A action' }), h('th', { class: 'col-num', text: 'A time' }),
            h('th', { text: 'B status' }), h('th', { text: 'B action' }), h('th', { class: 'col-num', text: 'B time' }),
            h('th', { class: 'col-num', text: 'Δ time' }), h('th', { text: 'Differs' }))),
        body)),
    paged.el);
}
