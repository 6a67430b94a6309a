// Where every student on a campaign's roster stands (GET …/progress): counts by stage, each
// class's completion, and the students who have not finished, searchable and filterable —
// what a school admin chasing stragglers the night before the deadline needs.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../html';
import { get, routes } from '../api';
import { pick, t, tOr } from '../i18n';
import { dateTime } from '../format';
import { href } from '../router';
import { Empty, ErrorBox, Loading, Notice, useLoad } from '../components/ui';
import {
  Campaign,
  CampaignProgress,
  FILTER_KEYS,
  ProgressFilter,
  ProgressGroup,
  ProgressStudent,
  PROGRESS_ORDER,
  STAGES,
  StageCount,
} from '../admin/types';

/** How each stage reads at a glance: who has to act (the student, the pipeline, nobody). */
const TONE: Record<string, string> = {
  not_verified: 'badge-warn',
  no_order: 'badge-warn',
  unpaid: 'badge-warn',
  paid_no_photo: 'badge-warn',
  processing: 'badge-info',
  not_submitted: 'badge-warn',
  retake: 'badge-danger',
  in_review: 'badge-info',
  approved: 'badge-ok',
  cancelled: '',
  refunded: '',
  collected_offline: 'badge-ok',
};

export function StageBadge({ stage, zh, en }: { stage: string; zh?: string; en?: string }) {
  return html`<span class="badge ${TONE[stage] ?? ''}" data-stage=${stage}>
    <i class="dot stage-${stage}"></i>${pick(zh, en) || tOr(`progress.stage.${stage}`, stage)}
  </span>`;
}

const pct = (n: number, of: number) => (of > 0 ? Math.round((100 * n) / of) : 0);

/** The filter as a query string, keys in a fixed order (what the list shown was loaded for). */
export function filterKey(f: ProgressFilter): string {
  const q = new URLSearchParams();
  for (const k of FILTER_KEYS) if (f[k]) q.set(k, f[k]!);
  return q.toString();
}

/** The filter of the route's query (`?tab=progress&stage=retake&class=…`). */
export function filterOf(params: Record<string, string>): ProgressFilter {
  const f: ProgressFilter = {};
  for (const k of FILTER_KEYS) if (params[k]) f[k] = params[k];
  return f;
}

function groupLabel(g: { department?: string | null; major?: string | null; class?: string | null }): string {
  return [g.department, g.major, g.class].filter(Boolean).join(' / ');
}

/** The group the filter names (the filter a click on that group's row sets). */
function sameGroup(g: ProgressGroup, f: ProgressFilter): boolean {
  return (['department', 'major', 'class'] as const).every((k) => (f[k] ?? '') === g[k]);
}

/** The listed students as a CSV file (Excel opens UTF-8 with a BOM), masked as shown. */
function downloadCsv(students: ProgressStudent[], name: string) {
  // Spreadsheets run a cell that starts like a formula (= + - @, tab, CR): such a cell is
  // written with a leading ' (the OWASP CSV-injection rule), as the school's export does.
  const cell = (v: unknown) => {
    const raw = v === null || v === undefined ? '' : String(v);
    const s = /^[=+\-@\t\r]/.test(raw) ? `'${raw}` : raw;
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = ['name', 'id_number', 'student_no', 'department', 'major', 'class', 'stage', 'next', 'order'].map((k) =>
    t(`progress.csv.${k}` as any),
  );
  const rows = students.map((s) =>
    [
      s.line.name,
      s.line.id_number,
      s.line.student_no,
      s.line.department,
      s.line.major,
      s.line.class,
      pick(s.stage_zh, s.stage_en),
      tOr(`progress.next.${s.stage}`, ''),
      s.order_id,
    ]
      .map(cell)
      .join(','),
  );
  const blob = new Blob(['\ufeff' + [head.join(','), ...rows].join('\r\n') + '\r\n'], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function Headline({ progress, data }: { progress: Record<string, number>; data: CampaignProgress | null }) {
  const enrolled = progress.enrolled ?? data?.roster ?? 0;
  const approved = data?.stages.find((s) => s.stage === 'approved')?.count;
  const roster = data?.roster ?? enrolled;
  const base = Math.max(1, enrolled, roster);
  const stat = (key: string, label: string, value: number | undefined, extra?: string) => html`<div class="stat" data-state=${key}>
    <div class="stat-value">${value ?? '—'}${extra ? html`<span class="stat-extra">${extra}</span>` : null}</div>
    <div class="stat-label">${label}</div>
    <div class="stat-bar"><span style=${{ width: `${Math.min(100, (100 * (value ?? 0)) / base)}%` }}></span></div>
  </div>`;
  return html`<div class="stats stats-headline" id="headline">
    ${PROGRESS_ORDER.map((k) => stat(k, tOr(`admin.progress.${k}`, k), progress[k] ?? 0))}
    ${stat('approved', t('admin.progress.approved'), approved, approved !== undefined && roster > 0 ? `${pct(approved, roster)}%` : undefined)}
    ${stat('unfinished', t('progress.unfinished'), approved !== undefined ? roster - approved : undefined)}
  </div>`;
}

/** One bar of the whole roster by stage, then a card per stage that filters the list. */
function Stages({ data, stage, onStage }: { data: CampaignProgress; stage?: string; onStage: (s?: string) => void }) {
  const byCode = new Map(data.stages.map((s) => [s.stage, s]));
  const ordered: StageCount[] = [
    ...STAGES.map((c) => byCode.get(c)).filter((s): s is StageCount => !!s),
    ...data.stages.filter((s) => !(STAGES as readonly string[]).includes(s.stage)),
  ];
  const approved = byCode.get('approved')?.count ?? 0;
  const total = Math.max(1, data.roster);
  return html`<div class="stages" id="stages">
    <div class="stage-bar" aria-hidden="true">
      ${ordered
        .filter((s) => s.count > 0)
        .map(
          (s) => html`<span class="stage-${s.stage}" style=${{ width: `${(100 * s.count) / total}%` }} title=${`${pick(s.label_zh, s.label_en)} ${s.count}`}></span>`,
        )}
    </div>
    <div class="stage-cards" role="group" aria-label=${t('progress.stages')}>
      <button type="button" class="stage-card stage-card-all ${!stage ? 'active' : ''}" data-stage="" aria-pressed=${!stage} onClick=${() => onStage(undefined)}>
        <span class="stage-count">${data.roster - approved}</span>
        <span class="stage-name">${t('progress.all_unfinished')}</span>
      </button>
      ${ordered.map(
        (s) => html`<button
          type="button"
          class="stage-card ${stage === s.stage ? 'active' : ''} ${s.count === 0 ? 'zero' : ''}"
          data-stage=${s.stage}
          aria-pressed=${stage === s.stage}
          onClick=${() => onStage(stage === s.stage ? undefined : s.stage)}
        >
          <span class="stage-count">${s.count}</span>
          <span class="stage-name"><i class="dot stage-${s.stage}"></i>${pick(s.label_zh, s.label_en)}</span>
        </button>`,
      )}
    </div>
  </div>`;
}

function Groups({ groups, filter, onGroup }: { groups: ProgressGroup[]; filter: ProgressFilter; onGroup: (g: ProgressGroup | null) => void }) {
  const [sort, setSort] = useState<'name' | 'behind'>('name');
  const any = groups.some((g) => g.department || g.major || g.class);
  if (!any) {
    return html`<div class="panel groups-none" id="groups">
      <h2>${t('progress.groups')}</h2>
      <p class="muted small">${t('progress.groups_none')}</p>
    </div>`;
  }
  const by = (a: string, b: string) => (a || '\uffff').localeCompare(b || '\uffff', 'zh-CN');
  const byName = [...groups].sort((a, b) => by(a.department, b.department) || by(a.major, b.major) || by(a.class, b.class));
  // Done: approved, or collected offline (nothing left to do online).
  const done = (g: ProgressGroup) => g.done ?? g.approved;
  const rows = sort === 'name' ? byName : byName.sort((a, b) => pct(done(a), a.total) - pct(done(b), b.total) || b.total - done(b) - (a.total - done(a)));
  const chosen = !!(filter.department || filter.major || filter.class);
  return html`<div class="groups" id="groups">
    <div class="section-head">
      <h2>${t('progress.groups')}</h2>
      <div class="segmented" role="group">
        <button type="button" class=${sort === 'name' ? 'active' : ''} aria-pressed=${sort === 'name'} onClick=${() => setSort('name')}>${t('progress.sort_name')}</button>
        <button type="button" id="sort-behind" class=${sort === 'behind' ? 'active' : ''} aria-pressed=${sort === 'behind'} onClick=${() => setSort('behind')}>${t('progress.sort_behind')}</button>
      </div>
    </div>
    <div class="table-scroll">
      <table class="table table-compact groups-table">
        <thead>
          <tr>
            <th>${t('progress.group')}</th>
            <th class="num">${t('progress.total')}</th>
            <th class="num">${t('admin.progress.approved')}</th>
            <th class="num">${t('progress.left')}</th>
            <th class="completion-col">${t('progress.completion')}</th>
          </tr>
        </thead>
        <tbody>
          ${rows.map((g) => {
            const blank = !g.department && !g.major && !g.class;
            const active = chosen && sameGroup(g, filter);
            const p = pct(done(g), g.total);
            return html`<tr
              class="group-row ${active ? 'active' : ''} ${blank ? '' : 'clickable'}"
              data-department=${g.department}
              data-major=${g.major}
              data-class=${g.class}
              onClick=${blank ? undefined : () => onGroup(active ? null : g)}
              title=${blank ? undefined : t('progress.group_click')}
            >
              <td class="group-name">
                ${blank
                  ? html`<span class="muted">${t('progress.no_group')}</span>`
                  : html`<button type="button" class="link-btn group-filter">${g.class || g.major || g.department}</button>
                      ${g.class || (g.major && g.department)
                        ? html`<div class="small muted">${[g.department, g.class ? g.major : ''].filter(Boolean).join(' · ')}</div>`
                        : null}`}
              </td>
              <td class="num">${g.total}</td>
              <td class="num">${g.approved}</td>
              <td class="num ${g.total - done(g) ? 'strong' : 'muted'}">${g.total - done(g)}</td>
              <td class="completion-col">
                <div class="completion" role="img" aria-label=${`${p}%`}>
                  <div class="completion-bar"><span class=${p === 100 ? 'done' : p < 50 ? 'low' : ''} style=${{ width: `${p}%` }}></span></div>
                  <span class="completion-pct">${p}%</span>
                </div>
              </td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
  </div>`;
}

function distinct(values: (string | null | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => !!v))].sort((a, b) => a.localeCompare(b, 'zh-CN'));
}

function Filters({
  data,
  filter,
  onFilter,
}: {
  data: CampaignProgress;
  filter: ProgressFilter;
  onFilter: (f: ProgressFilter, push?: boolean) => void;
}) {
  const [text, setText] = useState(filter.q ?? '');
  const timer = useRef<number | undefined>(undefined);
  useEffect(() => {
    if ((filter.q ?? '') !== text.trim()) setText(filter.q ?? '');
  }, [filter.q]);
  useEffect(() => () => clearTimeout(timer.current), []);
  const typed = (v: string) => {
    setText(v);
    clearTimeout(timer.current);
    timer.current = window.setTimeout(() => onFilter({ ...filter, q: v.trim() || undefined }, false), 350);
  };
  const g = data.groups;
  const within = (f: (x: ProgressGroup) => boolean) => g.filter(f);
  const departments = distinct([...g.map((x) => x.department), filter.department]);
  const majors = distinct([...within((x) => !filter.department || x.department === filter.department).map((x) => x.major), filter.major]);
  const classes = distinct([
    ...within((x) => (!filter.department || x.department === filter.department) && (!filter.major || x.major === filter.major)).map((x) => x.class),
    filter.class,
  ]);
  const any = FILTER_KEYS.some((k) => filter[k]);
  const select = (id: string, all: string, value: string | undefined, options: string[], change: (v?: string) => void) =>
    options.length
      ? html`<select id=${id} value=${value ?? ''} onChange=${(e: any) => change(e.currentTarget.value || undefined)}>
          <option value="">${all}</option>
          ${options.map((o) => html`<option value=${o}>${o}</option>`)}
        </select>`
      : null;
  return html`<form
    class="filter-bar"
    id="progress-filter"
    onSubmit=${(e: Event) => {
      e.preventDefault();
      clearTimeout(timer.current);
      onFilter({ ...filter, q: text.trim() || undefined }, false);
    }}
  >
    <input
      type="search"
      id="progress-q"
      value=${text}
      onInput=${(e: any) => typed(e.currentTarget.value)}
      placeholder=${t('progress.search')}
      aria-label=${t('progress.search')}
    />
    ${select('filter-department', t('progress.all_departments'), filter.department, departments, (v) =>
      onFilter({ ...filter, department: v, major: undefined, class: undefined }),
    )}
    ${select('filter-major', t('progress.all_majors'), filter.major, majors, (v) => onFilter({ ...filter, major: v, class: undefined }))}
    ${select('filter-class', t('progress.all_classes'), filter.class, classes, (v) => onFilter({ ...filter, class: v }))}
    <select id="filter-stage" value=${filter.stage ?? ''} onChange=${(e: any) => onFilter({ ...filter, stage: e.currentTarget.value || undefined })}>
      <option value="">${t('progress.all_unfinished')}</option>
      ${data.stages.map((s) => html`<option value=${s.stage}>${pick(s.label_zh, s.label_en)} (${s.count})</option>`)}
    </select>
    ${any
      ? html`<button type="button" class="btn btn-quiet" id="filter-clear" onClick=${() => (setText(''), onFilter({}))}>${t('progress.clear')}</button>`
      : null}
  </form>`;
}

function Students({
  data,
  filter,
  shownFor,
  campaign,
  busy,
}: {
  data: CampaignProgress;
  filter: ProgressFilter;
  shownFor: string;
  campaign: Campaign;
  busy: boolean;
}) {
  // Class by class (as they are chased), then by how far along, then by name.
  const list = useMemo(() => {
    const at = (st: string) => (STAGES as readonly string[]).indexOf(st);
    const by = (a?: string | null, b?: string | null) => (a ?? '\uffff').localeCompare(b ?? '\uffff', 'zh-CN');
    return [...data.students].sort(
      (a, b) =>
        by(a.line.department, b.line.department) ||
        by(a.line.major, b.line.major) ||
        by(a.line.class, b.line.class) ||
        at(a.stage) - at(b.stage) ||
        by(a.line.name, b.line.name),
    );
  }, [data.students]);
  const cols = {
    student_no: list.some((s) => s.line.student_no),
    department: list.some((s) => s.line.department),
    major: list.some((s) => s.line.major),
    class: list.some((s) => s.line.class),
  };
  const stage = filter.stage ? data.stages.find((s) => s.stage === filter.stage) : undefined;
  const title = stage ? pick(stage.label_zh, stage.label_en) : t('progress.list_unfinished');
  const narrowed = !!(filter.q || filter.department || filter.major || filter.class);
  const fileName = `${campaign.name}-${stage ? filter.stage : 'unfinished'}-${dateTime(new Date()).replace(/[ :]/g, '')}.csv`;
  return html`<div class="students ${busy ? 'is-loading' : ''}" id="students" data-matching=${data.matching} data-filter=${shownFor} aria-busy=${busy}>
    <div class="section-head">
      <h2>
        ${title}
        <span class="muted count" id="matching">${t('progress.matching', { n: data.matching })}</span>
        ${narrowed ? html`<span class="muted small">${t('progress.narrowed', { what: [filter.q && `“${filter.q}”`, groupLabel(filter)].filter(Boolean).join(' · ') })}</span>` : null}
      </h2>
      ${list.length
        ? html`<button type="button" class="btn btn-small" id="download-list" onClick=${() => downloadCsv(list, fileName)}>${t('progress.download')}</button>`
        : null}
    </div>
    ${data.truncated ? html`<${Notice} kind="warn">${t('progress.truncated', { shown: list.length, n: data.matching })}<//>` : null}
    ${list.length === 0
      ? html`<${Empty}>${narrowed || filter.stage ? t('progress.none_match') : t('progress.all_done')}<//>`
      : html`<div class="table-scroll">
          <table class="table table-compact" id="student-list">
            <thead>
              <tr>
                <th>${t('progress.name')}</th>
                <th>${t('progress.id_number')}</th>
                ${cols.student_no ? html`<th>${t('progress.student_no')}</th>` : null}
                ${cols.department ? html`<th>${t('progress.department')}</th>` : null}
                ${cols.major ? html`<th>${t('progress.major')}</th>` : null}
                ${cols.class ? html`<th>${t('progress.class')}</th>` : null}
                <th>${t('progress.stage')}</th>
                <th>${t('progress.next')}</th>
                <th>${t('progress.order')}</th>
              </tr>
            </thead>
            <tbody>
              ${list.map(
                (s) => html`<tr data-entry=${s.line.entry_id} data-stage=${s.stage}>
                  <td class="student-name">${s.line.name}</td>
                  <td class="mono student-id">${s.line.id_number}</td>
                  ${cols.student_no ? html`<td class="mono">${s.line.student_no ?? '—'}</td>` : null}
                  ${cols.department ? html`<td>${s.line.department ?? '—'}</td>` : null}
                  ${cols.major ? html`<td>${s.line.major ?? '—'}</td>` : null}
                  ${cols.class ? html`<td class="student-class">${s.line.class ?? '—'}</td>` : null}
                  <td><${StageBadge} stage=${s.stage} zh=${s.stage_zh} en=${s.stage_en} /></td>
                  <td class="small muted">${tOr(`progress.next.${s.stage}`, '')}</td>
                  <td class="mono small">${s.order_id ?? '—'}</td>
                </tr>`,
              )}
            </tbody>
          </table>
        </div>`}
  </div>`;
}

export function ProgressPanel({
  campaign,
  progress,
  filter,
  onFilter,
  onRefresh,
}: {
  campaign: Campaign;
  progress: Record<string, number>;
  filter: ProgressFilter;
  onFilter: (f: ProgressFilter, push?: boolean) => void;
  onRefresh: () => void;
}) {
  const key = filterKey(filter);
  const view = useLoad<{ key: string; data: CampaignProgress }>(
    () => get<CampaignProgress>(routes.progress(campaign.id, { ...filter })).then((data) => ({ key, data })),
    [campaign.id, key],
  );
  const [at, setAt] = useState<Date | null>(null);
  useEffect(() => {
    if (view.data) setAt(new Date());
  }, [view.data]);
  const data = view.data?.data ?? null;
  // Until the answer for this filter is in, the list shown is the last one's (dimmed).
  const busy = view.loading || view.data?.key !== key;
  const refresh = () => (view.reload(), onRefresh());
  const onGroup = (g: ProgressGroup | null) =>
    onFilter({ ...filter, department: g?.department || undefined, major: g?.major || undefined, class: g?.class || undefined });
  return html`<div class="progress" id="progress">
    <div class="section-head progress-head">
      <${Headline} progress=${progress} data=${data} />
      <div class="refresh">
        <button class="btn btn-quiet btn-small" id="refresh-progress" onClick=${refresh} disabled=${view.loading}>${t('common.refresh')}</button>
        ${at ? html`<span class="muted small">${t('progress.updated_at', { at: dateTime(at, true) })}</span>` : null}
      </div>
    </div>
    <${ErrorBox} error=${view.error} />
    ${!data
      ? view.loading
        ? html`<${Loading} />`
        : null
      : data.roster === 0
        ? html`<div class="progress-empty" id="students" data-matching="0" data-filter=${view.data!.key}>
            <${Empty}>${t('progress.no_roster')}
              <a href=${href(`/admin/campaigns/${encodeURIComponent(campaign.id)}?tab=roster`)}>${t('progress.import_roster')}</a><//>
          </div>`
        : html`<${Stages} data=${data} stage=${filter.stage} onStage=${(s?: string) => onFilter({ ...filter, stage: s })} />
          <div class="progress-grid">
            <div class="progress-side">
              <${Groups} groups=${data.groups} filter=${filter} onGroup=${onGroup} />
            </div>
            <div class="progress-main">
              <${Filters} data=${data} filter=${filter} onFilter=${onFilter} />
              <${Students} data=${data} filter=${filter} shownFor=${view.data!.key} campaign=${campaign} busy=${busy} />
            </div>
          </div>`}
  </div>`;
}
