// An operator manages schools and staff: invites a reviewer, who signs in with the link; then
// revokes them, and the reviewer's next click is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { API, launch, newContext, qrSignIn, seed, shot, signedIn } from './helpers.mjs';

let browser, context, page;
before(async () => {
  browser = await launch();
  context = await newContext(browser);
  page = await qrSignIn(context, `${API}/v1/staff/sign-in`, seed.operator.unionid, '运营己', 'signin-wechat-qr-operator');
  await signedIn(page);
});
after(async () => browser?.close());

test('an operator adds a school', async () => {
  await page.goto(`${API}/#/operator/schools`);
  await page.locator('#schools').waitFor();
  const name = `测试学院 ${Date.now().toString(36)}`;
  await page.locator('#school-name').fill(name);
  await page.locator('#school-form button[type=submit]').click();
  await page.locator('#schools td', { hasText: name }).waitFor();
  await shot(page, 'operator-schools');
});

test('an operator sees the stuck orders and the dead-letter queues', async () => {
  await page.locator('nav a[href="#/operator/stuck"]').click();
  await page.locator('#dead-letters').waitFor();
  // What the API says, to compare with the page. A fresh seed leaves nothing stuck (an order must
  // stay in standardizing for 10 minutes first), but a stack that ran earlier tests may hold some.
  const api = await page.evaluate(async () => (await fetch('/v1/service/stuck-orders')).json());
  assert.deepEqual(api.dead_letters.map((q) => q.queue).sort(), ['export', 'standardize']);
  for (const { queue, messages } of api.dead_letters) {
    const q = page.locator(`#dead-letters .dlq[data-queue=${queue}]`);
    assert.equal(await q.getAttribute('data-messages'), String(messages));
    assert.match(await q.locator('.dlq-depth').innerText(), new RegExp(`^${messages} 条消息$`));
    assert.equal(await q.evaluate((el) => el.classList.contains('dlq-alert')), messages > 0, `${queue}: highlighted when not empty`);
  }
  if (!api.orders.length) {
    await page.locator('#stuck-none').waitFor();
  } else {
    for (const o of api.orders) {
      const row = page.locator(`#stuck-orders tr[data-order="${o.order_id}"]`);
      await row.waitFor();
      assert.equal(await row.locator('a.order-link').getAttribute('href'), `#/service/orders/${o.order_id}`);
      assert.match(await row.locator('td').nth(1).innerText(), /\d+ (天|小时|分)/);
    }
  }
  await shot(page, 'operator-stuck');
  await page.locator('#lang-switch').click();
  await page.locator('h1', { hasText: 'Stuck orders' }).waitFor();
  if (!api.orders.length) assert.match(await page.locator('#stuck-none').innerText(), /No order is stuck/);
  const depth = api.dead_letters.find((q) => q.queue === 'export').messages;
  assert.match(await page.locator('#dead-letters .dlq[data-queue=export] .dlq-depth').innerText(), new RegExp(`^${depth} messages?$`));
  await shot(page, 'operator-stuck-en');
  await page.locator('#lang-switch').click();
  await page.locator('h1', { hasText: '卡住的订单' }).waitFor();
  assert.deepEqual(context.pageErrors, []);
});

test('an invited reviewer signs in; once revoked, their next click is refused', async () => {
  await page.goto(`${API}/#/operator/staff`);
  await page.locator('#invite-form').waitFor();
  const label = `临时审核 ${Date.now().toString(36)}`;
  await page.locator('#invite-label').fill(label);
  await page.locator(`#invite-form input[name=invite-schools][value="${seed.schools.a.id}"]`).check();
  await page.locator('#invite-create').click();
  const linkInput = page.locator('#invite-link');
  await linkInput.waitFor();
  const link = await linkInput.inputValue();
  assert.match(link, /\/v1\/staff\/sign-in\?invitation=/);
  await shot(page, 'operator-staff-invitation');

  const reviewerContext = await newContext(browser);
  const nickname = `临时审核员${Date.now().toString(36)}`;
  const unionid = `t_revoke_${Date.now().toString(36)}`;
  const reviewer = await qrSignIn(reviewerContext, link, unionid, nickname);
  await signedIn(reviewer);
  await reviewer.locator('#queues, .empty').first().waitFor();

  // The invitation now names who used it: that member is the one to revoke.
  await page.reload();
  const invitation = page.locator('#invitations tr[data-status=used]', { hasText: label });
  await invitation.waitFor();
  const member = await invitation.getAttribute('data-used-by');
  assert.ok(member, 'the used invitation names its member');
  const row = page.locator(`#members tr[data-member="${member}"]`);
  await row.waitFor();
  await shot(page, 'operator-staff');
  await row.locator('button.btn-danger').first().click();
  await row.locator('.confirm-yes').click();
  await page.locator(`#members tr[data-member="${member}"][data-status=revoked]`).waitFor();
  await page.locator('#member-filter').fill(label);
  await shot(page, 'operator-staff-revoked');

  // The reviewer's next click: back to sign-in, told why.
  await reviewer.locator('.page-actions button', { hasText: /刷新|Refresh/ }).click();
  const message = reviewer.locator('#signin-message[data-code=session_revoked]');
  await message.waitFor();
  assert.ok((await message.innerText()).length > 0);
  await shot(reviewer, 'signin-session-revoked');
  assert.deepEqual([...context.pageErrors, ...reviewerContext.pageErrors], []);
  await reviewerContext.close();
});
