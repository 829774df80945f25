// The viewer on a run whose large fields the retention job trimmed (README
// "Retention") in a real headless Chromium against a real stack. The API
// then answers each such field as a marker, {"_trimmed": true, "bytes": N},
// an error's keeping its message (tests/integration/test_retention.py
// checks the job writes exactly that); here the markers go in through the
// ingest, which takes any error object and metadata, and the list, the
// execution header and the Gantt's details panel must say "trimmed" and
// still show the message. Screenshots land in the test output folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, closeSession, demoProject, screenshot, watchPage } from './harness.mjs';

const T = { timeout: 60e3 };

let session, stack, page, token; // openSession()'s
const ids = {};
const unexpected = []; // answers of 4xx/5xx
const problems = []; // console errors and page errors

const RUN_ERROR = { _trimmed: true, bytes: 48213, message: 'ValueError: bad row 7' };
const NODE_ERROR = { _trimmed: true, bytes: 5120, message: 'disk full' };

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watchPage(page, { problems, allowed: new Set(), unexpected });
  const project = await demoProject(stack, token);
  const wf = await stack.mustJson('POST', '/api/workflows', { token, body: { project_id: project.id, name: `trim-${Date.now().toString(36)}` } });
  ids.workflow = wf.id;
  const start = Date.now() - 60e3;
  const at = (ms) => new Date(start + ms).toISOString();
  ids.run = (await stack.mustJson('POST', '/api/executions/ingest', {
    token,
    body: {
      workflow_id: wf.id, session_id: 'trimmed', status: 'error', started_at: at(0), completed_at: at(900), duration_ms: 900,
      error: RUN_ERROR, metadata: { _trimmed: true, bytes: 3100 },
      node_executions: [
        { node_name: 'load', status: 'success', started_at: at(0), completed_at: at(400), exec_duration_ms: 400 },
        { node_name: 'save', status: 'error', started_at: at(400), completed_at: at(900), exec_duration_ms: 500, error: NODE_ERROR },
      ],
    },
  })).execution_id;
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('.topbar');
});

after(async () => {
  await closeSession(session);
});

const shot = (name) => screenshot(session.out, name, page);

test('the list shows a trimmed error\'s message, marked trimmed', T, async () => {
  await page.goto(`${stack.base}/#/executions?workflow_id=${ids.workflow}`);
  const row = page.locator(`.exec-row[data-id="${ids.run}"]`);
  await row.waitFor();
  assert.match(await row.textContent(), /ValueError: bad row 7 \(trimmed\)/);
  await shot('trimmed-01-list');
});

test('the execution header says the error and the metadata were trimmed, and how large they were', T, async () => {
  await page.goto(`${stack.base}/#/executions/${ids.run}`);
  await page.waitForSelector('.gantt-row');
  const err = await page.locator('.exec-error pre').textContent();
  assert.equal(err, 'ValueError: bad row 7\n(trimmed by retention (48,213 bytes))');
  const meta = page.locator('details.meta');
  assert.equal(await meta.locator('summary').textContent(), 'Metadata (trimmed)');
  await meta.locator('summary').click();
  assert.equal(await meta.locator('pre').textContent(), 'trimmed by retention (3,100 bytes)');
  await shot('trimmed-02-header');
});

test('the details panel of a node shows its trimmed error\'s message and the note', T, async () => {
  await page.goto(`${stack.base}/#/executions/${ids.run}`);
  await page.waitForSelector('.gantt-row');
  await page.click('.gantt-row[data-node="save"] .gantt-label');
  const detail = page.locator('.gantt-detail');
  await detail.waitFor({ state: 'visible' });
  assert.equal(await detail.locator('.error-pre').textContent(), 'disk full\n(trimmed by retention (5,120 bytes))');
  await shot('trimmed-03-details');
});

test('no console errors or page errors', T, async () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});
