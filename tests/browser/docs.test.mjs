// The interactive API documentation at /docs/ (Swagger UI over
// /openapi.yaml) in a real headless Chromium against a real stack: every
// operation of the document is listed, a pasted token authorizes "Try it
// out", and a GET run from the page reaches the API and shows its 200 and
// its data. No console error and no Content-Security-Policy violation on the
// way. Screenshots land in the test output folder (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, openSession, closeSession, screenshot } from './harness.mjs';

const T = { timeout: 90e3 };
const DEMO_EXECUTION = '5e7a1c00-de00-4000-8000-000000000001'; // run.sh's demo run

let session;
let stack;
let page;
let token;
const problems = []; // console errors and warnings about the CSP, page errors
const failures = []; // HTTP errors and failed loads of the page's own requests

/** operationIds of openapi.yaml, read as text (no YAML parser needed for these lines). */
function documentedOperations() {
  const text = fs.readFileSync(path.join(ROOT, 'nginx', 'www', 'openapi.yaml'), 'utf8');
  return [...text.matchAll(/^ {6}operationId: (\w+)$/gm)].map((m) => m[1]);
}

function shot(name) {
  return screenshot(session.out, name, page);
}

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  page.on('console', (msg) => {
    const text = msg.text();
    if (msg.type() === 'error' || (msg.type() === 'warning' && /Content.Security.Policy|Refused/i.test(text))) {
      problems.push(`${msg.type()}: ${text}`);
    }
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  page.on('response', (res) => {
    if (res.status() >= 400) failures.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  page.on('requestfailed', (req) => failures.push(`failed ${req.method()} ${req.url()}: ${req.failure()?.errorText}`));
});

after(() => closeSession(session));

test('/docs/ renders every operation of openapi.yaml, grouped by tag', T, async () => {
  await page.goto(`${stack.base}/docs/`);
  await page.waitForSelector('#operations-Ingest-ingestExecution');
  const ops = documentedOperations();
  assert.ok(ops.length >= 20, `operationIds found: ${ops.length}`);
  for (const id of ops) {
    assert.equal(await page.locator(`.opblock[id$="-${id}"]`).count(), 1, `operation ${id} is listed`);
  }
  const ingest = page.locator('#operations-Ingest-ingestExecution');
  assert.match(await ingest.locator('.opblock-summary-method').textContent(), /POST/);
  assert.match(await ingest.locator('.opblock-summary-path').textContent(), /\/api\/executions\/ingest/);
  assert.match(await page.locator('.info .title').textContent(), /Agora Cloud API/);
  await ingest.scrollIntoViewIfNeeded();
  await shot('docs-01-operations');
});

test('a pasted token authorizes, and "Try it out" on GET /api/executions shows a 200 with the demo run', T, async () => {
  await page.click('.auth-wrapper .btn.authorize');
  const modal = page.locator('.dialog-ux .modal-ux');
  await modal.waitFor();
  // One form per scheme; the user token is the "userToken" one.
  const form = modal.locator('.auth-container', { hasText: 'userToken' });
  await form.locator('input').fill(token);
  await form.locator('button.authorize').click();
  // Authorized: the form says so, hides the value, and offers "Logout".
  await form.locator('h6', { hasText: 'Authorized' }).waitFor();
  assert.equal(await form.locator('button', { hasText: 'Logout' }).count(), 1);
  assert.equal(await form.locator('input').count(), 0);
  await shot('docs-02-authorized');
  await form.locator('button.btn-done').click();
  await modal.waitFor({ state: 'detached' });

  const op = page.locator('#operations-Executions-listExecutions');
  await op.locator('.opblock-summary').click();
  await op.locator('.try-out__btn').click();
  // The example filters name placeholder ids; leave only limit, so the
  // demo run the stack started with is in the answer.
  for (const name of ['workflow_id', 'project_id', 'session_id', 'node_name', 'since', 'until']) {
    await op.locator(`tr[data-param-name="${name}"] input`).fill('');
  }
  await op.locator('tr[data-param-name="status"] select').selectOption({ label: '--' });
  const [res] = await Promise.all([
    page.waitForResponse((r) => r.url().startsWith(`${stack.base}/api/executions`)),
    op.locator('button.execute').click(),
  ]);
  assert.equal(res.status(), 200);
  assert.equal(res.request().headers().authorization, `Bearer ${token}`);

  const live = op.locator('.live-responses-table');
  await live.waitFor();
  assert.equal((await live.locator('.response .response-col_status').first().textContent()).trim(), '200');
  const shown = await live.locator('.response-col_description pre').first().textContent();
  assert.match(shown, new RegExp(DEMO_EXECUTION));
  assert.match(shown, /"next_cursor"/);
  await live.scrollIntoViewIfNeeded();
  await shot('docs-03-try-it-out');
});

test('the page loaded nothing from elsewhere, and logged no error or CSP violation', T, async () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(failures, []);
  const origins = await page.evaluate(() => [...new Set(performance.getEntriesByType('resource').map((e) => new URL(e.name).origin))]);
  assert.deepEqual(origins, [new URL(stack.base).origin]);
});
