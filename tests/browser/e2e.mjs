// End-to-end test of Keikai's web interface in a real headless Chromium: sign in, see the
// dashboard, build a vendor → product → version branch in the product catalogue, switch the
// language to Japanese, and save a screenshot; then, as a reporter without an account, send a
// report with a file and follow the tracking link to its status.
//
// Environment:
//   KEIKAI_BIN           the keikai binary (default ../../target/debug/keikai from this file)
//   KEIKAI_DATABASE_URL  passed through to the server (PostgreSQL); SQLite in a temp dir if unset
//   CHROMIUM             the browser (default /usr/bin/chromium, Debian's package)
//   KEIKAI_SCREENSHOT    where to save the full-page screenshot (default: a temporary file)
//
// Exits 0 on success; on any failure prints what failed, the page's state and the server's
// output, and exits 1. The server and the browser are always stopped.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const KEIKAI_BIN = process.env.KEIKAI_BIN || resolve(here, '../../target/debug/keikai');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT =
  process.env.KEIKAI_SCREENSHOT || join(tmpdir(), `keikai-e2e-${process.pid}-${Date.now()}.png`);
const ADMIN_EMAIL = 'admin@keikai.local';
const ADMIN_PASSWORD = 'e2e browser test password';
const OVERALL_TIMEOUT_MS = 60_000;
const STEP_TIMEOUT_MS = 15_000;

// Chromium's own background traffic (updates, sync, field trials, QUIC probes) is turned off:
// the test must not need the network, and CI machines may have none.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-field-trial-config',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-quic',
  '--metrics-recording-only',
  '--no-pings',
];

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);

class TestFailure extends Error {}
/// A failure whose message already lists everything the browser reported.
class BrowserProblems extends TestFailure {}
const fail = (msg) => {
  throw new TestFailure(msg);
};

// ------------------------------------------------------------------ server

const dataDir = mkdtempSync(join(tmpdir(), 'keikai-e2e-'));
let server = null;
let serverOutput = '';

function startServer() {
  // The administrator's address is set explicitly so that the test does not depend on the
  // built-in default; everything else comes from flags, which win over any KEIKAI_* variable.
  const config = join(dataDir, 'keikai.toml');
  writeFileSync(config, `admin_email = "${ADMIN_EMAIL}"\n`);
  // Of the caller's KEIKAI_* variables only the database is passed on: others (a config file,
  // a listen address) would change what is tested.
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('KEIKAI_') || k === 'KEIKAI_DATABASE_URL'),
  );
  env.KEIKAI_ADMIN_PASSWORD = ADMIN_PASSWORD;
  log(`starting ${KEIKAI_BIN} (${env.KEIKAI_DATABASE_URL ? 'PostgreSQL' : 'SQLite'})`);
  server = spawn(
    KEIKAI_BIN,
    ['--config', config, 'serve', '--listen', '127.0.0.1:0', '--data-dir', join(dataDir, 'data')],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolveUrl, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new TestFailure('the server did not print its URL within 20 s')), 20_000);
    server.on('error', (e) => {
      clearTimeout(timer);
      reject(new TestFailure(`cannot start ${KEIKAI_BIN}: ${e.message}`));
    });
    server.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new TestFailure(`the server exited early (code ${code}, signal ${signal})`));
    });
    server.stderr.on('data', (d) => {
      serverOutput += d;
    });
    server.stdout.on('data', (d) => {
      serverOutput += d;
      stdout += d;
      const m = /Keikai is listening on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolveUrl(m[1]);
      }
    });
  });
}

async function stopServer() {
  if (!server || server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGTERM');
  const timer = setTimeout(() => server.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

// A last resort if the script dies some other way: never leave the server running.
process.on('exit', () => {
  if (server && server.exitCode === null && server.signalCode === null) server.kill('SIGKILL');
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    console.error(`e2e: interrupted by ${sig}`);
    process.exit(130);
  });
}

// ------------------------------------------------------------------ browser helpers

let browser = null;
let page = null;
const browserProblems = [];
// A console error that the current step provokes on purpose (a form answered with 422).
let expectedConsoleError = null;

function watchPage(p) {
  p.on('console', (msg) => {
    if (msg.type() === 'error') {
      if (expectedConsoleError?.test(msg.text())) {
        expectedConsoleError = null;
        return;
      }
      const loc = msg.location();
      browserProblems.push(`console error: ${msg.text()}${loc.url ? ` (${loc.url}:${loc.lineNumber})` : ''}`);
    }
  });
  p.on('pageerror', (e) => browserProblems.push(`uncaught exception: ${e.message}`));
  p.on('requestfailed', (req) =>
    browserProblems.push(`request failed: ${req.method()} ${req.url()}: ${req.failure()?.errorText}`),
  );
}

/// Fails with `what` unless the browser stayed quiet so far (checked after every step).
function assertNoBrowserProblems(what) {
  if (browserProblems.length > 0) {
    throw new BrowserProblems(`${what}: the browser reported problems:\n  ${browserProblems.join('\n  ')}`);
  }
}

async function expectText(locator, expected, what) {
  try {
    await locator.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  } catch {
    fail(`${what}: ${locator} did not appear`);
  }
  const text = (await locator.innerText()).trim();
  if (text !== expected) fail(`${what}: expected "${expected}", found "${text}"`);
}

async function expectPath(path, what) {
  try {
    await page.waitForURL((u) => u.pathname === path, { timeout: STEP_TIMEOUT_MS });
  } catch {
    fail(`${what}: expected to be at ${path}, but the browser is at ${page.url()}`);
  }
}

const escapeRe = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/// The catalogue's row whose name cell is exactly `name`.
const rowNamed = (name) =>
  page
    .locator('#product-tree tr[data-branch]')
    .filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^\\s*${escapeRe(name)}\\s*$`) }) });

/// Creates a branch through the form and waits until its row is in the table.
async function createBranch({ parent, category, name }) {
  const form = page.locator('#add-branch');
  if (parent === null) {
    const first = form.locator('#parent_id option').first();
    const label = await first.innerText();
    if ((await first.getAttribute('value')) !== '' || !/none/i.test(label)) {
      fail(`the parent select's first option should be "none" (a vendor), found "${label}"`);
    }
    await form.locator('#parent_id').selectOption({ index: 0 });
  } else {
    const parentId = await rowNamed(parent).getAttribute('data-branch', { timeout: STEP_TIMEOUT_MS });
    await form.locator('#parent_id').selectOption(parentId);
  }
  await form.locator('#category').selectOption(category);
  await form.locator('#name').fill(name);
  await form.locator('#create-branch').click();
  try {
    await rowNamed(name).waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  } catch {
    const error = await page.locator('main .error').allInnerTexts();
    fail(`creating ${category} "${name}": no row appeared in #product-tree${error.length ? ` (page says: ${error.join(' ')})` : ''}`);
  }
  assertNoBrowserProblems(`creating ${category} "${name}"`);
  log(`created ${category} "${name}"`);
}

async function rowCells(name) {
  const row = rowNamed(name);
  if ((await row.count()) !== 1) fail(`expected one row named "${name}", found ${await row.count()}`);
  const cells = row.locator('td');
  return {
    name: (await cells.nth(0).innerText()).trim(),
    depthClass: (await cells.nth(0).getAttribute('class')) ?? '',
    category: (await cells.nth(1).innerText()).trim(),
    productId: (await cells.nth(2).innerText()).trim(),
  };
}

/// Polls `check` (which answers true, or what it saw instead) until it is satisfied.
async function waitUntil(what, check) {
  const deadline = Date.now() + STEP_TIMEOUT_MS;
  for (;;) {
    const seen = await check();
    if (seen === true) return;
    if (Date.now() > deadline) fail(`${what}: ${seen}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/// Picks a value in a CVSS calculator by clicking its label, and waits until the server's
/// answer has replaced the component (its vector then names the pick).
async function pickMetric(calc, metric, value) {
  await page.locator(`label[for="${calc}-${metric}-${value}"]`).click();
  const field = page.locator(`#${calc}-vector`);
  await waitUntil(`picking ${metric}:${value} in #${calc}`, async () => {
    const v = await field.inputValue();
    return v.split('/').includes(`${metric}:${value}`) || `the vector is "${v}"`;
  });
}

/// The score and severity a calculator shows in its result row of `kind`.
async function cvssResult(calc, kind) {
  const row = page.locator(`#${calc} .cvss-row[data-kind="${kind}"]`);
  if ((await row.count()) !== 1) return null;
  return `${(await row.locator('.cvss-score').innerText()).trim()} ${(await row.locator('.cvss-severity').innerText()).trim()}`;
}

// ------------------------------------------------------------------ the test

async function run() {
  const base = await startServer();
  log(`server at ${base}`);

  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 20_000 });
  log(`browser: Chromium ${browser.version()}`);
  // English first, whatever the machine's locale; the test switches to Japanese itself.
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  page = await context.newPage();
  watchPage(page);

  // 1. Signed out, the dashboard sends us to the login page.
  await page.goto(`${base}/`);
  await expectPath('/login', 'visiting / signed out');
  assertNoBrowserProblems('the login page');
  log('redirected to the login page');

  // 2. Sign in.
  await page.locator('#email').fill(ADMIN_EMAIL);
  await page.locator('#password').fill(ADMIN_PASSWORD);
  await page.locator('#login').click();
  await expectPath('/', 'after signing in');
  await expectText(page.locator('main h1'), 'Dashboard', 'after signing in');
  assertNoBrowserProblems('signing in');
  log('signed in, dashboard shown');

  // 3. To the catalogue through the header's navigation (a boosted link).
  await page.locator('header nav a[href="/products"]').click();
  await expectPath('/products', 'following the Products link');
  await expectText(page.locator('main h1'), 'Product catalogue', 'the products page');
  assertNoBrowserProblems('opening the products page');
  log('products page shown');

  // 4. Vendor → product name → product version, each chosen as the parent of the next.
  await createBranch({ parent: null, category: 'vendor', name: 'Example Corp' });
  await createBranch({ parent: 'Example Corp', category: 'product_name', name: 'Router X' });
  await createBranch({ parent: 'Router X', category: 'product_version', name: '1.0' });

  const vendor = await rowCells('Example Corp');
  const product = await rowCells('Router X');
  const version = await rowCells('1.0');
  const problems = [];
  const expectRow = (row, category, depth) => {
    if (row.category !== category) problems.push(`"${row.name}": category "${row.category}", expected "${category}"`);
    if (!row.depthClass.split(/\s+/).includes(`depth-${depth}`)) {
      problems.push(`"${row.name}": class "${row.depthClass}", expected depth-${depth}`);
    }
  };
  expectRow(vendor, 'vendor', 0);
  expectRow(product, 'product_name', 1);
  expectRow(version, 'product_version', 2);
  if (!version.productId.startsWith('KEIKAI-')) {
    problems.push(`leaf "1.0": product id "${version.productId}" does not start with KEIKAI-`);
  }
  // In CSAF a branch carries either sub-branches or a product, never both.
  for (const inner of [vendor, product]) {
    if (inner.productId !== '') problems.push(`"${inner.name}" has children but shows product id "${inner.productId}"`);
  }
  const order = await page.locator('#product-tree tr[data-branch] td:first-child').allInnerTexts();
  if (order.map((s) => s.trim()).join(' > ') !== 'Example Corp > Router X > 1.0') {
    problems.push(`rows in order ${JSON.stringify(order)}, expected the tree's walk order`);
  }
  if (problems.length > 0) fail(`the product tree is wrong:\n  ${problems.join('\n  ')}`);
  log(`product tree ok, leaf product id ${version.productId}`);

  // 5. A branch the server refuses (a version cannot be at the top): the answer is a 422 page
  // with the message, which a boosted form must show rather than silently drop.
  expectedConsoleError = /status of 422/;
  await page.locator('#parent_id').selectOption({ index: 0 });
  await page.locator('#category').selectOption('product_version');
  await page.locator('#name').fill('orphan');
  await page.locator('#create-branch').click();
  const refusal = page.locator('main [role="alert"]');
  try {
    await refusal.waitFor({ state: 'visible', timeout: STEP_TIMEOUT_MS });
  } catch {
    fail('a refused branch (product_version at the top) showed no error message on the page');
  }
  const refusalText = (await refusal.innerText()).trim();
  if (refusalText === '') fail('a refused branch showed an empty error message');
  if ((await rowNamed('orphan').count()) !== 0) fail('a refused branch appeared in the catalogue');
  if ((await rowNamed('1.0').count()) !== 1) fail('after a refused branch, the catalogue lost its rows');
  if (expectedConsoleError !== null) fail('the refused branch was not answered with HTTP 422');
  assertNoBrowserProblems('a refused branch');
  log(`refused branch shows: "${refusalText}"`);

  // 5b. The CVSS calculator: every radio asks the server (htmx) and the score follows; a typed
  // vector moves the radios; an invalid one is named. Scores are FIRST's for these vectors.
  await page.locator('header nav a[href="/cvss"]').click();
  await expectPath('/cvss', 'following the CVSS calculator link');
  await expectText(page.locator('main h1'), 'CVSS calculator', 'the CVSS calculator');
  await expectText(page.locator('#cvss-v3 .cvss-prompt'), 'Pick a value for every base metric, or paste a vector.', 'a blank calculator');
  for (const [metric, value] of [['AV', 'N'], ['AC', 'L'], ['PR', 'N'], ['UI', 'N'], ['S', 'U'], ['C', 'H'], ['I', 'H'], ['A', 'H']]) {
    await pickMetric('cvss-v3', metric, value);
  }
  await waitUntil('the CVSS 3.1 score after picking every base metric', async () => {
    const r = await cvssResult('cvss-v3', 'base');
    return r === '9.8 Critical' || `the result shows ${r}`;
  });
  const v3Vector = await page.locator('#cvss-v3-vector').inputValue();
  if (v3Vector !== 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H') fail(`the CVSS 3.1 vector is "${v3Vector}"`);
  // With scope changed, FIRST gives 10.0 (a different formula, capped at 10).
  await pickMetric('cvss-v3', 'S', 'C');
  await waitUntil('the CVSS 3.1 score with scope changed', async () => {
    const r = await cvssResult('cvss-v3', 'base');
    return r === '10.0 Critical' || `the result shows ${r}`;
  });
  await page.locator('#cvss-v4-vector').fill('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N');
  await waitUntil('the CVSS 4.0 score of a typed vector', async () => {
    const r = await cvssResult('cvss-v4', 'score');
    return r === '9.3 Critical' || `the result shows ${r}`;
  });
  for (const id of ['AV-N', 'AT-N', 'VC-H', 'SA-N']) {
    if (!(await page.locator(`#cvss-v4-${id}`).isChecked())) fail(`after typing the vector, the radio ${id} is not checked`);
  }
  await page.locator('#cvss-v3-vector').fill('CVSS:3.1/AV:Q/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H');
  const cvssError = page.locator('#cvss-v3 .cvss-error');
  await waitUntil('an invalid vector', async () => {
    if ((await cvssError.count()) === 0) return 'no error shown';
    const t = await cvssError.innerText();
    return t.includes('metric AV has invalid value') || `the error says "${t}"`;
  });
  if (!(await page.locator('#cvss-v3-AC-L').isChecked())) fail('after a broken vector, the radios lost its readable metrics');
  assertNoBrowserProblems('the CVSS calculator');
  log('CVSS calculator scores 9.8, 10.0 and 9.3 and names a bad metric');
  await page.locator('header nav a[href="/products"]').click();
  await expectPath('/products', 'back to the products page');

  // 6. Switch to Japanese with the header's select (it submits itself on change).
  await page.locator('header select[name="locale"]').selectOption('ja');
  await expectText(page.locator('main h1'), '製品カタログ', 'after switching to Japanese');
  await expectPath('/products', 'after switching to Japanese');
  const lang = await page.evaluate(() => document.documentElement.lang);
  if (lang !== 'ja') fail(`after switching to Japanese, <html lang> is "${lang}", expected "ja"`);
  if ((await rowNamed('1.0').count()) !== 1) fail('after switching to Japanese, the catalogue lost its rows');
  assertNoBrowserProblems('switching the language');
  log('switched to Japanese');

  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`screenshot: ${SCREENSHOT}`);

  // 7. A reporter without an account, in a browser of their own: the public form (with a
  // file), the page with the tracking link, and the tracking page showing the status.
  const reporter = await browser.newContext({ locale: 'en-US', viewport: { width: 1200, height: 800 } });
  reporter.setDefaultTimeout(STEP_TIMEOUT_MS);
  page = await reporter.newPage();
  watchPage(page);
  await page.goto(`${base}/report`);
  await expectText(page.locator('main h1'), 'Report a vulnerability', 'the report form');
  if ((await page.locator('#branch_id').count()) !== 0) fail('an anonymous visitor is offered the product catalogue');
  await page.locator('#title').fill('Login bypass in Router X');
  await page.locator('#product').fill('Router X');
  await page.locator('#version').fill('1.0');
  // Markup in a field must come back as text (an executed script would also break the CSP).
  await page.locator('#description').fill('The admin page <script>alert(1)</script> skips the session check.');
  await page.locator('#attachments').setInputFiles({
    name: 'poc.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('GET /admin HTTP/1.1\r\n'),
  });
  await page.locator('#submit-report').click();
  await expectText(page.locator('main h1'), 'Thank you for your report', 'after sending the report');
  const trackingUrl = (await page.locator('#tracking-url').innerText()).trim();
  if (!/\/track\/[A-Za-z0-9_-]{43}$/.test(trackingUrl)) fail(`the tracking URL looks wrong: "${trackingUrl}"`);
  assertNoBrowserProblems('sending a report');
  log('report sent, tracking link shown');

  await page.locator('#tracking-link').click();
  try {
    await page.waitForURL((u) => u.pathname.startsWith('/track/'), { timeout: STEP_TIMEOUT_MS });
  } catch {
    fail(`following the tracking link: the browser is at ${page.url()}`);
  }
  await expectText(page.locator('#report-title'), 'Login bypass in Router X', 'the tracking page');
  await expectText(page.locator('#state'), 'Received: our security team will look at it soon.', 'the tracking page');
  const description = await page.locator('#report').innerText();
  if (!description.includes('<script>alert(1)</script>')) fail('the description is not shown as the reporter typed it');
  if ((await page.locator('#conversation a[download]', { hasText: 'poc.txt' }).count()) !== 1) {
    fail('the attached poc.txt is not offered on the tracking page');
  }
  assertNoBrowserProblems('the tracking page');
  log('tracking page shows the status and the file');
  assertNoBrowserProblems('the end of the test');
}

async function main() {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new TestFailure(`timed out after ${OVERALL_TIMEOUT_MS / 1000} s`)),
      OVERALL_TIMEOUT_MS,
    );
  });
  const test = run();
  test.catch(() => {}); // after a timeout its rejection is expected and ignored
  let code = 0;
  try {
    await Promise.race([test, timeout]);
    log('PASS');
  } catch (e) {
    code = 1;
    console.error(`\ne2e: FAIL: ${e instanceof TestFailure ? e.message : e?.stack || e}`);
    if (!(e instanceof BrowserProblems)) {
      for (const p of browserProblems) console.error(`  browser: ${p}`);
    }
    if (page) {
      try {
        console.error(`  page: ${page.url()}`);
        const main = await page.locator('main').innerText({ timeout: 2_000 });
        console.error(`  page text:\n    ${main.trim().split('\n').join('\n    ')}`);
        await page.screenshot({ path: SCREENSHOT, fullPage: true, timeout: 5_000 });
        console.error(`  screenshot of the failure: ${SCREENSHOT}`);
      } catch {
        // The page may be gone (browser crashed, timeout): what was printed above must do.
      }
    }
    if (serverOutput) console.error(`  server output:\n    ${serverOutput.trim().split('\n').join('\n    ')}`);
  } finally {
    clearTimeout(timer);
    if (browser) await browser.close().catch(() => {});
    await stopServer();
    rmSync(dataDir, { recursive: true, force: true });
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(code);
}

await main();
