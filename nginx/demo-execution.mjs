#!/usr/bin/env node
// nginx/demo-execution.mjs WORKFLOW_ID EXECUTION_ID
// Prints the ingest payload (POST /api/executions/ingest) of the demo
// execution that run.sh uploads once, so its sign-in link opens a timeline
// with something to see: the demo workflow (load_data -> process -> validate,
// retrying -> save) where the first validation fails and process runs again.
// Timestamps end now.

const [workflowId, executionId] = process.argv.slice(2);
if (!workflowId || !executionId) {
  process.stderr.write('usage: nginx/demo-execution.mjs WORKFLOW_ID EXECUTION_ID\n');
  process.exit(2);
}

// node, prep, exec, post, status, action, retry, error
const runs = [
  ['load_data', 3, 118, 4, 'success', 'default', 0, null],
  ['process', 5, 342, 6, 'success', 'default', 0, null],
  ['validate', 2, 61, 3, 'error', 'retry', 0, "ValidationError: 2 of 128 records have no 'amount'"],
  ['process', 4, 305, 5, 'success', 'default', 1, null],
  ['validate', 2, 54, 3, 'success', 'valid', 1, null],
  ['save', 6, 176, 8, 'success', 'default', 0, null],
];
const gap = 4;
const total = runs.reduce((s, r) => s + r[1] + r[2] + r[3] + gap, 0);
const start = Date.now() - total - 2000;
const iso = (ms) => new Date(start + ms).toISOString();
const hex = (n) => n.toString(16).padStart(16, '0');

const states = [
  { input: 's3://demo/orders-2024-11.csv', records: 128, stage: 'loaded' },
  { input: 's3://demo/orders-2024-11.csv', records: 128, stage: 'processed', processed: 128, totals: { amount: 10432.5, currency: 'EUR' } },
  { input: 's3://demo/orders-2024-11.csv', records: 128, stage: 'invalid', processed: 128, totals: { amount: 10432.5, currency: 'EUR' }, missing_amount: [17, 93], valid: false },
  { input: 's3://demo/orders-2024-11.csv', records: 128, stage: 'processed', processed: 128, totals: { amount: 10432.5, currency: 'EUR' }, filled: { amount: 0 }, valid: false },
  { input: 's3://demo/orders-2024-11.csv', records: 128, stage: 'validated', processed: 128, totals: { amount: 10432.5, currency: 'EUR' }, filled: { amount: 0 }, valid: true },
  { input: 's3://demo/orders-2024-11.csv', records: 128, stage: 'saved', processed: 128, totals: { amount: 10432.5, currency: 'EUR' }, valid: true, output: 'warehouse.orders', rows_written: 128 },
];

const node_executions = [];
const telemetry_events = [{ event_type: 'workflow_start', timestamp: iso(0), node_name: null, data: { input: states[0].input } }];
const root = hex(1);
let seq = 1;
const telemetry_spans = [{
  trace_id: '4a6f72612d64656d6f2d747261636531', span_id: root, parent_span_id: null, name: 'workflow.demo-workflow',
  kind: 'internal', start_time: iso(0), end_time: iso(total), duration_ms: total, status: 'ok',
  attributes: { 'workflow.name': 'demo-workflow', records: 128 }, node_name: null,
}];
const shared_state_snapshots = [];
let t = 0;
runs.forEach(([name, prep, exec, post, status, action, retry, error], i) => {
  const dur = prep + exec + post;
  node_executions.push({
    node_name: name, node_type: 'AuditedNode', status, started_at: iso(t), completed_at: iso(t + dur),
    prep_duration_ms: prep, exec_duration_ms: exec, post_duration_ms: post, retry_count: retry, action, error,
  });
  telemetry_events.push({ event_type: 'node_start', timestamp: iso(t), node_name: name, data: { attempt: retry + 1 } });
  if (error) telemetry_events.push({ event_type: 'validation_failed', timestamp: iso(t + prep + exec), node_name: name, data: { records: [17, 93], field: 'amount' } });
  telemetry_events.push({ event_type: 'node_end', timestamp: iso(t + dur), node_name: name, data: { status, action } });
  const ns = hex(++seq);
  telemetry_spans.push({
    trace_id: telemetry_spans[0].trace_id, span_id: ns, parent_span_id: root, name, kind: 'internal',
    start_time: iso(t), end_time: iso(t + dur), duration_ms: dur, status: error ? 'error' : 'ok',
    attributes: { attempt: retry + 1, action }, node_name: name,
  });
  let p = t;
  for (const [phase, ms] of [['prep', prep], ['exec', exec], ['post', post]]) {
    const ps = hex(++seq);
    telemetry_spans.push({
      trace_id: telemetry_spans[0].trace_id, span_id: ps, parent_span_id: ns, name: `${name}.${phase}`, kind: 'internal',
      start_time: iso(p), end_time: iso(p + ms), duration_ms: ms, status: error && phase === 'exec' ? 'error' : 'ok',
      attributes: {}, node_name: name,
    });
    if (name === 'save' && phase === 'exec') {
      telemetry_spans.push({
        trace_id: telemetry_spans[0].trace_id, span_id: hex(++seq), parent_span_id: ps, name: 'db.insert warehouse.orders', kind: 'client',
        start_time: iso(p + 10), end_time: iso(p + ms - 10), duration_ms: ms - 20, status: 'ok',
        attributes: { 'db.system': 'postgresql', 'db.rows': 128 }, node_name: name,
      });
    }
    p += ms;
  }
  shared_state_snapshots.push({ sequence: i, timestamp: iso(t + dur), node_name: name, phase: 'after', state: states[i] });
  t += dur + gap;
});
telemetry_events.push({ event_type: 'workflow_end', timestamp: iso(total), node_name: null, data: { status: 'success' } });

process.stdout.write(JSON.stringify({
  workflow_id: workflowId, execution_id: executionId, session_id: 'demo-session', status: 'success',
  started_at: iso(0), completed_at: iso(total), duration_ms: total,
  metadata: { source: 'run.sh demo', records: 128 },
  node_executions, telemetry_events, telemetry_spans, shared_state_snapshots,
}));
