// live_latency.mjs: commit -> browser latency of live monitoring
// (bench/live.sh, docs/LIVE.md).
//
//   WRK_TOKEN=... node bench/live_latency.mjs BASE_URL CA_FILE PAYLOAD APPENDS GAP_MS OUT_JSON
//
// Starts a live run (an ingest with a client-chosen execution_id, status
// running), takes a ticket for its channel, and opens Chromium (Debian's,
// through playwright-core, as tests/browser/harness.mjs does) on the
// stack's own origin, where the page opens an EventSource on the ticket's
// path. Then APPENDS times, GAP_MS apart: one append to the run (one node
// execution with a client `id`, its spans, events and snapshot, taken in
// turn from PAYLOAD, a bench/gen.py body), timed in Node; the page notes
// when each message arrives (by its seq). Both clocks are
// performance.timeOrigin + performance.now() on the same machine, in ms
// since the epoch, like PostgreSQL's commit timestamps.
//
// OUT_JSON gets the run's execution_id, the messages the page saw, and per
// append: seq, the node execution's id, t0 (request started), t1 (answer
// received), at (the page's onmessage; null when it never came).
// bench/live_report.py turns them into percentiles.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [base, caFile, payloadFile, appendsArg, gapArg, outFile] = process.argv.slice(2);
if (!outFile || !process.env.WRK_TOKEN) {
  console.error('usage: WRK_TOKEN=... node bench/live_latency.mjs BASE_URL CA_FILE PAYLOAD APPENDS GAP_MS OUT_JSON');
  process.exit(2);
}
const appends = Number(appendsArg);
const gapMs = Number(gapArg);
const url = new URL(base);
const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: fs.readFileSync(caFile) });
const now = () => performance.timeOrigin + performance.now();

function post(pathname, body) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = https.request({
      agent, host: url.hostname, port: url.port, path: pathname, method: 'POST', servername: 'localhost',
      headers: { Authorization: `Bearer ${process.env.WRK_TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': data.length },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(data);
  });
}

async function mustPost(pathname, body) {
  const r = await post(pathname, body);
  if (r.status < 200 || r.status > 299) throw new Error(`POST ${pathname} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return JSON.parse(r.text);
}

// Every "YYYY-MM-DDTHH:MM:SS.mmm" in x moved by ms (each append is a later node).
function shift(x, ms) {
  if (typeof x === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/.test(x)) {
    return new Date(Date.parse(`${x}Z`) + ms).toISOString().slice(0, 23);
  }
  if (Array.isArray(x)) return x.map((v) => shift(v, ms));
  if (x && typeof x === 'object') return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, shift(v, ms)]));
  return x;
}

// The payload cut into per-node slices: a node execution and its items.
const payload = JSON.parse(fs.readFileSync(payloadFile, 'utf8'));
const slices = payload.node_executions.map((ne) => {
  const mine = (items) => (items || []).filter((it) => it.node_name === ne.node_name);
  return {
    ne, spans: mine(payload.telemetry_spans), events: mine(payload.telemetry_events),
    snaps: mine(payload.shared_state_snapshots).slice(0, 1),
  };
});
const executionId = crypto.randomUUID();

function body(i) {
  const s = shift(slices[i % slices.length], i * 1000);
  return {
    workflow_id: payload.workflow_id, execution_id: executionId, session_id: 'bench-live',
    status: 'running', started_at: payload.started_at,
    node_executions: [{ ...s.ne, id: crypto.randomUUID() }],
    telemetry_spans: s.spans.map((sp) => ({ ...sp, span_id: crypto.randomBytes(8).toString('hex') })),
    telemetry_events: s.events,
    shared_state_snapshots: s.snaps.map((sn) => ({ ...sn, sequence: i })),
  };
}

const { chromium } = await import(path.join(ROOT, 'node_modules', 'playwright-core', 'index.mjs'));
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-bench-chromium-'));
let context;
try {
  await mustPost('/api/executions/ingest', body(0)); // seq 1: the run starts
  const ticket = await mustPost('/api/live/tickets', { execution_id: executionId });
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.AGORA_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
  });
  const page = context.pages()[0] || await context.newPage();
  await page.goto(`${base}/`);
  const opened = await page.evaluate((p) => new Promise((resolve) => {
    window.agoraBench = { at: {}, messages: 0 };
    const es = new EventSource(p);
    es.onmessage = (e) => {
      const t = performance.timeOrigin + performance.now();
      window.agoraBench.messages++;
      window.agoraBench.at[JSON.parse(e.data).seq] = t;
    };
    es.onopen = () => resolve(true);
    es.onerror = () => resolve(false);
    window.agoraBench.es = es;
  }), ticket.path);
  if (!opened) throw new Error('the EventSource did not open');
  const sent = [];
  for (let i = 1; i <= appends; i++) {
    const b = body(i);
    const t0 = now();
    const r = await post('/api/executions/ingest', b);
    const t1 = now();
    if (r.status !== 200) throw new Error(`append ${i} answered ${r.status}: ${r.text.slice(0, 300)}`);
    sent.push({ seq: i + 1, id: b.node_executions[0].id, t0, t1 });
    if (gapMs > 0) await new Promise((res) => setTimeout(res, gapMs));
  }
  const last = appends + 1;
  await page.waitForFunction((s) => window.agoraBench.at[s] !== undefined, last, { timeout: 10e3 }).catch(() => {});
  const seen = await page.evaluate(() => ({ at: window.agoraBench.at, messages: window.agoraBench.messages }));
  const out = {
    appends, gap_ms: gapMs, messages: seen.messages, execution_id: executionId,
    detail: sent.map((s) => ({ ...s, at: seen.at[s.seq] ?? null })),
  };
  fs.writeFileSync(outFile, `${JSON.stringify(out)}\n`);
  console.log(`${appends} appends, ${seen.messages} messages seen`);
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
  agent.destroy();
}
