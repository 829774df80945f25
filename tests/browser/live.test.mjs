// End-to-end tests of the viewer's live updates (docs/LIVE.md) in a real
// headless Chromium against a real stack: a live run is ingested in parts
// (a client execution_id, node executions with client ids going running ->
// success) while the page is open, and the page must follow it in place,
// without loading again. A marker set on window before the updates proves
// it: a reload or a navigation would lose it. Screenshots land in the test
// output folder (printed at the start).
//
// This file's stack ends each subscription after a few seconds
// (AGORA_LIVE_SUBSCRIPTION_SECONDS) so the transparent reconnect with a new
// ticket runs here, not only after the default ten minutes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openSession, closeSession, demoProject, screenshot } from './harness.mjs';

const SUBSCRIPTION_SECONDS = 12;
process.env.AGORA_LIVE_SUBSCRIPTION_SECONDS ??= String(SUBSCRIPTION_SECONDS);

const T = { timeout: 90e3 };
const WAIT = { timeout: 15e3 };
const NODES = [
  { name: 'fetch', type: 'FetchNode' },
  { name: 'parse', type: 'ParseNode' },
  { name: 'enrich', type: 'EnrichNode' },
  { name: 'store', type: 'StoreNode' },
];

let session;
let stack;
let page;
let token;
let workflowId;
let run;
const problems = []; // console errors, page errors, CSP violations
const tickets = [];  // the ticket requests the page made

const iso = (ms) => new Date(ms).toISOString();
const uuid = () => crypto.randomUUID();

function shot(name) {
  return screenshot(session.out, name, page);
}

function watch(p) {
  p.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    // A subscription that nginx ends (by design, after its time) is a
    // network error to Chromium; the client reconnects.
    if (/Failed to load resource|net::ERR_|EventSource/.test(text)) return;
    problems.push(`${msg.type()}: ${text}`);
  });
  p.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  p.on('request', (req) => {
    if (req.method() === 'POST' && req.url().endsWith('/api/live/tickets')) tickets.push(req.postData());
  });
}

async function ingest(body) {
  return stack.mustJson('POST', '/api/executions/ingest', { token, body });
}

/** A fresh load of a view, signed in, with a marker on window that only a reload would lose. */
async function open(hash) {
  // A page of the origin that runs no viewer (the list would take tickets
  // of its own), to put the token in this origin's sessionStorage.
  await page.goto(`${stack.base}/favicon.svg`);
  await page.evaluate((t) => sessionStorage.setItem('agora.token', t), token);
  await page.goto('about:blank');
  await page.goto(`${stack.base}/${hash}`);
  await page.evaluate(() => { window.liveMarker = 'kept'; });
}

async function markerKept() {
  return page.evaluate(() => window.liveMarker === 'kept' && !!document.querySelector('.topbar'));
}

async function liveStatus(testId) {
  return page.locator(`[data-testid="${testId}"]`).textContent();
}

function waitStatus(testId, text) {
  return page.waitForFunction(([id, want]) => {
    const el = document.querySelector(`[data-testid="${id}"]`);
    return el && el.textContent === want;
  }, [testId, text], WAIT);
}

/** A node execution as the client sends it: running (no completed_at), or finished with its phases. */
function nodeRun(id, i, base, { done = false, status = 'success' } = {}) {
  const at = base + 10 + i * 400;
  const n = { id, node_name: NODES[i].name, node_type: NODES[i].type, started_at: iso(at), status: 'running' };
  if (done) {
    Object.assign(n, {
      status, completed_at: iso(at + 300), prep_duration_ms: 20, exec_duration_ms: 260, post_duration_ms: 20,
      retry_count: 0, action: 'default',
    });
  }
  return n;
}

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watch(page);
  const project = await demoProject(stack, token);
  const all = await stack.mustJson('GET', `/api/workflows?project_id=${project.id}&limit=200`, { token });
  const had = all.items.find((w) => w.name === 'live-pipeline');
  workflowId = had ? had.id : (await stack.mustJson('POST', '/api/workflows', {
    token,
    body: {
      project_id: project.id, name: 'live-pipeline', description: 'Fetch, parse, enrich and store, watched live.',
      nodes: NODES.map((n) => ({ name: n.name, type: n.type })),
      edges: [{ from: 'fetch', to: 'parse' }, { from: 'parse', to: 'enrich' }, { from: 'enrich', to: 'store' }],
    },
  })).id;
  run = `live-${Date.now().toString(36)}`;
}, { timeout: 900e3 });

after(() => closeSession(session));

test('the execution page follows a live run: bars appear and finish in place, then it says Finished', T, async () => {
  const execId = uuid();
  const ids = NODES.map(() => uuid());
  const base = Date.now() - 2000;
  const common = { workflow_id: workflowId, execution_id: execId, session_id: `${run}-exec`, started_at: iso(base) };
  await ingest({ ...common, status: 'running', node_executions: [nodeRun(ids[0], 0, base)] });

  await open(`#/executions/${execId}`);
  await page.waitForSelector('.gantt-row');
  await waitStatus('live-status', 'Live');
  assert.equal(await page.locator('.gantt-row').count(), 1);
  // the running node is an open bar whose duration goes on with the clock
  assert.equal(await page.locator('.gantt-bar.is-open').count(), 1);
  const dur0 = await page.locator('.gantt-row >> nth=0 >> .annot-dur').textContent();
  await page.waitForFunction((d) => document.querySelector('.gantt-row .annot-dur').textContent !== d, dur0, WAIT);
  assert.match(await page.locator('.exec-header .fact-elapsed').textContent(), /so far$/);
  await shot('live-01-running');

  // Zoomed in: an update keeps the window the reader chose.
  const windowOf = async () => (await page.locator('.range-label').textContent()).split(' of ')[0];
  const full = await windowOf();
  await page.click('button[aria-label="Zoom in"]');
  // The chart draws (and labels its window) on the next animation frame.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const zoomed = await windowOf();
  assert.notEqual(zoomed, full, 'zoomed in');

  // Each append: the node before succeeds (same id), the next one starts, an event comes.
  for (let i = 1; i < NODES.length; i++) {
    const events = await page.locator('.event-row').count();
    await ingest({
      ...common, status: 'running',
      node_executions: [nodeRun(ids[i - 1], i - 1, base, { done: true }), nodeRun(ids[i], i, base)],
      telemetry_events: [{ event_type: 'node_end', timestamp: iso(base + i * 400), node_name: NODES[i - 1].name, data: { step: i } }],
    });
    await page.waitForFunction((n) => document.querySelectorAll('.gantt-row').length === n, i + 1, WAIT);
    await page.waitForFunction((n) => document.querySelectorAll('.event-row').length === n, events + 1, WAIT);
    const statuses = await page.$$eval('.gantt-row', (rows) => rows.map((r) => r.dataset.status));
    assert.deepEqual(statuses, [...Array(i).fill('success'), 'running'], `after append ${i}`);
    assert.equal(await page.locator('.gantt-bar.is-open').count(), 1, 'only the newest node is open');
    assert.equal(await windowOf(), zoomed, 'the zoom stays');
    assert.equal(await page.locator('#tab-events .tab-count').textContent(), String(events + 1));
    if (i === 2) await shot('live-02-growing');
  }
  assert.ok(await markerKept(), 'no reload, no navigation');
  assert.equal(await liveStatus('live-status'), 'Live');

  // The last node succeeds, and with it the run: Finished, the subscription closed.
  const end = Date.now();
  await ingest({
    ...common, status: 'success', completed_at: iso(end), duration_ms: end - base,
    node_executions: [nodeRun(ids[3], 3, base, { done: true })],
    shared_state_snapshots: [{ sequence: 0, timestamp: iso(end - 5), node_name: 'store', phase: 'after', state: { stored: 4 } }],
  });
  await waitStatus('live-status', 'Finished');
  await page.waitForFunction(() => document.querySelector('.exec-header .badge').dataset.status === 'success', null, WAIT);
  assert.equal(await page.locator('.gantt-row').count(), 4);
  assert.deepEqual(await page.$$eval('.gantt-row', (rows) => rows.map((r) => r.dataset.status)), Array(4).fill('success'));
  assert.equal(await page.locator('.gantt-bar.is-open').count(), 0);
  assert.equal(await page.locator('#tab-state .tab-count').textContent(), '1');
  await page.click('.gantt button:text("Fit")');
  assert.ok(await markerKept(), 'no reload, no navigation');
  await shot('live-03-finished');
  // the state panel, made after the run ended, shows the snapshot
  await page.click('#tab-state');
  await page.waitForSelector('.state-card');
  assert.deepEqual(problems, []);
});

test('with the Critical path toggle on, a burst of appends asks for the path at most once a second, and the marks end on the final path', T, async () => {
  // a workflow of its own: its runs add their node names to it
  const critWorkflow = (await stack.mustJson('POST', '/api/workflows', {
    token, body: { project_id: (await demoProject(stack, token)).id, name: `${run}-critical` },
  })).id;
  const execId = uuid();
  const base = Date.now() - 60000;
  const common = { workflow_id: critWorkflow, execution_id: execId, session_id: `${run}-critical`, started_at: iso(base) };
  // Step k: `chain` for 300 ms from k x 400 ms, each waiting for the one
  // before (the path); every other step `side` beside it for 100 ms, off it.
  const done = (name, at, ms) => ({
    id: uuid(), node_name: name, node_type: 'StepNode', status: 'success', started_at: iso(base + at),
    completed_at: iso(base + at + ms), prep_duration_ms: 1, exec_duration_ms: ms - 2, post_duration_ms: 1,
  });
  const step = (k) => [done('chain', k * 400, 300), ...(k % 2 ? [done('side', k * 400, 100)] : [])];
  await ingest({ ...common, status: 'running', node_executions: step(0) });
  await open(`#/executions/${execId}`);
  await page.waitForSelector('.gantt-row');
  await waitStatus('live-status', 'Live');
  await page.evaluate(() => performance.setResourceTimingBufferSize(10000));
  const asked = () => page.evaluate(() => performance.getEntriesByType('resource')
    .filter((e) => /\/critical-path$/.test(new URL(e.name).pathname)).map((e) => e.startTime));
  const marked = () => page.$$eval('.gantt-row.is-critical', (rows) => rows.map((r) => r.dataset.node));
  await page.click('.gantt-toolbar button:text("Critical path")');
  await page.waitForFunction(() => document.querySelectorAll('.gantt-row.is-critical').length === 1, null, WAIT);

  // Eight appends as fast as they are answered, each a message to the page.
  const APPENDS = 8;
  for (let k = 1; k <= APPENDS; k++) await ingest({ ...common, status: 'running', node_executions: step(k) });
  const rows = APPENDS + 1 + APPENDS / 2;
  await page.waitForFunction((n) => document.querySelectorAll('.gantt-row').length === n, rows, WAIT);
  // The last answer is the run's final path: every chain step, no side one.
  await page.waitForFunction((n) => document.querySelectorAll('.gantt-row.is-critical').length === n, APPENDS + 1, WAIT);
  const path = await stack.mustJson('GET', `/api/executions/${execId}/critical-path`, { token });
  assert.deepEqual(path.critical_path.steps.map((st) => st.node_name), Array(APPENDS + 1).fill('chain'));
  assert.deepEqual(await marked(), Array(APPENDS + 1).fill('chain'));
  // Quiet after the trailing request.
  const settled = (await asked()).length;
  await new Promise((r) => setTimeout(r, 2500));
  const starts = await asked();
  assert.equal(starts.length, settled, 'no request once the run stopped changing');
  // The toggle's request, then fewer than one per message, each a second or more after the one before.
  assert.ok(starts.length >= 2 && starts.length < 1 + APPENDS, `${starts.length} requests for ${APPENDS} messages`);
  for (let i = 1; i < starts.length; i++) {
    assert.ok(starts[i] - starts[i - 1] >= 950, `request ${i} came ${Math.round(starts[i] - starts[i - 1])} ms after the one before`);
  }
  assert.equal(await page.locator('.gantt-toolbar button:text("Critical path")').getAttribute('aria-pressed'), 'true');
  assert.ok(await markerKept(), 'no reload, no navigation');
  await shot('live-08-critical-path');
  assert.deepEqual(problems, []);
});

test('a live run\'s panels fetch only what is new (since_id) and put each new event in its place', T, async () => {
  const execId = uuid();
  const base = Date.now() - 60000;
  const common = { workflow_id: workflowId, execution_id: execId, session_id: `${run}-since`, started_at: iso(base) };
  const ev = (ms) => ({ event_type: `at-${ms}`, timestamp: iso(base + ms), node_name: 'fetch', data: { ms } });
  const sp = (ms) => ({
    trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: crypto.randomBytes(8).toString('hex'), name: `span-${ms}`,
    start_time: iso(base + ms), end_time: iso(base + ms + 50), duration_ms: 50, status: 'ok', node_name: 'fetch',
  });
  const snap = (seq) => ({ sequence: seq, timestamp: iso(base + seq), node_name: 'fetch', phase: 'after', state: { seq } });
  await ingest({
    ...common, status: 'running', node_executions: [nodeRun(uuid(), 0, base)],
    telemetry_events: [ev(1000), ev(2000), ev(3000)], telemetry_spans: [sp(1000)], shared_state_snapshots: [snap(10)],
  });
  const asked = []; // the item requests the page makes
  const onRequest = (req) => {
    if (/\/(telemetry-events|telemetry-spans|state-snapshots)(\?|$)/.test(req.url())) asked.push(new URL(req.url()));
  };
  page.on('request', onRequest);
  try {
    await open(`#/executions/${execId}`);
    await waitStatus('live-status', 'Live');
    // Spans and State made once (their panels stay), then back to Events.
    await page.click('#tab-spans');
    await page.waitForSelector('.span-row');
    await page.click('#tab-state');
    await page.waitForSelector('.state-card');
    await page.click('#tab-events');
    await page.waitForFunction(() => document.querySelectorAll('.event-row').length === 3, null, WAIT);
    const shown = () => page.$$eval('.event-row', (rows) => rows.map((r) => r.dataset.type));
    assert.deepEqual(await shown(), ['at-1000', 'at-2000', 'at-3000']);
    // A reader opened the first event's data: it stays open.
    await page.click('.event-row >> nth=0 >> button.linkish.mono');
    assert.equal(await page.locator('.event-row >> nth=0 >> [aria-expanded="true"]').count(), 1);
    const loaded = asked.length;

    // After the others, between them, before them: each in its place.
    const appends = [[ev(4000), ev(1500)], [ev(500), ev(5000), ev(2000)], [ev(2500)]];
    const want = [1000, 2000, 3000];
    for (const [k, events] of appends.entries()) {
      await ingest({
        ...common, status: 'running', telemetry_events: events,
        telemetry_spans: [sp(1000 + 100 * (k + 1))], shared_state_snapshots: [snap(k % 2 ? 5 + k : 20 + k)],
      });
      want.push(...events.map((e) => e.data.ms));
      await page.waitForFunction((n) => document.querySelectorAll('.event-row').length === n, want.length, WAIT);
    }
    const order = [...want].sort((a, b) => a - b).map((ms) => `at-${ms}`);
    // Two events of the same time sort by id, which both of at-2000 follow.
    assert.deepEqual(await shown(), order);
    assert.equal(await page.locator('.event-row >> nth=1 >> [aria-expanded="true"]').count(), 1, 'the open row stays open');
    assert.equal(await page.locator('.event-row').first().getAttribute('data-type'), 'at-500');
    assert.equal(await page.locator('#tab-events .tab-count').textContent(), String(want.length));

    await page.click('#tab-spans');
    await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 4, null, WAIT);
    await page.click('#tab-state');
    await page.waitForFunction(() => document.querySelectorAll('.state-card').length === 4, null, WAIT);
    const seqs = await page.$$eval('.state-card', (cards) => cards.map((c) => Number(c.dataset.sequence)));
    assert.deepEqual(seqs, [6, 10, 20, 22]);

    // Every refresh asked for what is newer than the largest id it held, in one request.
    const refreshes = asked.slice(loaded);
    for (const kind of ['telemetry-events', 'telemetry-spans', 'state-snapshots']) {
      const mine = refreshes.filter((u) => u.pathname.endsWith(kind));
      assert.ok(mine.length >= 1, `${kind} refreshed`);
      for (const u of mine) {
        assert.match(u.searchParams.get('since_id') || '', /^[1-9][0-9]*$/, `${kind}: ${u.search}`);
        assert.equal(u.searchParams.get('cursor'), null, `${kind}: ${u.search}`);
      }
      const since = mine.map((u) => Number(u.searchParams.get('since_id')));
      assert.deepEqual(since, [...since].sort((a, b) => a - b), `${kind}: since_id grows`);
    }
    assert.ok(await markerKept(), 'no reload, no navigation');
    await shot('live-04-since');
  } finally {
    page.off('request', onRequest);
  }
  assert.deepEqual(problems, []);
});

test('the list shows a new run at the top and changes a running one in place', T, async () => {
  const olderId = uuid();
  // Newer than the runs the tests before made, older than the next one.
  const base = Date.now() - 1500;
  await ingest({
    workflow_id: workflowId, execution_id: olderId, session_id: `${run}-older`, status: 'running', started_at: iso(base),
    node_executions: [nodeRun(uuid(), 0, base, { done: true })],
  });
  // This workflow's runs only: other test files ingest into the same
  // project at the same time.
  await open(`#/executions?workflow_id=${workflowId}`);
  await page.waitForSelector(`.exec-row[data-id="${olderId}"]`);
  await waitStatus('list-live-status', 'Live');
  const firstId = () => page.$eval('.exec-row', (tr) => tr.dataset.id);
  assert.equal(await firstId(), olderId);
  const rowsBefore = await page.locator('.exec-row').count();

  // a run that starts now goes in at the top
  const newId = uuid();
  const now = Date.now();
  await ingest({
    workflow_id: workflowId, execution_id: newId, session_id: `${run}-new`, status: 'running', started_at: iso(now - 1000),
    node_executions: [nodeRun(uuid(), 0, now - 1000)],
  });
  await page.waitForFunction((id) => document.querySelector('.exec-row').dataset.id === id, newId, WAIT);
  const newRow = page.locator(`.exec-row[data-id="${newId}"]`);
  assert.equal(await page.locator('.exec-row').count(), rowsBefore + 1);
  assert.equal(await page.locator('.pager-info').textContent(), `Page 1 · ${rowsBefore + 1} shown`);
  assert.match(await newRow.locator('.col-counts').textContent(), /1 of 4 nodes/);
  assert.equal(await newRow.locator('.badge').first().getAttribute('data-status'), 'running');
  // its time so far goes on
  const t0 = await newRow.locator('.dur-text').textContent();
  await page.waitForFunction(([id, was]) => document.querySelector(`.exec-row[data-id="${id}"] .dur-text`).textContent !== was, [newId, t0], WAIT);
  await shot('live-04-list-new');

  // Read further down the list: a new run above keeps the rows where the reader has them.
  await page.setViewportSize({ width: 1280, height: 420 });
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  await page.waitForFunction(() => window.scrollY > 0, null, WAIT);
  const lastTop = () => page.$eval('.exec-row:last-child', (tr) => Math.round(tr.getBoundingClientRect().top));
  const top0 = await lastTop();
  const belowId = uuid();
  await ingest({ workflow_id: workflowId, execution_id: belowId, session_id: `${run}-scroll`, status: 'running', started_at: iso(Date.now()) });
  await page.waitForFunction((id) => document.querySelector('.exec-row').dataset.id === id, belowId, WAIT);
  assert.ok(Math.abs(await lastTop() - top0) <= 1, 'the rows in view did not move');
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.evaluate(() => window.scrollTo(0, 0));

  // the older run fails: its row changes where it is
  await ingest({
    workflow_id: workflowId, execution_id: olderId, session_id: `${run}-older`, status: 'error', started_at: iso(base),
    completed_at: iso(Date.now()), duration_ms: Date.now() - base, error: 'ParseError: unexpected end of input',
  });
  await page.waitForFunction((id) => document.querySelector(`.exec-row[data-id="${id}"]`).dataset.status === 'error', olderId, WAIT);
  const order = await page.$$eval('.exec-row', (trs) => trs.slice(0, 3).map((t) => t.dataset.id));
  assert.deepEqual(order, [belowId, newId, olderId], 'in place: no row moved');
  assert.match(await page.locator(`.exec-row[data-id="${olderId}"] .error-text`).textContent(), /ParseError/);
  assert.ok(await markerKept(), 'no reload, no navigation');
  await shot('live-05-list-changed');

  // a filtered list takes only runs that pass its filters
  await open(`#/executions?status=error&workflow_id=${workflowId}`);
  await page.waitForSelector(`.exec-row[data-id="${olderId}"]`);
  await waitStatus('list-live-status', 'Live');
  const skipped = uuid();
  await ingest({ workflow_id: workflowId, execution_id: skipped, session_id: `${run}-skip`, status: 'running', started_at: iso(Date.now()) });
  const failed = uuid();
  await ingest({
    workflow_id: workflowId, execution_id: failed, session_id: `${run}-failed`, status: 'error', started_at: iso(Date.now()),
    completed_at: iso(Date.now() + 5), duration_ms: 5, error: 'boom',
  });
  await page.waitForFunction((id) => document.querySelector('.exec-row').dataset.id === id, failed, WAIT);
  assert.equal(await page.locator(`.exec-row[data-id="${skipped}"]`).count(), 0, 'a running run is not an error');
  assert.ok(await markerKept());
  assert.deepEqual(problems, []);
});

test('a message cut to fit (more than 50 node executions) is made up from the API, in the list and on the page', T, async () => {
  const many = (base, from, n) => Array.from({ length: n }, (_, k) => ({
    id: uuid(), node_name: `batch_${from + k}`, status: 'success', started_at: iso(base + (from + k) * 10),
    completed_at: iso(base + (from + k) * 10 + 8), prep_duration_ms: 1, exec_duration_ms: 6, post_duration_ms: 1,
  }));
  // a workflow of its own: these runs add their 115 nodes to it
  const batchWorkflow = (await stack.mustJson('POST', '/api/workflows', {
    token, body: { project_id: (await demoProject(stack, token)).id, name: `${run}-batch` },
  })).id;
  await open('#/executions');
  await page.waitForSelector('.exec-row');
  await waitStatus('list-live-status', 'Live');
  const execId = uuid();
  const base = Date.now(); // the newest run: the first row
  const common = { workflow_id: batchWorkflow, execution_id: execId, session_id: `${run}-batch`, started_at: iso(base) };
  await ingest({ ...common, status: 'running', node_executions: many(base, 0, 60) });
  // the message had no session_id: the row has it all the same
  await page.waitForFunction((id) => document.querySelector('.exec-row').dataset.id === id, execId, WAIT);
  assert.equal(await page.locator(`.exec-row[data-id="${execId}"] .col-session`).textContent(), `${run}-batch`);
  assert.match(await page.locator(`.exec-row[data-id="${execId}"] .col-counts`).textContent(), /60 nodes/);

  await open(`#/executions/${execId}`);
  await page.waitForSelector('.gantt-row');
  await waitStatus('live-status', 'Live');
  await ingest({ ...common, status: 'running', node_executions: many(base, 60, 55) });
  await page.waitForFunction(() => document.querySelector('.gantt-body').getAttribute('aria-rowcount') === '115', null, WAIT);
  assert.match(await page.locator('.gantt-title').textContent(), /115 node executions/);
  assert.ok(await markerKept(), 'no reload, no navigation');
  assert.deepEqual(problems, []);
});

test('a run nothing came from for long shows as stale', T, async () => {
  const id = uuid();
  await ingest({ workflow_id: workflowId, execution_id: id, session_id: `${run}-stale`, status: 'running', started_at: iso(Date.now() - 3 * 3600e3) });
  stack.psqlAdmin(`UPDATE agora.executions SET last_ingest_at = now() - interval '2 hours' WHERE id = '${id}'`);
  await open(`#/executions?session_id=${run}-stale`);
  await page.waitForSelector(`.exec-row[data-id="${id}"] .badge-stale`);
  assert.equal(await page.locator(`.exec-row[data-id="${id}"] .badge-stale`).textContent(), 'stale');
  await shot('live-06-list-stale');
  await open(`#/executions/${id}`);
  await page.waitForSelector('.exec-header .badge-stale');
  assert.equal(await page.locator('.exec-header .fact-elapsed').count(), 0, 'a stale run does not count its time');
});

test('an ended subscription is renewed with a new ticket, and a lost connection resyncs', { timeout: 120e3 }, async () => {
  const execId = uuid();
  const ids = NODES.map(() => uuid());
  const base = Date.now() - 1000;
  const common = { workflow_id: workflowId, execution_id: execId, session_id: `${run}-renew`, started_at: iso(base) };
  await ingest({ ...common, status: 'running', node_executions: [nodeRun(ids[0], 0, base)] });
  tickets.length = 0;
  await open(`#/executions/${execId}`);
  await page.waitForSelector('.gantt-row');
  await waitStatus('live-status', 'Live');
  // nginx ends the subscription after SUBSCRIPTION_SECONDS: a second ticket, quietly
  const deadline = Date.now() + (SUBSCRIPTION_SECONDS + 10) * 1e3;
  while (tickets.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
  assert.ok(tickets.length >= 2, `a new ticket after the subscription ended (${tickets.length})`);
  await waitStatus('live-status', 'Live');
  await ingest({ ...common, status: 'running', node_executions: [nodeRun(ids[0], 0, base, { done: true }), nodeRun(ids[1], 1, base)] });
  await page.waitForFunction(() => document.querySelectorAll('.gantt-row').length === 2, null, WAIT);

  // The network goes away (Chromium keeps an open stream, so it shows when
  // the subscription ends and a new one cannot be had): Reconnecting. What
  // happened meanwhile comes after, by replay or from the API.
  await session.browser.context.setOffline(true);
  await page.waitForFunction(() => document.querySelector('[data-testid="live-status"]').textContent === 'Reconnecting',
    null, { timeout: (SUBSCRIPTION_SECONDS + 10) * 1e3 });
  await ingest({ ...common, status: 'running', node_executions: [nodeRun(ids[1], 1, base, { done: true }), nodeRun(ids[2], 2, base)] });
  await shot('live-07-reconnecting');
  await session.browser.context.setOffline(false);
  await waitStatus('live-status', 'Live');
  await page.waitForFunction(() => document.querySelectorAll('.gantt-row').length === 3, null, { timeout: 30e3 });
  assert.deepEqual(await page.$$eval('.gantt-row', (rows) => rows.map((r) => r.dataset.status)), ['success', 'success', 'running']);
  assert.ok(tickets.every((t) => JSON.parse(t).execution_id === execId));
  assert.ok(await markerKept(), 'no reload, no navigation');
  assert.deepEqual(problems, []);
});
