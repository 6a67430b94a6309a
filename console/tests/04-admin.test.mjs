// A school admin creates a campaign, imports a roster with one bad line and sees that line,
// asks for an export and downloads a valid ZIP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { API, idNumber, launch, newContext, seed, shanghaiLocal, shot, signInAs } from './helpers.mjs';

let browser, context, page;
before(async () => {
  browser = await launch();
  context = await newContext(browser);
  page = await signInAs(context, 'school_admin_a', '管理员丁');
});
after(async () => browser?.close());

test('a school admin creates a campaign', async () => {
  await page.locator('#campaigns, .empty').first().waitFor();
  await shot(page, 'admin-campaigns');
  await page.locator('#new-campaign').click();
  const form = page.locator('#campaign-form');
  await form.waitFor();
  const name = `测试采集 ${Date.now().toString(36)}`;
  await form.locator('input[name=name]').fill(name);
  await form.locator('select[name=kind]').selectOption('graduation');
  await page.locator('[data-testid=frame-preview]').waitFor();
  await form.locator('input[name=opens_at]').fill(shanghaiLocal(-1));
  await form.locator('input[name=closes_at]').fill(shanghaiLocal(30));
  await form.locator('input[name=price_yuan]').fill('25.00');
  await form.locator('select[name=identity_mode]').selectOption('name_id_number');
  await shot(page, 'admin-campaign-form');
  await page.locator('#save-campaign').click();
  await page.locator('#campaign').waitFor();
  assert.equal(await page.locator('.page-header h1').innerText(), name);
  assert.match(await page.locator('#campaign-code').innerText(), /^[a-z]{6}$/, 'the code students find it by');
  await page.locator('#progress #students').waitFor();
  await shot(page, 'admin-campaign-progress');
});

test('a school admin edits the campaign: the form opens filled in, the change shows', async () => {
  await page.locator('#edit-campaign').click();
  const form = page.locator('#campaign-form');
  await form.waitFor();
  await page.waitForFunction(() => (document.querySelector('input[name=price_yuan]')?.value ?? '') !== '');
  assert.equal(await form.locator('input[name=price_yuan]').inputValue(), '25.00');
  await form.locator('input[name=price_yuan]').fill('30');
  // The student's side of the campaign: free checks, withdrawal, the privacy agreement.
  await form.locator('input[name=free_checks]').fill('5');
  await form.locator('input[name=allow_withdraw]').check();
  await form.locator('input[name=agreement_version]').fill('2026-09');
  await form.locator('input[name=agreement_url]').fill('https://example.edu.cn/privacy');
  await shot(page, 'admin-campaign-edit');
  await page.locator('#save-campaign').click();
  await page.locator('#campaign .facts', { hasText: '¥30.00' }).waitFor();
  const id = decodeURIComponent(page.url().split('/admin/campaigns/')[1].split(/[?#]/)[0]);
  const saved = await page.evaluate(async (id) => (await fetch(`/v1/admin/campaigns/${encodeURIComponent(id)}`)).json(), id);
  assert.equal(saved.campaign.free_checks, 5);
  assert.equal(saved.campaign.allow_withdraw, true);
  assert.deepEqual(saved.campaign.privacy_agreement, { version: '2026-09', url: 'https://example.edu.cn/privacy' });
});

test('a roster with one bad line: that line is reported, the others imported', async () => {
  await page.locator('#tab-roster').click();
  await page.locator('#roster-file').waitFor();
  const good1 = idNumber('20040115', 21);
  const good2 = idNumber('20031130', 42);
  const bad = good2.slice(0, 17) + (good2[17] === '0' ? '1' : '0'); // wrong check digit
  const csv = `姓名,身份证号,学号,班级\n张三,${good1},2022001,计科 1 班\n李四,${bad},2022002,计科 1 班\n王五,${idNumber('20040302', 63)},2022003,计科 2 班\n`;
  await page.locator('#roster-file').setInputFiles({ name: 'roster.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
  await page.locator('#roster-upload').click();
  await page.locator('#import-report').waitFor({ timeout: 30_000 });
  const line = page.locator('#import-errors tr[data-line="3"]');
  await line.waitFor();
  assert.equal(await page.locator('#import-errors tbody tr').count(), 1, 'only the bad line is reported');
  assert.equal(await page.locator('#report-rows').innerText(), '3');
  await shot(page, 'admin-roster-report');
  assert.ok(await page.locator('#roster-again').isVisible(), 'the page offers to fix and upload again');
});

test('an export of approved photos downloads as a ZIP', async () => {
  await page.goto(`${API}/#/admin/campaigns/${encodeURIComponent(seed.campaigns.a.id)}?tab=progress`);
  await page.locator('#progress #students').waitFor();
  await shot(page, 'admin-campaign-a-progress');
  await page.locator('#tab-exports').click();
  await page.locator('#request-export').click();
  const ready = page.locator('#export-list tr[data-status=ready]').first();
  await ready.waitFor({ timeout: 90_000 });
  await shot(page, 'admin-exports');
  await ready.locator('button.download').click();
  const link = page.locator('#export-list a.download-link').first();
  await link.waitFor();
  const url = await link.getAttribute('href');
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0x50, 0x4b, 0x03, 0x04], 'the download is a ZIP');
  await shot(page, 'admin-exports-link');
  assert.deepEqual(context.pageErrors, []);
});
