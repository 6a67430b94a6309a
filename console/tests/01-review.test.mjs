// A reviewer signs in by QR, approves one photo and rejects another; the student sees the
// rejection's reason through the API. A forged or missing CSRF token is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { API, eventually, launch, newContext, qrSignIn, reasonCodes, seed, shot, signInAs, studentGet } from './helpers.mjs';

let browser, context, page;
before(async () => {
  browser = await launch();
  context = await newContext(browser);
});
after(async () => {
  await browser?.close();
});

test('the sign-in page explains a failed sign-in, in Chinese and in English', async () => {
  const anon = await newContext(browser);
  const p = await anon.newPage();
  await p.goto(`${API}/`);
  await p.locator('#signin-wechat').waitFor();
  assert.equal(await p.locator('#signin-wechat').getAttribute('href'), '/v1/staff/sign-in');
  assert.match(await p.locator('#signin-wechat').innerText(), /微信扫码登录/);
  await shot(p, 'signin');
  // Someone who is not staff scans: WeChat signs them in, the service refuses them.
  const stranger = await qrSignIn(anon, `${API}/v1/staff/sign-in`, `t_stranger_${Date.now().toString(36)}`, '路人');
  assert.equal(new URL(stranger.url()).searchParams.get('signin_error'), 'not_staff');
  await stranger.locator('#signin-message[data-code=not_staff]').waitFor();
  await shot(stranger, 'signin-not-staff');
  await stranger.close();
  await p.goto(`${API}/?signin_error=not_staff`);
  await p.locator('#signin-message[data-code=not_staff]').waitFor();
  assert.match(await p.locator('#signin-message').innerText(), /不是工作人员/);
  await p.locator('#lang-switch').click();
  assert.match(await p.locator('#signin-message').innerText(), /not a staff account/);
  await shot(p, 'signin-error-en');
  await p.locator('#lang-switch').click();
  await anon.close();
});

test('a reviewer approves one photo and rejects another; the student sees the reason', async () => {
  page = await signInAs(context, 'reviewer_a', '审核员甲');
  await page.locator('#queues').waitFor();
  const row = page.locator(`#queues tr[data-campaign="${seed.campaigns.a.id}"]`);
  await row.waitFor();
  assert.equal(await page.locator(`#queues tr[data-campaign="${seed.campaigns.b.id}"]`).count(), 0, 'school B is not in a school A reviewer’s queues');
  await shot(page, 'review-queues');

  await row.locator('.start-review').click();
  await page.locator('#review-task').waitFor();
  await page.locator('#photo-standard img').waitFor();
  await page.locator('#checks tbody tr').first().waitFor();
  const first = await page.locator('#task-order').innerText();
  assert.ok(await page.locator('#photo-original img').count(), 'the original is shown');
  assert.ok(await page.locator('#photo-cutout img').count(), 'the cut-out is shown');
  assert.ok(await page.locator('#photo-standard svg.overlay').count(), 'overlays are drawn on the standard photo');
  await shot(page, 'review-task');

  // O hides and shows the overlays; ? shows the shortcuts.
  await page.keyboard.press('o');
  assert.equal(await page.locator('#photo-standard svg.overlay').count(), 0);
  await page.keyboard.press('o');
  await page.locator('#photo-standard svg.overlay').waitFor();
  await page.keyboard.press('?');
  await page.locator('#shortcut-help').waitFor();
  await shot(page, 'review-task-shortcuts');
  await page.keyboard.press('?');

  // A approves; the next task opens.
  await page.keyboard.press('a');
  await page.locator(`#recent-decisions li[data-order="${first}"][data-status=ok]`).waitFor();
  await page.waitForFunction((o) => document.querySelector('#task-order')?.textContent !== o, first);
  const second = await page.locator('#task-order').innerText();
  assert.notEqual(second, first);

  // 1 toggles the first reason.
  const firstReason = page.locator('#reasons input[name=reason]').first();
  await page.keyboard.press('1');
  assert.equal(await firstReason.isChecked(), true);
  await page.keyboard.press('1');
  assert.equal(await firstReason.isChecked(), false);

  // Reject with a reason (its checkbox) and a note.
  const reason = page.locator('#reasons label[data-code=blurry] input');
  await (await reason.count() ? reason : page.locator('#reasons input[name=reason]').first()).check();
  const code = await page.locator('#reasons input[name=reason]:checked').first().getAttribute('value');
  await page.locator('#note').fill('请保持手机稳定后重拍');
  await shot(page, 'review-task-reject');
  await page.locator('#reject').click();
  await page.locator(`#recent-decisions li[data-order="${second}"][data-status=ok]`).waitFor();
  await shot(page, 'review-after-decisions');

  const students = seed.students.a;
  const approved = students.find((s) => s.order_id === first);
  const rejected = students.find((s) => s.order_id === second);
  assert.ok(approved && rejected, 'the decided orders are the seed’s students’');
  const seen = await eventually(async () => {
    const r = await studentGet(rejected.token, `/v1/orders/${rejected.order_id}`);
    return r.body?.order?.state === 'rejected' && r;
  });
  assert.ok(seen, 'the student sees the order rejected');
  assert.ok(reasonCodes(seen.body.order).includes(code), `the student sees the reason ${code}: ${JSON.stringify(seen.body.order)}`);
  const ok = await studentGet(approved.token, `/v1/orders/${approved.order_id}`);
  assert.equal(ok.body?.order?.state, 'approved');

  // Leaving the task gives the task claimed ahead back to the queue.
  await page.locator('.review-bar a[href="#/review"]').click();
  await page.locator('#queues, .empty').first().waitFor();
  assert.deepEqual(context.pageErrors, []);
});

test('a forged or missing CSRF token is refused', async () => {
  const result = await page.evaluate(async (campaign) => {
    const url = `/v1/review/campaigns/${encodeURIComponent(campaign)}/claims`;
    const forged = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'X-CSRF-Token': 'forged-token', 'Content-Type': 'application/json' }, body: '{}' });
    const missing = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: '{}' });
    const signOut = await fetch('/v1/staff/session', { method: 'DELETE', credentials: 'same-origin' });
    const still = await fetch('/v1/staff/session', { credentials: 'same-origin' });
    return {
      forged: [forged.status, (await forged.json()).error?.code],
      missing: [missing.status, (await missing.json()).error?.code],
      signOut: [signOut.status, (await signOut.json().catch(() => ({}))).error?.code],
      still: still.status,
    };
  }, seed.campaigns.a.id);
  assert.deepEqual(result.forged, [403, 'csrf_failed']);
  assert.deepEqual(result.missing, [403, 'csrf_failed']);
  assert.deepEqual(result.signOut, [403, 'csrf_failed']);
  assert.equal(result.still, 200, 'the refused requests changed nothing');
});

test('signing out ends the session', async () => {
  await page.locator('#sign-out').click();
  await page.locator('#signin-wechat').waitFor();
  const status = await page.evaluate(async () => (await fetch('/v1/staff/session')).status);
  assert.equal(status, 401);
  await shot(page, 'signed-out');
});
