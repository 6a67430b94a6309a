// A reviewer who looks at one photo longer than a lease keeps it: the console renews the lease
// while the task is on screen (the local stack's lease is 20 s), so the decision still lands.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, seed, shot, signInAs } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('a task kept open longer than its lease is still the reviewer’s to decide', async () => {
  const context = await newContext(browser);
  const page = await signInAs(context, 'reviewer_a2', '审核员乙');
  const renewals = [];
  page.on('response', (r) => {
    if (/\/tasks\/[^/]+\/lease$/.test(new URL(r.url()).pathname)) renewals.push(r.status());
  });
  await page.locator(`#queues tr[data-campaign="${seed.campaigns.a.id}"] .start-review`).click();
  await page.locator('#review-task').waitFor();
  await page.locator('#photo-standard img').waitFor();
  const order = await page.locator('#task-order').innerText();

  await page.waitForTimeout(26_000);
  assert.ok(renewals.length >= 2, `the lease was renewed while the task was open (${renewals.length} renewals)`);
  assert.ok(renewals.every((s) => s === 200), `every renewal succeeded: ${renewals}`);
  assert.equal(await page.locator('.alert-error').count(), 0, 'no error is shown');
  await shot(page, 'review-task-after-a-long-look');

  await page.keyboard.press('a');
  await page.locator(`#recent-decisions li[data-order="${order}"][data-status=ok]`).waitFor();
  const done = seed.students.a.find((s) => s.order_id === order);
  assert.ok(done, 'the decided order is a seeded student’s');
  await page.waitForLoadState('networkidle');
  assert.deepEqual(context.pageErrors, []);
  await context.close();
});
