// Customer service finds an order by its WeChat Pay transaction id and sends the photo back.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, launch, newContext, reasonCodes, seed, shot, signInAs, studentGet } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('customer service finds an order by transaction id and sends it back', async () => {
  // A student whose photo is still in review.
  let student;
  for (const s of [...seed.students.a].reverse()) {
    const r = await studentGet(s.token, `/v1/orders/${s.order_id}`);
    if (r.body?.order?.state === 'in_review') {
      student = s;
      break;
    }
  }
  assert.ok(student, 'a seeded order is still in review');

  const context = await newContext(browser);
  const page = await signInAs(context, 'customer_service', '客服戊');
  await page.locator('#order-search').waitFor();
  await shot(page, 'service-search');
  await page.locator('#order-query').fill(student.transaction_id);
  await page.locator('#order-search button[type=submit]').click();
  const result = page.locator(`#order-results tr[data-order="${student.order_id}"]`);
  await result.waitFor();
  // The student as customer service sees them: family name, the rest masked; ID masked too.
  const masked = [...student.name].map((c, i) => (i ? '*' : c)).join('');
  assert.equal(await result.locator('.student-name').innerText(), masked);
  assert.match(await result.locator('.student .student-id').innerText(), /^\d{4}\*+[\dX]{4}$/);
  assert.ok(!(await page.locator('#order-results').innerText()).includes(student.name), 'the full name is not shown');
  await shot(page, 'service-results');
  await result.locator('a.order-link').click();
  const detail = page.locator('#order-detail');
  await detail.waitFor();
  assert.equal(await detail.getAttribute('data-state'), 'in_review');
  assert.equal(await page.locator('#order-facts .student-name').innerText(), masked);
  assert.equal(await page.locator('#who-name').innerText(), '客服戊');

  // The reasons answer customer service too: send back with one ticked.
  const reason = page.locator('#send-back input[name=reason]');
  await reason.first().waitFor();
  await shot(page, 'service-order');
  await reason.first().check();
  const code = await reason.first().getAttribute('value');
  await page.locator('#send-back-note').fill('背景有杂物，请在纯色背景前重拍');
  await page.locator('#send-back-submit').click();
  await page.locator('#order-detail[data-state=rejected]').waitFor();
  await shot(page, 'service-order-sent-back');

  const seen = await eventually(async () => {
    const r = await studentGet(student.token, `/v1/orders/${student.order_id}`);
    return r.body?.order?.state === 'rejected' && r;
  });
  assert.ok(seen, 'the student sees the photo sent back');
  assert.ok(reasonCodes(seen.body.order).includes(code));
  await page.locator('#order-reasons').waitFor();

  await page.locator('nav a[href="#/service/anomalies"]').click();
  await page.locator('#anomalies, .empty').first().waitFor();
  await shot(page, 'service-anomalies');
  assert.deepEqual(context.pageErrors, []);
  await context.close();
});
