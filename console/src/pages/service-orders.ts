// Customer service: find an order by out_trade_no or WeChat Pay transaction id.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html';
import { get, routes } from '../api';
import { t, tOr } from '../i18n';
import { dateTime, yuan } from '../format';
import { go, href } from '../router';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components/ui';

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

export function OrderSearch({ q = '' }: { q?: string }) {
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const results = useLoad(() => (q ? get<{ orders: ServiceOrder[] }>(routes.searchOrders(q)).then((r) => r.orders ?? []) : Promise.resolve(null)), [q]);
  return html`<section>
    <${PageHeader} title=${t('service.search.title')} />
    <form class="search-row" id="order-search" onSubmit=${(e: Event) => (e.preventDefault(), go(`/service/orders?q=${encodeURIComponent(text.trim())}`))}>
      <input type="search" id="order-query" autofocus value=${text} onInput=${(e: any) => setText(e.currentTarget.value)} placeholder=${t('service.search.placeholder')} />
      <button class="btn btn-primary" type="submit" disabled=${!text.trim()}>${t('service.search.go')}</button>
    </form>
    <p class="muted small">${t('service.search.hint')}</p>
    <${ErrorBox} error=${results.error} />
    ${!q
      ? null
      : results.loading
        ? html`<${Loading} />`
        : !results.data?.length
          ? html`<${Empty}>${t('service.search.none', { q })}<//>`
          : html`<table class="table" id="order-results">
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
                ${results.data.map(
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
            </table>`}
  </section>`;
}
