// Known executions for the browser tests: payloads for POST /api/workflows
// and POST /api/executions/ingest (CONTRACT.md sections 3 and 4), with
// timestamps relative to a base time so the list order is known.

const iso = (ms) => new Date(ms).toISOString();

/** The payment workflow: 4 nodes, one of them never reached in the failed run. */
export function paymentWorkflow(projectId) {
  return {
    project_id: projectId,
    name: 'payment-pipeline',
    description: 'Load an order, validate it, charge the card (with retries), send the receipt.',
    nodes: [
      { name: 'load_order', type: 'LoadNode' },
      { name: 'validate', type: 'AuditedNode' },
      { name: 'charge_card', type: 'RetryNode' },
      { name: 'send_receipt', type: 'AuditedNode' },
    ],
    edges: [
      { from: 'load_order', to: 'validate' },
      { from: 'validate', to: 'charge_card', action: 'valid' },
      { from: 'validate', to: 'load_order', action: 'reload' },
      { from: 'charge_card', to: 'charge_card', action: 'retry' },
      { from: 'charge_card', to: 'send_receipt', action: 'charged' },
    ],
  };
}

let spanSeq = 0;
const hex = (n, len) => n.toString(16).padStart(len, '0');
const spanId = () => hex(++spanSeq, 16);

/**
 * The failed payment: load_order, validate, then charge_card three times
 * (retry_count 0, 1, 2), each failing; send_receipt never runs.
 * Known figures (ms from the start): see ROWS.
 */
export const FAILED_ROWS = [
  { node_name: 'load_order', node_type: 'LoadNode', at: 0, prep: 2, exec: 35, post: 3, status: 'success', action: 'default', retry: 0 },
  { node_name: 'validate', node_type: 'AuditedNode', at: 42, prep: 5, exec: 50, post: 5, status: 'success', action: 'valid', retry: 0 },
  { node_name: 'charge_card', node_type: 'RetryNode', at: 105, prep: 10, exec: 280, post: 10, status: 'error', action: 'retry', retry: 0,
    error: 'CardDeclined: insufficient funds (code 51)' },
  { node_name: 'charge_card', node_type: 'RetryNode', at: 430, prep: 8, exec: 250, post: 7, status: 'error', action: 'retry', retry: 1,
    error: 'GatewayTimeout: the payment gateway did not answer within 250 ms' },
  { node_name: 'charge_card', node_type: 'RetryNode', at: 720, prep: 9, exec: 240, post: 6, status: 'error', action: null, retry: 2,
    error: { type: 'PaymentError', message: 'charge failed after 2 retries' } },
];
export const FAILED_ERROR = 'PaymentError: charge failed after 2 retries';

export function failedExecution({ workflowId, base, sessionId = 'checkout-session-42', executionId }) {
  const traceId = hex(0xabc123, 32);
  const root = spanId();
  const nodes = [];
  const events = [];
  const spans = [];
  const end = 720 + 9 + 240 + 6;
  spans.push({
    trace_id: traceId, span_id: root, parent_span_id: null, name: 'workflow.payment-pipeline', kind: 'internal',
    start_time: iso(base), end_time: iso(base + end + 5), duration_ms: end + 5, status: 'error',
    attributes: { 'workflow.name': 'payment-pipeline', 'order.id': 'A-1001' }, node_name: null,
  });
  events.push({ event_type: 'workflow_start', timestamp: iso(base), node_name: null, data: { order_id: 'A-1001' } });
  for (const r of FAILED_ROWS) {
    const dur = r.prep + r.exec + r.post;
    nodes.push({
      node_name: r.node_name, node_type: r.node_type, status: r.status,
      started_at: iso(base + r.at), completed_at: iso(base + r.at + dur),
      prep_duration_ms: r.prep, exec_duration_ms: r.exec, post_duration_ms: r.post,
      retry_count: r.retry, action: r.action, error: r.error ?? null,
    });
    events.push({ event_type: 'node_start', timestamp: iso(base + r.at), node_name: r.node_name, data: { attempt: r.retry + 1 } });
    if (r.error) {
      events.push({ event_type: 'node_error', timestamp: iso(base + r.at + dur - 1), node_name: r.node_name,
        data: { error: typeof r.error === 'string' ? r.error : r.error.message, attempt: r.retry + 1 } });
      if (r.action === 'retry') events.push({ event_type: 'retry', timestamp: iso(base + r.at + dur), node_name: r.node_name, data: { next_attempt: r.retry + 2, backoff_ms: 20 } });
    }
    events.push({ event_type: 'node_end', timestamp: iso(base + r.at + dur), node_name: r.node_name, data: { status: r.status, action: r.action } });
    const ns = spanId();
    spans.push({
      trace_id: traceId, span_id: ns, parent_span_id: root, name: `${r.node_name}`, kind: 'internal',
      start_time: iso(base + r.at), end_time: iso(base + r.at + dur), duration_ms: dur,
      status: r.status === 'error' ? 'error' : 'ok', attributes: { attempt: r.retry + 1 }, node_name: r.node_name,
    });
    let t = r.at;
    for (const [ph, ms] of [['prep', r.prep], ['exec', r.exec], ['post', r.post]]) {
      const ps = spanId();
      spans.push({
        trace_id: traceId, span_id: ps, parent_span_id: ns, name: `${r.node_name}.${ph}`, kind: 'internal',
        start_time: iso(base + t), end_time: iso(base + t + ms), duration_ms: ms,
        status: r.status === 'error' && ph === 'exec' ? 'error' : 'ok', attributes: { phase: ph }, node_name: r.node_name,
      });
      if (ph === 'exec' && r.node_name === 'charge_card') {
        spans.push({
          trace_id: traceId, span_id: spanId(), parent_span_id: ps, name: 'http.post /v1/charges', kind: 'client',
          start_time: iso(base + t + 2), end_time: iso(base + t + ms - 2), duration_ms: ms - 4,
          status: 'error', attributes: { 'http.method': 'POST', 'http.status_code': r.retry === 1 ? 504 : 402 }, node_name: r.node_name,
        });
      }
      t += ms;
    }
  }
  events.push({ event_type: 'workflow_end', timestamp: iso(base + end + 5), node_name: null, data: { status: 'error' } });
  // Shared state: keys added, removed and changed (also nested) between snapshots.
  const states = [
    { node: 'load_order', at: 40, state: { order_id: 'A-1001', items: 3, total: 129.9, status: 'loaded', customer: { id: 'c-77', tier: 'gold' }, warnings: ['address unverified'] } },
    { node: 'validate', at: 102, state: { order_id: 'A-1001', items: 3, total: 129.9, status: 'validated', customer: { id: 'c-77', tier: 'gold' }, warnings: ['address unverified'], validated_at: iso(base + 100) } },
    { node: 'charge_card', at: 405, state: { order_id: 'A-1001', items: 3, total: 129.9, status: 'charging', customer: { id: 'c-77', tier: 'silver' }, validated_at: iso(base + 100), attempts: 1, last_error: 'CardDeclined' } },
    { node: 'charge_card', at: 975, state: { order_id: 'A-1001', items: 3, total: 129.9, status: 'failed', customer: { id: 'c-77', tier: 'silver' }, validated_at: iso(base + 100), attempts: 3, last_error: 'PaymentError' } },
  ];
  const snapshots = states.map((s, i) => ({ sequence: i, timestamp: iso(base + s.at), node_name: s.node, phase: 'after', state: s.state }));
  const body = {
    workflow_id: workflowId, session_id: sessionId, status: 'error',
    started_at: iso(base), completed_at: iso(base + end + 5), duration_ms: end + 5,
    error: FAILED_ERROR, metadata: { order_id: 'A-1001', client: 'agora-python 0.9.2' },
    node_executions: nodes, telemetry_events: events, telemetry_spans: spans, shared_state_snapshots: snapshots,
  };
  if (executionId) body.execution_id = executionId;
  return body;
}

/** A successful run: n node executions spread over the workflow's names. */
export function bulkExecution({ workflowId, base, n = 10000, sessionId = 'bulk-session', names = 25, failAt = -1 }) {
  const nodes = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    const prep = 0.2 + (i % 7) * 0.05;
    const exec = 1 + ((i * 37) % 23) * 0.25;
    const post = 0.1 + (i % 5) * 0.04;
    const dur = prep + exec + post;
    const failed = i === failAt;
    nodes.push({
      node_name: `step_${String(i % names).padStart(2, '0')}`, node_type: 'BatchNode', status: failed ? 'error' : 'success',
      started_at: iso(base + t), completed_at: iso(base + t + dur),
      prep_duration_ms: Number(prep.toFixed(3)), exec_duration_ms: Number(exec.toFixed(3)), post_duration_ms: Number(post.toFixed(3)),
      retry_count: 0, action: 'default', error: failed ? 'ValueError: row 7777 has no id' : null,
    });
    t += dur + 0.05;
  }
  return {
    workflow_id: workflowId, session_id: sessionId, status: failAt >= 0 ? 'error' : 'success',
    started_at: iso(base), completed_at: iso(base + t), duration_ms: Number(t.toFixed(3)),
    error: failAt >= 0 ? 'ValueError: row 7777 has no id' : null, metadata: { rows: n },
    node_executions: nodes,
  };
}

/** A small successful run of the payment workflow. */
export function smallExecution({ workflowId, base, sessionId, status = 'success' }) {
  const rows = [
    ['load_order', 0, 1, 20, 1, 'default'], ['validate', 23, 2, 30, 2, 'valid'],
    ['charge_card', 58, 3, 120, 3, 'charged'], ['send_receipt', 185, 1, 15, 1, 'default'],
  ];
  const running = status === 'running';
  const use = running ? rows.slice(0, 2) : rows;
  return {
    workflow_id: workflowId, session_id: sessionId, status, started_at: iso(base),
    ...(running ? {} : { completed_at: iso(base + 205), duration_ms: 205 }),
    metadata: {},
    node_executions: use.map(([name, at, p, e, q, action]) => ({
      node_name: name, status: 'success', started_at: iso(base + at), completed_at: iso(base + at + p + e + q),
      prep_duration_ms: p, exec_duration_ms: e, post_duration_ms: q, retry_count: 0, action,
    })),
    telemetry_events: [{ event_type: 'workflow_start', timestamp: iso(base), data: {} }],
  };
}

/**
 * Text that would read otherwise than it is: a right-to-left override
 * (U+202E) makes "\u202Egnp.exe" look like "exe.png"; zero-width and isolate
 * characters hide or reorder too. Everywhere a client's text reaches the
 * viewer. The spoofed node has phase durations but no completed_at: its
 * duration is its phases' sum, 315 ms.
 *
 * The API refuses format and C1 control characters in names and
 * identifiers (422; src/util/text.c, name_char_class), but names stored
 * before that rule may hold them. So the run goes in through the API with
 * free text (errors, event data, attribute and state values, the
 * workflow's description) carrying the characters, and with its names
 * spelled by legacy(): each refused character as an ASCII stand-in
 * "<U+202E>". legacyNamesSql() then writes the real names into the stored
 * rows, as the cluster superuser, the way legacy data would be.
 */
export const SPOOF = '\u202Egnp.exe';
export const SPOOF_SHOWN = '\\u202Egnp.exe';

/** The characters a legacy name here may hold, with their stand-ins. */
const LEGACY_CHARS = ['\u202E', '\u200B'].map((c) => {
  const hex4 = c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0');
  return { c, standIn: `<U+${hex4}>`, sql: `U&'\\${hex4}'` };
});

/** name as the API takes it: its format characters as stand-ins. */
export function legacy(name) {
  return LEGACY_CHARS.reduce((s, { c, standIn }) => s.split(c).join(standIn), name);
}

/**
 * SQL (for the cluster superuser) that gives a workflow's and an
 * execution's names their stand-ins' characters back. A stack reused across
 * runs already has the workflow's legacy nodes: an ingest then created
 * stand-in twins of them, which go.
 */
export function legacyNamesSql({ workflowId, executionId }) {
  const restore = (col) => LEGACY_CHARS.reduce((e, { standIn, sql }) => `replace(${e}, '${standIn}', ${sql})`, col);
  const set = (...cols) => cols.map((c) => `${c} = ${restore(c)}`).join(', ');
  const wf = `'${workflowId}'`;
  const ex = `'${executionId}'`;
  return `BEGIN;
DELETE FROM agora.workflow_nodes s WHERE s.workflow_id = ${wf} AND EXISTS (
  SELECT 1 FROM agora.workflow_nodes o WHERE o.workflow_id = s.workflow_id AND o.id <> s.id AND o.name = ${restore('s.name')});
UPDATE agora.workflows SET ${set('name')} WHERE id = ${wf};
UPDATE agora.workflow_nodes SET ${set('name', 'type')} WHERE workflow_id = ${wf};
UPDATE agora.workflow_edges SET ${set('action')} WHERE workflow_id = ${wf};
UPDATE agora.executions SET ${set('session_id')} WHERE id = ${ex};
UPDATE agora.node_executions SET ${set('node_name', 'node_type', 'action')} WHERE execution_id = ${ex};
UPDATE agora.telemetry_events SET ${set('event_type', 'node_name')} WHERE execution_id = ${ex};
UPDATE agora.telemetry_spans SET ${set('name', 'kind', 'node_name')} WHERE execution_id = ${ex};
UPDATE agora.shared_state_snapshots SET ${set('node_name', 'phase')} WHERE execution_id = ${ex};
COMMIT;
`;
}

export const SPOOF_WORKFLOW_NAME = `spoof-${SPOOF}`;

/** The spoofed workflow as the API takes it (names by legacy()). */
export function spoofWorkflow(projectId) {
  return {
    project_id: projectId, name: legacy(SPOOF_WORKFLOW_NAME), description: `Opens ${SPOOF} after \u2066plain\u2069`,
    nodes: [{ name: 'plain' }, { name: legacy(SPOOF) }], edges: [{ from: 'plain', to: legacy(SPOOF) }],
  };
}

/** The spoofed run as the API takes it (names by legacy(); sessionId is the legacy one). */
export function spoofExecution({ workflowId, base, sessionId }) {
  const name = legacy(SPOOF);
  return {
    workflow_id: workflowId, session_id: legacy(sessionId), status: 'error',
    started_at: iso(base), completed_at: iso(base + 400), duration_ms: 400,
    error: `Refused ${SPOOF} at \u2066step\u2069`,
    node_executions: [
      { node_name: 'plain', status: 'success', started_at: iso(base), completed_at: iso(base + 50),
        exec_duration_ms: 48, action: legacy('re\u202Etry') },
      { node_name: name, node_type: legacy('Audited\u200BNode'), status: 'error',
        prep_duration_ms: 5, exec_duration_ms: 300, post_duration_ms: 10,
        error: `Refused ${SPOOF} at \u2066step\u2069` },
    ],
    telemetry_events: [
      { event_type: name, timestamp: iso(base + 60), node_name: name, data: { file: SPOOF, zw: 'ad\u200Bmin' } },
    ],
    telemetry_spans: [
      { trace_id: hex(0x5f00f, 32), span_id: hex(0x5f00f, 16), name, kind: 'internal',
        start_time: iso(base + 60), end_time: iso(base + 375), duration_ms: 315, status: 'error',
        attributes: { path: SPOOF }, node_name: name },
    ],
    shared_state_snapshots: [
      { sequence: 0, timestamp: iso(base + 55), node_name: 'plain', phase: 'after', state: { file: 'report.pdf' } },
      { sequence: 1, timestamp: iso(base + 380), node_name: name, phase: 'after', state: { file: SPOOF, [`${SPOOF}key`]: 1 } },
    ],
  };
}

/**
 * A workflow of n nodes (node_00000 -> node_00001 -> ...), the most a
 * workflow may have at n = 1,000, and a run through the first `ran` of them.
 */
export function chainWorkflow(projectId, n, name) {
  const nodes = Array.from({ length: n }, (_, i) => ({ name: `node_${String(i).padStart(5, '0')}` }));
  const edges = nodes.slice(1).map((nd, i) => ({ from: nodes[i].name, to: nd.name }));
  return { project_id: projectId, name, nodes, edges };
}

export function chainExecution({ workflowId, base, ran, sessionId }) {
  return {
    workflow_id: workflowId, session_id: sessionId, status: 'success',
    started_at: iso(base), completed_at: iso(base + ran * 10), duration_ms: ran * 10,
    node_executions: Array.from({ length: ran }, (_, i) => ({
      node_name: `node_${String(i).padStart(5, '0')}`, status: 'success',
      started_at: iso(base + i * 10), completed_at: iso(base + i * 10 + 8), exec_duration_ms: 8, action: 'default',
    })),
  };
}

/**
 * A run that called models (README "Tokens and cost"): three nodes priced
 * with the server's defaults (sql/009, valid from 2025-01-15) and one with a
 * model that has no price, so the run's cost is known only in part. Costs
 * in US dollars, from the per-million prices: LLM_COSTS.
 */
export const LLM_ROWS = [
  { node_name: 'plan', at: 0, ms: 800, model: 'gpt-4o', provider: 'openai', input: 1200, output: 300, cached: 1024 },
  { node_name: 'draft', at: 820, ms: 2400, model: 'claude-3-5-sonnet-20241022', provider: 'anthropic', input: 5000, output: 1500 },
  { node_name: 'critique', at: 3240, ms: 600, model: 'my-local-llama', provider: null, input: 2000, output: 200 },
  { node_name: 'polish', at: 3860, ms: 500, model: 'gpt-4o-mini', provider: 'openai', input: 1800, output: 400 },
];
// plan: 1200 x 2.50 + 300 x 10.00; draft: 5000 x 3 + 1500 x 15; polish: 1800 x 0.15 + 400 x 0.60 (per 10^6)
export const LLM_COSTS = { plan: 0.006, draft: 0.0375, critique: null, polish: 0.00051 };

export function llmExecution({ workflowId, base, sessionId }) {
  const end = 4400;
  return {
    workflow_id: workflowId, session_id: sessionId, status: 'success', started_at: iso(base),
    completed_at: iso(base + end), duration_ms: end,
    node_executions: LLM_ROWS.map((r) => ({
      node_name: r.node_name, node_type: 'LLMNode', status: 'success', started_at: iso(base + r.at),
      completed_at: iso(base + r.at + r.ms), exec_duration_ms: r.ms, model: r.model, provider: r.provider,
      input_tokens: r.input, output_tokens: r.output, cache_read_tokens: r.cached ?? null,
    })),
  };
}
