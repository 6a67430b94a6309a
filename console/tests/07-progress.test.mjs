// A school admin chasing stragglers: the progress page counts every roster line by stage, shows
// each class's completion, and lists who has not finished — filtered by class or stage, searched
// by name. The seed's roster has no class columns, so the test imports lines that have them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { API, idNumber, launch, newContext, seed, shot, signInAs } from './helpers.mjs';

const campaignId = seed.campaigns.a.id;
const progressUrl = `${API}/#/admin/campaigns/${encodeURIComponent(campaignId)}?tab=progress`;

// New roster lines with department / major / class (valid GB 11643 numbers, real birth dates).
const LINES = [
  { name: '赵一鸣', id: idNumber('20030214', 511), department: '计算机学院', major: '软件工程', class: '软件 2201' },
  { name: '钱二丫', id: idNumber('20030527', 522), department: '计算机学院', major: '软件工程', class: '软件 2201' },
  { name: '孙三省', id: idNumber('20021108', 533), department: '计算机学院', major: '软件工程', class: '软件 2202' },
  { name: '周四海', id: idNumber('20040730', 544), department: '外国语学院', major: '英语', class: '英语 2201' },
];

let browser, context, page;
before(async () => {
  browser = await launch();
  context = await newContext(browser);
  page = await signInAs(context, 'school_admin_a', '管理员丁');
});
after(async () => browser?.close());

/** The progress route as the page would call it (same session), for comparing with the page. */
async function api(query = '') {
  return page.evaluate(async (p) => {
    const res = await fetch(p, { headers: { Accept: 'application/json' } });
    return { status: res.status, body: await res.json() };
  }, `/v1/admin/campaigns/${encodeURIComponent(campaignId)}/progress${query}`);
}

/** Waits until the list shown is the answer for the filter in the address. */
async function settled() {
  await page.waitForFunction(() => {
    const el = document.querySelector('#students');
    if (!el || el.classList.contains('is-loading')) return false;
    const q = new URLSearchParams(location.hash.split('?')[1] ?? '');
    const want = new URLSearchParams();
    for (const k of ['stage', 'q', 'department', 'major', 'class']) if (q.get(k)) want.set(k, q.get(k));
    return el.getAttribute('data-filter') === want.toString();
  });
}

/** The names listed, once the list is settled. */
async function listed() {
  await settled();
  return page.locator('#student-list tbody tr .student-name').allInnerTexts();
}

async function matching() {
  await settled();
  return Number(await page.locator('#students').getAttribute('data-matching'));
}

test('the header shows the WeChat nickname the admin signed in with', async () => {
  assert.equal(await page.locator('#who-name').innerText(), '管理员丁');
});

test('the progress page counts every roster line by stage, as the API does', async () => {
  await page.goto(progressUrl);
  await page.locator('#stages').waitFor();
  const { status, body } = await api();
  assert.equal(status, 200);
  assert.equal(body.stages.length, 12);
  for (const s of body.stages) {
    const card = page.locator(`#stages .stage-card[data-stage="${s.stage}"] .stage-count`);
    assert.equal(await card.innerText(), String(s.count), `count of ${s.stage}`);
  }
  assert.equal(body.stages.reduce((n, s) => n + s.count, 0), body.roster, 'every line is in one stage');
  const approved = body.stages.find((s) => s.stage === 'approved').count;
  assert.equal(await page.locator('#stages .stage-card-all .stage-count').innerText(), String(body.roster - approved));
  assert.equal(await matching(), body.roster - approved, 'the list holds everyone not approved');
  // The seed's roster has no classes: the class table says how to get one (until the next
  // test imports some; a second run on the same seed finds them there already).
  const named = body.groups.filter((g) => g.department || g.major || g.class);
  if (named.length) assert.equal(await page.locator('#groups tr.group-row').count(), body.groups.length);
  else await page.locator('#groups.groups-none').waitFor();
  await shot(page, 'admin-progress');
});

test('a roster with department, major and class columns fills the class table', async () => {
  await page.locator('#tab-roster').click();
  await page.locator('#roster-file').waitFor();
  const csv = ['姓名,身份证号,院系,专业,班级', ...LINES.map((l) => [l.name, l.id, l.department, l.major, l.class].join(','))].join('\n') + '\n';
  await page.locator('#roster-file').setInputFiles({ name: 'classes.csv', mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
  await page.locator('#roster-upload').click();
  await page.locator('#import-report').waitFor({ timeout: 30_000 });
  assert.equal(await page.locator('#report-errors').innerText(), '0');
  assert.equal(await page.locator('#report-rows').innerText(), String(LINES.length));

  await page.locator('#tab-progress').click();
  const row = page.locator('#groups tr.group-row[data-class="软件 2201"]');
  await row.waitFor();
  assert.equal(await row.locator('.group-filter').innerText(), '软件 2201');
  assert.match(await row.locator('.group-name').innerText(), /计算机学院 · 软件工程/);
  assert.deepEqual(await row.locator('td.num').allInnerTexts(), ['2', '0', '2'], 'total, approved, not finished');
  assert.equal(await row.locator('.completion-pct').innerText(), '0%');
  assert.equal(await page.locator('#groups tr.group-row[data-class="英语 2201"] td.num').first().innerText(), '1');
  await shot(page, 'admin-progress-classes');
});

test('a click on a class lists only that class, and the class select does the same', async () => {
  await page.locator('#groups tr.group-row[data-class="软件 2201"] .group-filter').click();
  await page.waitForFunction(() => location.hash.includes('class='));
  assert.deepEqual((await listed()).sort(), ['赵一鸣', '钱二丫'].sort());
  assert.equal(await matching(), 2);
  for (const c of await page.locator('#student-list tbody .student-class').allInnerTexts()) assert.equal(c, '软件 2201');
  assert.ok(await page.locator('#groups tr.group-row.active[data-class="软件 2201"]').count(), 'the chosen class is marked');
  assert.equal(await page.locator('#filter-class').inputValue(), '软件 2201');
  // The masked ID numbers only: 4 digits, stars, the last 4.
  for (const id of await page.locator('#student-list tbody td.student-id').allInnerTexts()) assert.match(id, /^\d{4}\*+[\dX]{4}$/);
  await shot(page, 'admin-progress-class');

  // The list downloads as a CSV for the class teacher (masked, as shown).
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#download-list').click()]);
  const csv = fs.readFileSync(await download.path(), 'utf8');
  assert.ok(csv.startsWith('\ufeff姓名,'), 'a UTF-8 CSV Excel opens');
  assert.equal(csv.trim().split('\r\n').length, 3, 'a header and the 2 students');
  assert.ok(csv.includes('钱二丫') && csv.includes('软件 2201') && !csv.includes(LINES[1].id), 'masked ID numbers only');

  await page.locator('#filter-clear').click();
  await page.locator('#filter-department').selectOption('外国语学院');
  await page.locator('#filter-class').selectOption('英语 2201');
  await page.waitForFunction(() => decodeURIComponent(location.hash.replace(/\+/g, ' ')).includes('class=英语 2201'));
  assert.deepEqual(await listed(), ['周四海']);
});

test('a stage card lists that stage only', async () => {
  await page.locator('#filter-clear').click();
  await page.locator('#stages .stage-card[data-stage=not_verified]').click();
  await page.waitForFunction(() => location.hash.includes('stage=not_verified'));
  const { body } = await api('?stage=not_verified');
  const count = body.stages.find((s) => s.stage === 'not_verified').count;
  assert.ok(count >= LINES.length, 'the imported lines have not verified yet');
  assert.equal(await page.locator('#stages .stage-card[data-stage=not_verified] .stage-count').innerText(), String(count));
  assert.equal(await matching(), count);
  const names = await listed();
  for (const l of LINES) assert.ok(names.includes(l.name), `${l.name} is listed`);
  for (const s of await page.locator('#student-list tbody tr').evaluateAll((rows) => rows.map((r) => r.dataset.stage)))
    assert.equal(s, 'not_verified');
  assert.equal(await page.locator('#stages .stage-card.active').getAttribute('data-stage'), 'not_verified');
  await shot(page, 'admin-progress-stage');

  // A stage with the seed's students (whatever earlier tests did with them).
  const seeded = (await api()).body.stages.find((s) => s.stage !== 'not_verified' && s.stage !== 'approved' && s.count > 0);
  if (seeded) {
    await page.locator(`#stages .stage-card[data-stage="${seeded.stage}"]`).click();
    await page.waitForFunction((st) => location.hash.includes(`stage=${st}`), seeded.stage);
    assert.equal(await matching(), seeded.count);
    assert.equal(await page.locator('#student-list tbody tr').count(), seeded.count);
  }
});

test('searching by name finds the student, whatever their stage', async () => {
  await page.locator('#filter-clear').click();
  await page.locator('#progress-q').fill('钱二');
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('q=钱二'));
  assert.deepEqual(await listed(), ['钱二丫']);
  assert.equal(await page.locator('#student-list tbody tr .badge').innerText(), '未验证身份');
  await shot(page, 'admin-progress-search');

  // A seeded student by name: the page lists what the API lists for the same search.
  const name = seed.students.a[0].name;
  await page.locator('#progress-q').fill(name);
  await page.locator('#progress-q').press('Enter');
  await page.waitForFunction((n) => decodeURIComponent(location.hash).includes(`q=${n}`), name);
  const { body } = await api(`?q=${encodeURIComponent(name)}`);
  assert.equal(await matching(), body.matching);
  assert.deepEqual((await listed()).sort(), body.students.map((s) => s.line.name).sort());

  // Nobody by that name: says so.
  await page.locator('#progress-q').fill('不存在的人');
  await page.locator('#progress-q').press('Enter');
  await page.locator('#students .empty').waitFor();
  assert.equal(await matching(), 0);

  // The filter is in the address: reloading the page keeps it.
  await page.reload();
  await page.locator('#students .empty').waitFor();
  assert.equal(await page.locator('#progress-q').inputValue(), '不存在的人');
  assert.deepEqual(context.pageErrors, []);
});
