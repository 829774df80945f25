// The viewer's pure parts, run under node without a browser: the state diff,
// the Gantt's row geometry, the span tree, the graph's path analysis, the
// formatting helpers (times, tokens and dollars), and the rules of live updates (seq, backoff, merges,
// which runs a filtered list takes, how often the Gantt asks for the critical path again),
// and alert rules in words (conditions, state, last fired, when pending deliveries are looked at again).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffState, snapshotDiffs, jsonEqual, joinPath } from '../../nginx/www/js/statediff.js';
import { maxId, sortedIndex, timeOrder } from '../../nginx/www/js/feed.js';
import { prepareRows } from '../../nginx/www/js/gantt.js';
import { buildSpanTree } from '../../nginx/www/js/spans.js';
import { analyse, nodesToDraw, GRAPH_DRAW_MAX } from '../../nginx/www/js/graph.js';
import {
  fmtDuration, fmtMs, errorText, parseTimeMs, nodeTiming, visibleText, charEscape, fmtTokens, fmtUsd, usageSummary, nodeUsage,
  trimmedNote, errorDetail,
} from '../../nginx/www/js/util.js';
import { parseHash, buildHash } from '../../nginx/www/js/router.js';
import { seqVerdict, backoffMs, mergeNodes, mergeExecution, isTerminal, isOpenRun, unbatch, decodeRows, microsToTime } from '../../nginx/www/js/live/rules.js';
import { chartTotal, stretchOpen } from '../../nginx/www/js/gantt/model.js';
import { matchesList } from '../../nginx/www/js/list/params.js';
import { createCriticalPath } from '../../nginx/www/js/gantt/critical.js';
import { conditions, urlHost, ruleState, lastFired, refusal } from '../../nginx/www/js/alerts/describe.js';
import { deliveryCounts, refreshDelay } from '../../nginx/www/js/alerts/deliveries.js';

test('diffState finds keys added, removed and changed, nested ones by path', () => {
  const d = diffState(
    { a: 1, b: { c: 2, d: 3 }, gone: true, list: [1, 2], same: { x: [1, { y: 2 }] } },
    { a: 2, b: { c: 2, e: 4 }, list: [1, 2, 3], added: null, same: { x: [1, { y: 2 }] } },
  );
  assert.deepEqual(d.added, [{ path: 'b.e', value: 4 }, { path: 'added', value: null }]);
  assert.deepEqual(d.removed, [{ path: 'b.d', value: 3 }, { path: 'gone', value: true }]);
  assert.deepEqual(d.changed, [{ path: 'a', before: 1, after: 2 }, { path: 'list', before: [1, 2], after: [1, 2, 3] }]);
});

test('diffState treats a type change as a change and quotes odd keys', () => {
  assert.deepEqual(diffState({ k: { a: 1 } }, { k: [1] }).changed, [{ path: 'k', before: { a: 1 }, after: [1] }]);
  assert.deepEqual(diffState({}, { 'a b': 1 }).added, [{ path: '["a b"]', value: 1 }]);
  assert.equal(joinPath('x', 'a.b'), 'x["a.b"]');
  assert.deepEqual(diffState(1, 2).changed, [{ path: '(state)', before: 1, after: 2 }]);
  assert.deepEqual(diffState({ a: 1 }, { a: 1 }), { added: [], removed: [], changed: [] });
});

test('jsonEqual ignores key order but not array order', () => {
  assert.ok(jsonEqual({ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }));
  assert.ok(!jsonEqual([1, 2], [2, 1]));
  assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: undefined }));
  assert.ok(!jsonEqual(null, {}));
});

test('snapshotDiffs compares each snapshot with the one before, the first with nothing', () => {
  const diffs = snapshotDiffs([{ state: { a: 1 } }, { state: { a: 1, b: 2 } }, { state: { b: 3 } }]);
  assert.deepEqual(diffs[0].added.map((x) => x.path), ['a']);
  assert.deepEqual(diffs[1].added.map((x) => x.path), ['b']);
  assert.deepEqual(diffs[2].removed.map((x) => x.path), ['a']);
  assert.deepEqual(diffs[2].changed, [{ path: 'b', before: 2, after: 3 }]);
});

test('prepareRows places bars by offset_ms and falls back to timestamps', () => {
  const exec = { started_at: '2024-11-26T12:00:00.000000Z', duration_ms: 500 };
  const rows = prepareRows(exec, [
    { id: 1, node_name: 'a', offset_ms: 0, prep_duration_ms: 1, exec_duration_ms: 100, post_duration_ms: 2, duration_ms: 110, status: 'success' },
    { id: 2, node_name: 'b', started_at: '2024-11-26T12:00:00.250500Z', completed_at: '2024-11-26T12:00:00.300500Z', exec_duration_ms: 40, error: 'boom' },
    { id: 3, node_name: 'c', offset_ms: 400, prep_duration_ms: 10, exec_duration_ms: 10, post_duration_ms: 10, duration_ms: 5, retry_count: 2 },
  ]);
  assert.equal(rows[0].span, 110);
  assert.equal(rows[1].offset, 250.5);
  assert.equal(rows[1].dur, 50);
  assert.equal(rows[1].status, 'error');
  assert.ok(rows[1].failed);
  assert.equal(rows[1].err, 'boom');
  assert.equal(rows[2].span, 30, 'phases longer than the duration widen the bar');
  assert.equal(rows[2].retries, 2);
});

test('buildSpanTree nests by parent, keeps orphans as roots, survives cycles', () => {
  const s = (id, parent, t) => ({ span_id: id, parent_span_id: parent, name: id, start_time: `2024-01-01T00:00:0${t}Z` });
  const roots = buildSpanTree([s('r', null, 0), s('b', 'r', 2), s('a', 'r', 1), s('a1', 'a', 1), s('orphan', 'missing', 3), s('x', 'y', 4), s('y', 'x', 5)]);
  assert.deepEqual(roots.map((n) => n.span.span_id), ['r', 'orphan', 'x']);
  assert.deepEqual(roots[0].children.map((n) => n.span.span_id), ['a', 'b']);
  assert.equal(roots[0].children[0].children[0].depth, 2);
  const x = roots.find((n) => n.span.span_id === 'x');
  assert.deepEqual(x.children.map((n) => n.span.span_id), ['y']);
  assert.deepEqual(x.children[0].children, []);
});

test('analyse counts runs per node and the transitions taken, by action', () => {
  const ne = (name, at, action, status = 'success') => ({ node_id: `id-${name}`, node_name: name, offset_ms: at, action, status, duration_ms: 5 });
  const { stats, transitions, ordered } = analyse([ne('b', 10, 'retry', 'error'), ne('a', 0, 'default'), ne('b', 20, 'ok'), ne('c', 30, null)]);
  assert.deepEqual(ordered.map((n) => n.node_name), ['a', 'b', 'b', 'c']);
  assert.equal(stats.get('id-b').runs, 2);
  assert.equal(stats.get('id-b').errors, 1);
  assert.equal(stats.get('id-b').last, 'success');
  assert.deepEqual(transitions.map((t) => `${t.from}>${t.to}:${t.action}`), ['id-a>id-b:default', 'id-b>id-b:retry', 'id-b>id-c:ok']);
});

test('one duration rule: a node execution without completed_at lasts its phases, in the Gantt and the graph', () => {
  // What the timeline answers for a node sent with phase durations only.
  const phasesOnly = { id: 1, node_name: 'summarize', node_id: 'id-s', status: 'success', offset_ms: null, duration_ms: null,
    started_at: null, completed_at: null, prep_duration_ms: 5, exec_duration_ms: 300, post_duration_ms: 10 };
  const timed = { id: 2, node_name: 'summarize', node_id: 'id-s', status: 'success', offset_ms: 400, duration_ms: 120,
    started_at: '2024-11-26T12:00:00.4Z', completed_at: '2024-11-26T12:00:00.52Z', prep_duration_ms: 1, exec_duration_ms: 100, post_duration_ms: 2 };
  assert.deepEqual(nodeTiming(phasesOnly), { prep: 5, exec: 300, post: 10, dur: null, span: 315, ms: 315 });
  assert.equal(nodeTiming(timed).ms, 120, 'a recorded duration wins over the phases');
  assert.equal(nodeTiming({ started_at: '2024-11-26T12:00:00Z', completed_at: '2024-11-26T12:00:00.25Z', exec_duration_ms: 400 }).ms, 250);
  assert.equal(nodeTiming({ started_at: '2024-11-26T12:00:00Z', completed_at: '2024-11-26T12:00:00.25Z', exec_duration_ms: 400 }).span, 400);
  assert.deepEqual(nodeTiming({}), { prep: 0, exec: 0, post: 0, dur: null, span: 0, ms: 0 });
  // The Gantt and the graph's side table show the same figure.
  const [row] = prepareRows({ started_at: '2024-11-26T12:00:00Z' }, [phasesOnly]);
  assert.equal(row.ms, 315);
  assert.equal(fmtDuration(row.ms), '315 ms');
  const { stats } = analyse([phasesOnly]);
  assert.equal(stats.get('id-s').totalMs, 315);
  assert.equal(analyse([phasesOnly, timed]).stats.get('id-s').totalMs, 435);
});

test('hidden characters (format and control characters) are shown as their escapes', () => {
  assert.equal(visibleText('\u202egnp.exe'), '\\u202Egnp.exe');
  assert.equal(visibleText('ad\u200bmin\ufeff'), 'ad\\u200Bmin\\uFEFF');
  assert.equal(visibleText('\u2066a\u2069 \u200e\u200f \u061c'), '\\u2066a\\u2069 \\u200E\\u200F \\u061C');
  assert.equal(visibleText('tag\u{E0041}'), 'tag\\u{E0041}');
  assert.equal(visibleText('bell\u0007 c1\u0085'), 'bell\\u0007 c1\\u0085');
  assert.equal(charEscape('\u202e'), '\\u202E');
  // Ordinary text, line breaks and tabs, right-to-left letters and emoji stay as they are.
  for (const plain of ['exe.png', 'line 1\nline 2\tx', 'שלום', 'café ✓', '👩\u200d💻 ok', '❤\ufe0f\u200d🔥']) {
    assert.equal(visibleText(plain), plain);
  }
  // ... but a joiner that joins no emoji is shown.
  assert.equal(visibleText('x\u200dy'), 'x\\u200Dy');
  assert.equal(visibleText(null), '');
});

test('a big workflow is drawn in part: the nodes the run took, at most GRAPH_DRAW_MAX', () => {
  const ids = (n, p = 'n') => Array.from({ length: n }, (_, i) => `${p}${i}`);
  assert.equal(GRAPH_DRAW_MAX, 300);
  assert.deepEqual(nodesToDraw(ids(300), ids(2)), { ids: ids(300), mode: 'all' });
  assert.deepEqual(nodesToDraw(ids(1000), ['n7', 'n3']), { ids: ['n7', 'n3'], mode: 'ran' });
  assert.deepEqual(nodesToDraw(ids(20000), ids(20000)), { ids: ids(300), mode: 'first-ran' });
  assert.deepEqual(nodesToDraw(ids(5), [], 3), { ids: [], mode: 'ran' });
});

test('durations read well and exact figures keep their decimals', () => {
  assert.equal(fmtDuration(0), '0 ms');
  assert.equal(fmtDuration(0.25), '0.25 ms');
  assert.equal(fmtDuration(12.34), '12.3 ms');
  assert.equal(fmtDuration(980), '980 ms');
  assert.equal(fmtDuration(1234), '1.23 s');
  assert.equal(fmtDuration(43300), '43.3 s');
  assert.equal(fmtDuration(125000), '2 min 5 s');
  assert.equal(fmtDuration(3 * 3600e3 + 60e3), '3 h 1 min');
  assert.equal(fmtDuration(null), '–');
  assert.equal(fmtMs(1234.5678), '1,234.568 ms');
  assert.equal(errorText({ type: 'ValueError', message: 'bad' }), 'ValueError: bad');
  assert.equal(errorText('x'), 'x');
  assert.equal(errorText(null), '');
  assert.ok(Math.abs(parseTimeMs('2024-11-26T12:00:00.123456Z') - parseTimeMs('2024-11-26T12:00:00Z') - 123.456) < 1e-3);
});

test('a field the retention job trimmed says so, keeping the error message it kept', () => {
  const err = { _trimmed: true, bytes: 48213, message: 'ValueError: bad row' };
  assert.equal(trimmedNote(err), 'trimmed by retention (48,213 bytes)');
  assert.equal(trimmedNote({ _trimmed: true, bytes: 2048 }), 'trimmed by retention (2,048 bytes)');
  assert.equal(errorText(err), 'ValueError: bad row (trimmed)');
  assert.equal(errorDetail(err), 'ValueError: bad row\n(trimmed by retention (48,213 bytes))');
  assert.equal(errorDetail({ _trimmed: true, bytes: 5000 }), '(trimmed by retention (5,000 bytes))');
  // Not a marker: a user's own "_trimmed" that is not true, an array, a string.
  assert.equal(trimmedNote({ _trimmed: 'yes', bytes: 1 }), '');
  assert.equal(trimmedNote([true]), '');
  assert.equal(trimmedNote('_trimmed'), '');
  assert.equal(errorDetail({ type: 'E', message: 'm' }), '{\n  "type": "E",\n  "message": "m"\n}');
  assert.equal(errorDetail('as sent'), 'as sent');
});

test('tokens and dollars read well, and a cost that leaves models out says so', () => {
  assert.deepEqual([0, 950, 12345, 9999999, 12500000].map(fmtTokens), ['0', '950', '12,345', '9,999,999', '12.5M']);
  assert.deepEqual([0, 7.5e-8, 0.000396, 0.00051, 0.006, 0.0123, 0.044, 0.5, 1, 1234.567].map(fmtUsd),
    ['$0', '$0.000000075', '$0.000396', '$0.00051', '$0.006', '$0.0123', '$0.044', '$0.5', '$1.00', '$1,234.57']);
  assert.equal(fmtUsd(null), '–');
  assert.equal(usageSummary({ input_tokens: 0, output_tokens: 0, cost_usd: 0, cost_complete: true }), null);
  assert.equal(usageSummary(undefined), null);
  const done = usageSummary({ input_tokens: 1200, output_tokens: 350, cost_usd: 0.00039, cost_complete: true });
  assert.deepEqual([done.tokens, done.cost, done.incomplete], ['1,550', '$0.00039', false]);
  const part = usageSummary({ input_tokens: 10, output_tokens: 0, cost_usd: 0.02, cost_complete: false });
  assert.deepEqual([part.cost, part.incomplete], ['≥ $0.02', true]);
  assert.match(part.title, /no price/);
  assert.equal(usageSummary({ input_tokens: 10, output_tokens: 0, cost_usd: 0, cost_complete: false }).cost, 'no price');
  assert.equal(nodeUsage({ model: 'gpt-4o' }), null);
  assert.deepEqual(nodeUsage({ model: 'gpt-4o', provider: 'openai', input_tokens: 1200, output_tokens: 300, cache_read_tokens: 1024, cost_usd: 0.006 }),
    { tokens: '1,200 in · 300 out · 1,024 cached', model: 'gpt-4o (openai)', cost: '$0.006', priced: true });
  assert.deepEqual(nodeUsage({ output_tokens: 5, cost_usd: null }), { tokens: '0 in · 5 out', model: null, cost: 'no price', priced: false });
});

test('routes round-trip through the address bar', () => {
  const h = buildHash(['executions', 'abc'], { tab: 'state', node: '42', empty: '' });
  assert.equal(h, '#/executions/abc?tab=state&node=42');
  const r = parseHash(h);
  assert.deepEqual(r.path, ['executions', 'abc']);
  assert.equal(r.params.get('tab'), 'state');
  const s = parseHash('#token=xyz&execution=e1');
  assert.ok(s.signIn);
  assert.equal(s.params.get('execution'), 'e1');
});

test('live seq: the next or first message applies, an old one is a duplicate, a jump is a gap', () => {
  assert.equal(seqVerdict(undefined, 7), 'apply');
  assert.equal(seqVerdict(3, 4), 'apply');
  assert.equal(seqVerdict(3, 3), 'duplicate');
  assert.equal(seqVerdict(3, 1), 'duplicate');
  assert.equal(seqVerdict(3, 5), 'gap');
  assert.deepEqual([0, 1, 2, 3, 4, 5, 9].map(backoffMs), [1000, 2000, 4000, 8000, 15000, 15000, 15000]);
  assert.ok(isTerminal('success') && isTerminal('error') && isTerminal('cancelled') && !isTerminal('running'));
});

test('live batches: a batch holds its messages in order, a message alone holds itself', () => {
  const a = { type: 'execution', seq: 1 };
  const b = { type: 'execution', seq: 2 };
  assert.deepEqual(unbatch({ type: 'batch', messages: [a, b] }), [a, b]);
  assert.deepEqual(unbatch(a), [a]);
  assert.deepEqual(unbatch({ type: 'batch', messages: [a, null, 3, b] }), [a, b], 'what is not a message is skipped');
  assert.deepEqual(unbatch({ type: 'batch' }), []);
  assert.deepEqual(unbatch(null), []);
  assert.deepEqual(unbatch('x'), []);
});

test('live rows: each row is a message built from the column paths, times given back as the API writes them', () => {
  // The columns agora-live sends (src/domain/live_announce.h), with values
  // a run of the list might have.
  const columns = ['seq', 'workflow_nodes', 'truncated', 'execution.id', 'execution.workflow_id',
    'execution.session_id', 'execution.status', 'execution.started_at:us', 'execution.completed_at:us',
    'execution.duration_ms', 'execution.error', 'execution.usage.input_tokens', 'execution.usage.output_tokens',
    'execution.usage.cost_usd', 'execution.usage.cost_complete', 'execution.stale',
    'execution.counts.node_executions', 'execution.counts.telemetry_spans', 'execution.counts.telemetry_events',
    'execution.counts.shared_state_snapshots'];
  const frame = {
    type: 'rows', columns,
    rows: [
      [3, 5, false, 'E', 'W', 's-1', 'error', 1732622400123456, 1732622409000001, 9000, { message: 'boom', at: [1] },
        1200, 345, 0.0123, true, false, 2, 1, 20, 1],
      [1, 5, true, 'F', 'W', null, 'running', '1492-10-12T06:30:00.654321Z', null, null, null,
        null, null, null, true, true, 0, 0, 0, 0],
    ],
  };
  assert.deepEqual(unbatch(frame), [
    { type: 'execution', seq: 3, workflow_nodes: 5, truncated: false, execution: {
      id: 'E', workflow_id: 'W', session_id: 's-1', status: 'error', started_at: '2024-11-26T12:00:00.123456Z',
      completed_at: '2024-11-26T12:00:09.000001Z', duration_ms: 9000, error: { message: 'boom', at: [1] },
      usage: { input_tokens: 1200, output_tokens: 345, cost_usd: 0.0123, cost_complete: true }, stale: false,
      counts: { node_executions: 2, telemetry_spans: 1, telemetry_events: 20, shared_state_snapshots: 1 } } },
    { type: 'execution', seq: 1, workflow_nodes: 5, truncated: true, execution: {
      id: 'F', workflow_id: 'W', session_id: null, status: 'running', started_at: '1492-10-12T06:30:00.654321Z',
      completed_at: null, duration_ms: null, error: null,
      usage: { input_tokens: null, output_tokens: null, cost_usd: null, cost_complete: true }, stale: true,
      counts: { node_executions: 0, telemetry_spans: 0, telemetry_events: 0, shared_state_snapshots: 0 } } },
  ]);
  // a row of another length is left out; columns that are not paths make no messages
  assert.deepEqual(decodeRows({ type: 'rows', columns: ['seq', 'execution.id'], rows: [[1], [2, 'E'], 'x'] }),
    [{ type: 'execution', seq: 2, execution: { id: 'E' } }]);
  for (const bad of [['seq', ''], ['seq', 'a..b'], ['__proto__.x'], ['execution.constructor'], [1]]) {
    assert.deepEqual(decodeRows({ type: 'rows', columns: bad, rows: [bad.map(() => 1)] }), [], JSON.stringify(bad));
  }
  assert.deepEqual(unbatch({ type: 'rows', columns: ['seq'] }), []);
  assert.equal(Object.prototype.x, undefined);
});

test('live times: microseconds since the epoch read back as the API text, exactly', () => {
  assert.equal(microsToTime(0), '1970-01-01T00:00:00.000000Z');
  assert.equal(microsToTime(1), '1970-01-01T00:00:00.000001Z');
  assert.equal(microsToTime(-1), '1969-12-31T23:59:59.999999Z');
  assert.equal(microsToTime(1732622400999999), '2024-11-26T12:00:00.999999Z');
  // the furthest a row sends as a number (2^53 - 1 either way)
  assert.equal(microsToTime(Number.MAX_SAFE_INTEGER), '2255-06-05T23:47:34.740991Z');
  assert.equal(microsToTime(-Number.MAX_SAFE_INTEGER), '1684-07-28T00:12:25.259009Z');
  assert.equal(microsToTime(2 ** 53), null, 'not exact: not a time');
  assert.equal(microsToTime(1.5), null);
  assert.equal(microsToTime('1'), null);
});

test('live merge: node executions by id, in timeline order; a final one never goes back to running', () => {
  const a = { id: 1, status: 'success', started_at: '2024-11-26T12:00:00Z' };
  const b = { id: 2, status: 'running', started_at: '2024-11-26T12:00:01Z' };
  const cur = [a, b];
  assert.equal(mergeNodes(cur, []), cur, 'nothing new: the same list');
  const done = { ...b, status: 'success', completed_at: '2024-11-26T12:00:02Z' };
  assert.deepEqual(mergeNodes(cur, [done]), [a, done], 'an update replaces its row');
  const early = { id: 3, status: 'running', started_at: '2024-11-26T11:59:59Z' };
  assert.deepEqual(mergeNodes(cur, [early]).map((n) => n.id), [3, 1, 2], 'ordered by started_at, then id');
  assert.deepEqual(mergeNodes([a], [{ ...a, status: 'running' }]), [a], 'success stays success');
  // the execution: a truncated copy keeps error and metadata, a finished run stays finished
  const run = { id: 'x', status: 'running', error: null, metadata: { k: 1 } };
  assert.deepEqual(mergeExecution(run, { id: 'x', status: 'error' }), { id: 'x', status: 'error', error: null, metadata: { k: 1 } });
  assert.equal(mergeExecution({ id: 'x', status: 'success' }, { id: 'x', status: 'running' }).status, 'success');
  const counted = mergeExecution({ id: 'x', status: 'running', counts: { node_executions: 3, telemetry_events: 5 } },
    { id: 'x', status: 'running', counts: { node_executions: 2, telemetry_events: 7 } });
  assert.deepEqual(counted.counts, { node_executions: 3, telemetry_events: 7 }, 'counts only grow');
  // a project channel's slim copy keeps what only the API's copy has
  const listed = { id: 'x', project_id: 'p', status: 'running', metadata: { k: 1 }, error: null, counts: { node_executions: 1 } };
  assert.deepEqual(mergeExecution(listed, { id: 'x', status: 'error', error: 'boom', counts: { node_executions: 2 } }),
    { id: 'x', project_id: 'p', status: 'error', metadata: { k: 1 }, error: 'boom', counts: { node_executions: 2 } });
});

/** A clock whose time moves only when told; advance() runs the timers due, in order. */
function fakeClock() {
  let t = 0;
  const timers = [];
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    now: () => t,
    setTimeout(fn, ms) {
      const x = { at: t + ms, fn };
      timers.push(x);
      return x;
    },
    clearTimeout(x) {
      const i = timers.indexOf(x);
      if (i >= 0) timers.splice(i, 1);
    },
    pending: () => timers.length,
    async to(end) {
      await settle();
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        if (!timers.length || timers[0].at > end) break;
        const x = timers.shift();
        t = x.at;
        x.fn();
        await settle();
      }
      t = end;
      await settle();
    },
  };
}

/** A critical path over a run whose state is a number: each answer names the state it saw. */
function criticalOver(clock, { fail = false, gate = null } = {}) {
  const run = { state: 0, asked: [], shown: [] };
  run.cp = createCriticalPath({
    clock,
    intervalMs: 1000,
    load: async () => {
      run.asked.push(clock.now());
      const seen = run.state;
      if (gate) await gate();
      if (fail) throw new Error('503');
      return new Set([`v${seen}`]);
    },
    onChange: (ids) => run.shown.push(ids && [...ids][0]),
  });
  return run;
}

test('critical path marks: a burst of live changes asks at most once a second, and last for the final state', async () => {
  const clock = fakeClock();
  const run = criticalOver(clock);
  assert.equal(await run.cp.show(true), true, 'the toggle asks at once');
  assert.deepEqual(run.asked, [0]);
  // ten changes in 900 ms: one request at 1 s, none before
  for (let t = 100; t <= 1000; t += 100) {
    await clock.to(t - 1);
    run.state++;
    run.cp.changed();
  }
  await clock.to(999);
  assert.deepEqual(run.asked, [0]);
  await clock.to(1000);
  assert.deepEqual(run.asked, [0, 1000]);
  // two more changes after it started: one more request, 1 s after it
  await clock.to(1200);
  run.state++;
  run.cp.changed();
  await clock.to(1500);
  run.state++;
  run.cp.changed();
  await clock.to(10000);
  assert.deepEqual(run.asked, [0, 1000, 2000], 'a trailing request, then quiet');
  assert.deepEqual(run.shown, ['v0', 'v10', 'v12'], 'the last answer is the final state');
  assert.equal(clock.pending(), 0);
  // long after: a change asks at once
  run.state++;
  run.cp.changed();
  await clock.to(10000);
  assert.deepEqual(run.asked, [0, 1000, 2000, 10000]);
  assert.equal(run.shown.at(-1), 'v13');
});

test('critical path marks: never two requests at once, and a change during one asks again after it', async () => {
  const clock = fakeClock();
  let open = [];
  const gate = () => new Promise((r) => open.push(r));
  const run = criticalOver(clock, { gate });
  const toggled = run.cp.show(true);
  await clock.to(0);
  open.shift()();
  assert.equal(await toggled, true);
  run.state++;
  run.cp.changed();
  await clock.to(1000);
  assert.deepEqual(run.asked, [0, 1000]);
  // it takes 2.5 s; changes meanwhile wait for its answer
  run.state++;
  run.cp.changed();
  await clock.to(3500);
  assert.deepEqual(run.asked, [0, 1000], 'one at a time');
  open.shift()();
  await clock.to(3500);
  assert.deepEqual(run.asked, [0, 1000, 3500], 'the change during it: asked once it answered');
  open.shift()();
  await clock.to(3500);
  assert.deepEqual(run.shown, ['v0', 'v1', 'v2']);
});

test('critical path marks: off drops them and asks nothing; a toggle that fails stays off', async () => {
  const clock = fakeClock();
  const run = criticalOver(clock);
  await run.cp.show(true);
  run.cp.changed();
  assert.equal(await run.cp.show(false), false);
  assert.equal(run.shown.at(-1), null);
  run.cp.changed();
  await clock.to(5000);
  assert.deepEqual(run.asked, [0], 'off: changes ask nothing, the one held is dropped');

  const later = fakeClock();
  const failing = criticalOver(later, { fail: true });
  assert.equal(await failing.cp.show(true), false, 'nothing to show: the toggle stays off');
  failing.cp.changed();
  await later.to(5000);
  assert.equal(failing.asked.length, 1);
  assert.deepEqual(failing.shown, []);
});

test('open bars: a running node reaches to now, and the chart to the run so far', () => {
  const t0 = Date.parse('2024-11-26T12:00:00Z');
  const exec = { started_at: '2024-11-26T12:00:00Z', status: 'running', completed_at: null, duration_ms: null };
  assert.ok(isOpenRun(exec));
  assert.ok(!isOpenRun({ ...exec, stale: true }), 'a stale run does not grow');
  const nodes = [
    { id: 1, status: 'success', offset_ms: 0, prep_duration_ms: 1, exec_duration_ms: 8, post_duration_ms: 1, duration_ms: 10 },
    { id: 2, status: 'running', offset_ms: 100, completed_at: null, duration_ms: null },
  ];
  const rows = prepareRows(exec, nodes, t0 + 1100);
  assert.equal(rows[0].open, false);
  assert.equal(rows[1].open, true);
  assert.equal(rows[1].span, 1000);
  assert.equal(rows[1].end, 1100);
  assert.equal(chartTotal(exec, rows, t0 + 1100), 1100);
  assert.ok(stretchOpen(exec, rows, t0 + 2100));
  assert.equal(rows[1].ms, 2000);
  assert.equal(chartTotal(exec, rows, t0 + 3000), 3000, 'the run so far, past its last bar');
  // once the run ended, nothing is open
  const ended = prepareRows({ ...exec, status: 'error', completed_at: '2024-11-26T12:00:05Z', duration_ms: 5000 }, nodes, t0 + 9e6);
  assert.equal(ended[1].open, false);
});

test('a live list takes a new run only when it passes its filters, on the first page', () => {
  const now = Date.parse('2024-11-26T12:00:00Z');
  const e = { id: 'x', workflow_id: 'w1', status: 'running', session_id: 's1', started_at: '2024-11-26T11:59:00Z' };
  assert.ok(matchesList({}, e, now));
  assert.ok(matchesList({ workflow_id: 'w1', status: 'running', session_id: 's1', range: '15m' }, e, now));
  assert.ok(!matchesList({ workflow_id: 'w2' }, e, now));
  assert.ok(!matchesList({ status: 'error' }, e, now));
  assert.ok(!matchesList({ session_id: 's2' }, e, now));
  assert.ok(!matchesList({ cursor: 'abc', page: '2' }, e, now), 'later pages hold older runs');
  assert.ok(!matchesList({ range: '15m' }, { ...e, started_at: '2024-11-26T11:00:00Z' }, now));
  assert.ok(matchesList({ range: 'custom', since: '2024-11-26T11:00:00Z', until: '2024-11-26T12:00:00Z' }, e, now));
  assert.ok(!matchesList({ range: 'custom', until: '2024-11-26T11:59:00Z' }, e, now), 'until is exclusive');
});

test('snapshotDiffs from an index diffs only the new snapshots, each against the one before', () => {
  const snaps = [{ state: { a: 1 } }, { state: { a: 1, b: 2 } }, { state: { b: 3 } }];
  assert.deepEqual(snapshotDiffs(snaps, 2), snapshotDiffs(snaps).slice(2));
  assert.deepEqual(snapshotDiffs(snaps, 3), []);
});

test('a live panel finds its largest id and where a new item goes in the API order', () => {
  assert.equal(maxId([]), 0);
  assert.equal(maxId([{ id: 3 }, { id: 12 }, { id: 7 }]), 12);
  const byT = (a, b) => a.t - b.t || a.id - b.id;
  const items = [{ t: 1, id: 1 }, { t: 2, id: 2 }, { t: 2, id: 5 }, { t: 4, id: 3 }];
  assert.equal(sortedIndex(items, { t: 0, id: 9 }, byT), 0);
  assert.equal(sortedIndex(items, { t: 2, id: 4 }, byT), 2);
  assert.equal(sortedIndex(items, { t: 2, id: 6 }, byT), 3);
  assert.equal(sortedIndex(items, { t: 9, id: 9 }, byT), 4);
  assert.equal(sortedIndex([], { t: 1, id: 1 }, byT), 0);
});

test('a time order sorts by the timestamp to the microsecond, then by id', () => {
  const byTs = timeOrder('timestamp');
  const a = { id: 9, timestamp: '2024-11-26T12:00:00.000001Z' };
  const b = { id: 2, timestamp: '2024-11-26T12:00:00.000002Z' };
  const c = { id: 3, timestamp: '2024-11-26T12:00:00.000002Z' };
  assert.deepEqual([c, b, a].sort(byTs), [a, b, c]);
});

test('alert rules in words: conditions per kind, the channel\'s host only, state and last fired', () => {
  const wf = (id) => (id === 'w1' ? 'checkout' : id);
  const base = { workflow_id: null, node_name: null, error_contains: null, threshold: null, metric: null,
    window_minutes: null, min_runs: null, cooldown_minutes: 60, muted: false, snoozed_until: null };
  assert.deepEqual(conditions({ ...base, kind: 'execution_failed' }, wf), ['any failed run', 'cooldown 60 min']);
  assert.deepEqual(conditions({ ...base, kind: 'execution_failed', workflow_id: 'w1', error_contains: 'timeout', cooldown_minutes: 0 }, wf),
    ['workflow checkout', 'error contains "timeout"', 'no cooldown']);
  assert.deepEqual(conditions({ ...base, kind: 'duration_above', threshold: 60000 }, wf), ['over 60,000 ms', 'cooldown 60 min']);
  assert.deepEqual(conditions({ ...base, kind: 'node_failure_rate', threshold: 50, window_minutes: 5, min_runs: 3, node_name: 'fetch' }, wf),
    ['over 50% of runs in 5 min', 'at least 3 runs', 'node fetch', 'cooldown 60 min']);
  assert.deepEqual(conditions({ ...base, kind: 'stale_run', window_minutes: 10 }, wf), ['no telemetry for 10 min', 'cooldown 60 min']);
  assert.equal(conditions({ ...base, kind: 'usage_above', metric: 'cost_usd', threshold: 5, window_minutes: 60 }, wf)[0], '$5.00 in 60 min');
  assert.equal(conditions({ ...base, kind: 'usage_above', metric: 'tokens', threshold: 100000, window_minutes: 60 }, wf)[0], '100,000 tokens in 60 min');
  assert.equal(urlHost('https://hooks.slack.com/services/T0/B0/XXXX'), 'hooks.slack.com');
  assert.equal(urlHost('http://127.0.0.1:8080/x?token=1'), '127.0.0.1:8080');
  assert.equal(urlHost('not a url'), '(not a URL)');

  const now = Date.parse('2026-12-05T02:00:00Z');
  assert.equal(ruleState({ ...base }, now).key, 'active');
  assert.equal(ruleState({ ...base, muted: true }, now).text, 'muted');
  assert.equal(ruleState({ ...base, snoozed_until: '2026-12-05T01:00:00Z' }, now).key, 'active');
  const snoozed = ruleState({ ...base, snoozed_until: '2026-12-05T03:00:00Z' }, now);
  assert.equal(snoozed.key, 'snoozed');
  assert.match(snoozed.text, /^snoozed until \d{4}-\d\d-\d\d \d\d:\d\d$/);
  assert.match(ruleState({ ...base, muted: true, snoozed_until: '2026-12-05T03:00:00Z' }, now).text, /^muted; snoozed until /);

  assert.equal(lastFired([]).text, 'never');
  const t = new Date(Date.now() - 10e3).toISOString();
  assert.equal(lastFired([{ test: true, created_at: t }]).text, 'never (test just now)');
  assert.equal(lastFired([{ test: true, created_at: t }, { test: false, created_at: t }]).text, 'just now');
  assert.match(refusal({ status: 403, message: 'forbidden' }), /^Only owners and admins .*403: forbidden/);
  assert.equal(refusal({ status: 409, message: 'conflict' }), 'conflict');
});

test('alert deliveries: counts by status, and pending ones looked at again when their next try is due', () => {
  const now = Date.parse('2026-12-05T02:00:00Z');
  const at = (s) => new Date(now + s * 1000).toISOString();
  assert.equal(deliveryCounts([]), 'none yet');
  assert.equal(deliveryCounts([{ status: 'pending' }, { status: 'delivered' }, { status: 'delivered' }, { status: 'gave_up' }]),
    '2 delivered, 1 pending, 1 gave up');
  assert.equal(refreshDelay([{ status: 'delivered' }], now), null);
  assert.equal(refreshDelay([{ status: 'pending', next_try_at: at(-5) }], now), 1000);
  assert.equal(refreshDelay([{ status: 'pending', next_try_at: at(5) }, { status: 'pending', next_try_at: at(3) }], now), 3700);
  assert.equal(refreshDelay([{ status: 'pending', next_try_at: at(3600) }], now), 30000);
});
