// The alert rules page (README "Alerts", "The timeline viewer") in a real
// headless Chromium against a real stack that allows loopback webhooks over
// http (as tests/integration/test_alerts.py's), driven from the keyboard:
// the top bar's Alerts link leads to the demo project's rules; a rule is
// created through the form (the server's 422s for a missing threshold and
// a private address shown next to those fields); its row shows the
// channel's host and "signed", never the secret; a test alert reaches a
// receiver on 127.0.0.1 (signed, with its id header) and its delivery
// appears; the rule is edited into another kind, muted, unmuted, snoozed
// and woken; a member reads it without controls, and an admin demoted
// while the page is open is told why a write is refused; the rule is
// deleted. Screenshots land in the test output folder (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import { openSession, closeSession, demoProject, screenshot, watchPage, axeSerious, tabThroughMain } from './harness.mjs';

const T = { timeout: 90e3 };
const SECRET = 'browser-test-secret';

let session, stack, page, token, project, receiver, hook;
const received = [];
const unexpected = [];
const allowed = new Set([422, 403]); // the form's refusals and the demoted admin's, provoked below
const problems = [];

const shot = (name, p = page) => screenshot(session.out, name, p);
const status = (p = page) => p.locator('#rules-title ~ .manage-status');
const ruleRow = (name, p = page) => p.locator('.alert-rules-table tr.alert-rule-row', { has: p.locator('.alert-name', { hasText: new RegExp(`^${name}$`) }) });

async function press(locator, key = 'Enter') {
  await locator.focus();
  await locator.page().keyboard.press(key);
}

async function typeInto(locator, text) {
  await locator.focus();
  await locator.page().keyboard.press('Control+A');
  await locator.page().keyboard.type(text);
}

let loads = 0;
/** Loads the project's rules page afresh (a new document, the tab's token kept). */
async function openRules(p = page) {
  await p.goto(`${stack.base}/?load=${++loads}#/projects/${project.id}/alerts`);
  await p.waitForSelector('.alert-rules-table, #rules-title ~ .manage-body .state-empty');
}

async function rules() {
  return (await stack.mustJson('GET', `/api/projects/${project.id}/alert-rules`, { token })).items;
}

before(async () => {
  receiver = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'Content-Length': '2' });
      res.end('ok');
    });
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hook = `http://127.0.0.1:${receiver.address().port}/hook/T000/B000/XXXX`;
  session = await openSession({ env: { AGORA_WEBHOOK_ALLOW: 'loopback', AGORA_WEBHOOK_ALLOW_HTTP: 'on' } });
  ({ stack, token, page } = session);
  watchPage(page, { problems, allowed, unexpected });
  project = await demoProject(stack, token);
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('.topbar');
});

after(async () => {
  await closeSession(session);
  if (receiver) await new Promise((resolve) => receiver.close(resolve));
});

test('the Alerts link leads to the project\'s rules, none yet', T, async () => {
  await press(page.locator('.topnav a', { hasText: 'Alerts' }));
  await page.waitForSelector('.alert-project-list a');
  assert.equal(await page.locator('.topnav a[aria-current=page]').textContent(), 'Alerts');
  await press(page.locator('.alert-project-list a', { hasText: /^demo$/ }));
  await page.waitForSelector('.alert-rules-table, #rules-title ~ .manage-body .state-empty');
  assert.equal(page.url().split('#')[1], `/projects/${project.id}/alerts`);
  assert.match(await page.locator('main').textContent(), /No alert rules yet/);
  assert.equal(await page.locator('#alert-new').count(), 1);
});

test('a rule is created through the form; the server\'s 422s are shown next to their fields', T, async () => {
  await press(page.locator('#alert-new'));
  await page.waitForSelector('#alert-form-title');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'alert-f-name');
  await page.keyboard.type('checkout failures');
  await page.locator('#alert-f-kind').selectOption('duration_above');
  assert.equal(await page.locator('#alert-f-threshold').isVisible(), true);
  assert.equal(await page.locator('#alert-f-error').isVisible(), false);
  await typeInto(page.locator('.alert-channel input.alert-url'), 'http://10.0.0.7/hook');
  await typeInto(page.locator('.alert-channel input[type=password]'), SECRET);
  // No threshold: the server names it.
  await press(page.locator('.alert-form button[type=submit]'));
  await page.waitForSelector('#alert-f-threshold-error:not([hidden])');
  assert.match(await page.locator('#alert-f-threshold-error').textContent(), /needs this field/);
  assert.equal(await page.locator('#alert-f-threshold').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'alert-f-threshold');

  // Another kind; the channel's private address is refused.
  await page.locator('#alert-f-kind').selectOption('execution_failed');
  await typeInto(page.locator('#alert-f-error'), 'timeout');
  await typeInto(page.locator('#alert-f-cooldown'), '30');
  await press(page.locator('.alert-form button[type=submit]'));
  const urlError = page.locator('.alert-channel .field-error:not([hidden])');
  await urlError.waitFor();
  assert.match(await urlError.textContent(), /private address/);
  assert.equal(await page.locator('#alert-f-threshold-error').isVisible(), false);
  assert.equal(await page.evaluate(() => document.activeElement.classList.contains('alert-url')), true);
  assert.match(await page.locator('.alert-form .manage-status').textContent(), /Not saved: Webhook URL: .*private address/);
  await page.locator('#alert-form-title').scrollIntoViewIfNeeded();
  await shot('alerts-422');
  assert.deepEqual(await rules(), []);

  await typeInto(page.locator('.alert-channel input.alert-url'), hook);
  await press(page.locator('.alert-form button[type=submit]'));
  await ruleRow('checkout failures').waitFor();
  assert.equal(await page.locator('#alert-form-title').count(), 0);
  assert.match(await status().textContent(), /was created/);
  const [r] = await rules();
  assert.equal(r.kind, 'execution_failed');
  assert.equal(r.error_contains, 'timeout');
  assert.equal(r.cooldown_minutes, 30);
  assert.equal(r.threshold, null);
  assert.equal(r.workflow_id, null);
  assert.deepEqual(r.channels.map((c) => [c.url, c.has_secret]), [[hook, true]]);
});

test('the rule\'s row shows its kind, conditions, channel host, "signed", state and last fired; never the secret', T, async () => {
  const row = ruleRow('checkout failures');
  const cells = await row.locator('th, td').allTextContents();
  assert.equal(cells[1], 'Run failed');
  assert.match(cells[2], /error contains "timeout"/);
  assert.match(cells[2], /cooldown 30 min/);
  assert.equal(cells[3], `127.0.0.1:${receiver.address().port}signed`);
  assert.equal(cells[4], 'active');
  await page.waitForFunction(() => document.querySelector('.alert-last-fired')?.textContent === 'never');
  const html = await page.content();
  assert.ok(!html.includes(SECRET));
  assert.ok(!html.includes('/hook/T000'));
});

test('a test alert reaches the receiver, signed, and its delivery appears', T, async () => {
  const row = ruleRow('checkout failures');
  await press(row.locator('button', { hasText: 'Send test' }));
  await page.waitForFunction(() => /queued for 1 channel/.test(document.querySelector('#rules-title ~ .manage-status')?.textContent));
  const delivered = page.locator('.alert-deliveries[open] .deliveries-table tr[data-status="delivered"]');
  await delivered.waitFor({ timeout: 30e3 });
  assert.equal(received.length, 1);
  const { headers, body } = received[0];
  const sig = Object.fromEntries(headers['x-agora-signature'].split(',').map((p) => p.split('=')));
  assert.equal(sig.v1, createHmac('sha256', SECRET).update(`${sig.t}.${body}`).digest('hex'));
  const payload = JSON.parse(body);
  assert.equal(payload.test, true);
  assert.equal(headers['x-agora-alert-id'], payload.id);
  const cells = await delivered.locator('td').allTextContents();
  assert.match(cells[1], /^test/);
  assert.equal(cells[3], 'delivered');
  assert.equal(cells[4], '1');
  assert.equal(cells[5], '200');
  assert.match(await page.locator('.alert-delivery-count').textContent(), /1 delivered/);
  assert.match(await page.locator('.alert-last-fired').textContent(), /^never \(test just now\)$/);
  await shot('alerts-delivered');
});

test('the rule is edited into another kind; its channel keeps its secret', T, async () => {
  await press(ruleRow('checkout failures').locator('button', { hasText: 'Edit' }));
  await page.waitForSelector('#alert-form-title');
  assert.equal(await page.locator('#alert-f-name').inputValue(), 'checkout failures');
  assert.equal(await page.locator('#alert-f-error').inputValue(), 'timeout');
  await typeInto(page.locator('#alert-f-name'), 'slow checkouts');
  await page.locator('#alert-f-kind').selectOption('duration_above');
  await typeInto(page.locator('#alert-f-threshold'), '5000');
  await shot('alerts-edit');
  await press(page.locator('.alert-form button[type=submit]'));
  await ruleRow('slow checkouts').waitFor();
  const [r] = await rules();
  assert.equal(r.kind, 'duration_above');
  assert.equal(r.threshold, 5000);
  assert.equal(r.error_contains, null);
  assert.equal(r.channels[0].has_secret, true);
  assert.match(await ruleRow('slow checkouts').locator('.alert-conditions').textContent(), /over 5,000 ms/);
});

test('the rule is muted, unmuted, snoozed for a day and woken', T, async () => {
  const row = ruleRow('slow checkouts');
  await press(row.locator('button', { hasText: /^Mute$/ }));
  await page.waitForSelector('tr.alert-rule-row[data-state="muted"]');
  assert.equal((await rules())[0].muted, true);
  assert.match(await status().textContent(), /is muted/);
  await shot('alerts-muted');
  await press(row.locator('button', { hasText: 'Unmute' }));
  await page.waitForSelector('tr.alert-rule-row[data-state="active"]');
  assert.equal((await rules())[0].muted, false);

  await row.locator('select.alert-snooze-for').selectOption('1440');
  await press(row.locator('button', { hasText: /^Snooze$/ }));
  await page.waitForSelector('tr.alert-rule-row[data-state="snoozed"]');
  const until = Date.parse((await rules())[0].snoozed_until);
  assert.ok(Math.abs(until - Date.now() - 86400e3) < 120e3, `snoozed until ${new Date(until).toISOString()}`);
  assert.match(await row.locator('.alert-state').textContent(), /^snoozed until \d{4}-\d\d-\d\d \d\d:\d\d$/);
  await press(row.locator('button', { hasText: 'End snooze' }));
  await page.waitForSelector('tr.alert-rule-row[data-state="active"]');
  assert.equal((await rules())[0].snoozed_until, null);
});

test('a member reads the rules without controls; an admin demoted meanwhile is told why a write is refused', T, async () => {
  const org = project.organization_id;
  const user = randomUUID();
  await stack.mustJson('POST', `/api/organizations/${org}/members`, { token, body: { user_id: user, role: 'admin' } });
  const other = await session.browser.context.newPage();
  try {
    watchPage(other, { problems, allowed, unexpected });
    await other.setViewportSize({ width: 1280, height: 900 });
    await other.goto(`${stack.base}/#token=${encodeURIComponent(stack.token(user))}`);
    await other.waitForSelector('.topbar');
    await openRules(other);
    const row = ruleRow('slow checkouts', other);
    await row.locator('button', { hasText: /^Mute$/ }).waitFor();

    await stack.mustJson('PATCH', `/api/organizations/${org}/members/${user}`, { token, body: { role: 'member' } });
    await press(row.locator('button', { hasText: /^Mute$/ }));
    await other.waitForSelector('#rules-title ~ .manage-status.status-fail');
    assert.match(await status(other).textContent(), /Only owners and admins of this organization change alert rules.*403/);
    assert.equal((await rules())[0].muted, false);
    await shot('alerts-refused', other);

    await other.reload();
    await row.waitFor();
    assert.equal(await other.locator('main .alert-rule-row button, main .alert-rule-row select').count(), 0);
    assert.equal(await other.locator('#alert-new').count(), 0);
    assert.match(await other.locator('.alert-intro').textContent(), /You are a member of this organization/);
    assert.match(await row.textContent(), /read only/);
    await press(other.locator('.alert-deliveries summary'));
    await other.locator('.deliveries-table tr[data-status="delivered"]').waitFor();
    await shot('alerts-member', other);
  } finally {
    await other.close();
    await stack.mustJson('DELETE', `/api/organizations/${org}/members/${user}`, { token }, [204]);
  }
});

test('every control of the page is reached by Tab, with the form open', T, async () => {
  await openRules();
  await press(page.locator('#alert-new'));
  await page.waitForSelector('#alert-form-title');
  await page.locator('.alert-deliveries summary').first().click();
  await page.waitForSelector('.deliveries-table');
  const { want, missed } = await tabThroughMain(page,
    'main button:not([disabled]), main input, main select, main a[href], main summary');
  assert.deepEqual(missed, []);
  assert.ok(want >= 15, `only ${want} controls`);
  // Every field of the form has a label.
  const unlabelled = await page.$$eval('.alert-form input, .alert-form select',
    (els) => els.filter((e) => !e.labels || e.labels.length === 0).map((e) => e.outerHTML.slice(0, 80)));
  assert.deepEqual(unlabelled, []);
  await shot('alerts-form-open');
});

test('accessibility: axe-core finds no serious problem on the rules page and its form', { timeout: 120e3 }, async () => {
  const serious = await axeSerious(page);
  assert.deepEqual(serious, [], JSON.stringify(serious, null, 1));
  await page.goto(`${stack.base}/#/alerts`);
  await page.waitForSelector('.alert-project-list a');
  assert.deepEqual(await axeSerious(page), []);
});

test('the rule is deleted, with its deliveries', T, async () => {
  await openRules();
  const row = ruleRow('slow checkouts');
  await press(page.locator('.alert-deliveries summary'));
  await page.waitForSelector('.deliveries-table');
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot('alerts-list');
  await press(row.locator('button', { hasText: 'Delete' }));
  await press(row.locator('button', { hasText: 'Confirm delete' }));
  await row.waitFor({ state: 'detached' });
  assert.match(await status().textContent(), /was deleted/);
  assert.deepEqual(await rules(), []);
  assert.match(await page.locator('main').textContent(), /No alert rules yet/);
});

test('nothing went wrong on the way', () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});
