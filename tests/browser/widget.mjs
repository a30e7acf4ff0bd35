// The website chat widget in a real browser (Debian's Chromium driven by playwright-core),
// as a visitor uses it, on a host page of another origin whose CSP is strict (script-src and
// style-src naming only dialogd's origin, connect-src its ws: URL, no unsafe-inline, no
// unsafe-eval) and whose own styles try to reach every button. Run by
// tests/integration/widget.sh:
//   node widget.mjs DIALOGD DIALOGCTL SRCDIR WORK      (CHROMIUM: the browser)
// This script starts dialogd itself (on a port it picks, so that it can kill -9 it and
// start it again on the same address) and the host site. Prints TAP-like lines; exits 1
// when one failed. Screenshots go to WORK/screens (desktop 1280×800, phone 375×667).
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'node:http';

const [DIALOGD, DIALOGCTL, SRCDIR, WORK] = process.argv.slice(2);
if (!WORK) {
  console.error('usage: node widget.mjs DIALOGD DIALOGCTL SRCDIR WORK');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const CONF = join(WORK, 'dialogd.conf');
const STORE = join(WORK, 'dialogd.sqlite');
const LOG = join(WORK, 'dialogd.log');
const HOLDER = 'j.moreau@scierie-des-combes.example';
const DOSSIER = 'AF-2023-018745';

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'not ok'} - widget: ${what}`);
  if (!ok) failures++;
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/* A free loopback port (the kernel's pick, released at once). */
function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

const hostPort = await freePort();
const dialogdPort = await freePort();
const HOST = `http://127.0.0.1:${hostPort}`;
const DIALOGD_URL = `http://127.0.0.1:${dialogdPort}`;

/* ---- dialogd ---- */

async function writeConfig(persistence) {
  await writeFile(CONF, `[daemon]
allow_root = yes
[paths]
data = ${SRCDIR}
[store]
path = ${STORE}
retention_days = 180
[web]
listen = 127.0.0.1:${dialogdPort}
public_url = ${DIALOGD_URL}
allowed_origins = ${HOST}
[chat]
persistence = ${persistence}
identity_secret_file = ${join(WORK, 'identity.key')}
[security]
secret_mail_delay = 0
`);
  await writeFile(join(WORK, 'identity.key'), IDENTITY_SECRET + '\n', { mode: 0o600 });
}
/* What the extranet does for a logged-in user (README, "A verified identity"). */
const IDENTITY_SECRET = 'test-only secret shared with the extranet, 32+ bytes';
function identityToken(sub) {
  const b64 = (x) => Buffer.from(x).toString('base64url');
  const signed = b64(JSON.stringify({ alg: 'HS256', typ: 'JWT' })) + '.' +
    b64(JSON.stringify({ sub, exp: Math.floor(Date.now() / 1000) + 300, jti: randomBytes(12).toString('hex') }));
  return signed + '.' + createHmac('sha256', IDENTITY_SECRET).update(signed).digest('base64url');
}

let daemon = null;
async function startDialogd() {
  const before = existsSync(LOG) ? readFileSync(LOG, 'utf8').length : 0;
  const out = await import('node:fs').then((fs) => fs.openSync(LOG, 'a'));
  daemon = spawn(DIALOGD, ['-c', CONF], { stdio: ['ignore', out, out] });
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    if (readFileSync(LOG, 'utf8').slice(before).includes('dialogd: ready')) return;
  }
  throw new Error('dialogd did not start: ' + readFileSync(LOG, 'utf8').slice(before));
}
function kill9() {
  return new Promise((resolve) => { daemon.once('exit', resolve); daemon.kill('SIGKILL'); });
}
function stopDialogd() {
  return new Promise((resolve) => { daemon.once('exit', resolve); daemon.kill('SIGTERM'); });
}
function ctl(args, input) {
  return execFileSync(DIALOGCTL, ['-c', CONF, ...args], { input, encoding: 'utf8' });
}
/* One value from the store (python3's sqlite3: Node 20 has none). */
function sql(query, ...params) {
  return execFileSync('python3', ['-c', `import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1])
row = db.execute(sys.argv[2], json.loads(sys.argv[3])).fetchone()
value = row[0] if row else None
print(json.dumps(value.decode() if isinstance(value, bytes) else value))`, STORE, query, JSON.stringify(params)], { encoding: 'utf8' }).trim();
}
/* The 8-digit code of the newest secret mail to address, from the outbox (the mail itself). */
async function mailedCode(address) {
  for (let i = 0; i < 100; i++) {
    const raw = JSON.parse(sql("SELECT raw FROM outbox WHERE kind = 'secret' AND recipient = ? ORDER BY id DESC LIMIT 1", address));
    const m = raw && raw.match(/^(\d{8})\r?$/m);
    if (m) return m[1];
    await sleep(100);
  }
  return null;
}

/* ---- the host site: two pages, a strict CSP, hostile styles of its own ---- */

const csp = `default-src 'none'; script-src ${DIALOGD_URL}; style-src 'self' ${DIALOGD_URL}; ` +
  `connect-src ws://127.0.0.1:${dialogdPort}; img-src 'self'; base-uri 'none'; form-action 'none'`;
const hostPage = (title, other, identity) => `<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title><link rel="stylesheet" href="/site.css"></head>
<body><header><a href="${other}">Autre page du site</a></header>
<main><h1>${title}</h1><p>Une page d’un site qui embarque le dialogue d’OCAPIAT par une seule balise.</p></main>
<script src="${DIALOGD_URL}/widget.js"${identity ? ` data-identity="${identity}"` : ''} defer></script></body></html>`;
/* What a careless site stylesheet does to every button and text. */
const hostileCss = 'button, textarea, div, section { all: unset !important; font-size: 40px !important; color: red !important; ' +
  'background: yellow !important; display: inline !important; }';
const site = createServer((req, res) => {
  const path = req.url.split('?')[0];
  const pages = { '/': hostPage('Accueil du site hôte', '/autre.html'), '/autre.html': hostPage('Autre page', '/'),
    /* The extranet's page for a signed-in user: a fresh token on every page. */
    '/extranet.html': hostPage('Mon espace', '/', identityToken('JMOREAU01')) };
  if (path === '/favicon.ico') {
    res.writeHead(204);
    res.end();
  } else if (path === '/site.css') {
    res.writeHead(200, { 'content-type': 'text/css' });
    res.end(hostileCss);
  } else if (pages[path]) {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp });
    res.end(pages[path]);
  } else {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('absent');
  }
});
await new Promise((r) => site.listen(hostPort, '127.0.0.1', r));

/* What the browser downloads, gzipped, as dialogd serves it. */
function fetchGzip(path) {
  return new Promise((resolve, reject) => {
    request(`${DIALOGD_URL}${path}`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes: Buffer.concat(chunks) }));
    }).on('error', reject).end();
  });
}

/* ---- the browser ---- */

await writeConfig('tab');
for (const table of ['companies', 'accounts', 'dossiers'])
  ctl(['import', table, join(SRCDIR, `tests/data/directory/${table}.csv`)]);
await startDialogd();

const screens = join(WORK, 'screens');
await mkdir(screens, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
/* A context per part: its own storage and HTTP cache (the loader is cached 5 minutes). */
async function newContext() {
  const c = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'fr-FR' });
  await c.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber} ${e.sample}`));
  });
  return c;
}
const context = await newContext();
const problems = [];
const sockets = [];
let expectRefused = false;     /* dialogd is down on purpose: its refused sockets are expected */
function watch(page) {
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    if (expectRefused && /WebSocket connection to .* failed/.test(m.text())) return;
    problems.push(`console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on('websocket', (ws) => {
    const entry = { page, ws, sent: [] };
    sockets.push(entry);
    ws.on('framesent', (f) => entry.sent.push(String(f.payload)));
  });
}
const axeSource = await readFile(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');
/* axe-core is evaluated through the DevTools protocol, and its own style elements are
 * refused by the host's CSP: what it causes is not counted against the widget. */
async function axe(page, what) {
  const cspBefore = await page.evaluate(() => window.__csp.length);
  const problemsBefore = problems.length;
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  await page.evaluate((n) => window.__csp.splice(n), cspBefore);
  problems.splice(problemsBefore);
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe-core: no serious or critical violation (${what})` +
    (bad.length ? ': ' + bad.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`).join('; ') : ''));
}

try {
  const page = await context.newPage();
  watch(page);
  const requested = [];
  page.on('request', (r) => requested.push(r.url()));

  // ---- sizes, as served ----
  const loader = await fetchGzip('/widget.js');
  const version = gunzipSync(loader.bytes).toString().match(/"version":"([0-9a-f]{16})"/)?.[1];
  const chat = await fetchGzip(`/widget-chat.js?v=${version}`);
  const style = await fetchGzip(`/widget.css?v=${version}`);
  const total = loader.bytes.length + chat.bytes.length + style.bytes.length;
  console.log(`# sizes gzipped: loader ${loader.bytes.length} B, chat code ${chat.bytes.length} B, style ${style.bytes.length} B, total ${total} B`);
  check(loader.headers['content-encoding'] === 'gzip' && loader.headers['content-type'].startsWith('text/javascript'),
        'the loader is served gzipped as JavaScript');
  check(loader.bytes.length <= 4096, `the loader is at most 4 KB gzipped (${loader.bytes.length} B)`);
  check(total <= 20480, `everything together is at most 20 KB gzipped (${total} B)`);

  // ---- the host page: the launcher only, nothing stored ----
  await page.goto(HOST + '/');
  const launcher = page.getByRole('button', { name: /Dialoguer avec OCAPIAT/ });
  await launcher.waitFor();
  check(await launcher.isVisible(), 'the launcher is a button named « Dialoguer avec OCAPIAT »');
  const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie]);
  check(stored[0] === 0 && stored[1] === 0 && stored[2] === '', 'no cookie and no storage before the chat is opened');
  check(!requested.some((u) => u.includes('widget-chat.js')) && sockets.length === 0,
        'the chat code and the socket wait for the first click');
  const launcherBox = await launcher.boundingBox();
  check(launcherBox && launcherBox.height >= 44 && launcherBox.height < 80, 'the host page’s styles do not reach the launcher');

  // ---- keyboard only: Tab to the launcher, Enter opens, focus in the field ----
  await page.keyboard.press('Tab'); // the host's link
  await page.keyboard.press('Tab');
  check(await launcher.evaluate((b) => b.getRootNode().activeElement === b), 'Tab reaches the launcher');
  await page.keyboard.press('Enter');
  const textbox = page.getByRole('textbox', { name: 'Votre message' });
  await textbox.waitFor();
  check(await textbox.evaluate((t) => t.getRootNode().activeElement === t), 'Enter opens the chat with the focus in « Votre message »');
  check(await launcher.getAttribute('aria-expanded') === 'true', 'the launcher says the chat is open (aria-expanded)');
  const log = page.getByRole('log');
  check(await log.getAttribute('aria-live') === 'polite', 'messages are in a role="log" region, aria-live="polite"');
  check(await page.getByRole('status').count() === 1, 'connection and typing state are in a role="status" region');
  check(await textbox.evaluate((t) => parseFloat(getComputedStyle(t).fontSize)) >= 16, 'the field’s text is at least 16 px');
  check((await page.getByText(/conservés par OCAPIAT.*au plus 180 jours/).count()) === 1, 'a privacy line says what is kept and how long');

  await page.keyboard.type('Première ligne');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('deuxième ligne');
  check(await textbox.inputValue() === 'Première ligne\ndeuxième ligne', 'Shift+Enter makes a new line');
  await textbox.fill('');

  // ---- a FAQ question: quick replies, then the answer for the audience ----
  const bot = log.locator('.msg.bot');
  const visitor = log.locator('.msg.visitor');
  const botBefore = await bot.count();
  await page.keyboard.type('Comment déposer une facture ?');
  await page.keyboard.press('Enter');
  const choice = page.getByRole('button', { name: 'Une entreprise' });
  await choice.waitFor({ timeout: 10000 });
  check(await textbox.inputValue() === '', 'Enter sends the message');
  check(await page.getByRole('button', { name: 'Un organisme de formation' }).isVisible(), 'quick replies are buttons');
  check(await visitor.filter({ hasText: 'Comment déposer une facture ?' }).count() === 1, 'the question is shown once');
  await choice.focus();
  await page.keyboard.press('Enter');
  await page.waitForFunction((n) => {
    const root = document.querySelector('[data-dialogd-widget]').shadowRoot;
    return root.querySelectorAll('.msg.bot').length > n && /Déposer une nouvelle facture/.test(root.querySelector('[role=log]').textContent);
  }, botBefore + 1, { timeout: 10000 });
  check(true, 'a quick reply picked with the keyboard gets the answer (« Déposer une nouvelle facture »)');
  check(await page.getByRole('button', { name: 'Une entreprise' }).count() === 0, 'the quick replies go with the answer');
  check(await textbox.evaluate((t) => t.getRootNode().activeElement === t), 'after a quick reply the focus is back in the field');
  await page.screenshot({ path: join(screens, 'desktop-1280x800.png') });
  await axe(page, 'desktop, a conversation shown');

  // ---- reload, and another page of the site: the same conversation ----
  const linesBefore = await log.locator('.msg').count();
  await page.reload();
  await page.getByRole('log').locator('.msg.bot', { hasText: 'Déposer une nouvelle facture' }).waitFor({ timeout: 10000 });
  check(await page.getByRole('log').locator('.msg').count() === linesBefore, 'a reload continues the conversation, nothing shown twice');
  await page.getByRole('link', { name: 'Autre page du site' }).click();
  await page.waitForURL(/autre\.html/);
  await page.getByRole('log').locator('.msg.bot', { hasText: 'Déposer une nouvelle facture' }).waitFor({ timeout: 10000 });
  check(await page.getByRole('log').locator('.msg').count() === linesBefore, 'a page change on the site continues it too');
  const session = await page.evaluate(() => sessionStorage.getItem('dialogd.session'));
  check(typeof session === 'string' && session.length === 43 && !page.url().includes(session),
        'the session token is kept in sessionStorage, never in a URL');

  // ---- the dossier status: the code read from the mail it was sent in ----
  async function say(text) {
    await textbox.fill(text);
    await textbox.press('Enter');
  }
  async function botSays(pattern, what) {
    try {
      await page.getByRole('log').locator('.msg.bot, .msg.person', { hasText: pattern }).last().waitFor({ timeout: 10000 });
      return check(true, what);
    } catch (e) {
      return check(false, `${what} (log: ${(await page.getByRole('log').textContent()).slice(-300)})`);
    }
  }
  await say('Où en est mon dossier ?');
  await botSays(/numéro/, 'a dossier status asks for the number');
  await say(DOSSIER);
  await botSays(/adresse/, '… then the address on file');
  await say(HOLDER);
  await botSays(/8 chiffres/, '… then a one-time code is mailed');
  const code = await mailedCode(HOLDER);
  check(code !== null, 'the code is in the mail queued for the address on file');
  await say(code || '00000000');
  await botSays(/en attente de pièces/, 'the code typed back gives the dossier’s status');
  check(!(await page.getByRole('log').textContent()).includes(code), 'the code is not shown back in the conversation');

  // ---- a hand-over, and a person's reply arriving live ----
  await say('Je voudrais parler à un conseiller');
  await botSays(/conseillers répondent/, 'a hand-over says when a person answers');
  const thread = JSON.parse(sql('SELECT thread_id FROM chat_conversations ORDER BY id DESC LIMIT 1'));
  ctl(['reply', String(thread), '--as', 'claire'], 'Bonjour, je suis Claire, conseillère OCAPIAT. Je regarde votre dossier.');
  await botSays(/je suis Claire/, 'dialogctl reply reaches the open widget live');
  check(await page.getByRole('log').locator('.msg.person').count() === 1, 'the person’s reply is shown as a person’s, once');

  // ---- offline, then online: the message waits in the outbox ----
  await context.setOffline(true);
  await page.evaluate(() => window.dispatchEvent(new Event('offline')));
  await page.getByRole('status').filter({ hasText: 'Hors ligne' }).waitFor({ timeout: 5000 });
  check(true, 'offline: the status region says so');
  await say('Comment modifier mes coordonnées bancaires ?');
  await sleep(500);
  check(await page.evaluate(() => JSON.parse(sessionStorage.getItem('dialogd.outbox')).length) === 1,
        'offline: the message waits in the outbox');
  await context.setOffline(false);
  await page.evaluate(() => window.dispatchEvent(new Event('online')));
  await page.waitForFunction(() => JSON.parse(sessionStorage.getItem('dialogd.outbox') || '[]').length === 0, null, { timeout: 10000 });
  check(await page.getByRole('log').locator('.msg.visitor', { hasText: 'coordonnées bancaires' }).count() === 1,
        'online again: the message is sent and shown once');

  // ---- kill -9 of dialogd mid-conversation, and a restart ----
  expectRefused = true;
  await kill9();
  await page.getByRole('status').filter({ hasText: 'Reconnexion' }).waitFor({ timeout: 5000 });
  check(true, 'dialogd gone: « Reconnexion… » in the status region');
  await say('Où trouver le numéro DECA ?');
  await sleep(300);
  await startDialogd();
  await page.waitForFunction(() => JSON.parse(sessionStorage.getItem('dialogd.outbox') || '[]').length === 0, null, { timeout: 40000 });
  // The thread is the correspondant's now: the assistant says the message goes to them.
  await botSays(/transmis au conseiller/, 'after kill -9 and a restart the waiting message is recorded and answered');
  expectRefused = false;
  check(await page.getByRole('log').locator('.msg.visitor', { hasText: 'numéro DECA' }).count() === 1, '… and shown once');

  // ---- a message sent again (its ack lost): recorded and answered once ----
  const lastSocket = sockets.filter((s) => s.page === page).at(-1);
  const sentFrame = lastSocket.sent.map((t) => JSON.parse(t)).filter((f) => f.type === 'message').at(-1);
  const answersBefore = await page.getByRole('log').locator('.msg.bot').count();
  await page.evaluate((f) => sessionStorage.setItem('dialogd.outbox', JSON.stringify([{ type: 'message', id: f.id, text: f.text }])), sentFrame);
  await page.reload();
  await page.waitForFunction(() => JSON.parse(sessionStorage.getItem('dialogd.outbox') || '[]').length === 0, null, { timeout: 10000 });
  await sleep(500);
  check(await page.getByRole('log').locator('.msg.bot').count() === answersBefore &&
        await page.getByRole('log').locator('.msg.visitor', { hasText: 'numéro DECA' }).count() === 1,
        'a message sent twice with its client id is acknowledged, and answered and shown once');

  // ---- Escape closes, the focus goes back to the launcher ----
  await page.getByRole('textbox', { name: 'Votre message' }).focus();
  await page.keyboard.press('Escape');
  check(await page.getByRole('dialog').isHidden() &&
        await page.getByRole('button', { name: /Dialoguer avec OCAPIAT/ }).evaluate((b) => b.getRootNode().activeElement === b),
        'Escape closes the chat and the focus returns to the launcher');

  // ---- the phone: the panel fills the screen ----
  await page.setViewportSize({ width: 375, height: 667 });
  await page.keyboard.press('Enter');
  await page.getByRole('dialog').waitFor();
  const box = await page.getByRole('dialog').boundingBox();
  check(box && box.width === 375 && Math.abs(box.height - 667) <= 1, `on a phone the chat fills the viewport (${box?.width}×${box?.height})`);
  await page.screenshot({ path: join(screens, 'phone-375x667.png') });
  await axe(page, 'phone');
  await page.setViewportSize({ width: 1280, height: 800 });

  // ---- « Terminer et effacer » ----
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Terminer et effacer' }).click();
  await sleep(300);
  const left = await page.evaluate(() => Object.keys(sessionStorage).filter((k) => k.startsWith('dialogd.')));
  check(left.length === 0, '« Terminer et effacer » wipes the conversation from the device');
  check(await page.getByRole('log').locator('.msg.visitor').count() === 0, '… and from the page');
  check(JSON.parse(sql('SELECT count(*) FROM chat_conversations WHERE token_hash IS NOT NULL AND id = (SELECT max(id) FROM chat_conversations)')) === 0,
        '… and the session is ended at dialogd (its token forgotten)');

  const violations = await page.evaluate(() => window.__csp);
  check(violations.length === 0, `the strict CSP is never violated${violations.length ? ': ' + violations.join('; ') : ''}`);
  check(problems.length === 0, `no console error, page error or failed request${problems.length ? ': ' + problems.join('; ') : ''}`);

  // ---- dialogd's own home page carries the widget, under dialogd's own CSP ----
  const home = await context.newPage();
  watch(home);
  await home.goto(DIALOGD_URL + '/');
  await home.getByRole('button', { name: /Dialoguer avec OCAPIAT/ }).click();
  const homeBox = home.getByRole('textbox', { name: 'Votre message' });
  await homeBox.fill('Comment modifier mes coordonnées bancaires ?');
  await homeBox.press('Enter');
  await home.getByRole('log').locator('.msg.bot', { hasText: 'RIB' }).waitFor({ timeout: 10000 });
  const homeCsp = await home.evaluate(() => window.__csp);
  check(homeCsp.length === 0, `dialogd's home page carries the widget, answered under its own CSP${homeCsp.length ? ': ' + homeCsp.join('; ') : ''}`);
  await home.close();

  // ---- the extranet vouches for its signed-in user: a dossier of theirs without a code ----
  const signedIn = await newContext();
  const extranet = await signedIn.newPage();
  watch(extranet);
  await extranet.goto(HOST + '/extranet.html');
  await extranet.getByRole('button', { name: /Dialoguer avec OCAPIAT/ }).click();
  const extranetBox = extranet.getByRole('textbox', { name: 'Votre message' });
  const secretsBefore = JSON.parse(sql("SELECT count(*) FROM outbox WHERE kind = 'secret'"));
  await extranetBox.fill(`Où en est le dossier ${DOSSIER} ?`);
  await extranetBox.press('Enter');
  await extranet.getByRole('log').locator('.msg.bot', { hasText: 'en attente de pièces' }).waitFor({ timeout: 10000 });
  check(JSON.parse(sql("SELECT count(*) FROM outbox WHERE kind = 'secret'")) === secretsBefore,
        'data-identity (a signed token of the extranet): the dossier’s status at once, no code mailed');
  await signedIn.close();

  // ---- [chat] persistence = browser: tabs share the conversation and one socket ----
  await stopDialogd();
  await writeConfig('browser');
  await startDialogd();
  const shared = await newContext();
  const tab1 = await shared.newPage();
  watch(tab1);
  await tab1.goto(HOST + '/');
  await tab1.getByRole('button', { name: /Dialoguer avec OCAPIAT/ }).click();
  const box1 = tab1.getByRole('textbox', { name: 'Votre message' });
  await box1.fill('Où trouver le numéro DECA ? Je suis une entreprise.');
  await box1.press('Enter');
  await tab1.getByRole('log').locator('.msg.bot', { hasText: 'n° DECA' }).waitFor({ timeout: 10000 });
  const tab2 = await shared.newPage();
  watch(tab2);
  await tab2.goto(HOST + '/autre.html');
  await tab2.getByRole('log').locator('.msg.visitor', { hasText: 'DECA' }).waitFor({ timeout: 10000 });
  check(true, 'persistence = browser: another tab shows the same conversation');
  const open = () => sockets.filter((s) => (s.page === tab1 || s.page === tab2) && !s.page.isClosed() && !s.ws.isClosed()).length;
  check(open() === 1, `… through one socket for both tabs (${open()} open)`);
  await tab1.close();
  const box2 = tab2.getByRole('textbox', { name: 'Votre message' });
  await box2.fill('Comment modifier mes coordonnées bancaires ?');
  await box2.press('Enter');
  await tab2.getByRole('log').locator('.msg.bot', { hasText: 'RIB' }).waitFor({ timeout: 15000 });
  check(open() === 1, 'the tab left takes the socket over when the first one closes, and is answered');
  for (const tab of [tab1, tab2]) {
    const v = tab.isClosed() ? [] : await tab.evaluate(() => window.__csp);
    check(v.length === 0, `persistence = browser: no CSP violation${v.length ? ': ' + v.join('; ') : ''}`);
  }
  check(problems.length === 0, `persistence = browser: no console error, page error or failed request${problems.length ? ': ' + problems.join('; ') : ''}`);
  await shared.close();
} catch (e) {
  check(false, `the browser run ended with an error: ${e.stack || e.message}`);
  console.log('# dialogd log (end):\n' + readFileSync(LOG, 'utf8').split('\n').slice(-15).map((l) => '#   ' + l).join('\n'));
} finally {
  await browser.close();
  site.close();
  if (daemon && daemon.exitCode === null) await stopDialogd();
}
console.log(`# screenshots: ${screens}`);
process.exit(failures ? 1 : 0);
