// The password reset page in a real browser (Debian's Chromium driven by playwright-core),
// as a user sees it: open the mailed link, type two different passwords (the page says
// so and keeps the link), then the same good one twice, read the success page; open the
// link again: it is spent. No console message, page error or failed request on the way
// (CSP violations and a missing favicon would show there). Run by tests/integration/web.sh:
//   node reset.mjs URL PASSWORD   (CHROMIUM: the browser, default /usr/bin/chromium)
// Prints TAP-like "ok"/"not ok" lines; exits 1 when one failed.
import { chromium } from 'playwright-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [url, password] = process.argv.slice(2);
if (!url || !password) {
  console.error('usage: node reset.mjs URL PASSWORD');
  process.exit(2);
}

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'not ok'} - browser: ${what}`);
  if (!ok) failures++;
}

const profile = await mkdtemp(join(tmpdir(), 'dialogd-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  // As root Chromium needs --no-sandbox; the rest keeps it off the network and quiet.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
try {
  const page = context.pages()[0] ?? await context.newPage();
  const problems = [];
  page.on('console', (m) => problems.push(`console ${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

  const first = await page.goto(url);
  check(first.status() === 200, 'the link opens the form (HTTP 200)');
  check(await page.evaluate(() => document.documentElement.lang) === 'fr', 'the page is in French (lang="fr")');
  check((await page.locator('h1').textContent()) === 'Choisir un nouveau mot de passe', 'the form has its heading');

  const field = page.getByLabel('Nouveau mot de passe', { exact: true });
  const confirmation = page.getByLabel('Confirmez le nouveau mot de passe', { exact: true });
  const submit = page.getByRole('button', { name: 'Enregistrer le mot de passe' });

  // Two different passwords: the page says so, the link still works.
  await field.fill(password);
  await confirmation.fill(`${password}-autre`);
  await Promise.all([page.waitForNavigation(), submit.click()]);
  const alert = page.getByRole('alert');
  check(await alert.isVisible() && (await alert.textContent()).includes('ne sont pas identiques'),
        'two different passwords are refused with a French message');
  check(await field.inputValue() === '', 'the refused password is not filled back in');

  // The same good password twice.
  await field.fill(password);
  await confirmation.fill(password);
  await Promise.all([page.waitForNavigation(), submit.click()]);
  check((await page.locator('h1').textContent()) === 'Mot de passe modifié', 'the success page follows');
  check((await page.locator('main').textContent()).includes('Votre mot de passe a été modifié'),
        'it says the password was changed');
  check(!page.url().includes('jeton='), 'the token is not in the address after the change');

  // The link again: spent.
  const again = await page.goto(url);
  check(again.status() === 200, 'the link opens again (HTTP 200)');
  check((await page.locator('h1').textContent()) === 'Ce lien n’est plus valable', 'the link is spent: "plus valable"');
  check(await page.locator('form').count() === 0, 'no form is shown for a spent link');

  if (process.env.SCREENSHOT) await page.screenshot({ path: process.env.SCREENSHOT, fullPage: true });
  check(problems.length === 0, `no console message, page error or failed request${problems.length ? ': ' + problems.join('; ') : ''}`);
} catch (e) {
  check(false, `the browser run ended with an error: ${e.message}`);
} finally {
  await context.close();
  await rm(profile, { recursive: true, force: true });
}
process.exit(failures ? 1 : 0);
