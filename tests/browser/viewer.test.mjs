// End-to-end tests of the timeline viewer in a real headless Chromium
// against a real stack (./run.sh under a temporary AGORA_VAR): known
// executions go in through the API, then the page is driven and checked the
// way a person would check it. Screenshots land in the test output folder
// (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openSession, closeSession, demoProject, screenshot, watchPage, axeSerious } from './harness.mjs';
import {
  paymentWorkflow, failedExecution, bulkExecution, smallExecution, FAILED_ROWS, FAILED_ERROR,
  SPOOF, SPOOF_SHOWN, SPOOF_WORKFLOW_NAME, spoofWorkflow, spoofExecution, legacyNamesSql, chainWorkflow, chainExecution,
} from './fixtures.mjs';

const T = { timeout: 60e3 };

let session;
let stack;
let page;
let token;
const ids = {};
const more = {}; // executions outside the list tests' set (ids)
const problems = []; // console errors, page errors, CSP violations
const allowed = new Set(); // HTTP error statuses a test provokes on purpose (401, 404)
const unexpected = [];

function shot(name, p = page) {
  return screenshot(session.out, name, p);
}

function watch(p) {
  watchPage(p, { problems, allowed, unexpected });
}

/** Puts the token in the tab's sessionStorage when it is not there. */
async function ensureToken(p = page) {
  if (!p.url().startsWith(stack.base)) await p.goto(`${stack.base}/#/`);
  const has = await p.evaluate(() => !!sessionStorage.getItem('agora.token'));
  if (!has) await p.evaluate((t) => sessionStorage.setItem('agora.token', t), token);
}

async function gotoList(query = '', p = page) {
  await load(`#/executions${query ? `?${query}` : ''}`, p);
}

/** Forgets the token, from a page of the site that runs no requests. */
async function clearSession(p = page) {
  await p.goto('about:blank');
  await p.goto(`${stack.base}/favicon.svg`);
  await p.evaluate(() => sessionStorage.clear());
}

async function signedIn(p = page) {
  await p.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await p.waitForSelector('.topbar');
}

/** A fresh load of a view (not a same-document hash change), signed in. */
async function load(hash, p = page) {
  await ensureToken(p);
  await p.goto('about:blank');
  await p.goto(`${stack.base}/${hash}`);
}

async function openExecution(id, params = '', p = page) {
  await load(`#/executions/${id}${params ? `?${params}` : ''}`, p);
  await p.waitForSelector('.gantt-row');
}

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watch(page);
  const project = await demoProject(stack, token);
  ids.project = project.id;

  let wf = await stack.request('POST', '/api/workflows', { token, body: paymentWorkflow(project.id) });
  if (wf.status === 409) {
    const all = await stack.mustJson('GET', '/api/workflows?limit=200', { token });
    ids.workflow = all.items.find((w) => w.name === 'payment-pipeline').id;
  } else {
    assert.equal(wf.status, 201, wf.body);
    ids.workflow = wf.json.id;
  }
  let bulkWf = await stack.request('POST', '/api/workflows', { token, body: { project_id: project.id, name: 'bulk-etl' } });
  if (bulkWf.status === 409) {
    const all = await stack.mustJson('GET', '/api/workflows?limit=200', { token });
    ids.bulkWorkflow = all.items.find((w) => w.name === 'bulk-etl').id;
  } else {
    ids.bulkWorkflow = bulkWf.json.id;
  }

  const now = Date.now();
  const ingest = async (body) => (await stack.mustJson('POST', '/api/executions/ingest', { token, body })).execution_id;
  const run = `r${now.toString(36)}`;
  ids.run = run;
  ids.old2 = await ingest(smallExecution({ workflowId: ids.workflow, base: now - 3 * 3600e3, sessionId: `${run}-old-2` }));
  ids.old1 = await ingest(smallExecution({ workflowId: ids.workflow, base: now - 2 * 3600e3, sessionId: `${run}-old-1` }));
  ids.bulk = await ingest(bulkExecution({ workflowId: ids.bulkWorkflow, base: now - 30 * 60e3, n: 10000, sessionId: `${run}-bulk`, failAt: 7777 }));
  ids.failedSession = `${run}-checkout`;
  ids.failed = await ingest(failedExecution({ workflowId: ids.workflow, base: now - 10 * 60e3, sessionId: ids.failedSession }));
  ids.running = await ingest(smallExecution({ workflowId: ids.workflow, base: now - 60e3, sessionId: `${run}-live`, status: 'running' }));

  // Text that reads otherwise than it is, and a workflow as big as a workflow may be.
  const made = async (body, stored = body.name) => {
    const all = await stack.mustJson('GET', `/api/workflows?project_id=${project.id}&limit=200`, { token });
    const had = all.items.find((w) => w.name === stored);
    return had ? had.id : (await stack.mustJson('POST', '/api/workflows', { token, body })).id;
  };
  // Its names hold characters the API refuses in names now: they are
  // written as legacy data, past the API (fixtures.mjs, legacyNamesSql).
  more.spoofSession = `${run}-spoof\u200B`;
  const spoofWorkflowId = await made(spoofWorkflow(project.id), SPOOF_WORKFLOW_NAME);
  more.spoof = await ingest(spoofExecution({ workflowId: spoofWorkflowId, base: now - 3 * 60e3, sessionId: more.spoofSession }));
  stack.psqlAdmin(legacyNamesSql({ workflowId: spoofWorkflowId, executionId: more.spoof }));
  more.chain = await ingest(chainExecution({ workflowId: await made(chainWorkflow(project.id, 1000, 'chain-of-1000')), base: now - 4 * 60e3, ran: 42, sessionId: `${run}-chain` }));

}, { timeout: 900e3 });

after(() => closeSession(session));

// ---------------------------------------------------------------- sign-in

test('the sign-in page asks for a token and refuses a bad one with a message', T, async () => {
  await page.goto(`${stack.base}/`);
  await page.waitForSelector('#token-input');
  assert.equal(await page.locator('h1').textContent(), 'Sign in');
  await shot('01-sign-in');
  allowed.add(401);
  await page.fill('#token-input', 'not-a-real-token');
  await page.click('button[type=submit]');
  await page.waitForSelector('.notice-error');
  assert.match(await page.locator('.signin-notice').textContent(), /refused/i);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('agora.token')), null);
  allowed.delete(401);
});

test('pasting a valid token signs in and shows the executions', T, async () => {
  await page.fill('#token-input', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('.exec-table');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('agora.token')), token);
  assert.match(page.url(), /#\/executions$/);
});

test('a sign-in link keeps the token, removes it from the address bar and opens its execution', T, async () => {
  await clearSession();
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}&execution=${ids.failed}`);
  await page.waitForSelector('.gantt-row');
  assert.ok(!page.url().includes(token), 'the token left the address bar');
  assert.ok(!page.url().includes('token='));
  assert.ok(page.url().endsWith(`#/executions/${ids.failed}`), page.url());
  assert.equal(await page.evaluate(() => sessionStorage.getItem('agora.token')), token);
  // and not in the history either: going back does not return to the link
  const hist = await page.evaluate(() => history.length);
  assert.ok(hist >= 1);
});

// ---------------------------------------------------------------- the list

test('the list shows the ingested executions newest first, with status, duration and counts', T, async () => {
  await gotoList('limit=200');
  await page.waitForSelector('.exec-row');
  const rows = await page.$$eval('.exec-row', (trs) => trs.map((tr) => ({ id: tr.dataset.id, status: tr.dataset.status })));
  const mine = rows.filter((r) => Object.values(ids).includes(r.id)).map((r) => r.id);
  assert.deepEqual(mine, [ids.running, ids.failed, ids.bulk, ids.old1, ids.old2]);
  const failedRow = page.locator(`.exec-row[data-id="${ids.failed}"]`);
  assert.equal(await failedRow.locator('.badge').getAttribute('data-status'), 'error');
  const bg = await failedRow.locator('.badge').evaluate((el) => getComputedStyle(el).color);
  const [r, g, b] = bg.match(/\d+/g).map(Number);
  assert.ok(r > 120 && g < 80 && b < 80, `error badge text is red, got ${bg}`);
  assert.equal(await failedRow.locator('.col-workflow').textContent(), 'payment-pipeline');
  assert.equal(await failedRow.locator('.dur-text').textContent(), '980 ms');
  assert.match(await failedRow.locator('.error-text').textContent(), /PaymentError/);
  await page.waitForFunction((id) => /5 nodes/.test(document.querySelector(`.exec-row[data-id="${id}"] .col-counts`).textContent), ids.failed);
  assert.match(await page.locator(`.exec-row[data-id="${ids.bulk}"] .col-counts`).textContent(), /10,000 nodes/);
  await shot('02-executions');
  // each row links to its execution page
  assert.equal(await failedRow.locator('a.exec-link').getAttribute('href'), `#/executions/${ids.failed}`);
});

test('filters narrow the list and live in the URL, so a reload keeps them', T, async () => {
  await gotoList();
  await page.waitForSelector('.exec-row');
  await page.selectOption('#f-status', 'error');
  await page.waitForFunction(() => location.hash.includes('status=error'));
  await page.waitForFunction(() => [...document.querySelectorAll('.exec-row')].every((r) => r.dataset.status === 'error'));
  let got = await page.$$eval('.exec-row', (trs) => trs.map((t) => t.dataset.id));
  assert.ok(got.includes(ids.failed) && got.includes(ids.bulk) && !got.includes(ids.old1));

  await page.fill('#f-session', ids.failedSession);
  await page.press('#f-session', 'Enter');
  await page.waitForFunction((s) => location.hash.includes(`session_id=${s}`), ids.failedSession);
  await page.waitForFunction(() => document.querySelectorAll('.exec-row').length === 1);
  await page.reload();
  await page.waitForSelector('.exec-row');
  assert.equal(await page.inputValue('#f-status'), 'error');
  assert.equal(await page.inputValue('#f-session'), ids.failedSession);
  got = await page.$$eval('.exec-row', (trs) => trs.map((t) => t.dataset.id));
  assert.deepEqual(got, [ids.failed]);

  // workflow filter and time range
  await gotoList(`workflow_id=${ids.bulkWorkflow}`);
  await page.waitForSelector('.exec-row');
  assert.equal(await page.inputValue('#f-workflow'), ids.bulkWorkflow);
  got = await page.$$eval('.exec-row', (trs) => trs.map((t) => t.dataset.id));
  assert.ok(got.includes(ids.bulk) && !got.includes(ids.failed));
  await page.waitForFunction(() => [...document.querySelectorAll('.exec-row .col-workflow')].every((c) => c.textContent === 'bulk-etl'));
  await gotoList(`range=1h&session_id=${ids.run}-old-1`);
  await page.waitForSelector('.state-empty');
  assert.match(await page.locator('.state-empty').textContent(), /No executions match/);
  await page.click('.state-empty button');
  await page.waitForFunction(() => location.hash === '#/executions');
  await page.waitForSelector('.exec-row');
});

test('keyset paging walks every execution once, older and back newer', T, async () => {
  await gotoList(`workflow_id=${ids.workflow}&limit=1`);
  await page.waitForSelector('.exec-row');
  const pages = [];
  for (;;) {
    const got = await page.$$eval('.exec-row', (trs) => trs.map((t) => t.dataset.id));
    pages.push(got);
    if (pages.length >= 60 || await page.locator('#older-page').isDisabled()) break;
    await page.click('#older-page');
    await page.waitForFunction((first) => document.querySelector('.exec-row') && document.querySelector('.exec-row').dataset.id !== first, got[0]);
  }
  const seen = pages.flat();
  assert.equal(new Set(seen).size, seen.length, 'no execution twice');
  assert.ok(pages.every((p) => p.length === 1));
  for (const id of [ids.running, ids.failed, ids.old1, ids.old2]) assert.ok(seen.includes(id), `page through to ${id}`);
  assert.match(page.url(), /cursor=/);
  assert.match(page.url(), /page=\d+/);
  // "Newer" returns to the page before
  const current = pages[pages.length - 1][0];
  await page.click('button[aria-label="Newer executions"]');
  await page.waitForFunction((first) => document.querySelector('.exec-row').dataset.id !== first, current);
  const back = await page.$$eval('.exec-row', (trs) => trs.map((t) => t.dataset.id));
  assert.deepEqual(back, pages[pages.length - 2]);
});

// ---------------------------------------------------------------- the execution page

test('the execution header shows workflow, session, status, times, duration and the error', T, async () => {
  await openExecution(ids.failed);
  await page.waitForFunction(() => document.querySelector('.exec-wf-name').textContent === 'payment-pipeline');
  const header = await page.locator('.exec-header').textContent();
  assert.match(header, new RegExp(ids.failedSession));
  assert.match(header, /Error/);
  assert.match(header, /Duration980 ms/);
  assert.match(header, /3 failed/);
  assert.match(await page.locator('.exec-error').textContent(), new RegExp(FAILED_ERROR));
  assert.match(await page.locator('.exec-header .fact:nth-child(2)').textContent(), /Completed/);
  assert.match(await page.title(), /payment-pipeline/);
  await shot('03-execution');
});

test('the Gantt has one bar per node execution, each split into prep, exec and post', T, async () => {
  await openExecution(ids.failed);
  const rows = await page.$$eval('.gantt-row', (els) => els.map((el) => {
    const bar = el.querySelector('.gantt-bar');
    const segs = [...bar.querySelectorAll('.seg')].map((s) => ({ phase: s.dataset.phase, w: s.getBoundingClientRect().width }));
    const br = bar.getBoundingClientRect();
    return { node: el.dataset.node, left: br.left, width: br.width, segs };
  }));
  assert.equal(rows.length, FAILED_ROWS.length);
  assert.deepEqual(rows.map((r) => r.node), FAILED_ROWS.map((r) => r.node_name));
  for (const [i, r] of rows.entries()) {
    assert.deepEqual(r.segs.map((s) => s.phase), ['prep', 'exec', 'post']);
    const f = FAILED_ROWS[i];
    // segment widths follow the phase durations
    const unit = r.width / (f.prep + f.exec + f.post);
    assert.ok(Math.abs(r.segs[1].w - f.exec * unit) < 2, `exec width of row ${i}`);
    assert.ok(r.segs[1].w > r.segs[0].w && r.segs[1].w > r.segs[2].w);
    if (i > 0) assert.ok(r.left > rows[i - 1].left, 'bars placed by offset');
  }
  // the three phases have distinct colours, explained by the legend
  const colours = await page.$eval('.gantt-row .gantt-bar', (bar) => [...bar.querySelectorAll('.seg')].map((s) => getComputedStyle(s).backgroundColor));
  assert.equal(new Set(colours).size, 3);
  assert.match(await page.locator('.gantt .legend').textContent(), /prep.*exec.*post/);
  // a time axis with ticks
  assert.ok(await page.locator('.gantt-axis .tick').count() >= 4);
});

test('failed nodes are red and show their error, retries and the action taken', T, async () => {
  await openExecution(ids.failed);
  const failed = page.locator('.gantt-row.is-failed');
  assert.equal(await failed.count(), 3);
  const first = failed.nth(0);
  assert.match(await first.locator('.annot-error').textContent(), /CardDeclined: insufficient funds/);
  assert.match(await failed.nth(2).locator('.annot-error').textContent(), /PaymentError: charge failed after 2 retries/);
  const ring = await first.locator('.gantt-bar').evaluate((el) => getComputedStyle(el).boxShadow);
  assert.match(ring, /rgb\((2\d\d|1[5-9]\d), \d{1,2}, \d{1,2}\)/, `red ring, got ${ring}`);
  assert.equal(await first.locator('.status-icon').textContent(), '✕');
  assert.equal(await failed.nth(1).locator('.retry-badge').textContent(), '↻ 1');
  assert.equal(await failed.nth(2).locator('.retry-badge').textContent(), '↻ 2');
  assert.equal(await page.locator('.gantt-row[data-node="validate"] .action-chip').textContent(), '→ valid');
  assert.equal(await page.locator('.gantt-row[data-node="load_order"] .gantt-label .retry-badge').count(), 0);
});

test('hovering a bar shows a tooltip with the exact figures', T, async () => {
  await openExecution(ids.failed);
  await page.hover('.gantt-row.is-failed >> nth=0 >> .seg-exec');
  const tip = page.locator('.gantt-tooltip');
  await tip.waitFor({ state: 'visible' });
  const text = await tip.textContent();
  assert.match(text, /charge_card/);
  assert.match(text, /\+105 ms/);
  assert.match(text, /exec\s*280 ms/);
  assert.match(text, /prep\s*10 ms/);
  assert.match(text, /duration\s*300 ms/);
  assert.match(text, /CardDeclined/);
  await shot('04-tooltip');
});

test('zoom and pan change the time axis; Fit shows the whole run again', T, async () => {
  await openExecution(ids.failed);
  const ticks = () => page.$$eval('.gantt-axis .tick span', (s) => s.map((x) => x.textContent));
  const range = () => page.locator('.range-label').textContent();
  const fit = await ticks();
  const fitRange = await range();
  const barW = () => page.locator('.gantt-row.is-failed >> nth=1 >> .gantt-bar').evaluate((e) => e.getBoundingClientRect().width);
  const w0 = await barW();
  await page.click('button[aria-label="Zoom in"]');
  await page.click('button[aria-label="Zoom in"]');
  await page.waitForFunction((r) => document.querySelector('.range-label').textContent !== r, fitRange);
  const zoomed = await ticks();
  assert.notDeepEqual(zoomed, fit);
  const w1 = await barW();
  assert.ok(w1 > w0 * 2, `bars are wider when zoomed in (${w0} -> ${w1})`);
  // drag the chart to the left: later times come into view
  const box = await page.locator('.gantt-body').boundingBox();
  const r1 = await range();
  await page.mouse.move(box.x + box.width - 60, box.y + 15);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width - 300, box.y + 15, { steps: 6 });
  await page.mouse.up();
  await page.waitForFunction((r) => document.querySelector('.range-label').textContent !== r, r1);
  // Ctrl + wheel zooms too
  const r2 = await range();
  await page.mouse.move(box.x + box.width / 2 + 100, box.y + 30);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, 300);
  await page.keyboard.up('Control');
  await page.waitForFunction((r) => document.querySelector('.range-label').textContent !== r, r2);
  await page.click('.gantt button:text("Fit")');
  await page.waitForFunction((r) => document.querySelector('.range-label').textContent === r, fitRange);
  assert.deepEqual(await ticks(), fit);
});

test('clicking a bar opens its details, and the URL keeps the selection', T, async () => {
  await openExecution(ids.failed);
  await page.click('.gantt-row.is-failed >> nth=2 >> .gantt-label');
  const detail = page.locator('.gantt-detail');
  await detail.waitFor({ state: 'visible' });
  assert.match(await detail.locator('.error-pre').textContent(), /charge failed after 2 retries/);
  assert.match(await detail.textContent(), /2 retries/);
  assert.match(page.url(), /node=\d+/);
  const url = page.url();
  await shot('05-node-details');
  await page.reload();
  await page.locator('.gantt-detail').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.gantt-detail .detail-title').textContent(), 'charge_card');
  assert.equal(page.url(), url);
  assert.equal(await page.locator('.gantt-row.is-selected').count(), 1);
});

test('the events panel lists the events and filters them by type and node', T, async () => {
  await openExecution(ids.failed);
  await page.waitForSelector('.event-row');
  const all = await page.locator('.event-row').count();
  assert.equal(all, 2 + FAILED_ROWS.length * 2 + 3 + 2);
  await page.selectOption('#ev-type', 'node_error');
  await page.waitForFunction(() => [...document.querySelectorAll('.event-row')].every((r) => r.dataset.type === 'node_error') && document.querySelectorAll('.event-row').length === 3);
  assert.match(page.url(), /ev_type=node_error/);
  await page.selectOption('#ev-type', '');
  await page.selectOption('#ev-node', 'validate');
  await page.waitForFunction(() => document.querySelectorAll('.event-row').length === 2 && [...document.querySelectorAll('.event-row')].every((r) => r.dataset.node === 'validate'));
  // expanding an event shows its data
  await page.click('.event-row >> nth=0 >> .col-data button');
  await page.waitForSelector('.detail-row:not([hidden]) pre.json');
  await shot('06-events');
});

test('the spans panel shows the spans as a tree by parent', T, async () => {
  await openExecution(ids.failed, 'tab=spans');
  await page.waitForSelector('.span-row');
  const rows = await page.$$eval('.span-row', (els) => els.map((e) => ({ name: e.querySelector('.span-label').textContent, level: Number(e.getAttribute('aria-level')) })));
  assert.equal(rows[0].name, 'workflow.payment-pipeline');
  assert.equal(rows[0].level, 1);
  assert.deepEqual(rows.filter((r) => r.level === 2).map((r) => r.name), FAILED_ROWS.map((r) => r.node_name));
  assert.equal(rows[2].name, 'load_order.prep');
  assert.equal(rows[2].level, 3);
  assert.ok(rows.some((r) => r.name === 'http.post /v1/charges' && r.level === 4));
  assert.equal(rows.length, 1 + FAILED_ROWS.length * 4 + 3);
  await shot('07-spans');
  // collapsing the root hides its descendants; keyboard works too
  await page.click('.span-row >> nth=0 >> button.caret');
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length === 1);
  await page.keyboard.press('ArrowRight');
  await page.waitForFunction(() => document.querySelectorAll('.span-row').length > 1);
  // Enter on a span shows its attributes
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.span-attrs pre.json');
  assert.match(await page.locator('.span-attrs').textContent(), /attempt/);
});

test('the state panel shows each snapshot with the keys added, removed and changed', T, async () => {
  await openExecution(ids.failed, 'tab=state');
  await page.waitForSelector('.state-card');
  assert.equal(await page.locator('.state-card').count(), 4);
  const diff = (seq) => page.$$eval(`.state-card[data-sequence="${seq}"] .diff-table tr`, (trs) => trs.map((tr) => ({
    kind: tr.dataset.kind, path: tr.dataset.path, text: tr.querySelector('td:last-child').textContent,
  })));
  const d1 = await diff(1);
  assert.deepEqual(d1.map((x) => `${x.kind} ${x.path}`).sort(), ['added validated_at', 'changed status']);
  assert.equal(d1.find((x) => x.path === 'status').text, '"loaded"→"validated"');
  const d2 = await diff(2);
  assert.deepEqual(d2.map((x) => `${x.kind} ${x.path}`).sort(),
    ['added attempts', 'added last_error', 'changed customer.tier', 'changed status', 'removed warnings']);
  assert.equal(d2.find((x) => x.path === 'customer.tier').text, '"gold"→"silver"');
  assert.equal(d2.find((x) => x.path === 'warnings').text, '["address unverified"]');
  const d3 = await diff(3);
  assert.deepEqual(d3.map((x) => `${x.kind} ${x.path}`).sort(), ['changed attempts', 'changed last_error', 'changed status']);
  assert.match(await page.locator('.state-card[data-sequence="2"] .diff-chips').textContent(), /\+2 added.*−1 removed.*~2 changed/);
  await page.locator('.state-card[data-sequence="2"]').scrollIntoViewIfNeeded();
  await shot('08-state');
});

test('the graph shows the workflow nodes coloured by status, with the path taken', T, async () => {
  await openExecution(ids.failed, 'tab=graph');
  await page.waitForSelector('.graph-canvas[data-rendered-nodes]');
  assert.equal(await page.getAttribute('.graph-canvas', 'data-rendered-nodes'), '4');
  // taken: load_order -> validate -> charge_card -> charge_card (retry, twice)
  assert.equal(await page.getAttribute('.graph-canvas', 'data-taken-edges'), '3');
  const nodes = await page.$$eval('.graph-node-row', (trs) => Object.fromEntries(trs.map((t) => [t.dataset.node, t.dataset.status])));
  assert.deepEqual(nodes, { load_order: 'success', validate: 'success', charge_card: 'error', send_receipt: 'none' });
  const steps = await page.$$eval('.path-list li', (lis) => lis.map((l) => l.dataset.node));
  assert.deepEqual(steps, FAILED_ROWS.map((r) => r.node_name));
  // the canvas really drew something
  const drawn = await page.$eval('.graph-canvas canvas', (c) => c.width > 100 && c.height > 100);
  assert.ok(drawn);
  await page.locator('.tabs-card').scrollIntoViewIfNeeded();
  await shot('09-graph');
  // clicking a node in the table selects it in the timeline
  await page.click('.graph-node-row[data-node="validate"] button');
  await page.waitForSelector('.gantt-row.is-selected[data-node="validate"]');
});

/** In el, whether text is laid out left to right (its first character left of its last), or null when absent. */
function readsLeftToRight(locator, text = 'gnp.exe') {
  return locator.evaluate((el, t) => {
    const walk = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const i = n.data.indexOf(t);
      if (i < 0) continue;
      const r = document.createRange();
      const left = (k) => { r.setStart(n, i + k); r.setEnd(n, i + k + 1); return r.getBoundingClientRect().left; };
      return left(0) < left(t.length - 1);
    }
    return null;
  }, text);
}

/** No hidden character of the spoofing run reached the page's text as itself. */
async function noHiddenCharacterShown() {
  const text = await page.evaluate(() => document.body.innerText);
  assert.ok(!/[\u202A-\u202E\u2066-\u2069\u200B\uFEFF]/u.test(text), 'a format character is in the page text as itself');
  const titles = await page.$$eval('[title], [aria-label]', (els) => els.map((e) => `${e.title || ''}${e.getAttribute('aria-label') || ''}`).join(''));
  assert.ok(!/[\u202A-\u202E\u2066-\u2069\u200B]/u.test(titles), 'a format character is in a tooltip or label as itself');
}

test('format characters a client sent (U+202E and others) show as escapes, isolated, in every view', { timeout: 120e3 }, async () => {
  await openExecution(more.spoof);
  // Gantt: the label reads "\u202Egnp.exe", left to right, the escape in its own style.
  const row = page.locator('.gantt-row.is-failed');
  const name = row.locator('.node-name');
  assert.equal(await name.textContent(), SPOOF_SHOWN);
  assert.equal(await name.getAttribute('title'), SPOOF_SHOWN);
  assert.equal(await readsLeftToRight(name), true);
  const mark = name.locator('.hidden-char');
  assert.equal(await mark.textContent(), '\\u202E');
  const [markBg, nameBg] = await Promise.all([mark.evaluate((e) => getComputedStyle(e).backgroundColor), name.evaluate((e) => getComputedStyle(e).backgroundColor)]);
  assert.notEqual(markBg, nameBg, 'the escape has a style of its own');
  assert.equal(await name.locator('bdi.user-text').count(), 1, 'the name is isolated from its neighbours');
  assert.match(await row.locator('.annot-error').textContent(), /^Refused \\u202Egnp\.exe at \\u2066step\\u2069$/);
  assert.equal(await row.locator('.node-type').textContent(), 'Audited\\u200BNode');
  assert.equal(await page.locator('.gantt-row[data-node="plain"] .action-chip').textContent(), '→ re\\u202Etry');
  assert.match(await page.locator('.exec-error').textContent(), /Refused \\u202Egnp\.exe at \\u2066step\\u2069/);
  assert.match(await page.locator('.exec-ids').textContent(), /-spoof\\u200B/);
  await page.waitForFunction(() => /\\u202E/.test(document.querySelector('.exec-wf-name').textContent));
  assert.equal(await page.locator('.exec-wf-name').textContent(), 'spoof-\\u202Egnp.exe');
  assert.ok((await page.title()).includes('spoof-\\u202Egnp.exe'), await page.title());
  await row.locator('.gantt-label').click();
  await page.locator('.gantt-detail').waitFor({ state: 'visible' });
  assert.equal(await page.locator('.gantt-detail .detail-title').textContent(), SPOOF_SHOWN);
  assert.equal(await readsLeftToRight(page.locator('.gantt-detail .error-pre')), true);
  await page.hover('.gantt-row.is-failed .seg-exec');
  await page.locator('.gantt-tooltip').waitFor({ state: 'visible' });
  assert.match(await page.locator('.gantt-tooltip').textContent(), /\\u202Egnp\.exe/);
  // Events: the type chip, the node, the data, the filter's options.
  await page.waitForSelector('.event-row');
  const ev = page.locator('.event-row');
  assert.equal(await ev.locator('.type-chip').textContent(), SPOOF_SHOWN);
  assert.equal(await ev.locator('td.mono button').textContent(), SPOOF_SHOWN);
  assert.equal(await readsLeftToRight(ev.locator('.col-data')), true);
  const data = await ev.locator('.col-data').textContent(); // jsonb orders the keys
  assert.ok(data.includes('"file":"\\u202Egnp.exe"') && data.includes('"zw":"ad\\u200Bmin"'), data);
  assert.ok((await page.$$eval('#ev-type option', (o) => o.map((x) => x.textContent))).includes(SPOOF_SHOWN));
  await noHiddenCharacterShown();
  await page.locator('.gantt').scrollIntoViewIfNeeded();
  await shot('14-spoofed-text');
  // Spans, state, graph.
  await openExecution(more.spoof, 'tab=spans');
  await page.waitForSelector('.span-row');
  assert.equal(await page.locator('.span-label').textContent(), SPOOF_SHOWN);
  assert.equal(await page.locator('.span-node').textContent(), SPOOF_SHOWN);
  await page.click('.span-row .span-main');
  await page.waitForSelector('.span-attrs pre.json');
  assert.match(await page.locator('.span-attrs pre.json').textContent(), /"path": "\\u202Egnp\.exe"/);
  await noHiddenCharacterShown();
  await openExecution(more.spoof, 'tab=state');
  await page.waitForSelector('.state-card[data-sequence="1"]');
  const diff = await page.$$eval('.state-card[data-sequence="1"] .diff-table tr', (trs) => trs.map((tr) => tr.textContent));
  assert.deepEqual(diff.sort(), ['+["\\u202Egnp.exekey"]1', '~file"report.pdf"→"\\u202Egnp.exe"']);
  assert.equal(await page.locator('.state-card[data-sequence="1"] .state-node').textContent(), SPOOF_SHOWN);
  await noHiddenCharacterShown();
  await openExecution(more.spoof, 'tab=graph');
  await page.waitForSelector('.graph-canvas[data-rendered-nodes]');
  assert.equal(await page.locator(`.graph-node-row[data-node="${SPOOF}"] td:first-child`).textContent(), SPOOF_SHOWN);
  assert.match(await page.locator('.graph-nodes caption').textContent(), /^spoof-\\u202Egnp\.exe: 2 nodes/);
  assert.deepEqual(await page.$$eval('.path-list li', (lis) => lis.map((l) => l.textContent)), ['plainre\\u202Etry', SPOOF_SHOWN]);
  assert.equal(await readsLeftToRight(page.locator('.path-list')), true);
  await noHiddenCharacterShown();
  await page.locator('.tabs-card').scrollIntoViewIfNeeded();
  await shot('15-spoofed-text-graph');
  // The list.
  await gotoList(`session_id=${encodeURIComponent(more.spoofSession)}`);
  await page.waitForSelector('.exec-row');
  await page.waitForFunction(() => /\\u202E/.test(document.querySelector('.exec-row .col-workflow').textContent));
  assert.equal(await page.locator('.exec-row .col-workflow').textContent(), 'spoof-\\u202Egnp.exe');
  assert.match(await page.locator('.exec-row .error-text').textContent(), /Refused \\u202Egnp\.exe/);
  assert.match(await page.locator('.exec-row .session-link').textContent(), /-spoof\\u200B$/);
  assert.ok((await page.$$eval('#f-workflow option', (o) => o.map((x) => x.textContent))).includes('spoof-\\u202Egnp.exe'));
  await noHiddenCharacterShown();
  await shot('16-spoofed-text-list');
});

test('a node execution sent without completed_at lasts its phases (315 ms) in the timeline and in the graph', T, async () => {
  await openExecution(more.spoof, 'tab=graph');
  const row = page.locator('.gantt-row.is-failed');
  assert.equal(await row.locator('.annot-dur').textContent(), '315 ms');
  await page.waitForSelector('.graph-canvas[data-rendered-nodes]');
  const cells = await page.$$eval('.graph-node-row', (trs) => Object.fromEntries(trs.map((t) => [t.dataset.node, t.querySelector('td:last-child').textContent])));
  assert.deepEqual(cells, { plain: '50 ms', [SPOOF]: '315 ms' });
});

test('a 1,000-node workflow: the graph draws the nodes this run took and says so, and the page stays responsive', { timeout: 120e3 }, async () => {
  await openExecution(more.chain);
  // Long tasks (50 ms or more) while the graph is drawn: the page cannot answer during one.
  await page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push(e.duration); })
      .observe({ type: 'longtask' });
  });
  const t0 = Date.now();
  await page.click('#tab-graph');
  await page.waitForSelector('.graph-canvas[data-rendered-nodes]');
  const drawMs = Date.now() - t0;
  assert.equal(await page.getAttribute('.graph-canvas', 'data-rendered-nodes'), '42');
  assert.equal(await page.getAttribute('.panel-graph', 'data-node-count'), '1000');
  assert.equal(await page.getAttribute('.graph-canvas', 'data-taken-edges'), '41');
  assert.equal(await page.locator('.graph-summary').textContent(),
    'Showing 42 of 1,000 nodes: those this execution ran, and the edges between them. The table lists every node.');
  // The table lists every node, a page at a time; those that ran first.
  assert.equal(await page.locator('.graph-node-row').count(), 300);
  assert.equal(await page.locator('.graph-node-row[data-status="success"]').count(), 42);
  await page.click('.graph-table-scroll .show-more button');
  assert.equal(await page.locator('.graph-node-row').count(), 600);
  // Responsive: a frame comes, a click is handled.
  const frameMs = await page.evaluate(() => new Promise((resolve) => { const a = performance.now(); requestAnimationFrame(() => resolve(performance.now() - a)); }));
  await page.click('.graph-node-row[data-node="node_00007"] button');
  await page.waitForSelector('.gantt-row.is-selected[data-node="node_00007"]');
  const longest = Math.max(0, ...await page.evaluate(() => window.__longTasks));
  // Drawing all 1,000 nodes took 3.4 to 4 s in one task; what is drawn now
  // is bounded (the 42 nodes counted above: that is the check). The time
  // is printed, not asserted: on a loaded machine it measures the machine.
  console.log(`# 1,000-node graph: drawn in ${drawMs} ms (layout ${await page.getAttribute('.graph-canvas', 'data-layout-ms')} ms), longest task ${longest.toFixed(0)} ms, next frame ${frameMs.toFixed(0)} ms`);
  await page.locator('.tabs-card').scrollIntoViewIfNeeded();
  await shot('17-graph-1000-nodes');
});

test('a deep link opens the same execution and panel in a new tab, after signing in there', T, async () => {
  await openExecution(ids.failed, 'tab=state');
  await page.click('.gantt-row[data-node="validate"] .gantt-label');
  await page.waitForFunction(() => /node=\d+/.test(location.hash));
  const link = page.url();
  const tab = await session.browser.context.newPage();
  watch(tab);
  await tab.goto(link);
  await tab.waitForSelector('#token-input'); // a new tab has no token: sign in first
  await tab.fill('#token-input', token);
  await tab.click('button[type=submit]');
  await tab.waitForSelector('.gantt-row');
  assert.equal(tab.url(), link);
  await tab.waitForSelector('.state-card');
  assert.equal(await tab.getAttribute('#tab-state', 'aria-selected'), 'true');
  assert.equal(await tab.locator('.gantt-row.is-selected').getAttribute('data-node'), 'validate');
  await tab.close();
});

test('an execution that does not exist (or is not visible) shows a clear not-found state', T, async () => {
  allowed.add(404);
  try {
    await load('#/executions/00000000-0000-4000-8000-000000000000');
    await page.waitForSelector('.exec-header .state-empty');
    assert.match(await page.locator('.exec-header').textContent(), /Execution not found/);
    assert.equal(await page.locator('.exec-header a.btn').getAttribute('href'), '#/executions');
  } finally {
    allowed.delete(404);
  }
});

test('10,000 node executions: only the rows around the view are in the page, at every depth', { timeout: 120e3 }, async () => {
  const t0 = Date.now();
  await openExecution(ids.bulk);
  const loadMs = Date.now() - t0;
  assert.equal(await page.getAttribute('.gantt-body', 'aria-rowcount'), '10000');
  const inDom = await page.locator('.gantt-row').count();
  assert.ok(inDom > 5 && inDom < 80, `rows in the DOM: ${inDom}`);
  await shot('10-bulk');
  // Scroll through the whole list in steps: after each, the rows in the
  // page are the few around the view, whatever the depth (the work per
  // step does not grow with the run). Step times are printed, not
  // asserted: they measure the machine as much as the page.
  const steps = await page.evaluate(async () => {
    const body = document.querySelector('.gantt-body');
    const out = [];
    const step = body.scrollHeight / 40;
    for (let i = 1; i <= 40; i++) {
      const a = performance.now();
      body.scrollTop = step * i;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      const rows = [...document.querySelectorAll('.gantt-row')].map((r) => Number(r.getAttribute('aria-rowindex')));
      out.push({ ms: performance.now() - a, count: rows.length, first: Math.min(...rows), last: Math.max(...rows),
        top: Math.floor(body.scrollTop / 30) + 1, bottom: Math.ceil((body.scrollTop + body.clientHeight) / 30) });
    }
    return out;
  });
  for (const [i, st] of steps.entries()) {
    assert.ok(st.count > 5 && st.count < 80, `step ${i + 1}: ${st.count} rows in the DOM`);
    // the rows drawn cover the view (row height 30 px, rows/rows.js)
    assert.ok(st.first <= st.top && st.last >= Math.min(st.bottom, 10000), `step ${i + 1}: rows ${st.first}-${st.last}, view ${st.top}-${st.bottom}`);
  }
  const frames = steps.map((st) => st.ms).sort((a, b) => a - b);
  const median = frames[Math.floor(frames.length / 2)];
  await page.waitForSelector('.gantt-row[aria-rowindex="10000"]');
  assert.ok(await page.locator('.gantt-row').count() < 80);
  // the filters find the one failed row among 10,000
  await page.check('.gantt-tools input[type=checkbox]');
  await page.waitForFunction(() => document.querySelector('.gantt-body').getAttribute('aria-rowcount') === '1');
  assert.match(await page.locator('.gantt-row .annot-error').textContent(), /row 7777/);
  await page.uncheck('.gantt-tools input[type=checkbox]');
  await page.fill('.gantt-search', 'step_07');
  await page.waitForFunction(() => document.querySelector('.gantt-body').getAttribute('aria-rowcount') === '400');
  console.log(`# bulk execution: page ready in ${loadMs} ms, median scroll step ${median.toFixed(1)} ms (two frames)`);
});

test('keyboard only: open an execution from the list, move through the timeline, zoom', T, async () => {
  await gotoList(`session_id=${ids.failedSession}`);
  await page.waitForSelector('.exec-row');
  await page.focus('.exec-row a.exec-link');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.gantt-row');
  await page.focus('.gantt-body');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('.gantt-row.is-selected[aria-rowindex="3"]');
  assert.equal(await page.getAttribute('.gantt-body', 'aria-activedescendant'), await page.locator('.gantt-row.is-selected').getAttribute('id'));
  const r = await page.locator('.range-label').textContent();
  await page.keyboard.press('+');
  await page.waitForFunction((x) => document.querySelector('.range-label').textContent !== x, r);
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('.gantt-row.is-selected'));
  // tabs follow the arrow keys
  await page.focus('#tab-events');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.getAttribute('#tab-spans', 'aria-selected'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-spans');
});

test('a narrow window gets a layout without horizontal scrolling', T, async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await gotoList();
    await page.waitForSelector('.exec-row');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'list fits');
    await shot('11-narrow-list');
    await openExecution(ids.failed);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'execution fits');
    assert.equal(await page.locator('.gantt-row').count(), FAILED_ROWS.length);
    await shot('12-narrow-execution');
    await page.click('.gantt-row.is-failed >> nth=0 >> .gantt-label');
    await page.locator('.gantt-body').scrollIntoViewIfNeeded();
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), 'timeline with details fits');
    await shot('12b-narrow-timeline');
  } finally {
    await page.setViewportSize({ width: 1280, height: 800 });
  }
});

test('accessibility: axe-core finds no serious problem on the list and the execution page', { timeout: 120e3 }, async () => {
  const check = async (what) => {
    const serious = await axeSerious(page);
    assert.deepEqual(serious, [], `${what}: ${JSON.stringify(serious, null, 1)}`);
  };
  await gotoList();
  await page.waitForSelector('.exec-row');
  await page.waitForFunction(() => !document.querySelector('.col-counts .muted:only-child') || true);
  await check('list');
  await openExecution(ids.failed);
  await page.waitForSelector('.event-row');
  await check('execution, events');
  await openExecution(ids.failed, 'tab=state');
  await page.waitForSelector('.state-card');
  await check('execution, state');
  await openExecution(ids.failed, 'tab=spans');
  await page.waitForSelector('.span-row');
  await check('execution, spans');
  await openExecution(ids.failed, 'tab=graph');
  await page.waitForSelector('.graph-canvas[data-rendered-nodes]');
  await page.click('.gantt-row.is-failed >> nth=0 >> .gantt-label');
  await page.waitForSelector('.gantt-detail:not([hidden])');
  await check('execution, graph and node details');
  await clearSession();
  await page.goto(`${stack.base}/#/`);
  await page.waitForSelector('#token-input');
  await check('sign-in');
});

test('a token the API refuses (401) returns to sign-in with a message, then back to the same page', T, async () => {
  await signedIn();
  allowed.add(401); // the requests in flight when the token is refused
  await page.evaluate(() => sessionStorage.setItem('agora.token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad'));
  await page.goto(`${stack.base}/#/executions/${ids.failed}`);
  await page.waitForSelector('#token-input');
  assert.match(await page.locator('.signin-notice').textContent(), /refused|expired/i);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('agora.token')), null);
  await page.fill('#token-input', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('.gantt-row');
  assert.ok(page.url().endsWith(`#/executions/${ids.failed}`));
  allowed.delete(401);
});

test('a link followed while signed out is where signing in leads, not the page the 401 came from', T, async () => {
  await signedIn();
  allowed.add(401);
  await page.evaluate(() => sessionStorage.setItem('agora.token', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.bad'));
  await page.goto(`${stack.base}/#/executions?status=failed`); // the list's requests meet the 401
  await page.waitForSelector('#token-input');
  await page.goto(`${stack.base}/#/executions/${ids.failed}`); // then the user follows a link
  await page.waitForSelector('#token-input');
  await page.fill('#token-input', token);
  await page.click('button[type=submit]');
  await page.waitForSelector('.gantt-row');
  assert.ok(page.url().endsWith(`#/executions/${ids.failed}`));
  allowed.delete(401);
});

test('sign-out forgets the token and shows the sign-in page', T, async () => {
  await gotoList(`session_id=${ids.failedSession}`);
  await page.click('.exec-row a.exec-link');
  await page.waitForSelector('.gantt-row');
  await page.click('#sign-out');
  await page.waitForSelector('#token-input');
  assert.match(await page.locator('.signin-notice').textContent(), /signed out/i);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('agora.token')), null);
  assert.ok(!page.url().includes(ids.failed), 'the address bar left the execution');
  await shot('13-signed-out');
  // the back button does not bring the data back
  await page.goBack();
  await page.waitForSelector('#token-input');
  assert.equal(await page.locator('.exec-row, .gantt-row').count(), 0);
});

test('./run.sh prints a sign-in link that opens the demo execution', T, async (t) => {
  if (!stack.runOutput) { t.skip('reused stack: no run.sh output'); return; }
  const m = /Signed in:\s+(https:\/\/\S+)/.exec(stack.runOutput);
  assert.ok(m, 'run.sh prints a sign-in link');
  const link = new URL(m[1]);
  const p = await session.browser.context.newPage();
  watch(p);
  await p.goto(`${stack.base}/${link.hash}`);
  await p.waitForSelector('.gantt-row');
  assert.match(p.url(), /#\/executions\/[0-9a-f-]{36}$/);
  await p.waitForFunction(() => document.querySelector('.exec-wf-name').textContent === 'demo-workflow');
  assert.ok(await p.locator('.gantt-row').count() >= 4);
  await shot('00-demo', p);
  await p.close();
});

test('no console errors, page errors or Content-Security-Policy violations', T, async () => {
  assert.deepEqual(problems, []);
  // an HTTP error no test provoked: a request without the token, a missing file...
  assert.deepEqual(unexpected, []);
});
