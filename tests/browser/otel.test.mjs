// A run sent by the OpenTelemetry JS SDK (tests/otel/emit.mjs, the
// protobuf exporter, configured only through OTEL_* variables) in the
// viewer: its execution page has a Gantt row per node execution, the failed
// tool's row marked, and the run's tokens and cost in the header.
// Screenshot: otel-01-execution.png in the test output folder.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { openSession, closeSession, demoProject, pageProblems, screenshot, ROOT } from './harness.mjs';

const T = { timeout: 90e3 };
const NODES = ['researcher', 'chat gpt-4o', 'web_search', 'retrieve docs', 'summarize'];

let session, stack, page, token;
let execution, problems;

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  problems = pageProblems(page);
  const project = await demoProject(stack, token);
  const { key } = await stack.mustJson('POST', `/api/projects/${project.id}/api-keys`, { token });
  const service = `otel-${Date.now().toString(36)}`;
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OTEL_')));
  const r = spawnSync('node', [path.join(ROOT, 'tests', 'otel', 'emit.mjs'), '--service', service, '--session', 'viewer'], {
    cwd: ROOT, encoding: 'utf8', timeout: 60e3,
    env: {
      ...env, OTEL_EXPORTER_OTLP_ENDPOINT: `${stack.base}/api/otlp`, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_HEADERS: `Authorization=Bearer ${key}`, NODE_EXTRA_CA_CERTS: path.join(stack.var, 'tls', 'cert.pem'),
    },
  });
  assert.equal(r.status, 0, `emit.mjs: ${r.stdout}\n${r.stderr}`);
  const workflows = await stack.mustJson('GET', `/api/workflows?project_id=${project.id}`, { token });
  const wf = workflows.items.find((w) => w.name === service);
  assert.ok(wf, `no workflow ${service}`);
  const list = await stack.mustJson('GET', `/api/executions?workflow_id=${wf.id}`, { token });
  assert.equal(list.items.length, 1);
  execution = list.items[0].id;
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('.topbar');
});

after(async () => {
  await closeSession(session);
});

test('the execution of an SDK-sent trace shows its nodes, the failed tool, tokens and cost', T, async () => {
  await page.goto(`${stack.base}/#/executions/${execution}`);
  await page.waitForSelector('.gantt-row');
  const rows = await page.$$eval('.gantt-row', (els) => els.map((el) => el.dataset.node));
  assert.deepEqual([...rows].sort(), [...NODES].sort());
  assert.equal(await page.locator('.gantt-row.is-failed').count(), 1);
  assert.equal(await page.locator('.gantt-row.is-failed').getAttribute('data-node'), 'web_search');
  assert.equal(await page.locator('.fact-tokens').textContent(), '2,900');
  // 2,300 input and 600 output tokens of gpt-4o at 2.50 and 10.00 USD per million: $0.01175
  assert.match(await page.locator('.fact-cost').textContent(), /^\$0\.01(2|18|175)$/);
  await screenshot(session.out, 'otel-01-execution', page);
  assert.deepEqual(problems, []);
});
