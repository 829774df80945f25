// live_latency.mjs: commit -> browser latency of live monitoring
// (bench/live.sh, docs/LIVE.md).
//
//   WRK_TOKEN=... node bench/live_latency.mjs BASE_URL CA_FILE PAYLOAD APPENDS GAP_MS OUT_JSON [QUERY]
//
// Starts a live run (an ingest with a client-chosen execution_id, status
// running) and opens it in the viewer, in Chromium (Debian's, through
// playwright-core, as tests/browser/harness.mjs does), signed in with the
// token: the execution page follows the run over its own EventSource
// (QUERY, e.g. "tab=graph", goes into the page's address: the panel open
// below the Gantt, which the page refreshes when a message adds to it). Then
// APPENDS times, GAP_MS apart: one append to the run (one node execution
// with a client `id`, its spans, events and snapshot, taken in turn from
// PAYLOAD, a bench/gen.py body; the n-th starts n seconds into the run, so
// it is the Gantt's last row), timed in Node. In the page, an init script
// notes when each message arrives at any EventSource (by its seq) and when
// each Gantt row first enters the DOM (by its index: the row of the
// append with seq s is row s - 1), and keeps the chart scrolled to its end
// as a user following the run would. A viewer without live code opens no
// EventSource: the script then opens one itself on a ticket's path, and
// only messages are timed. Every clock is performance.timeOrigin +
// performance.now() on the same machine, in ms since the epoch, like
// PostgreSQL's commit timestamps.
//
// OUT_JSON gets the run's execution_id, whether the viewer followed it
// (viewer_live), the messages seen, and per append: seq, the node
// execution's id, t0 (request started), t1 (answer received), at (the
// message's arrival) and dom (its Gantt row in the DOM), null when they
// never came. bench/live_report.py turns them into percentiles.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [base, caFile, payloadFile, appendsArg, gapArg, outFile, query = ''] = process.argv.slice(2);
if (!outFile || !process.env.WRK_TOKEN) {
  console.error('usage: WRK_TOKEN=... node bench/live_latency.mjs BASE_URL CA_FILE PAYLOAD APPENDS GAP_MS OUT_JSON [QUERY]');
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

// Every "YYYY-MM-DDTHH:MM:SS.mmm" in x moved by ms.
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
const runStart = Date.parse(`${payload.started_at}Z`);

/** The i-th append (0: the ingest that starts the run): its node starts i s into the run. */
function body(i) {
  const slice = slices[i % slices.length];
  const s = shift(slice, runStart + i * 1000 - Date.parse(`${slice.ne.started_at}Z`));
  return {
    workflow_id: payload.workflow_id, execution_id: executionId, session_id: 'bench-live',
    status: 'running', started_at: payload.started_at,
    node_executions: [{ ...s.ne, id: crypto.randomUUID() }],
    telemetry_spans: s.spans.map((sp) => ({ ...sp, span_id: crypto.randomBytes(8).toString('hex') })),
    telemetry_events: s.events,
    shared_state_snapshots: s.snaps.map((sn) => ({ ...sn, sequence: i })),
  };
}

// Runs in the page before its own scripts.
function instrument() {
  const b = { at: {}, dom: {}, opened: 0, messages: 0, follow: false };
  window.agoraBench = b;
  const now = () => performance.timeOrigin + performance.now();
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(url, init) {
      super(url, init);
      this.addEventListener('open', () => { b.opened++; });
      this.addEventListener('message', (e) => {
        const t = now();
        b.messages++;
        try {
          const m = JSON.parse(e.data);
          if (m && m.seq !== undefined && b.at[m.seq] === undefined) b.at[m.seq] = t;
        } catch { /* not JSON: not a message of ours */ }
      });
    }
  };
  new MutationObserver((records) => {
    const t = now();
    for (const r of records) {
      for (const n of r.addedNodes) {
        if (n.nodeType === 1 && n.id && n.id.startsWith('gantt-row-')) {
          const k = Number(n.id.slice('gantt-row-'.length));
          if (b.dom[k] === undefined) b.dom[k] = t;
        }
      }
    }
    const body = document.querySelector('.gantt-body');
    if (b.follow && body && body.scrollTop + body.clientHeight < body.scrollHeight - 2) body.scrollTop = body.scrollHeight;
  }).observe(document, { childList: true, subtree: true });
}

const { chromium } = await import(path.join(ROOT, 'node_modules', 'playwright-core', 'index.mjs'));
const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-bench-chromium-'));
let context;
try {
  await mustPost('/api/executions/ingest', body(0)); // seq 1: the run starts
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.AGORA_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
  });
  await context.addInitScript(instrument);
  const page = context.pages()[0] || await context.newPage();
  // Signed in as tests/browser/live.test.mjs does: the token in the tab's
  // sessionStorage, then the execution page.
  await page.goto(`${base}/#/`);
  await page.evaluate((t) => sessionStorage.setItem('agora.token', t), process.env.WRK_TOKEN);
  await page.goto('about:blank');
  await page.goto(`${base}/#/executions/${executionId}${query ? `?${query}` : ''}`);
  // The viewer follows the run: its subscription is open, the indicator
  // (when it has one) says Live, the first row is drawn.
  const viewerLive = await page.waitForFunction(() => {
    const ind = document.querySelector('[data-testid="live-status"]');
    return window.agoraBench.opened > 0 && document.getElementById('gantt-row-0') && (!ind || ind.textContent === 'Live');
  }, null, { timeout: 15e3 }).then(() => true, () => false);
  if (!viewerLive) {
    const ticket = await mustPost('/api/live/tickets', { execution_id: executionId });
    const opened = await page.evaluate((p) => new Promise((resolve) => {
      const es = new EventSource(p);
      es.onopen = () => resolve(true);
      es.onerror = () => resolve(false);
      window.agoraBench.es = es;
    }), ticket.path);
    if (!opened) throw new Error('the EventSource did not open');
  }
  await page.evaluate(() => { window.agoraBench.follow = true; });
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
  await page.waitForFunction(([s, dom]) => window.agoraBench.at[s] !== undefined && (!dom || window.agoraBench.dom[s - 1] !== undefined),
    [last, viewerLive], { timeout: 10e3 }).catch(() => {});
  const seen = await page.evaluate(() => ({ at: window.agoraBench.at, dom: window.agoraBench.dom, messages: window.agoraBench.messages }));
  const out = {
    appends, gap_ms: gapMs, messages: seen.messages, execution_id: executionId, viewer_live: viewerLive, query,
    detail: sent.map((x) => ({ ...x, at: seen.at[x.seq] ?? null, dom: viewerLive ? seen.dom[x.seq - 1] ?? null : null })),
  };
  fs.writeFileSync(outFile, `${JSON.stringify(out)}\n`);
  console.log(`${appends} appends, ${seen.messages} messages seen`);
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
  agent.destroy();
}
