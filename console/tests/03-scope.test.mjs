// Reviewers see only their schools: a school A reviewer opening a school B task gets "not found".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { API, launch, newContext, seed, shot, signInAs } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

test('a reviewer of school A opening a school B task gets not found', async () => {
  const b = await newContext(browser);
  const pb = await signInAs(b, 'reviewer_b', '审核员丙');
  const row = pb.locator(`#queues tr[data-campaign="${seed.campaigns.b.id}"]`);
  await row.waitFor();
  assert.equal(await pb.locator(`#queues tr[data-campaign="${seed.campaigns.a.id}"]`).count(), 0);
  await row.locator('.start-review').click();
  await pb.locator('#review-task').waitFor();
  const taskUrl = new URL(pb.url()).hash;
  assert.match(taskUrl, /^#\/review\/[^/]+\/[^/]+$/);

  const a = await newContext(browser);
  const pa = await signInAs(a, 'reviewer_a', '审核员甲');
  await pa.goto(`${API}/${taskUrl}`);
  const error = pa.locator('[role=alert][data-code=campaign_not_found]');
  await error.waitFor();
  assert.ok((await error.innerText()).length > 0);
  assert.equal(await pa.locator('#review-task').count(), 0, 'no photo of school B is shown');
  await shot(pa, 'review-other-school-not-found');

  await pb.locator('#skip').click();
  await pb.waitForLoadState('networkidle');
  assert.deepEqual([...a.pageErrors, ...b.pageErrors], []);
  await a.close();
  await b.close();
});
