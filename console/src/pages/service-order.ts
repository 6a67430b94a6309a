// One order for customer service: what it is, every transition, every staff look, and what
// may be done: send the photo back for a retake, refund (operators).
import { useState } from 'preact/hooks';
import { html } from '../html';
import { get, post, routes } from '../api';
import { pick, t, tOr } from '../i18n';
import { dateTime, yuan } from '../format';
import { href } from '../router';
import { ConfirmButton, ErrorBox, Loading, Notice, PageHeader, useAction, useLoad, useSession } from '../components/ui';
import { loadReasons, Reason } from '../review/claims';
import { classOf, ServiceOrder, StateBadge, Student } from './service-orders';

export function OrderDetail({ orderId }: { orderId: string }) {
  const { has } = useSession();
  const view = useLoad(() => get<{ order: ServiceOrder; history: any[]; audit: any[] }>(routes.serviceOrder(orderId)), [orderId]);
  const reasons = useLoad<Reason[]>(() => loadReasons().catch(() => []), []);
  const [chosen, setChosen] = useState<string[]>([]);
  const [note, setNote] = useState('');
  const [refundReason, setRefundReason] = useState('');
  const [done, setDone] = useState<string | null>(null);

  const sendBack = useAction(async () => {
    await post(routes.sendBack(orderId), { reasons: chosen, note: note.trim() });
    setDone(t('service.send_back.done'));
    setChosen([]);
    setNote('');
    view.reload();
  });
  const unbind = useAction(async () => {
    await post(routes.unbind(view.data!.order.campaign_id, view.data!.order.user_id));
    setDone(t('service.unbind.done'));
    view.reload();
  });
  const refund = useAction(async () => {
    await post(routes.refund(orderId), { reason: refundReason.trim() });
    setDone(t('service.refund.done'));
    view.reload();
  });

  if (view.loading && !view.data) return html`<${Loading} />`;
  if (!view.data) return html`<section><${ErrorBox} error=${view.error} /><a href=${href('/service/orders')}>${t('common.back')}</a></section>`;
  const { order: o, history = [], audit = [] } = view.data;
  const row = (k: string, v: any) => html`<tr><th>${k}</th><td>${v ?? '—'}</td></tr>`;
  const toggle = (c: string) => setChosen((s) => (s.includes(c) ? s.filter((x) => x !== c) : [...s, c]));

  return html`<section id="order-detail" data-order=${o.order_id ?? orderId} data-state=${o.state}>
    <${PageHeader} title=${t('service.order.title', { order: o.order_id ?? orderId })}>
      <${StateBadge} state=${o.state} />
      <a class="btn btn-quiet" href=${href('/service/orders')}>${t('service.search.title')}</a>
    <//>
    ${done ? html`<${Notice} kind="ok">${done}<//>` : null}
    <${ErrorBox} error=${view.error} />
    <div class="two-col">
      <div>
        <table class="table table-compact kv" id="order-facts">
          <tbody>
            ${row(t('service.order.student'), html`<${Student} student=${o.student} />`)}
            ${o.student?.student_no ? row(t('progress.student_no'), html`<span class="mono">${o.student.student_no}</span>`) : null}
            ${classOf(o.student) ? row(t('service.order.class'), classOf(o.student)) : null}
            ${row(t('service.order.state'), html`<${StateBadge} state=${o.state} />`)}
            ${row(t('service.order.amount'), yuan(o.amount_fen))}
            ${row(t('service.order.created_at'), dateTime(o.created_at))}
            ${row(t('service.order.paid_at'), dateTime(o.paid_at))}
            ${row(t('service.order.transaction_id'), html`<span class="mono">${o.transaction_id ?? '—'}</span>`)}
            ${o.approved_at ? row(t('service.order.approved_at'), dateTime(o.approved_at)) : null}
            ${o.reasons?.length
              ? row(
                  t('service.order.reasons'),
                  html`<span id="order-reasons">${o.reasons
                    .map((code) => {
                      const known = reasons.data?.find((x) => x.code === code);
                      return known ? pick(known.label_zh, known.label_en) : code;
                    })
                    .join('；')}</span>`,
                )
              : null}
            ${o.review_note ? row(t('service.order.review_note'), o.review_note) : null}
            ${o.out_refund_no ? row(t('service.order.out_refund_no'), html`<span class="mono">${o.out_refund_no}</span>`) : null}
            ${o.refund_reason ? row(t('service.refund.reason'), o.refund_reason) : null}
            ${row(t('service.order.campaign'), html`<span class="mono small">${o.campaign_id}</span>`)}
            ${row(t('service.order.school'), html`<span class="mono small">${o.school_id}</span>`)}
            ${row(t('service.order.user'), html`<span class="mono small">${o.user_id}</span>`)}
          </tbody>
        </table>
        <h2>${t('service.history')}</h2>
        <table class="table table-compact" id="order-history">
          <thead><tr><th>${t('service.at')}</th><th>${t('service.order.state')}</th><th>${t('service.cause')}</th><th>${t('service.actor')}</th></tr></thead>
          <tbody>
            ${history.map(
              (h) => html`<tr>
                <td class="nowrap">${dateTime(h.at, true)}</td>
                <td><${StateBadge} state=${h.to ?? h.state} /></td>
                <td>${tOr(`cause.${h.cause}`, h.cause ?? '')}</td>
                <td class="mono small">${h.actor}</td>
              </tr>`,
            )}
          </tbody>
        </table>
        <h2>${t('service.audit')}</h2>
        <table class="table table-compact" id="order-audit">
          <thead><tr><th>${t('service.at')}</th><th>${t('service.actor')}</th><th>${t('service.action')}</th><th>${t('service.detail')}</th></tr></thead>
          <tbody>
            ${audit.map(
              (a) => html`<tr>
                <td class="nowrap">${dateTime(a.at, true)}</td>
                <td class="mono small">${a.actor}</td>
                <td class="nowrap">${tOr(`audit.${a.action}`, a.action)}</td>
                <td class="small">${a.detail ?? ''}</td>
              </tr>`,
            )}
          </tbody>
        </table>
      </div>
      <div>
        <form class="panel" id="send-back" onSubmit=${(e: Event) => (e.preventDefault(), sendBack.run())}>
          <h2>${t('service.send_back.title')}</h2>
          <p class="muted small">${t('service.send_back.lead')}</p>
          ${(reasons.data ?? []).length
            ? html`<fieldset class="reasons reasons-compact">
                ${reasons.data!.map(
                  (r) => html`<label class=${chosen.includes(r.code) ? 'reason checked' : 'reason'} data-code=${r.code}>
                    <input type="checkbox" name="reason" value=${r.code} checked=${chosen.includes(r.code)} onChange=${() => toggle(r.code)} />
                    <span>${pick(r.label_zh, r.label_en)}</span>
                  </label>`,
                )}
              </fieldset>`
            : null}
          <label class="field">
            <span>${t('service.send_back.note')}</span>
            <textarea id="send-back-note" rows="3" maxlength="200" required value=${note} onInput=${(e: any) => setNote(e.currentTarget.value)}></textarea>
          </label>
          <${ErrorBox} error=${sendBack.error} />
          <button class="btn btn-reject" type="submit" id="send-back-submit" disabled=${sendBack.busy}>${t('service.send_back.submit')}</button>
        </form>
        ${o.student && o.user_id && o.campaign_id
          ? html`<div class="panel" id="unbind">
              <h2>${t('service.unbind.title')}</h2>
              <p class="muted small">${t('service.unbind.lead')}</p>
              <${ErrorBox} error=${unbind.error} />
              <${ConfirmButton} label=${t('service.unbind.submit')} question=${t('service.unbind.confirm')} confirmLabel=${t('service.unbind.submit')} onConfirm=${() => unbind.run()} />
            </div>`
          : null}
        ${has('operator') && o.state !== 'refunded'
          ? html`<form class="panel" id="refund" onSubmit=${(e: Event) => e.preventDefault()}>
              <h2>${t('service.refund.title')}</h2>
              <label class="field">
                <span>${t('service.refund.reason')}</span>
                <input id="refund-reason" maxlength="80" required value=${refundReason} onInput=${(e: any) => setRefundReason(e.currentTarget.value)} />
              </label>
              <${ErrorBox} error=${refund.error} />
              <${ConfirmButton} id="refund-submit" label=${t('service.refund.submit')} question=${t('service.refund.confirm', { order: o.order_id ?? orderId })} confirmLabel=${t('service.refund.submit')} onConfirm=${() => refund.run()} />
            </form>`
          : null}
      </div>
    </div>
  </section>`;
}
