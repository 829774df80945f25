// The viewer's token usage and cost (README "Tokens and cost") in a real
// headless Chromium against a real stack: a run whose node executions
// called models goes in through the API, then the list, the execution
// header, the Gantt's tooltip and the details panel must show its tokens
// and costs, and say so when a model had no price. Screenshots land in the
// test output folder (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, closeSession, demoProject, screenshot, watchPage } from './harness.mjs';
import { llmExecution, LLM_ROWS, LLM_COSTS } from './fixtures.mjs';

const T = { timeout: 60e3 };

let session, stack, page, token; // openSession()'s
const ids = {};
const unexpected = []; // answers of 4xx/5xx
const problems = []; // console errors and page errors

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watchPage(page, { problems, allowed: new Set(), unexpected });
  const project = await demoProject(stack, token);
  const wf = await stack.mustJson('POST', '/api/workflows', { token, body: { project_id: project.id, name: `llm-${Date.now().toString(36)}` } });
  ids.workflow = wf.id;
  // A recent run, so it heads the list; its nodes are after the defaults' start.
  ids.llm = (await stack.mustJson('POST', '/api/executions/ingest', {
    token, body: llmExecution({ workflowId: wf.id, base: Date.now() - 60e3, sessionId: 'llm-session' }),
  })).execution_id;
  ids.plain = (await stack.mustJson('POST', '/api/executions/ingest', {
    token, body: { workflow_id: wf.id, session_id: 'plain', status: 'success', started_at: new Date(Date.now() - 120e3).toISOString(),
      node_executions: [{ node_name: 'no-model', status: 'success' }] },
  })).execution_id;
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('.topbar');
});

after(async () => {
  await closeSession(session);
});

const shot = (name) => screenshot(session.out, name, page);

test('the API sums the run: tokens, the known cost, and not complete', T, async () => {
  const ex = await stack.mustJson('GET', `/api/executions/${ids.llm}`, { token });
  const tokens = LLM_ROWS.reduce((s, r) => s + r.input + r.output, 0);
  assert.equal(ex.usage.input_tokens + ex.usage.output_tokens, tokens);
  assert.ok(Math.abs(ex.usage.cost_usd - (0.006 + 0.0375 + 0.00051)) < 1e-12, String(ex.usage.cost_usd));
  assert.equal(ex.usage.cost_complete, false);
});

test('the list shows each run\'s tokens and cost, and a dash for a run without tokens', T, async () => {
  await page.goto(`${stack.base}/#/executions?workflow_id=${ids.workflow}`);
  await page.waitForSelector(`.exec-row[data-id="${ids.llm}"]`);
  assert.match(await page.locator('.exec-table thead .col-usage').textContent(), /^Tokens$/);
  const cell = page.locator(`.exec-row[data-id="${ids.llm}"] .col-usage`);
  assert.equal(await cell.locator('.usage-tokens').textContent(), '12,400');
  // one model had no price: the cost shown is a lower bound, and marked so
  assert.equal(await cell.locator('.usage-cost').textContent(), '≥ $0.044');
  assert.match(await cell.locator('.usage-cost').getAttribute('class'), /is-incomplete/);
  assert.match(await cell.getAttribute('title'), /no price/);
  assert.equal(await page.locator(`.exec-row[data-id="${ids.plain}"] .col-usage`).textContent(), '—');
  await shot('usage-01-list');
});

test('the execution header shows the run\'s tokens and cost', T, async () => {
  await page.goto(`${stack.base}/#/executions/${ids.llm}`);
  await page.waitForSelector('.gantt-row');
  assert.equal(await page.locator('.fact-tokens').textContent(), '12,400');
  assert.equal(await page.locator('.fact-cost').textContent(), '≥ $0.044');
  assert.match(await page.locator('.fact-cost').getAttribute('title'), /12,400|10,000 input/);
  await shot('usage-02-execution');
  // a run without tokens has neither fact
  await page.goto(`${stack.base}/#/executions/${ids.plain}`);
  await page.waitForSelector('.gantt-row');
  assert.equal(await page.locator('.fact-tokens, .fact-cost').count(), 0);
});

test('a bar\'s tooltip and the details panel show its model, tokens and cost', T, async () => {
  await page.goto(`${stack.base}/#/executions/${ids.llm}`);
  await page.waitForSelector('.gantt-row');
  await page.hover('.gantt-row[data-node="plan"] .gantt-bar');
  const tip = page.locator('.gantt-tooltip');
  await tip.waitFor({ state: 'visible' });
  const text = await tip.textContent();
  assert.match(text, /model\s*gpt-4o \(openai\)/);
  assert.match(text, /tokens\s*1,200 in · 300 out · 1,024 cached/);
  assert.match(text, new RegExp(`cost\\s*\\$${LLM_COSTS.plan}`));
  await shot('usage-03-tooltip');

  await page.click('.gantt-row[data-node="critique"] .gantt-label');
  const detail = page.locator('.gantt-detail');
  await detail.waitFor({ state: 'visible' });
  const facts = await detail.locator('.facts').textContent();
  assert.match(facts, /Modelmy-local-llama/);
  assert.match(facts, /Tokens2,000 in · 200 out/);
  assert.match(facts, /Costno price/);
  // the panel scrolls within the chart's height: bring the usage into view
  await detail.locator('dt', { hasText: 'Cost' }).scrollIntoViewIfNeeded();
  await shot('usage-04-details-unpriced');

  await page.click('.gantt-row[data-node="draft"] .gantt-label');
  await page.waitForFunction(() => document.querySelector('.gantt-detail .detail-title').textContent === 'draft');
  assert.match(await detail.locator('.facts').textContent(), /Cost\$0\.0375/);
});

test('no console errors or page errors', T, async () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});
