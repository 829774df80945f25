// The critical path and the Breakdown tab (README "Critical path and time
// breakdown") in a real headless Chromium against a real stack: a run of a
// workflow with two parallel branches goes in through the API; the Gantt's
// Critical path toggle must mark exactly the slow branch's chain, and the
// Breakdown tab must show the path, the busy/parallel/idle split, the
// per-node table and the gaps, and select a step's row on the Gantt.
// Screenshots land in the test output folder (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, closeSession, demoProject, screenshot, watchPage } from './harness.mjs';

const T = { timeout: 60e3 };
const WAIT = { timeout: 15e3 };

let session, stack, page, token;
let execId;
const unexpected = []; // answers of 4xx/5xx
const problems = [];

const shot = (name) => screenshot(session.out, name, page);

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watchPage(page, { problems, allowed: new Set(), unexpected });
  const project = await demoProject(stack, token);
  const names = ['fetch', 'summarize', 'translate', 'merge'];
  const wf = await stack.mustJson('POST', '/api/workflows', {
    token,
    body: {
      project_id: project.id, name: `paths-${Date.now().toString(36)}`,
      nodes: names.map((name) => ({ name })),
      edges: [{ from: 'fetch', to: 'summarize' }, { from: 'fetch', to: 'translate' },
        { from: 'summarize', to: 'merge' }, { from: 'translate', to: 'merge' }],
    },
  });
  const base = Date.now() - 60e3;
  const at = (ms) => new Date(base + ms).toISOString();
  const run = (name, start, end, exec) => ({
    node_name: name, status: 'success', started_at: at(start), completed_at: at(end),
    prep_duration_ms: 5, exec_duration_ms: exec, post_duration_ms: 5,
  });
  execId = (await stack.mustJson('POST', '/api/executions/ingest', {
    token,
    body: {
      workflow_id: wf.id, session_id: 'paths', status: 'success', started_at: at(0), completed_at: at(2600),
      node_executions: [
        run('fetch', 20, 420, 390),
        run('summarize', 430, 2100, 1650), // the slow branch
        run('translate', 430, 1000, 560),
        run('merge', 2150, 2500, 340),
      ],
    },
  })).execution_id;
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('.topbar');
});

after(() => closeSession(session));

test('the Critical path toggle marks the slow branch\'s chain on the Gantt, and unmarks it', T, async () => {
  await page.goto(`${stack.base}/#/executions/${execId}`);
  await page.waitForSelector('.gantt-row');
  const toggle = page.locator('.gantt-toolbar button:text("Critical path")');
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
  assert.equal(await page.locator('.gantt-row.is-critical').count(), 0);
  await toggle.click();
  await page.waitForFunction(() => document.querySelectorAll('.gantt-row.is-critical').length === 3, null, WAIT);
  const marked = await page.$$eval('.gantt-row.is-critical', (rows) => rows.map((r) => r.dataset.node));
  assert.deepEqual(marked.sort(), ['fetch', 'merge', 'summarize']);
  assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
  assert.match(await page.locator('.gantt-row[data-node="summarize"]').getAttribute('aria-label'), /on the critical path$/);
  await shot('breakdown-01-critical-path');
  await toggle.click();
  await page.waitForFunction(() => document.querySelectorAll('.gantt-row.is-critical').length === 0, null, WAIT);
  assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
});

test('the Breakdown tab shows the path, the split of the run\'s time, the nodes and the gaps', T, async () => {
  await page.goto(`${stack.base}/#/executions/${execId}`);
  await page.waitForSelector('.gantt-row');
  await page.click('#tab-breakdown');
  await page.waitForSelector('.bd-step');
  assert.deepEqual(await page.$$eval('.bd-step', (rows) => rows.map((r) => [r.children[1].textContent, r.dataset.via])),
    [['fetch', 'start'], ['summarize', 'edge'], ['merge', 'edge']]);
  const stats = await page.$$eval('.bd-stat', (els) => els.map((e) => [
    e.querySelector('.bd-stat-label').textContent, e.querySelector('.bd-stat-value').textContent]));
  assert.deepEqual(Object.fromEntries(stats), {
    Run: '2.6 s', 'Critical path': '2.42 s', Busy: '2.42 s', Parallel: '570 ms', Idle: '180 ms',
  });
  // per node, the longest first; translate is not on the path
  assert.deepEqual(await page.$$eval('.bd-node', (rows) => rows.map((r) => r.dataset.node)),
    ['summarize', 'translate', 'fetch', 'merge']);
  assert.equal(await page.locator('.bd-node[data-node="translate"] td').last().textContent(), '–');
  // idle: 0-20, 420-430, 2100-2150, 2500-2600
  assert.match(await page.locator('.panel-breakdown').textContent(), /4 stretches without a node running, 180 ms in all/);
  await page.locator('.bd-nodes').scrollIntoViewIfNeeded();
  await shot('breakdown-02-tab');
  // a step's name selects its row on the Gantt
  await page.click('.bd-step >> nth=1 >> button');
  await page.waitForFunction(() => document.querySelector('.gantt-row.is-selected')?.dataset.node === 'summarize', null, WAIT);
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});
