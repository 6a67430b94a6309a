// Skip puts a task back at once: a second reviewer gets it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, seed, shot, signInAs } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

async function startReview(page) {
  await page.locator(`#queues tr[data-campaign="${seed.campaigns.a.id}"] .start-review`).click();
  await page.locator('#review-task').waitFor();
  return page.locator('#task-order').innerText();
}

test('a skipped task goes to another reviewer', async () => {
  const first = await newContext(browser);
  const second = await newContext(browser);
  const x = await signInAs(first, 'reviewer_a2', '审核员乙');
  const skipped = await startReview(x);
  await x.locator('#skip').click();
  await x.locator(`#recent-decisions li[data-order="${skipped}"][data-status=ok], #queues, .empty`).first().waitFor();
  // The task claimed ahead opens (or the queues, when there was none); let it settle.
  await x.waitForLoadState('networkidle');
  await shot(x, 'review-after-skip');

  const y = await signInAs(second, 'reviewer_a', '审核员甲');
  const got = await startReview(y);
  await shot(y, 'review-skipped-task-second-reviewer');
  assert.equal(got, skipped, 'the second reviewer gets the task the first one skipped');

  // Give everything back for the tests after this one.
  for (const p of [y, x]) {
    if (await p.locator('#skip').count()) {
      await p.locator('#skip').click();
      await p.waitForLoadState('networkidle');
    }
    await p.goto(p.url().replace(/#.*$/, '#/review'));
    await p.waitForLoadState('networkidle');
  }
  assert.deepEqual([...first.pageErrors, ...second.pageErrors], []);
  await first.close();
  await second.close();
});
