// Shared by the browser tests: the stack's addresses, the seed, Chromium, QR sign-in, screenshots.
import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

if (!process.env.CONSOLE_SEED) throw new Error('CONSOLE_SEED must name the JSON file written by seed-console');
export const seed = JSON.parse(fs.readFileSync(process.env.CONSOLE_SEED, 'utf8'));
export const API = (process.env.API_URL ?? seed.api ?? 'http://127.0.0.1:4000').replace(/\/$/, '');
export const WECHAT = (process.env.FAKE_WECHAT_URL ?? seed.wechat ?? 'http://127.0.0.1:4010').replace(/\/$/, '');
export const SHOTS = process.env.SCREENSHOT_DIR ?? path.resolve(here, '../../.local/screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Debian's Chromium, with a fresh profile (Playwright makes a new user-data-dir per launch). */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
}

/** A new, isolated browser context (its own cookies) that records page errors. */
export async function newContext(browser) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  context.pageErrors = [];
  context.on('page', (p) => {
    p.on('pageerror', (e) => context.pageErrors.push(String(e)));
    p.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) context.pageErrors.push(m.text());
    });
  });
  return context;
}

/** Saves a full-page screenshot as `<name>.png` under SCREENSHOT_DIR. */
export async function shot(page, name) {
  await page.waitForLoadState('networkidle').catch(() => {});
  await page.evaluate(() => (window.scrollTo(0, 0), document.fonts?.ready)).catch(() => {});
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** The unionid a role's test user scans with: stable for one seed, new for the next. */
export function unionidFor(key) {
  const link = seed.invitations?.[key] ?? key;
  return `t_${key}_${createHash('sha256').update(String(link)).digest('hex').slice(0, 12)}`.slice(0, 64);
}

/**
 * Signs in through the fake WeChat QR page: opens `link` (an invitation, or the plain sign-in),
 * "scans" as `unionid`, confirms, and returns the console page it lands on.
 */
export async function qrSignIn(context, link, unionid, nickname, shotName) {
  const page = await context.newPage();
  await page.goto(link);
  await page.waitForURL((u) => u.href.startsWith(WECHAT), { timeout: 15_000 });
  await page.locator('input[name=unionid]').fill(unionid);
  const nick = page.locator('input[name=nickname]');
  if (await nick.count()) await nick.fill(nickname);
  if (shotName) await shot(page, shotName);
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(API) && !u.pathname.startsWith('/v1/'), { timeout: 15_000 }),
    page.locator('#confirm').click(),
  ]);
  return page;
}

/**
 * Signs in as the seed's invited `key` (reviewer_a, school_admin_a…). The invitation is single
 * use: when an earlier test used it, the same WeChat user signs in again without it.
 */
export async function signInAs(context, key, nickname = key) {
  const unionid = unionidFor(key);
  let page = await qrSignIn(context, seed.invitations[key], unionid, nickname, `signin-wechat-qr-${key}`);
  if (new URL(page.url()).searchParams.get('signin_error') === 'invitation_invalid') {
    await page.close();
    page = await qrSignIn(context, `${API}/v1/staff/sign-in`, unionid, nickname);
  }
  await signedIn(page);
  return page;
}

/** Waits until the console shows the signed-in shell. */
export async function signedIn(page) {
  const err = new URL(page.url()).searchParams.get('signin_error');
  if (err) throw new Error(`sign-in failed: ${err}`);
  await page.locator('#sign-out').waitFor({ timeout: 15_000 });
}

/** The student API, as the mini-program calls it. */
export async function studentGet(token, p) {
  const res = await fetch(`${API}${p}`, { headers: { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json().catch(() => null) };
}

/** Polls `f` until it returns a truthy value. */
export async function eventually(f, { timeout = 20_000, every = 300 } = {}) {
  const until = Date.now() + timeout;
  let last;
  for (;;) {
    last = await f();
    if (last) return last;
    if (Date.now() > until) return last;
    await new Promise((r) => setTimeout(r, every));
  }
}

/** Reason codes of an order as the student sees them (`reasons` or `retake_reasons`). */
export function reasonCodes(order) {
  const list = order?.reasons ?? order?.retake_reasons ?? [];
  return list.map((r) => (typeof r === 'string' ? r : r.code));
}

/** A valid GB 11643 ID number for a birth date and a 3-digit sequence. */
export function idNumber(birth, seq) {
  const body = `110105${birth}${String(seq).padStart(3, '0')}`;
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, c, i) => s + Number(c) * w[i], 0);
  return body + '10X98765432'[sum % 11];
}

/** `YYYY-MM-DDTHH:MM` in Shanghai, `days` from now (for datetime-local inputs). */
export function shanghaiLocal(days) {
  const d = new Date(Date.now() + days * 86400e3 + 8 * 3600e3);
  return d.toISOString().slice(0, 16);
}
