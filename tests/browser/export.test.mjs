// The run report and the export from the execution page, in a real headless
// Chromium against a real stack: the failed payment run (with one more node
// whose name is markup) goes in through the API; the page's "Download
// report" and "Export JSON" buttons are clicked; the report is saved to a
// file and opened from file:// with the network cut off and every request
// that is not the file itself refused, and checked: the Gantt's rows and
// phases, the errors, the events and the state changes are there, the
// markup-like name is text, and nothing was fetched. Screenshots land in the
// test output folder (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openSession, closeSession, demoProject, screenshot, watchPage } from './harness.mjs';
import { paymentWorkflow, failedExecution, FAILED_ROWS, FAILED_ERROR } from './fixtures.mjs';

const T = { timeout: 120e3 };
const MARKUP_NAME = '<script>document.title="pwned"</script>';
let session;
let stack;
let page;
let token;
let payload;
let executionId;
let reportFile;
const problems = [];
const allowed = new Set();
const unexpected = [];
const requestUrls = [];

before(async () => {
  session = await openSession();
  ({ stack, page, token } = session);
  const project = await demoProject(stack, token);
  const wf = await stack.mustJson('POST', '/api/workflows', { token, body: paymentWorkflow(project.id) });
  payload = failedExecution({ workflowId: wf.id, base: Date.now() - 5 * 60e3, sessionId: 'export-session' });
  const last = payload.node_executions[payload.node_executions.length - 1];
  payload.node_executions.push({ ...last, node_name: MARKUP_NAME, node_type: 'Odd', retry_count: 0,
    error: 'Odd <b>failure</b>' });
  const r = await stack.mustJson('POST', '/api/executions/ingest', { token, body: payload });
  executionId = r.execution_id;
  watchPage(page, { problems, allowed, unexpected });
  page.on('request', (req) => requestUrls.push(req.url()));
}, T);

after(async () => {
  await closeSession(session);
});

async function openExecution() {
  await page.goto(`${stack.base}/favicon.svg`);
  await page.evaluate((t) => sessionStorage.setItem('agora.token', t), token);
  await page.goto('about:blank');
  await page.goto(`${stack.base}/#/executions/${executionId}`);
  await page.waitForSelector('.gantt-row');
}

async function clickDownload(name) {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name }).click(),
  ]);
  const file = path.join(session.out, download.suggestedFilename());
  await download.saveAs(file);
  return { file, suggested: download.suggestedFilename() };
}

test('the execution page downloads the report and the export with the token in a header only', T, async () => {
  await openExecution();
  await screenshot(session.out, 'export-execution-page', page);
  const report = await clickDownload('Download report');
  assert.equal(report.suggested, `agora-run-${executionId}.html`);
  reportFile = report.file;
  assert.match(fs.readFileSync(reportFile, 'utf8'), /^<!DOCTYPE html>/);

  const exported = await clickDownload('Export JSON');
  assert.equal(exported.suggested, `agora-run-${executionId}.json`);
  const doc = JSON.parse(fs.readFileSync(exported.file, 'utf8'));
  assert.equal(doc.execution_id, executionId);
  assert.equal(doc.error, FAILED_ERROR);
  assert.deepEqual(doc.node_executions.map((n) => n.node_name), payload.node_executions.map((n) => n.node_name));
  assert.equal(doc.telemetry_events.length, payload.telemetry_events.length);

  assert.ok(requestUrls.some((u) => u.endsWith(`/api/executions/${executionId}/report`)));
  assert.ok(requestUrls.some((u) => u.endsWith(`/api/executions/${executionId}/export`)));
  assert.ok(!requestUrls.some((u) => u.includes(token)), 'the token went into a URL');
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});

test('the report opens offline from a file and shows the Gantt, errors, events and state changes', T, async () => {
  assert.ok(reportFile, 'the report was downloaded');
  const ctx = session.browser.context;
  const offline = await ctx.newPage();
  const fetched = [];
  const consoleErrors = [];
  offline.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
  await offline.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file://')) return route.continue();
    fetched.push(url);
    return route.abort();
  });
  await ctx.setOffline(true);
  try {
    await offline.goto(`file://${reportFile}`);
    await offline.waitForSelector('.gantt .row');
    // One Gantt row per node execution, in start order, the failed ones marked.
    const rows = await offline.$$eval('.gantt .row', (els) => els.map((e) => ({
      name: e.querySelector('.name').textContent,
      failed: e.classList.contains('error'),
      phases: [...e.querySelectorAll('rect')].map((r) => r.getAttribute('class')),
      width: e.querySelector('svg').getBoundingClientRect().width,
    })));
    const want = [...FAILED_ROWS.map((r) => ({ name: r.node_name, failed: r.status === 'error' })),
      { name: MARKUP_NAME, failed: true }];
    assert.deepEqual(rows.map((r) => ({ name: r.name, failed: r.failed })), want);
    for (const r of rows) {
      assert.deepEqual(r.phases, ['prep', 'exec', 'post']);
      assert.ok(r.width > 200, `the bar area of ${r.name} is ${r.width}px wide`);
    }
    // The markup-like name is text, and it ran nothing.
    assert.equal(await offline.title(), `Agora run ${executionId}`);
    assert.equal(await offline.locator('script').count(), 0);
    // Errors: the run's and each failed node's.
    assert.equal((await offline.locator('.run-error').textContent()).trim(), FAILED_ERROR);
    const errors = await offline.$$eval('.node-errors tbody tr', (trs) => trs.map((tr) => tr.textContent));
    assert.equal(errors.length, 4);
    assert.ok(errors[0].includes('CardDeclined: insufficient funds (code 51)'));
    assert.ok(errors[3].includes('Odd <b>failure</b>'));
    // Events, in time order, and the state's changes between snapshots.
    const events = await offline.$$eval('.events tbody tr', (trs) => trs.map((tr) => tr.children[1].textContent));
    assert.equal(events.length, payload.telemetry_events.length);
    assert.equal(events[0], 'workflow_start');
    assert.equal(events[events.length - 1], 'workflow_end');
    const state = await offline.$$eval('.state tbody tr', (trs) => trs.map((tr) => tr.children[4].textContent));
    assert.equal(state.length, payload.shared_state_snapshots.length);
    assert.ok(state[0].includes('"order_id": "A-1001"'), state[0]);
    const changed = await offline.$$eval('.state tbody tr:nth-child(3) li', (lis) => lis.map((li) => li.textContent));
    assert.ok(changed.includes('~ customer.tier: "gold" → "silver"'), changed.join(' | '));
    assert.ok(changed.includes('+ attempts: 1'), changed.join(' | '));
    assert.ok(changed.some((c) => c.startsWith('− warnings: ')), changed.join(' | '));
    await screenshot(session.out, 'export-report-offline', offline);
    await offline.screenshot({ path: path.join(session.out, 'export-report-offline-full.png'), fullPage: true });
    assert.deepEqual(fetched, []);
    assert.deepEqual(consoleErrors, []);
  } finally {
    await ctx.setOffline(false);
    await offline.close();
  }
});
