// Customer service finds a student's order by (part of) the name, or the whole 学号, on a
// campaign's roster.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newContext, seed, shot, signInAs } from './helpers.mjs';

let browser;
before(async () => (browser = await launch()));
after(async () => browser?.close());

const masked = (name) => [...name].map((c, i) => (i ? '*' : c)).join('');

test('customer service finds an order by the student’s name within a campaign', async () => {
  const student = seed.students.a[2];
  const context = await newContext(browser);
  const page = await signInAs(context, 'customer_service', '客服戊');
  const form = page.locator('#name-search');
  await form.waitFor();

  // Every school and campaign answers customer service: choose school a, then campaign a.
  await page.locator(`#name-school option[value="${seed.schools.a.id}"]`).waitFor({ state: 'attached' });
  await page.locator('#name-school').selectOption(seed.schools.a.id);
  await page.locator(`#name-campaign option[value="${seed.campaigns.a.id}"]`).waitFor({ state: 'attached' });
  await page.locator('#name-campaign').selectOption(seed.campaigns.a.id);
  await page.locator('#name-query').fill(student.name);
  await shot(page, 'service-search-name-form');
  await form.locator('button[type=submit]').click();

  const row = page.locator(`#order-results tr[data-order="${student.order_id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('.student-name').innerText(), masked(student.name));
  assert.match(await row.locator('.student-id').innerText(), /^\d{4}\*+[\dX]{4}$/);
  assert.ok(!(await page.locator('#order-results').innerText()).includes(student.name), 'the full name is not shown');
  // The search lives in the address: the form still shows it.
  assert.match(decodeURIComponent(page.url()), new RegExp(`name=${student.name}`));
  assert.equal(await page.locator('#name-campaign').inputValue(), seed.campaigns.a.id);
  await shot(page, 'service-search-name');

  // Part of a name: every seeded student of campaign a shares it.
  const common = student.name.slice(1);
  await page.locator('#name-query').fill(common);
  await form.locator('button[type=submit]').click();
  for (const s of seed.students.a) {
    if (s.name.includes(common)) await page.locator(`#order-results tr[data-order="${s.order_id}"]`).waitFor();
  }

  // A name nobody on the roster has.
  await page.locator('#name-query').fill('无此人');
  await form.locator('button[type=submit]').click();
  await page.locator('#name-none').waitFor();

  await page.locator('#lang-switch').click();
  await page.locator('#name-none', { hasText: 'No student on the roster' }).waitFor();
  await page.locator('#name-query').fill(student.name);
  await form.locator('button[type=submit]').click();
  await row.waitFor();
  await shot(page, 'service-search-name-en');
  await page.locator('#lang-switch').click();

  // The whole 学号 finds the same student (student numbers are stored masked). First a search
  // that finds nobody, so that the table seen next is the number's answer.
  await page.locator('#name-query').fill('无此人');
  await form.locator('button[type=submit]').click();
  await page.locator('#name-none').waitFor();
  await page.locator('#name-kind').selectOption('student_no');
  await page.locator('#name-query').fill(student.student_no);
  await form.locator('button[type=submit]').click();
  await row.waitFor();
  assert.match(decodeURIComponent(page.url()), /by=student_no/);
  assert.equal(await page.locator('#order-results tbody tr').count(), 1, 'one student has the number');
  assert.ok(!(await page.locator('#order-results').innerText()).includes(student.student_no), 'the number is masked');
  await shot(page, 'service-search-student-no');
  await page.locator('#name-query').fill(student.student_no.slice(0, -1));
  await form.locator('button[type=submit]').click();
  await page.locator('#name-none').waitFor();
  assert.deepEqual(context.pageErrors, []);
  await context.close();
});
