// The management pages (README "Managing what you created") in a real
// headless Chromium against a real stack, driven from the keyboard: the
// demo user's organization lists its members and projects; a member is
// added, made admin and removed; demoting the last owner shows the
// server's reason; a project is created, renamed and deleted; a key is
// created, rotated (the old secret is refused, the new one works) and
// revoked; the audit log shows those changes; every control is reached by
// Tab. Screenshots land in the test output folder (printed at the start).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openSession, closeSession, demoProject, screenshot, watchPage, axeSerious, tabThroughMain } from './harness.mjs';

const T = { timeout: 90e3 };

let session, stack, page, token, org, me;
const unexpected = [];
const allowed = new Set([409]); // the last owner's refusal, provoked below
const problems = [];

const shot = (name) => screenshot(session.out, name, page);

/** Focuses el and activates it with the keyboard. */
async function press(locator, key = 'Enter') {
  await locator.focus();
  await page.keyboard.press(key);
}

async function typeInto(locator, text) {
  await locator.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
}

before(async () => {
  session = await openSession();
  ({ stack, token, page } = session);
  watchPage(page, { problems, allowed, unexpected });
  const project = await demoProject(stack, token);
  org = project.organization_id;
  me = stack.demoUser();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${stack.base}/#token=${encodeURIComponent(token)}`);
  await page.waitForSelector('.topbar');
});

after(() => closeSession(session));

test('the organizations page links to the organization, which lists members and projects', T, async () => {
  await press(page.locator('.topnav a', { hasText: 'Organizations' }));
  await page.waitForSelector('.org-list a');
  await shot('manage-organizations');
  await press(page.locator('.org-list a').first());
  await page.waitForSelector('.members-table tbody tr');
  await page.waitForSelector('.projects-table tbody tr');
  assert.deepEqual(await page.$$eval('.members-table tbody tr', (rows) => rows.map((r) => r.dataset.user)), [me]);
  assert.ok((await page.$$eval('.projects-table .project-name', (els) => els.map((e) => e.textContent))).includes('demo'));
  assert.equal(await page.locator('.manage-page .section-title').allTextContents().then((t) => t.join('|')),
    'Members|Projects|Audit log');
  await shot('manage-organization');
});

test('a member is added, made admin and removed; the last owner stays', T, async () => {
  await page.goto(`${stack.base}/#/organizations/${org}`);
  await page.waitForSelector('#member-add-user');
  const user = randomUUID();
  await typeInto(page.locator('#member-add-user'), user);
  await page.locator('#member-add-role').selectOption('viewer');
  await press(page.locator('form[aria-label="Add a member"] button[type=submit]'));
  const row = page.locator(`.members-table tr[data-user="${user}"]`);
  await row.waitFor();
  await row.locator('select').selectOption('admin');
  await press(row.locator('button', { hasText: 'Save role' }));
  await page.waitForFunction((u) => document.querySelector(`tr[data-user="${u}"] select`)?.value === 'admin'
    && document.querySelector('#members-title ~ .manage-status')?.textContent.includes('admin'), user);
  const members = await stack.mustJson('GET', `/api/organizations/${org}/members`, { token });
  assert.equal(members.items.find((m) => m.user_id === user).role, 'admin');

  // Demoting the only owner: the server's 409 message is shown.
  const mine = page.locator(`.members-table tr[data-user="${me}"]`);
  await mine.locator('select').selectOption('viewer');
  await press(mine.locator('button', { hasText: 'Save role' }));
  await page.waitForSelector('.manage-status.status-fail');
  assert.match(await page.locator('.manage-status.status-fail').textContent(), /last owner/);
  await shot('manage-last-owner');

  await press(row.locator('button', { hasText: 'Remove' }));
  await press(row.locator('button', { hasText: 'Confirm remove' }));
  await row.waitFor({ state: 'detached' });
  const after = await stack.mustJson('GET', `/api/organizations/${org}/members`, { token });
  assert.deepEqual(after.items.map((m) => m.user_id), [me]);
});

test('a project is created, renamed and deleted', T, async () => {
  await page.goto(`${stack.base}/#/organizations/${org}`);
  await page.waitForSelector('#project-create-name');
  await typeInto(page.locator('#project-create-name'), 'scratch');
  await page.keyboard.press('Enter');
  const row = page.locator('.projects-table tr', { has: page.locator('.project-name', { hasText: /^scratch$/ }) });
  await row.waitFor();
  const id = await row.getAttribute('data-project');
  await typeInto(row.locator('input'), 'scratch-renamed');
  await page.keyboard.press('Enter');
  const renamed = page.locator(`.projects-table tr[data-project="${id}"] .project-name`);
  await page.waitForFunction((pid) => document.querySelector(`tr[data-project="${pid}"] .project-name`)?.textContent
    === 'scratch-renamed', id);
  assert.equal(await renamed.textContent(), 'scratch-renamed');
  const del = page.locator(`.projects-table tr[data-project="${id}"] button`, { hasText: 'Delete' });
  await press(del);
  await shot('manage-confirm-delete');
  await press(page.locator(`.projects-table tr[data-project="${id}"] button`, { hasText: 'Confirm delete' }));
  await page.locator(`.projects-table tr[data-project="${id}"]`).waitFor({ state: 'detached' });
  const left = await stack.mustJson('GET', `/api/projects?organization_id=${org}`, { token });
  assert.ok(!left.items.some((p) => p.id === id));
});

test('a key is created, rotated and revoked, each secret shown once', T, async () => {
  const project = await demoProject(stack, token);
  await page.goto(`${stack.base}/#/organizations/${org}`);
  await press(page.locator(`.projects-table tr[data-project="${project.id}"] a`, { hasText: 'API keys' }));
  await page.waitForSelector('#key-create-name');
  await typeInto(page.locator('#key-create-name'), 'browser-ci');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#key-secret');
  const first = await page.locator('#key-secret').inputValue();
  assert.match(first, /^agk_[0-9a-f]{96}$/);
  assert.equal(await page.evaluate(() => document.activeElement.id), 'key-secret');
  assert.equal((await stack.request('GET', '/api/projects', { token: first })).status, 200);

  const row = page.locator('.keys-table tr', { hasText: 'browser-ci' });
  await press(row.locator('button', { hasText: 'Rotate' }));
  await press(row.locator('button', { hasText: 'Confirm rotate' }));
  await page.waitForFunction((old) => {
    const v = document.querySelector('#key-secret')?.value;
    return v && v !== old;
  }, first);
  const second = await page.locator('#key-secret').inputValue();
  assert.match(second, /^agk_[0-9a-f]{96}$/);
  assert.equal(second.slice(0, 36), first.slice(0, 36)); // the same key id
  assert.equal((await stack.request('GET', '/api/projects', { token: first })).status, 401);
  assert.equal((await stack.request('GET', '/api/projects', { token: second })).status, 200);
  assert.notEqual(await row.locator('td').nth(4).textContent(), 'never');
  await shot('manage-keys-rotated');

  await press(row.locator('button', { hasText: 'Revoke' }));
  await press(row.locator('button', { hasText: 'Confirm revoke' }));
  await page.waitForFunction(() => [...document.querySelectorAll('.keys-table tr')]
    .some((r) => r.textContent.includes('browser-ci') && r.querySelector('.key-state').textContent.startsWith('revoked')));
  assert.equal((await stack.request('GET', '/api/projects', { token: second })).status, 401);
  // Leaving the page forgets the secret.
  await page.goto(`${stack.base}/#/organizations/${org}`);
  await page.waitForSelector('.projects-table');
  await page.goBack();
  await page.waitForSelector('.keys-table');
  assert.equal(await page.locator('#key-secret').count(), 0);
  assert.ok(!(await page.content()).includes(second.slice(36)));
});

test('the audit log shows the changes, newest first', T, async () => {
  await page.goto(`${stack.base}/#/organizations/${org}`);
  await page.waitForSelector('.audit-table tbody tr');
  const actions = await page.$$eval('.audit-table tbody tr', (rows) => rows.map((r) => r.dataset.action));
  assert.deepEqual(actions.slice(0, 9), ['api_key.revoke', 'api_key.rotate', 'api_key.create', 'project.delete',
    'project.rename', 'project.create', 'member.remove', 'member.role', 'member.add']);
  await page.locator('#audit-title').scrollIntoViewIfNeeded();
  await shot('manage-audit-log');
});

test('every control of the organization page is reached by Tab', T, async () => {
  await page.goto(`${stack.base}/#/organizations/${org}`);
  await page.waitForSelector('.audit-table tbody tr');
  await page.waitForSelector('.projects-table tbody tr');
  const { want, missed } = await tabThroughMain(page);
  assert.deepEqual(missed, []);
  assert.ok(want >= 8, `only ${want} controls`);
});

test('accessibility: axe-core finds no serious problem on the organization and keys pages', { timeout: 120e3 }, async () => {
  const check = async (what) => {
    const serious = await axeSerious(page);
    assert.deepEqual(serious, [], `${what}: ${JSON.stringify(serious, null, 1)}`);
  };
  await page.goto(`${stack.base}/#/organizations/${org}`);
  await page.waitForSelector('.audit-table tbody tr');
  await check('organization');
  const project = await demoProject(stack, token);
  await page.goto(`${stack.base}/#/projects/${project.id}/keys`);
  await page.waitForSelector('.keys-table');
  await check('keys');
});

test('nothing went wrong on the way', () => {
  assert.deepEqual(problems, []);
  assert.deepEqual(unexpected, []);
});
