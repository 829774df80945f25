// Browser test harness: a throwaway Agora stack (./run.sh start under a
// temporary AGORA_VAR on free ports, as tests/integration/conftest.py does),
// HTTPS requests to it, and Debian's Chromium driven by playwright-core.
//
// AGORA_TEST_STACK_VAR=/path/to/var reuses a stack that is already running
// (development only: nothing is started or stopped).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.AGORA_CHROMIUM || '/usr/bin/chromium';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** The `export NAME='value'` lines run.sh writes to var/env. */
export function readEnvFile(file) {
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (!m) continue;
    let v = m[2];
    if (v.startsWith("'") && v.endsWith("'")) v = v.slice(1, -1).replace(/'\\''/g, "'");
    env[m[1]] = v;
  }
  return env;
}

export class Stack {
  constructor(varDir, httpsPort, env, owned) {
    this.var = varDir;
    this.httpsPort = httpsPort;
    this.base = `https://127.0.0.1:${httpsPort}`;
    this.env = env;
    this.owned = owned;
    this.ca = fs.readFileSync(path.join(varDir, 'tls', 'cert.pem'));
  }

  /** extraEnv: settings for run.sh beyond the harness's own (AGORA_WEBHOOK_ALLOW, ...). */
  static async start(extraEnv = {}) {
    const reuse = process.env.AGORA_TEST_STACK_VAR;
    if (reuse) {
      const env = { ...process.env, ...readEnvFile(path.join(reuse, 'env')) };
      return new Stack(reuse, Number(env.AGORA_HTTPS_PORT), env, false);
    }
    const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-bt-'));
    fs.chmodSync(varDir, 0o755); // the postgres OS user (when root) must traverse it
    const httpsPort = await freePort();
    let httpPort = await freePort();
    while (httpPort === httpsPort) httpPort = await freePort();
    const env = {
      ...process.env, AGORA_VAR: varDir, AGORA_HTTPS_PORT: String(httpsPort),
      AGORA_HTTP_PORT: String(httpPort), AGORA_WORKERS: '2', ...extraEnv,
    };
    const r = spawnSync(path.join(ROOT, 'run.sh'), ['start'], { cwd: ROOT, env, encoding: 'utf8', timeout: 900e3, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status !== 0) {
      let logs = '';
      for (const name of ['nginx-error.log', 'workers.log', 'postgresql.log']) {
        const f = path.join(varDir, 'log', name);
        if (fs.existsSync(f)) logs += `\n==> ${name} <==\n${fs.readFileSync(f, 'utf8').split('\n').slice(-20).join('\n')}`;
      }
      spawnSync(path.join(ROOT, 'run.sh'), ['stop'], { cwd: ROOT, env, stdio: 'ignore', timeout: 120e3 });
      fs.rmSync(varDir, { recursive: true, force: true });
      throw new Error(`./run.sh start failed (${r.status}):\n${r.stdout}\n${r.stderr}${logs}`);
    }
    const s = new Stack(varDir, httpsPort, { ...env, ...readEnvFile(path.join(varDir, 'env')) }, true);
    s.runOutput = r.stdout;
    return s;
  }

  stop() {
    if (!this.owned) return;
    spawnSync(path.join(ROOT, 'run.sh'), ['stop'], { cwd: ROOT, env: this.env, stdio: 'ignore', timeout: 120e3 });
    fs.rmSync(this.var, { recursive: true, force: true });
  }

  admin(...args) {
    const r = spawnSync(path.join(ROOT, 'agora-admin'), args.map(String), { cwd: ROOT, env: this.env, encoding: 'utf8', timeout: 60e3 });
    if (r.status !== 0) throw new Error(`agora-admin ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /**
   * Runs sql as the cluster superuser in database agora, past the API and
   * row-level security (as tests/integration/conftest.py's psql_admin);
   * returns psql's unaligned, tuples-only output.
   */
  psqlAdmin(sql) {
    const psql = path.join(this.env.AGORA_PG_BINDIR || '/usr/bin', 'psql');
    const r = spawnSync(psql, ['-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', this.env.AGORA_ADMIN_DATABASE_URL],
      { input: sql, env: this.env, encoding: 'utf8', timeout: 30e3 });
    if (r.status !== 0) throw new Error(`psql as the superuser failed (${r.status}): ${r.stderr}`);
    return r.stdout;
  }

  demoUser() {
    return fs.readFileSync(path.join(this.var, 'secrets', 'demo_user'), 'utf8').trim();
  }

  token(userId, ttl = 3600) {
    return this.admin('token', '--user', userId, '--ttl', ttl);
  }

  /** One HTTPS request; resolves {status, headers, body, json} and never rejects on 4xx/5xx. */
  request(method, urlPath, { token, body, headers = {} } = {}) {
    return new Promise((resolve, reject) => {
      const data = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
      const h = { ...headers };
      if (data) { h['Content-Type'] = 'application/json'; h['Content-Length'] = data.length; }
      if (token) h.Authorization = `Bearer ${token}`;
      const req = https.request({
        host: '127.0.0.1', port: this.httpsPort, path: urlPath, method, headers: h,
        ca: this.ca, servername: 'localhost', timeout: 60e3,
      }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try { json = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode, headers: res.headers, body: text, json });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${urlPath}: timeout`)));
      req.on('error', reject);
      if (data) req.write(data);
      req.end();
    });
  }

  async mustJson(method, urlPath, opts, want = [200, 201]) {
    const r = await this.request(method, urlPath, opts);
    if (!want.includes(r.status)) throw new Error(`${method} ${urlPath} answered ${r.status}: ${r.body.slice(0, 500)}`);
    return r.json;
  }
}

/** Debian's Chromium through playwright-core, in a fresh profile. */
export async function launchBrowser() {
  const { chromium } = await import('playwright-core');
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ignoreHTTPSErrors: true,
    viewport: { width: 1280, height: 800 },
    timezoneId: 'UTC',
    locale: 'en-US',
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go: $AGORA_TEST_OUTPUT/browser, or a new /tmp/agora-browser-* folder. */
export function outputDir() {
  const base = process.env.AGORA_TEST_OUTPUT;
  let dir;
  if (base) {
    dir = path.join(base, 'browser');
    fs.mkdirSync(dir, { recursive: true });
  } else {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agora-browser-'));
  }
  return dir;
}

/** Saves what page p shows (the window, not the whole page) as dir/NAME.png; returns the file. */
export async function screenshot(dir, name, p) {
  const file = path.join(dir, `${name}.png`);
  await p.screenshot({ path: file, fullPage: false });
  return file;
}

/** The console errors and page errors of page p from now on, as they come (an array). */
export function pageProblems(p) {
  const problems = [];
  p.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  p.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return problems;
}

/**
 * What each browser test file starts from: its screenshot folder (printed),
 * a stack (env: settings for its run.sh), the demo user's token (2 h), and
 * a page in a fresh Chromium.
 * -> {out, stack, token, browser, page}; closeSession(session) ends it.
 */
export async function openSession({ env = {} } = {}) {
  const out = outputDir();
  console.log(`# screenshots: ${out}`);
  const stack = await Stack.start(env);
  const token = stack.token(stack.demoUser(), 7200);
  const browser = await launchBrowser();
  const page = await browser.context.newPage();
  return { out, stack, token, browser, page };
}

/** Ends a session; safe when openSession failed part way (nothing to end). */
export async function closeSession(session) {
  if (!session) return;
  if (session.browser) await session.browser.close();
  if (session.stack) session.stack.stop();
}

/** The demo user's project (run.sh makes it), or the first the token sees. */
export async function demoProject(stack, token) {
  const projects = await stack.mustJson('GET', '/api/projects', { token });
  const project = projects.items.find((p) => p.name === 'demo') || projects.items[0];
  if (!project) throw new Error('the demo user sees no project');
  return project;
}

/**
 * Watches page p for what a viewer test must not see: console errors, CSP
 * reports, uncaught errors (pushed to problems), and HTTP error answers
 * other than the statuses in allowed (pushed to unexpected). Chromium logs
 * every 4xx answer to fetch; those are checked where they arrive (the
 * 'response' listener), against what the test provokes.
 */
export function watchPage(p, { problems, allowed, unexpected }) {
  p.on('console', (msg) => {
    if (msg.type() !== 'error' && msg.type() !== 'warning') return;
    const text = msg.text();
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    if (msg.type() === 'warning' && !/Content.Security.Policy|Refused/i.test(text)) return;
    problems.push(`${msg.type()}: ${text}`);
  });
  p.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  p.on('response', (res) => {
    if (res.status() >= 400 && !allowed.has(res.status())) unexpected.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
}

/**
 * The serious and critical WCAG 2.1 A/AA violations axe-core finds on what
 * page p shows, as [{id, impact, help, nodes}] (the first 3 targets each).
 */
export async function axeSerious(p) {
  const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await p.evaluate(axeSource);
  const res = await p.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  return res.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Tabs from #main through page p's controls (those selector matches and
 * shows) once over, and a few presses more; -> {want: how many there are,
 * missed: the start of each one never focused}.
 */
export async function tabThroughMain(p, selector = 'main button:not([disabled]), main input, main select, main a[href]') {
  const want = await p.$$eval(selector, (els) => els.filter((e) => e.offsetParent !== null).length);
  await p.locator('#main').focus();
  for (let i = 0; i < want + 10; i++) {
    await p.keyboard.press('Tab');
    await p.evaluate(() => {
      const a = document.activeElement;
      if (a && a.closest('main')) a.dataset.tabSeen = '1';
    });
  }
  const missed = await p.$$eval(selector, (els) => els.filter((e) => e.offsetParent !== null && !e.dataset.tabSeen)
    .map((e) => e.outerHTML.slice(0, 80)));
  return { want, missed };
}
