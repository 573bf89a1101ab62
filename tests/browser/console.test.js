// The console in headless Chromium, against a running provisioner that
// tests/e2e/console.rs set up: CONSOLE_URL, CONSOLE_TOKEN, SCREENSHOT_DIR.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const URL = process.env.CONSOLE_URL;
const TOKEN = process.env.CONSOLE_TOKEN;
const SHOTS = process.env.SCREENSHOT_DIR ?? 'target/screenshots';
const WAIT = 15_000;
const SCIM = 'SCIM 2.0 application';

let browser;

before(async () => {
  assert.ok(URL && TOKEN, 'CONSOLE_URL and CONSOLE_TOKEN are set by tests/e2e/console.rs');
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // playwright gives every launch a fresh --user-data-dir of its own.
  });
});

after(async () => {
  await browser?.close();
});

// A page already signed in (the token in sessionStorage, as after pasting it once).
async function signedIn(hash = '') {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  await context.addInitScript((t) => sessionStorage.setItem('provisioner.token', t), TOKEN);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(`${URL}/${hash}`);
  await page.getByRole('link', { name: 'Services' }).waitFor();
  return page;
}

const shot = (page, name) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Holds back the first GET of `path` whose query matches, so that it answers after a
// later one, as it can on a slow network. `answered()` resolves once the page has had the
// late answer, and fails if no such request came.
async function holdBack(page, path, matches) {
  let release;
  const done = new Promise((resolve) => { release = resolve; });
  let held = false;
  await page.route((url) => url.pathname === path, async (route) => {
    const query = new globalThis.URL(route.request().url()).searchParams;
    if (held || route.request().method() !== 'GET' || !matches(query)) return route.continue();
    held = true;
    await pause(1_500);
    await route.fulfill({ response: await route.fetch() });
    await pause(200);
    release(true);
  });
  return {
    answered: async () => {
      const timer = setTimeout(() => release(false), WAIT);
      const came = await done;
      clearTimeout(timer);
      assert.ok(came, `no request to ${path} was held back`);
    },
  };
}

async function fillAccount(page, { user, email, given, family }) {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill(family);
}

test('a pasted token signs in and the services show which can provision', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT);
  await page.goto(`${URL}/`);
  await page.getByLabel('API token').fill('not-a-token');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('This token is unknown or revoked.').waitFor();
  await page.getByLabel('API token').fill(TOKEN);
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { name: 'Services' }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('provisioner.token')), TOKEN);
  // Add Account only on services that can provision.
  await page.getByRole('link', { name: `Add Account to ${SCIM}` }).waitFor();
  assert.equal(await page.getByRole('link', { name: 'Add Account to Salesforce' }).count(), 0);
  const broken = page.locator('#integrations tr', { hasText: 'broken' });
  await broken.getByText('Error').waitFor();
  assert.match(await broken.locator('.cause').textContent(), /\S/);
  await page.getByRole('link', { name: 'Operators' }).waitFor();
  await shot(page, '01-services');
  await context.close();
});

test('an account is added from a service through to the success screen', async () => {
  const page = await signedIn();
  await page.getByRole('link', { name: `Add Account to ${SCIM}` }).click();
  await page.getByRole('heading', { name: `Add Account — ${SCIM}` }).waitFor();
  await page.getByLabel('Workspace').selectOption({ label: 'acme' });
  // A required field left empty: the API's error shows next to it.
  await page.getByLabel('Email').fill('linus@example.com');
  await page.getByRole('button', { name: 'Add Service' }).click();
  const userError = page.locator('#f-account-user_name-error');
  await userError.waitFor();
  assert.match(await userError.textContent(), /user_name/);
  assert.equal(await page.getByLabel('User name').getAttribute('aria-invalid'), 'true');
  await shot(page, '02-field-errors');

  await fillAccount(page, { user: 'linus', email: 'linus@example.com', given: 'Linus', family: 'Torvalds' });
  await page.getByRole('button', { name: 'Add Service' }).click();
  const success = page.locator('.result.success');
  await success.getByText('Account created').waitFor();
  assert.match(await success.locator('.account-id').textContent(), /\S/);
  assert.equal(await page.locator('[aria-live="polite"] .result').count(), 1);
  await shot(page, '03-account-created');
  await page.context().close();
});

test('a service is added to an existing employee, pre-filled from the record', async () => {
  const page = await signedIn('#/services');
  await page.getByRole('link', { name: 'Add service to employee' }).click();
  await page.getByLabel('Employee').selectOption({ label: 'Hopper Grace <grace@example.com>' });
  await page.getByLabel('Service').selectOption({ label: SCIM });
  await page.getByLabel('Workspace').selectOption({ label: 'acme' });
  assert.equal(await page.getByLabel('User name').inputValue(), 'grace@example.com');
  assert.equal(await page.getByLabel('Family name').inputValue(), 'Hopper');
  await page.getByRole('button', { name: 'Add Service' }).click();
  await page.locator('.result.success').getByText('Account created').waitFor();
  await shot(page, '04-service-added-to-employee');
  await page.context().close();
});

test('an integration in error shows the re-integrate cause', async () => {
  const page = await signedIn('#/add?service=scim');
  await page.getByLabel('Workspace').selectOption({ label: 'broken (integration error)' });
  await page.locator('#workspace-note').getByText('This integration is in error').waitFor();
  await fillAccount(page, { user: 'mallory', email: 'mallory@example.com', given: 'Mal', family: 'Lory' });
  await page.getByRole('button', { name: 'Add Service' }).click();
  const failure = page.locator('.result.failure');
  await failure.getByText('Account not created').waitFor();
  assert.match(await failure.locator('.cause').textContent(), /re-integrate/);
  await shot(page, '05-integration-in-error');
  await page.context().close();
});

test('a SaaS validation failure shows the service\'s own cause', async () => {
  const page = await signedIn('#/add?service=scim');
  await page.getByLabel('Workspace').selectOption({ label: 'acme' });
  await fillAccount(page, { user: 'ada lovelace', email: 'ada@example.com', given: 'Ada', family: 'Lovelace' });
  await page.getByRole('button', { name: 'Add Service' }).click();
  const failure = page.locator('.result.failure');
  await failure.getByText('Account not created').waitFor();
  assert.match(await failure.locator('.cause').textContent(), /ada lovelace/);
  await shot(page, '06-saas-refused');
  await page.context().close();
});

test('the log filtered by action Create shows the new entries and exports them', async () => {
  const page = await signedIn();
  // The unfiltered first page is held back so that it answers after the filtered one,
  // as it can on a slow network; it must not be added to the filtered rows.
  const unfiltered = await holdBack(page, '/v1/integration-log', (q) => !q.has('action'));
  await page.getByRole('link', { name: 'Integration log' }).click();
  await page.getByLabel('Action').selectOption({ label: 'Create' });
  await page.getByLabel('Status').selectOption({ label: 'Success' });
  await page.getByRole('button', { name: 'Apply filters' }).click();
  const rows = page.locator('#log tbody tr');
  await rows.filter({ hasText: 'linus' }).waitFor();
  await rows.filter({ hasText: 'grace@example.com' }).waitFor();
  await unfiltered.answered();
  assert.equal(await rows.filter({ hasText: 'failure' }).count(), 0);
  await shot(page, '07-log-create');
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export JSON' }).click(),
  ]);
  const exported = JSON.parse(readFileSync(await download.path(), 'utf8'));
  assert.equal(exported.length, await rows.count());
  assert.ok(exported.every((e) => e.action === 'create' && e.status === 'success'));
  const [csv] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const lines = readFileSync(await csv.path(), 'utf8').trim().split(/\r\n/);
  assert.equal(lines[0].split(',')[0], 'at');
  assert.equal(lines.length, exported.length + 1);
  await page.context().close();
});

test('an operator replays a rejected request', async () => {
  const page = await signedIn();
  const failed = await holdBack(page, '/v1/provisioning-requests', (q) => q.get('state') === 'failed');
  await page.getByRole('link', { name: 'Operators' }).click();
  await page.getByLabel('State').selectOption({ label: 'Rejected' });
  await page.getByRole('button', { name: 'Show' }).click();
  const row = page.locator('#ops tbody tr', { hasText: 'ops-user' });
  await row.waitFor();
  await failed.answered();
  assert.equal(await row.count(), 1, 'the earlier answer (failed requests) must not replace the rejected ones');
  assert.match(await row.locator('.cause').textContent(), /re-integrate/);
  await shot(page, '08-operators');
  await row.getByRole('button', { name: 'Replay ops-user' }).click();
  await page.locator('#ops-status').getByText('Replayed ops-user').waitFor();
  await shot(page, '09-replayed');
  await page.context().close();
});
