// Customer service: find an order by out_trade_no or WeChat Pay transaction id, or a student's
// orders by (part of) the name, or the whole 学号, on a campaign's roster.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html';
import { get, routes } from '../api';
import { t, tn, tOr } from '../i18n';
import { dateTime, yuan } from '../format';
import { go, href } from '../router';
import { Empty, ErrorBox, Loading, Notice, PageHeader, useLoad } from '../components/ui';
import { asView, CampaignView, loadSchools, School } from '../admin/types';

export function StateBadge({ state }: { state?: string }) {
  if (!state) return null;
  const tone: Record<string, string> = {
    approved: 'badge-ok',
    in_review: 'badge-info',
    rejected: 'badge-danger',
    retake_required: 'badge-warn',
    refunded: '',
    cancelled: '',
    expired: '',
  };
  return html`<span class="badge ${tone[state] ?? 'badge-info'}" data-state=${state}>${tOr(`state.${state}`, state)}</span>`;
}

/** The roster line an order is bound to, masked by the API (王**, 110105********002X). */
export interface ServiceStudent {
  name: string;
  id_number: string;
  student_no: string | null;
  department: string | null;
  major: string | null;
  class: string | null;
}
/** An order as customer service sees it (no WeChat identifiers). */
export interface ServiceOrder {
  order_id: string;
  user_id: string;
  campaign_id: string;
  school_id: string;
  state: string;
  amount_fen: number;
  created_at: string | null;
  paid_at: string | null;
  transaction_id: string | null;
  reasons: string[] | null;
  review_note: string | null;
  approved_at: string | null;
  out_refund_no: string | null;
  refund_reason: string | null;
  student: ServiceStudent | null;
}

/** Department / major / class of a student, as one line. */
export function classOf(s: ServiceStudent | null | undefined): string {
  return [s?.department, s?.major, s?.class].filter(Boolean).join(' / ');
}

/** Who the order is for: masked name and ID number, with the class under them. */
export function Student({ student }: { student: ServiceStudent | null }) {
  if (!student) return html`<span class="muted">${t('service.order.no_student')}</span>`;
  const cls = classOf(student);
  return html`<div class="student" data-name=${student.name}>
    <span class="student-name">${student.name}</span>
    ${' '}<span class="mono muted student-id">${student.id_number}</span>
    ${student.student_no ? html`<span class="muted small"> · ${t('progress.student_no')} <span class="mono">${student.student_no}</span></span>` : null}
    ${cls ? html`<div class="small muted">${cls}</div>` : null}
  </div>`;
}

/** The orders found, masked as the API sends them; each links to its page. */
export function OrderTable({ orders }: { orders: ServiceOrder[] }) {
  return html`<table class="table" id="order-results">
    <thead>
      <tr>
        <th>${t('service.order.out_trade_no')}</th>
        <th>${t('service.order.student')}</th>
        <th>${t('service.order.state')}</th>
        <th class="num">${t('service.order.amount')}</th>
        <th>${t('service.order.paid_at')}</th>
        <th>${t('service.order.transaction_id')}</th>
        <th>${t('service.order.campaign')}</th>
      </tr>
    </thead>
    <tbody>
      ${orders.map(
        (o) => html`<tr data-order=${o.order_id}>
          <td><a class="mono order-link" href=${href(`/service/orders/${encodeURIComponent(o.order_id)}`)}>${o.order_id}</a></td>
          <td class="order-student"><${Student} student=${o.student} /></td>
          <td><${StateBadge} state=${o.state} /></td>
          <td class="num">${yuan(o.amount_fen)}</td>
          <td class="nowrap">${dateTime(o.paid_at)}</td>
          <td class="mono small">${o.transaction_id ?? '—'}</td>
          <td class="mono small muted">${o.campaign_id}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** At most this many roster lines match a name (the API's cap). */
const MAX_NAME_MATCHES = 20;

interface NameResult {
  orders: ServiceOrder[];
  roster_matches: number;
}

/** What the roster search looks for: (part of) a name, or a whole 学号. */
export type StudentKey = 'name' | 'student_no';

/** School → campaign → (part of) a name or a 学号; the choice goes into the address on submit. */
function NameForm({ school, campaign, name, by }: { school?: string; campaign?: string; name?: string; by: StudentKey }) {
  const schools = useLoad<School[]>(() => loadSchools(), []);
  const [schoolId, setSchoolId] = useState(school ?? '');
  const [campaignId, setCampaignId] = useState(campaign ?? '');
  const [text, setText] = useState(name ?? '');
  const [kind, setKind] = useState<StudentKey>(by);
  useEffect(() => setText(name ?? ''), [name]);
  useEffect(() => setKind(by), [by]);
  useEffect(() => {
    if (school) setSchoolId(school);
  }, [school]);
  useEffect(() => {
    if (campaign) setCampaignId(campaign);
  }, [campaign]);
  const chosenSchool = schoolId || schools.data?.[0]?.id || '';
  const campaigns = useLoad<CampaignView[] | null>(
    () => (chosenSchool ? get(routes.campaigns(chosenSchool)).then((r: any) => (r.campaigns ?? []).map(asView)) : Promise.resolve(null)),
    [chosenSchool],
  );
  const list = campaigns.loading ? [] : (campaigns.data ?? []);
  const chosenCampaign = list.some((v) => v.campaign.id === campaignId) ? campaignId : (list[0]?.campaign.id ?? '');
  const limit = kind === 'name' ? MAX_NAME_MATCHES : 32;
  const ready = !!chosenCampaign && !!text.trim() && [...text.trim()].length <= limit;
  const submit = (e: Event) => {
    e.preventDefault();
    if (!ready) return;
    const q = new URLSearchParams({ school: chosenSchool, campaign: chosenCampaign, name: text.trim() });
    if (kind === 'student_no') q.set('by', 'student_no');
    go(`/service/orders?${q.toString()}`);
  };
  return html`<form class="name-form" id="name-search" onSubmit=${submit}>
    <label class="field">
      <span>${t('service.search.school')}</span>
      <select id="name-school" value=${chosenSchool} disabled=${!schools.data?.length} onChange=${(e: any) => (setSchoolId(e.currentTarget.value), setCampaignId(''))}>
        ${(schools.data ?? []).map((s) => html`<option value=${s.id}>${s.name}</option>`)}
      </select>
    </label>
    <label class="field field-campaign">
      <span>${t('service.search.campaign')}</span>
      <select id="name-campaign" value=${chosenCampaign} disabled=${!list.length} onChange=${(e: any) => setCampaignId(e.currentTarget.value)}>
        ${list.map(
          (v) => html`<option value=${v.campaign.id}>${v.campaign.name}${v.campaign.status ? ` · ${tOr(`campaign.status.${v.campaign.status}`, v.campaign.status)}` : ''}</option>`,
        )}
      </select>
    </label>
    <label class="field field-kind">
      <span>${t('service.search.by')}</span>
      <select id="name-kind" value=${kind} onChange=${(e: any) => setKind(e.currentTarget.value)}>
        <option value="name">${t('service.search.name')}</option>
        <option value="student_no">${t('progress.student_no')}</option>
      </select>
    </label>
    <label class="field">
      <span>${kind === 'name' ? t('service.search.name') : t('progress.student_no')}</span>
      <input type="search" id="name-query" maxlength=${limit} value=${text} onInput=${(e: any) => setText(e.currentTarget.value)} placeholder=${kind === 'name' ? t('service.search.name_placeholder') : t('service.search.student_no_placeholder')} />
    </label>
    <button class="btn btn-primary" type="submit" disabled=${!ready}>${t('service.search.go')}</button>
    ${!campaigns.loading && chosenSchool && !list.length && !campaigns.error
      ? html`<p class="muted small name-form-note" id="name-no-campaigns">${t('service.search.no_campaigns')}</p>`
      : null}
  </form>
  <${ErrorBox} error=${schools.error || campaigns.error} />`;
}

/** What a roster search found: the orders, and the matching roster lines that have none. */
function NameResults({ campaign, name, by }: { campaign: string; name: string; by: StudentKey }) {
  const res = useLoad<NameResult>(
    () => get<NameResult>(by === 'name' ? routes.searchOrdersByName(campaign, name) : routes.searchOrdersByStudentNo(campaign, name)),
    [campaign, name, by],
  );
  if (res.error) return html`<${ErrorBox} error=${res.error} />`;
  if (res.loading || !res.data) return html`<${Loading} />`;
  const orders = res.data.orders ?? [];
  const matches = res.data.roster_matches ?? 0;
  // Lines nobody verified against have no order: count the students the orders belong to.
  const found = new Set(orders.map((o) => o.user_id)).size;
  const missing = Math.max(0, matches - found);
  const capped = matches >= MAX_NAME_MATCHES
    ? html`<${Notice} kind="warn"><span id="name-capped">${t('service.search.name_capped', { max: MAX_NAME_MATCHES })}</span><//>`
    : null;
  if (by === 'student_no') {
    if (!matches) return html`<${Empty}><span id="name-none">${t('service.search.student_no_none', { name })}</span><//>`;
    if (!orders.length) return html`<${Empty}><span id="name-unverified" data-matches="1" data-missing="1">${t('service.search.student_no_no_orders', { name })}</span><//>`;
    return html`<${OrderTable} orders=${orders} />`;
  }
  if (!matches) return html`<${Empty}><span id="name-none">${t('service.search.name_none', { name })}</span><//>`;
  if (!orders.length)
    return html`${capped}<${Empty}><span id="name-unverified" data-matches=${matches} data-missing=${missing}>${tn('service.search.name_no_orders', matches, { matches, name })}</span><//>`;
  return html`${capped}
    ${missing
      ? html`<${Notice}><span id="name-unverified" data-matches=${matches} data-missing=${missing}>${t('service.search.name_some_unverified', { matches, missing, name })}</span><//>`
      : null}
    <${OrderTable} orders=${orders} />`;
}

export function OrderSearch({ q = '', school, campaign, name, by }: { q?: string; school?: string; campaign?: string; name?: string; by?: string }) {
  const key: StudentKey = by === 'student_no' ? 'student_no' : 'name';
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const byName = !!(campaign && name);
  const results = useLoad(
    () => (q && !byName ? get<{ orders: ServiceOrder[] }>(routes.searchOrders(q)).then((r) => r.orders ?? []) : Promise.resolve(null)),
    [q, byName],
  );
  return html`<section>
    <${PageHeader} title=${t('service.search.title')} />
    <div class="search-forms">
      <div class="panel">
        <h2>${t('service.search.by_number')}</h2>
        <form class="search-row" id="order-search" onSubmit=${(e: Event) => (e.preventDefault(), go(`/service/orders?q=${encodeURIComponent(text.trim())}`))}>
          <input type="search" id="order-query" autofocus value=${text} onInput=${(e: any) => setText(e.currentTarget.value)} placeholder=${t('service.search.placeholder')} />
          <button class="btn btn-primary" type="submit" disabled=${!text.trim()}>${t('service.search.go')}</button>
        </form>
      </div>
      <div class="panel">
        <h2>${t('service.search.by_name')}</h2>
        <${NameForm} school=${school} campaign=${campaign} name=${name} by=${key} />
        <p class="muted small name-hint">${t('service.search.name_hint', { max: MAX_NAME_MATCHES })}</p>
      </div>
    </div>
    <p class="muted small">${t('service.search.hint')}</p>
    ${byName
      ? html`<${NameResults} campaign=${campaign} name=${name} by=${key} />`
      : html`<${ErrorBox} error=${results.error} />
          ${!q
            ? null
            : results.loading
              ? html`<${Loading} />`
              : !results.data?.length
                ? html`<${Empty}>${t('service.search.none', { q })}<//>`
                : html`<${OrderTable} orders=${results.data} />`}`}
  </section>`;
}
