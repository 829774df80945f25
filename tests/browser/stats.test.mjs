// The statistics pages (README "Workflow and project statistics") in a real
// headless Chromium against a real stack: runs of two workflows go in
// through the API (successes and failures with two messages, three nodes,
// tokens); the workflow page must show the totals, the two charts, the
// slowest and most failing nodes and the top errors with a link that opens
// an example run; the window can be changed from the keyboard; the project
// overview sums both workflows; an unknown workflow says so. Screenshots
// land in the test output folder (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, closeSession, demoProject, screenshot, watchPage } from './harness.mjs';

const T = { timeout: 90e3 };
const WAIT = { timeout: 15e3 };

let session, stack, page, token, project;
const workflows = [];
const unexpected = []; // answers of 4xx/5xx not in allowed
const allowed = new Set();
const problems = [];

const shot = (name) => screenshot(session.out, name, page);

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watchPage(page, { problems, allowed, unexpected });
  project = await demoProject(stack, token);
  for (const name of ['checkout', 'refunds']) {
    workflows.push(await stack.mustJson('POST', '/api/workflows', {
      token,
      body: { project_id: project.id, name: `${name}-${Date.now().toString(36)}`, nodes: [], edges: [] },
    }));
  }
  const now = Date.now();
  for (let i = 0; i < 60; i++) {
    const wf = workflows[i % 3 === 2 ? 1 : 0];
    const start = new Date(now - (i * 2.7 + 1) * 3600e3);
    const failed = i % 5 === 0;
    await stack.mustJson('POST', '/api/executions/ingest', {
      token,
      body: {
        workflow_id: wf.id, session_id: `s${i}`, status: failed ? 'error' : 'success',
        started_at: start.toISOString(), duration_ms: 800 + (i % 7) * 450 + (failed ? 4000 : 0),
        error: failed ? { type: 'TimeoutError', message: i % 2 ? 'payment gateway timed out' : 'inventory lock held' } : undefined,
        node_executions: [
          { node_name: 'validate', status: 'success', prep_duration_ms: 1, exec_duration_ms: 40 + i, post_duration_ms: 1 },
          { node_name: 'charge_card', status: failed ? 'error' : 'success', exec_duration_ms: 600 + i * 30,
            retry_count: failed ? 2 : 0, input_tokens: 500, output_tokens: 120, model: 'gpt-4o' },
          { node_name: 'notify', status: i % 9 === 0 ? 'error' : 'success', exec_duration_ms: 90 },
        ],
      },
    });
  }
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('.topbar');
});

after(() => closeSession(session));

test('the workflow page shows totals, charts, nodes and top errors linking to a run', T, async () => {
  const wf = workflows[0];
  await page.goto(`${stack.base}/#/workflows/${wf.id}/stats`);
  await page.waitForSelector('.tiles');
  assert.equal(await page.locator('.stats-title').textContent(), wf.name);
  const tiles = Object.fromEntries(await page.$$eval('.tile', (els) => els.map((e) => [
    e.querySelector('.tile-label').textContent, e.querySelector('.tile-value').textContent])));
  assert.equal(tiles.Runs, '40');
  assert.equal(tiles['Success rate'], '80.0%');
  // the runs chart: one stack of bars per day with runs, the failed ones red
  assert.ok(await page.locator('.chart .bar-success').count() >= 4);
  assert.ok(await page.locator('.chart .bar-error').count() >= 1);
  assert.ok(await page.locator('.chart .line-p95').count() === 1);
  assert.deepEqual(await page.$$eval('.stats-page > .chart-pair figure figcaption', (els) => els.map((e) => e.textContent)),
    ['Runs and success rate', 'Duration percentiles']);
  // slowest nodes: charge_card first; most failing: charge_card (20%) before notify
  const bars = await page.$$eval('.stats-section .chart', (figs) => figs.map((f) => [...f.querySelectorAll('.chart-label')].map((t) => t.textContent)));
  assert.deepEqual(bars[0], ['charge_card', 'validate', 'notify']);
  assert.deepEqual(bars[1], ['charge_card', 'notify']);
  const errors = await page.$$eval('.errors-card tbody tr', (rows) => rows.map((r) => [r.children[0].textContent, r.children[1].textContent]));
  assert.deepEqual(errors.map((e) => e[0]).sort(), ['TimeoutError: inventory lock held', 'TimeoutError: payment gateway timed out']);
  assert.equal(errors.reduce((a, e) => a + Number(e[1]), 0), 8);
  await shot('stats-01-workflow');
  await page.locator('.stats-section').last().scrollIntoViewIfNeeded();
  await shot('stats-02-workflow-nodes-errors');
  await page.click('.errors-card a:text("Open run")');
  await page.waitForSelector('.exec-title');
  assert.match(page.url(), /#\/executions\/[0-9a-f-]{36}$/);
  assert.equal(await page.locator('.exec-stats-link').getAttribute('href'), `#/workflows/${wf.id}/stats`);
});

test('the window is changed from the keyboard, and the charts are reachable by Tab', T, async () => {
  await page.goto(`${stack.base}/#/workflows/${workflows[0].id}/stats`);
  await page.waitForSelector('.tiles');
  await page.focus('#stats-range');
  await page.keyboard.press('ArrowUp'); // 7 days -> 24 hours
  await page.waitForFunction(() => location.hash.includes('range=24h'), null, WAIT);
  await page.waitForSelector('.tiles');
  assert.match(await page.locator('.stats-links').textContent(), /by hour/);
  await page.focus('#stats-range');
  const focused = [];
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    focused.push(await page.evaluate(() => document.activeElement.tagName + (document.activeElement.getAttribute('aria-label') ? ':label' : '')));
  }
  assert.deepEqual(focused.slice(0, 2), ['FIGURE:label', 'FIGURE:label']);
  await shot('stats-03-24-hours');
});

test('the project overview sums its workflows, and links to each', T, async () => {
  await page.goto(`${stack.base}/#/stats`);
  await page.click(`.project-list a[href="#/projects/${project.id}/stats"]`);
  await page.waitForSelector('.tiles');
  const runs = await page.$eval('.tile .tile-value', (e) => Number(e.textContent.replace(/,/g, '')));
  assert.ok(runs >= 60, `${runs}`);
  assert.ok(await page.locator(`.stats-section a[href="#/workflows/${workflows[1].id}/stats"]`).count() >= 1);
  await shot('stats-04-project');
  assert.equal(await page.locator('.topnav a[aria-current="page"]').textContent(), 'Statistics');
});

test('an unknown workflow says so', T, async () => {
  allowed.add(404);
  await page.goto(`${stack.base}/#/workflows/00000000-0000-4000-8000-000000000000/stats`);
  await page.waitForSelector('.state-empty');
  assert.match(await page.locator('.state-title').textContent(), /There is no such workflow/);
  allowed.delete(404);
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});
