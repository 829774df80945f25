// The statistics pages' parts below the charts: the totals, the nodes
// (slowest, most failing, all), the top errors with links to an example run,
// and the series as a table. Tables are plain HTML, so every figure the
// charts draw can be read and reached by keyboard.
import { h, userText, fmtDuration, fmtTokens, fmtUsd, fmtTime, plural } from '../util.js';
import { buildHash, executionHash } from '../router.js';
import { barsChart, bucketLabel, figure } from './charts.js';

const pct = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)}%`);
const dur = (ms) => (ms === null || ms === undefined ? '–' : fmtDuration(ms));

export function totalsTiles(t) {
  const tile = (label, value, sub) => h('div', { class: 'tile' },
    h('div', { class: 'tile-label', text: label }), h('div', { class: 'tile-value', text: value }),
    sub ? h('div', { class: 'tile-sub', text: sub }) : null);
  return h('section', { class: 'tiles', 'aria-label': 'Totals of the window' },
    tile('Runs', t.executions.toLocaleString('en-US'),
      `${t.success.toLocaleString('en-US')} ok · ${t.error.toLocaleString('en-US')} failed · ${t.cancelled.toLocaleString('en-US')} cancelled`),
    tile('Success rate', pct(t.success_rate)),
    tile('Duration p50', dur(t.duration_ms.p50)),
    tile('p95 / p99', `${dur(t.duration_ms.p95)} / ${dur(t.duration_ms.p99)}`),
    tile('Tokens', fmtTokens(t.input_tokens + t.output_tokens), `${fmtTokens(t.input_tokens)} in · ${fmtTokens(t.output_tokens)} out`),
    tile('Cost', fmtUsd(t.cost_usd)));
}

function nodeLabel(n, project) {
  return project ? `${n.workflow_name} › ${n.node_name}` : n.node_name;
}

function table(caption, head, rows) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'data-table' },
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col', text: c })))),
      h('tbody', null, rows)));
}

/** The slowest nodes (exec p95) and the most failing (failure rate), as bars. */
export function nodeCharts(nodes, project) {
  const slow = nodes.filter((n) => n.exec_ms.p95 !== null).sort((a, b) => b.exec_ms.p95 - a.exec_ms.p95).slice(0, 8);
  const failing = nodes.filter((n) => n.errors > 0).sort((a, b) => b.failure_rate - a.failure_rate || b.errors - a.errors).slice(0, 8);
  const slowMax = Math.max(0, ...slow.map((n) => n.exec_ms.p95));
  return h('div', { class: 'chart-pair' },
    slow.length ? figure('Slowest nodes (exec p95)', barsChart(
      `Slowest nodes by p95 of the exec phase: ${slow.map((n) => `${nodeLabel(n, project)} ${dur(n.exec_ms.p95)}`).join(', ')}`,
      slow.map((n) => ({ label: nodeLabel(n, project), value: n.exec_ms.p95, text: dur(n.exec_ms.p95), sub: `p50 ${dur(n.exec_ms.p50)}` })),
      slowMax, 'bar-exec')) : h('div', { class: 'card chart-empty', text: 'No node reported an exec phase in this window.' }),
    failing.length ? figure('Most failing nodes', barsChart(
      `Nodes by failure rate: ${failing.map((n) => `${nodeLabel(n, project)} ${pct(n.failure_rate)}`).join(', ')}`,
      failing.map((n) => ({ label: nodeLabel(n, project), value: n.failure_rate, text: `${pct(n.failure_rate)} of ${n.runs.toLocaleString('en-US')}`, sub: `${plural(n.errors, 'failure')}` })),
      1, 'bar-error')) : h('div', { class: 'card chart-empty', text: 'No node failed in this window.' }));
}

export function nodesTable(nodes, project) {
  const phase = (p) => `${dur(p.p50)} / ${dur(p.p95)}`;
  return table('Nodes', ['Node', 'Runs', 'Failure rate', 'Retries', 'Prep p50 / p95', 'Exec p50 / p95', 'Post p50 / p95', 'Tokens', 'Cost'],
    nodes.map((n) => h('tr', null,
      h('th', { scope: 'row' }, project
        ? h('a', { href: buildHash(['workflows', n.workflow_id, 'stats'], {}) }, userText(n.workflow_name))
        : null, project ? ' › ' : null, userText(n.node_name)),
      h('td', { class: 'num', text: n.runs.toLocaleString('en-US') }),
      h('td', { class: 'num', text: pct(n.failure_rate) }),
      h('td', { class: 'num', text: n.retries.toLocaleString('en-US') }),
      h('td', { class: 'num', text: phase(n.prep_ms) }),
      h('td', { class: 'num', text: phase(n.exec_ms) }),
      h('td', { class: 'num', text: phase(n.post_ms) }),
      h('td', { class: 'num', text: fmtTokens(n.input_tokens + n.output_tokens) }),
      h('td', { class: 'num', text: fmtUsd(n.cost_usd) }))));
}

export function errorsTable(errors, project) {
  if (!errors.length) return h('p', { class: 'muted', text: 'No failed runs in this window.' });
  return table('Top errors', ['Error', ...(project ? ['Workflow'] : []), 'Runs', 'Last seen', 'Example'],
    errors.map((e) => h('tr', null,
      h('th', { scope: 'row', class: 'err-msg' }, userText(e.message)),
      project ? h('td', null, h('a', { href: buildHash(['workflows', e.workflow_id, 'stats'], {}) }, userText(e.workflow_name))) : null,
      h('td', { class: 'num', text: e.count.toLocaleString('en-US') }),
      h('td', { text: fmtTime(e.last_seen) }),
      h('td', null, h('a', { href: executionHash(e.example_execution_id), text: 'Open run' })))));
}

export function seriesTable(series, bucket) {
  return table('Runs per bucket', [bucket === 'hour' ? 'Hour (UTC)' : 'Day (UTC)', 'Runs', 'Success', 'Failed', 'Cancelled', 'Success rate', 'p50', 'p95', 'p99'],
    series.map((b) => h('tr', null,
      h('th', { scope: 'row', text: bucket === 'hour' ? `${b.start.slice(0, 10)} ${bucketLabel(b.start, 'hour')}` : bucketLabel(b.start, 'day') }),
      h('td', { class: 'num', text: b.executions.toLocaleString('en-US') }),
      h('td', { class: 'num', text: b.success.toLocaleString('en-US') }),
      h('td', { class: 'num', text: b.error.toLocaleString('en-US') }),
      h('td', { class: 'num', text: b.cancelled.toLocaleString('en-US') }),
      h('td', { class: 'num', text: pct(b.success_rate) }),
      h('td', { class: 'num', text: dur(b.duration_ms.p50) }),
      h('td', { class: 'num', text: dur(b.duration_ms.p95) }),
      h('td', { class: 'num', text: dur(b.duration_ms.p99) }))));
}
