// The compare page in a real headless Chromium against a real stack: runs
// built to diverge at a known node go in through the API, then the page is
// reached the way a person reaches it (the execution page's Compare
// button, a pasted link, a shared URL) and checked; screenshots land in
// the test output folder (printed at the start). The page's pure parts
// (compare/model.js) are checked under node first.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, closeSession, demoProject, screenshot, watchPage } from './harness.mjs';
import { idFromInput, mergedRows, divergenceRow, laneBars, laneSpan, previousRunQuery } from '../../nginx/www/js/compare/model.js';

const T = { timeout: 90e3 };
let session;
let stack;
let page;
let token;
const ids = {};
const problems = [];
const allowed = new Set();
const unexpected = [];

// ---------------------------------------------------------------- pure parts

const ne = (offset, duration, extra = {}) => ({ offset_ms: offset, duration_ms: duration, status: 'success', action: 'default', ...extra });

test('idFromInput takes the id out of an id, a link or a compare link', () => {
  const id = '0b7f5e2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
  assert.equal(idFromInput(id.toUpperCase()), id);
  assert.equal(idFromInput(` https://agora.example/#/executions/${id}?tab=state `), id);
  assert.equal(idFromInput(`#/executions/11111111-2222-4333-8444-555555555555/compare/${id}`), id);
  assert.equal(idFromInput('run 42'), null);
  assert.equal(idFromInput(''), null);
});

test('mergedRows keeps a\'s order and puts nodes only b ran before the next aligned one', () => {
  const cmp = {
    summary: { node_executions: { a: 3, b: 4 } },
    pairs: [
      { node_name: 'load', ordinal: 1, a_index: 0, b_index: 0, a: ne(0, 5), b: ne(0, 5), differs: [] },
      { node_name: 'close', ordinal: 1, a_index: 2, b_index: 3, a: ne(20, 2), b: ne(90, 2), differs: ['state'] },
    ],
    only_in_a: [{ node_name: 'answer', ordinal: 1, index: 1, node: ne(5, 15) }],
    only_in_b: [{ node_name: 'check', ordinal: 1, index: 1, node: ne(5, 5) }, { node_name: 'escalate', ordinal: 1, index: 2, node: ne(10, 80) }],
    first_divergence: { a_index: 1, b_index: 1 },
  };
  const rows = mergedRows(cmp);
  assert.deepEqual(rows.map((r) => `${r.kind}:${r.name}`), ['pair:load', 'a:answer', 'b:check', 'b:escalate', 'pair:close']);
  assert.equal(divergenceRow(cmp, rows), 1);
  assert.equal(divergenceRow({ ...cmp, first_divergence: { a_index: null, b_index: 2 } }, rows), 3);
  assert.equal(divergenceRow({ ...cmp, first_divergence: null }, rows), -1);
  const span = laneSpan(rows);
  assert.equal(span, 92);
  const b = laneBars(rows, 'b', span, 1);
  assert.deepEqual(b.map((x) => [x.name, x.mark]), [['load', ''], ['check', 'only'], ['escalate', 'only'], ['close', 'differs']]);
  assert.ok(Math.abs(b[3].left - (90 / 92) * 100) < 1e-9);
  assert.deepEqual(laneBars(rows, 'a', span, 1).map((x) => x.mark), ['', 'diverged', 'differs']);
  assert.deepEqual(previousRunQuery({ workflow_id: 'w', started_at: '2025-01-01T00:00:00Z' }),
    { workflow_id: 'w', until: '2025-01-01T00:00:00Z', limit: 1 });
});

// ---------------------------------------------------------------- in the browser

function shot(name) {
  return screenshot(session.out, name, page);
}

async function load(hash) {
  await page.goto(`${stack.base}/favicon.svg`);
  await page.evaluate((t) => sessionStorage.setItem('agora.token', t), token);
  await page.goto('about:blank');
  await page.goto(`${stack.base}/${hash}`);
}

/** A run as the client sends it: steps [name, action, state after, ms],
 *  before and after snapshots, one after the other from base. */
function run(workflowId, base, session, steps) {
  const iso = (ms) => new Date(ms).toISOString();
  const nodes = [];
  const snaps = [];
  let t = base;
  let state = {};
  steps.forEach(([name, action, after, ms], i) => {
    const end = t + ms;
    nodes.push({ node_name: name, status: 'success', started_at: iso(t), completed_at: iso(end), prep_duration_ms: 1,
      exec_duration_ms: ms - 2, post_duration_ms: 1, retry_count: 0, action });
    snaps.push({ sequence: 2 * i, timestamp: iso(t), node_name: name, phase: 'before', state });
    snaps.push({ sequence: 2 * i + 1, timestamp: iso(end), node_name: name, phase: 'after', state: after });
    state = after;
    t = end + 1;
  });
  return { workflow_id: workflowId, session_id: session, status: 'success', started_at: iso(base), completed_at: iso(t),
    duration_ms: t - base, node_executions: nodes, shared_state_snapshots: snaps };
}

const TRIAGE = (kind, last) => [
  ['load', 'default', { ticket: 7 }, 30],
  ['classify', kind, { ticket: 7, kind }, 120],
  [last, 'default', { ticket: 7, kind, [last]: true }, kind === 'hard' ? 1400 : 300],
  ['close', null, { ticket: 7, kind, [last]: true, closed: true }, 40],
];

/** A loop of n "step" runs whose state goes wrong at run k in the second. */
function loop(k) {
  return Array.from({ length: 400 }, (_, i) => ['step', i === 399 ? 'stop' : 'again', { n: i >= k ? i * 10 : i }, 5]);
}

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watchPage(page, { problems, allowed, unexpected });
  const project = await demoProject(stack, token);
  const workflow = async (name) => {
    const r = await stack.request('POST', '/api/workflows', { token, body: { project_id: project.id, name } });
    if (r.status === 201) return r.json.id;
    const all = await stack.mustJson('GET', `/api/workflows?project_id=${project.id}&limit=200`, { token });
    return all.items.find((w) => w.name === name).id;
  };
  const tag = Date.now().toString(36);
  ids.triage = await workflow(`compare-triage-${tag}`);
  ids.loop = await workflow(`compare-loop-${tag}`);
  const ingest = async (body) => (await stack.mustJson('POST', '/api/executions/ingest', { token, body })).execution_id;
  const now = Date.now();
  ids.simple = await ingest(run(ids.triage, now - 600e3, `cmp-${tag}-1`, TRIAGE('simple', 'answer')));
  ids.hard = await ingest(run(ids.triage, now - 300e3, `cmp-${tag}-2`, TRIAGE('hard', 'escalate')));
  ids.loopA = await ingest(run(ids.loop, now - 500e3, `cmp-${tag}-3`, loop(10000)));
  ids.loopB = await ingest(run(ids.loop, now - 400e3, `cmp-${tag}-4`, loop(350)));
});

after(async () => {
  await closeSession(session);
});

test('the Compare button compares a run with the previous run of its workflow, divergence first', T, async () => {
  await load(`#/executions/${ids.hard}`);
  await page.waitForSelector('.btn-compare');
  await page.click('.btn-compare');
  await page.waitForSelector('.cmp-divergence');
  assert.equal(new URL(page.url()).hash, `#/executions/${ids.simple}/compare/${ids.hard}`, 'the address names both runs: it can be shared');
  const callout = await page.textContent('.cmp-divergence');
  assert.match(callout, /classify/);
  assert.match(callout, /took action simple in a and hard in b/);
  const row = await page.textContent('.cmp-row.is-diverged');
  assert.match(row, /classify/);
  assert.equal(await page.locator('.cmp-bar.is-diverged').count(), 2, 'marked in both lanes');
  assert.equal(await page.locator('.cmp-lane').count(), 2);
  assert.equal(await page.locator('.cmp-track').nth(0).locator('.cmp-bar').count(), 4);
  // The state diff of classify is inline under its row.
  const diff = await page.textContent('.cmp-diff-row.is-diverged');
  assert.match(diff, /kind: "simple" → "hard"/);
  // Nodes only one run took are on their side.
  assert.match(await page.textContent('.cmp-row.cmp-a'), /answer/);
  assert.match(await page.textContent('.cmp-row.cmp-b'), /escalate/);
  assert.match(await page.textContent('.cmp-top'), /escalate/);
  await shot('compare-previous-run');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('compare-previous-run-summary');
});

test('a divergence far down a long run is scrolled into view', T, async () => {
  await load(`#/executions/${ids.loopA}/compare/${ids.loopB}`);
  await page.waitForSelector('.cmp-row.is-diverged');
  assert.match(await page.textContent('.cmp-divergence'), /step \(run 351\)/);
  await page.waitForFunction(() => {
    const r = document.querySelector('.cmp-row.is-diverged').getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  }, null, { timeout: 10e3 });
  assert.match(await page.textContent('.cmp-row.is-diverged'), /#351/);
  await shot('compare-long-run-scrolled');
  // Clicking a bar shows its row.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.locator('.cmp-track').nth(1).locator('.cmp-bar.is-diverged').click();
  await page.waitForFunction(() => {
    const r = document.querySelector('.cmp-row.is-picked');
    return r && r.getBoundingClientRect().top >= 0 && r.getBoundingClientRect().bottom <= window.innerHeight;
  }, null, { timeout: 10e3 });
});

test('any run can be compared by a pasted link, and a run with itself has no differences', T, async () => {
  await load(`#/executions/${ids.simple}/compare/${ids.hard}`);
  await page.waitForSelector('.cmp-pick input');
  await page.fill('.cmp-pick input', 'no id here');
  await page.click('.cmp-pick button');
  assert.match(await page.textContent('.cmp-pick-problem'), /no execution id/);
  await page.fill('.cmp-pick input', `${stack.base}/#/executions/${ids.simple}`);
  await page.click('.cmp-pick button');
  await page.waitForFunction((id) => location.hash === `#/executions/${id}/compare/${id}`, ids.simple);
  await page.waitForSelector('.cmp-verdict');
  assert.match(await page.textContent('.cmp-verdict'), /No differences/);
  assert.equal(await page.locator('.cmp-row.is-differs').count(), 0);
  await shot('compare-with-itself');
});

test('the first run of a workflow has no previous run; unknown ids say not found', T, async () => {
  await load(`#/executions/${ids.loopA}/compare`);
  await page.waitForSelector('.state-title');
  assert.match(await page.textContent('.state-title'), /No earlier run of this workflow/);
  assert.equal(await page.locator('.cmp-pick input').count(), 1, 'another run can still be picked');
  await shot('compare-no-previous');

  allowed.add(404);
  try {
    await load(`#/executions/${ids.simple}/compare/00000000-0000-4000-8000-000000000000`);
    await page.waitForSelector('.state-title');
    assert.match(await page.textContent('.state-title'), /Execution not found/);
  } finally {
    allowed.delete(404);
  }
});

test('no console errors, CSP violations or unexpected HTTP errors', () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});
