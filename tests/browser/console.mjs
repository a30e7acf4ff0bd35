// The correspondants' console in a real browser (Debian's Chromium driven by
// playwright-core), as a correspondant uses it: sign in by the fields' names (a wrong
// password first, then with a second factor for a TOTP account), the queue with its
// count in the title, a mail thread answered (exactly one outbox row of kind person in
// the writer's thread), a note that never leaves, a release to the assistant, a search, a
// thread whose subject, body, sender and attachment carry markup shown inert (no script
// runs: a dialog handler and the DOM are checked), a chat handed over in the widget
// answered from the console and shown live in the widget, a cross-origin POST and one
// without Origin refused, a brute force of the sign-in stopped, sign-out, axe-core, and
// screenshots at 1280×800 and 375×667. Run by tests/integration/console.sh:
//   node console.mjs DIALOGD DIALOGCTL SRCDIR WORK      (CHROMIUM: the browser)
// Prints TAP-like lines; exits 1 when one failed. Screenshots go to WORK/screens.
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { createServer, request } from 'node:http';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { openSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';

const [DIALOGD, DIALOGCTL, SRCDIR, WORK] = process.argv.slice(2);
if (!WORK) {
  console.error('usage: node console.mjs DIALOGD DIALOGCTL SRCDIR WORK');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const CONF = join(WORK, 'dialogd.conf');
const STORE = join(WORK, 'dialogd.sqlite');
const LOG = join(WORK, 'dialogd.log');
const PASSWORD = 'une phrase de passe 42 !';
const TOTP_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const XSS_SCRIPT = '<script>alert(1)</script>';
const XSS_ATTR = '"><img src=x onerror=alert(1)>';

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok' : 'not ok'} - console: ${what}`);
  if (!ok) failures++;
  return ok;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}
const port = await freePort();
const URL_ = `http://127.0.0.1:${port}`;

/* ---- dialogd, its accounts and its threads ---- */

await writeFile(CONF, `[daemon]
allow_root = yes
[paths]
data = ${SRCDIR}
[store]
path = ${STORE}
[web]
listen = 127.0.0.1:${port}
public_url = ${URL_}
[security]
secret_mail_delay = 0
`);
function ctl(args, input) {
  return execFileSync(DIALOGCTL, ['-c', CONF, ...args], { input, encoding: 'utf8' });
}
/* One statement on the store (python3's sqlite3: Node 20 has none); the first value. */
function sql(query, ...params) {
  return JSON.parse(execFileSync('python3', ['-c', `import sqlite3, sys, json
db = sqlite3.connect(sys.argv[1], timeout=10)
cur = db.execute(sys.argv[2], json.loads(sys.argv[3]))
row = cur.fetchone()
db.commit()
value = row[0] if row else (cur.lastrowid if cur.lastrowid else None)
print(json.dumps(value.decode() if isinstance(value, bytes) else value))`, STORE, query, JSON.stringify(params)], { encoding: 'utf8' }).trim());
}
/* A mail thread the assistant escalated, as the mail channel writes one. */
function mailThread(subject, sender, body, note, messageId) {
  const now = Math.floor(Date.now() / 1000);
  const id = sql("INSERT INTO threads (channel, requester, subject, state, intent, reason, created, updated, owner)" +
    " VALUES ('mail', 'ecrivain@example.test', ?, 'escalated', 'submit_invoice', 'unknown', ?, ?, 'queue')", subject, now, now);
  sql("INSERT INTO messages (thread_id, direction, message_id, sender, recipient, subject, body, intent, confidence," +
    " decision, note, at) VALUES (?, 'in', ?, ?, 'dialoguer@ocapiat.test', ?, ?, 'submit_invoice', 0.41, 'escalated', ?, ?)",
  id, messageId, sender, subject, body, note, now);
  return id;
}

let daemon = null;
async function startDialogd() {
  const out = openSync(LOG, 'a');
  daemon = spawn(DIALOGD, ['-c', CONF], { stdio: ['ignore', out, out] });
  for (let i = 0; i < 200; i++) {
    await sleep(50);
    if (readFileSync(LOG, 'utf8').includes('dialogd: ready')) return;
  }
  throw new Error('dialogd did not start: ' + readFileSync(LOG, 'utf8'));
}
function stopDialogd() {
  return new Promise((resolve) => { daemon.once('exit', resolve); daemon.kill('SIGTERM'); });
}

/* RFC 6238 with HMAC-SHA1, 30 s, 6 digits (what an authenticator app shows). */
function totp(secret, at = Date.now() / 1000) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bits = [...secret].map((c) => alphabet.indexOf(c).toString(2).padStart(5, '0')).join('');
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[19] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

/* A raw POST (what another site's form or a script would send). */
function rawPost(path, headers, body) {
  return new Promise((resolve, reject) => {
    const req = request(`${URL_}${path}`, { method: 'POST', headers: {
      'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body), ...headers } },
    (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
    req.on('error', reject);
    req.end(body);
  });
}

ctl(['correspondant', 'add', 'claire@ocapiat.test', '--name', 'Claire Martin', '--password-stdin'], PASSWORD + '\n');
ctl(['correspondant', 'add', 'marc@ocapiat.test', '--name', 'Marc Petit', '--password-stdin'], PASSWORD + '\n');
sql('UPDATE correspondants SET totp_secret = ? WHERE email = ?', TOTP_SECRET, 'marc@ocapiat.test');
const mailId = mailThread('Facture refusée en décembre', 'ecrivain@example.test',
  'Bonjour,\nma facture de décembre a été refusée. Pourquoi ?\nMerci', 'attachment: facture-decembre.pdf (application/pdf, 52311 bytes)',
  'q1@example.test');
const xssId = mailThread(`${XSS_SCRIPT} ${XSS_ATTR}`, `${XSS_ATTR} <x@example.test>`, `Texte ${XSS_SCRIPT} et ${XSS_ATTR}`,
  `attachment: ${XSS_SCRIPT}.pdf (application/pdf, 10 bytes); attachment: ${XSS_ATTR} (image/png, 20 bytes)`, 'xss@example.test');
await startDialogd();

/* ---- the browser ---- */

const screens = join(WORK, 'screens');
await mkdir(screens, { recursive: true });
const axeSource = await readFile(join(here, 'node_modules/axe-core/axe.min.js'), 'utf8');
const launch = (dir) => chromium.launchPersistentContext(join(WORK, dir), {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const context = await launch('profile-correspondant');
const page = context.pages()[0] ?? await context.newPage();
const problems = [];
let dialogs = 0;
page.on('dialog', (d) => { dialogs++; d.dismiss(); });
/* The refused sign-ins are answered 403 and 429 on purpose, which Chromium logs. */
page.on('console', (m) => { if (!/status of (403|429)/.test(m.text())) problems.push(`console ${m.type()}: ${m.text()}`); });
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('response', (r) => { if (r.status() >= 500) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

async function axe(what) {
  const before = problems.length;
  await page.evaluate(axeSource);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  problems.splice(before);  /* axe's own style elements are refused by the CSP: not the console's doing */
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(bad.length === 0, `axe-core: no serious or critical violation (${what})` +
    (bad.length ? ': ' + bad.map((v) => `${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`).join('; ') : ''));
}
async function signIn(email, password, code) {
  await page.getByRole('textbox', { name: 'Adresse mail' }).fill(email);
  await page.getByLabel('Mot de passe', { exact: true }).fill(password);
  await page.getByRole('textbox', { name: 'Code de vérification' }).fill(code ?? '');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Se connecter' }).click()]);
}

let rc = 0;
try {
  // ---- sign-in ----
  await page.goto(`${URL_}/console/`);
  check(new URL(page.url()).pathname === '/console/connexion', 'without a session the console sends to the sign-in page');
  check(await page.evaluate(() => document.documentElement.lang) === 'fr', 'the page is in French');
  await page.screenshot({ path: join(screens, 'connexion-1280x800.png') });
  await axe('sign-in page');
  await signIn('claire@ocapiat.test', 'pas le bon mot de passe 1');
  check((await page.getByRole('alert').textContent()).includes('Adresse mail, mot de passe ou code incorrect.'),
        'a wrong password: « Adresse mail, mot de passe ou code incorrect. »');
  await signIn('claire@ocapiat.test', PASSWORD);
  check(new URL(page.url()).pathname === '/console/', 'the right password opens the queue');
  const cookie = (await context.cookies()).find((c) => c.name === 'dialogd_console');
  check(cookie && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/console/',
        'the session cookie is HttpOnly, SameSite=Strict, Path=/console/');
  check(await page.evaluate(() => document.cookie) === '', 'no script can read the session cookie');

  // ---- the queue ----
  check(/^\(2\) File des conversations — Console OCAPIAT$/.test(await page.title()), `the title counts « À traiter » (${await page.title()})`);
  const link = page.getByRole('link', { name: /Facture refusée en décembre/ });
  check(await link.count() === 1, 'the thread is a link named by its subject');
  check(await page.getByRole('link', { name: /À traiter \(2\)/ }).count() === 1, 'the view « À traiter » shows its count');
  await page.screenshot({ path: join(screens, 'file-1280x800.png') });
  await axe('queue');
  await page.setViewportSize({ width: 375, height: 667 });
  await page.screenshot({ path: join(screens, 'file-375x667.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // ---- the thread answered by mail ----
  await Promise.all([page.waitForNavigation(), link.click()]);
  check((await page.locator('h1').textContent()) === 'Facture refusée en décembre', 'the thread page has its subject as heading');
  check(await page.getByText('Pièce jointe : facture-decembre.pdf (application/pdf, 52311 octets)').count() === 1,
        'the attachment is shown by name and size');
  check(await page.getByText(/Intention : submit_invoice \(confiance 0,41\)/).count() === 1, 'what the engine read is shown');
  await page.getByRole('textbox', { name: 'Note interne' }).fill('Client connu : voir le dossier D-1.');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Ajouter la note' }).click()]);
  check(await page.getByText('Client connu : voir le dossier D-1.').count() === 1, 'the note is in the thread');
  check(sql('SELECT count(*) FROM outbox WHERE thread_id = ?', mailId) === 0, 'the note is not in the outbox');
  await page.getByRole('textbox', { name: 'Réponse' }).fill('Bonjour,\nvotre facture sera reprise demain.\nClaire');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Envoyer' }).click()]);
  check(await page.getByText('C’est fait.').count() + await page.getByText("C'est fait.").count() === 1, 'the reply is confirmed');
  check(sql("SELECT count(*) FROM outbox WHERE thread_id = ? AND kind = 'person'", mailId) === 1 &&
        sql('SELECT count(*) FROM outbox WHERE thread_id = ?', mailId) === 1, 'exactly one mail, of kind person, is queued');
  const raw = sql("SELECT raw FROM outbox WHERE thread_id = ? AND kind = 'person'", mailId) || '';
  check(raw.includes('In-Reply-To: <q1@example.test>') && raw.includes('References: <q1@example.test>') &&
        raw.includes('To: <ecrivain@example.test>'), 'the mail is in the writer\'s thread (To, In-Reply-To, References)');
  check(!raw.includes('Client connu'), 'the note is not in the mail');
  check(sql('SELECT owner_person FROM threads WHERE id = ?', mailId) === 'claire@ocapiat.test', 'the reply took the thread');
  await page.screenshot({ path: join(screens, 'fil-1280x800.png'), fullPage: true });
  await axe('thread');
  await page.setViewportSize({ width: 375, height: 667 });
  await page.screenshot({ path: join(screens, 'fil-375x667.png'), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });

  // ---- Origin and CSRF ----
  const csrf = await page.locator('input[name=csrf]').first().inputValue();
  const headers = { Cookie: `dialogd_console=${cookie.value}` };
  check(await rawPost(`/console/fil/${xssId}/prendre`, { ...headers, Origin: 'http://evil.test' }, `csrf=${csrf}`) === 403,
        'a POST from another origin is refused (403)');
  check(await rawPost(`/console/fil/${xssId}/prendre`, headers, `csrf=${csrf}`) === 403, 'a POST without Origin is refused (403)');
  check(await rawPost(`/console/fil/${xssId}/prendre`, { ...headers, Origin: URL_ }, 'csrf=') === 403,
        'a POST without the CSRF token is refused (403)');
  check(sql('SELECT owner FROM threads WHERE id = ?', xssId) === 'queue', 'the refused POSTs changed nothing');

  // ---- release to the assistant ----
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Rendre à l’assistant' }).or(
    page.getByRole('button', { name: "Rendre à l'assistant" })).click()]);
  check(sql('SELECT owner FROM threads WHERE id = ?', mailId) === 'bot', '« Rendre à l\'assistant » gives the thread back to the bot');

  // ---- markup in every field, inert ----
  await page.goto(`${URL_}/console/fil/${xssId}`);
  check(dialogs === 0, 'no script of the data ran (no dialog)');
  check(await page.locator('img').count() === 0 && await page.locator('script').count() === 0,
        'the data made no element (no img, no script in the DOM)');
  check((await page.locator('h1').textContent()) === `${XSS_SCRIPT} ${XSS_ATTR}`, 'the subject is shown as text');
  check(await page.getByText(`Pièce jointe : ${XSS_SCRIPT}.pdf (application/pdf, 10 octets)`).count() === 1,
        'the attachment name is shown as text');
  await page.goto(`${URL_}/console/?vue=toutes`);
  check(dialogs === 0 && await page.locator('img').count() === 0, 'the queue shows the subject inert too');

  // ---- search ----
  await page.getByRole('searchbox', { name: 'Rechercher' }).fill('DECEMBRE');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Filtrer' }).click()]);
  check(await page.getByRole('link', { name: /Facture refusée en décembre/ }).count() === 1 &&
        await page.getByRole('link', { name: /alert/ }).count() === 0, 'a search without accents or case finds the thread');

  // ---- a chat handed over, answered from the console, live in the widget ----
  const visitorContext = await launch('profile-visitor');
  const visitor = visitorContext.pages()[0] ?? await visitorContext.newPage();
  await visitor.goto(`${URL_}/`);
  await visitor.getByRole('button', { name: /Dialoguer avec OCAPIAT/ }).click();
  const box = visitor.getByRole('textbox', { name: 'Votre message' });
  await box.fill('Je voudrais parler à un conseiller');
  await box.press('Enter');
  await visitor.getByRole('log').locator('.msg.bot', { hasText: /conseillers répondent/ }).waitFor({ timeout: 10000 });
  const chatId = sql("SELECT id FROM threads WHERE channel = 'chat' ORDER BY id DESC LIMIT 1");
  await page.goto(`${URL_}/console/`);
  const chatLink = page.getByRole('link', { name: /parler à un conseiller/i });
  check(await chatLink.count() === 1, 'the chat handed over is in « À traiter »');
  await Promise.all([page.waitForNavigation(), chatLink.click()]);
  await page.getByRole('textbox', { name: 'Réponse' }).fill('Bonjour, je suis Claire, conseillère OCAPIAT.');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Envoyer' }).click()]);
  let live = true;
  try {
    await visitor.getByRole('log').locator('.msg.person', { hasText: /je suis Claire/ }).waitFor({ timeout: 10000 });
  } catch { live = false; }
  check(live, 'the answer from the console appears live in the widget');
  check(sql("SELECT count(*) FROM outbox WHERE thread_id = ? AND kind = 'person'", chatId) === 0,
        'a chat answer is not mailed (the visitor proved no address)');
  await visitorContext.close();

  // ---- sign-out; brute force; TOTP ----
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Se déconnecter', exact: true }).click()]);
  check(new URL(page.url()).pathname === '/console/connexion', 'sign-out goes back to the sign-in page');
  check(await rawPost(`/console/fil/${xssId}/prendre`, { ...headers, Origin: URL_ }, `csrf=${csrf}`) === 303,
        'the old cookie no longer opens anything (303 to the sign-in)');
  await signIn('marc@ocapiat.test', PASSWORD);
  check((await page.getByRole('alert').textContent()).includes('Adresse mail, mot de passe ou code incorrect.'),
        'an account with a second factor needs its code');
  await signIn('marc@ocapiat.test', PASSWORD, totp(TOTP_SECRET));
  check(new URL(page.url()).pathname === '/console/', 'the password and the code open the console');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Se déconnecter partout' }).click()]);
  for (let i = 0; i < 5; i++)
    await signIn('claire@ocapiat.test', `mauvais mot de passe ${i}`);
  await signIn('claire@ocapiat.test', PASSWORD);
  check((await page.getByRole('alert').textContent()).includes('Trop de tentatives'),
        'after 5 failures even the right password is not checked (brute force limited)');
  check(sql("SELECT count(*) FROM audit WHERE channel = 'console' AND address IS NOT NULL") > 5,
        'the console\'s actions are in the audit with the client\'s address');
  check(problems.length === 0, 'no console error, page error or server error' + (problems.length ? ': ' + problems.join('; ') : ''));
} catch (e) {
  check(false, `the browser test ran to its end (${e.message})`);
  rc = 1;
} finally {
  await context.close();
  await stopDialogd();
}
console.log(`# screenshots: ${screens}`);
process.exit(failures || rc ? 1 : 0);
