// Operators: orders stuck in standardizing, and the dead-letter queues (messages the service
// gave up on), from GET /v1/service/stuck-orders.
import { html } from '../html';
import { get, routes } from '../api';
import { t, tn, tOr } from '../i18n';
import { dateTime, duration } from '../format';
import { href } from '../router';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components/ui';
import { ServiceOrder, StateBadge, Student } from './service-orders';

export interface StuckOrder extends ServiceOrder {
  stuck_seconds: number;
}
export interface DeadLetterQueue {
  queue: string;
  messages: number;
}
export interface StuckOrders {
  orders: StuckOrder[];
  dead_letters: DeadLetterQueue[];
  stuck_after_seconds: number;
}

function Queue({ q }: { q: DeadLetterQueue }) {
  const alert = q.messages > 0;
  return html`<div class="dlq ${alert ? 'dlq-alert' : ''}" data-queue=${q.queue} data-messages=${q.messages} role=${alert ? 'alert' : undefined}>
    <div class="dlq-name">${tOr(`operator.stuck.queue.${q.queue}`, q.queue)} <span class="mono small muted">${q.queue}</span></div>
    <div class="dlq-depth">${tn('operator.stuck.messages', q.messages)}</div>
    <div class="small dlq-meaning">${alert ? t('operator.stuck.queue_alert') : t('operator.stuck.queue_ok')}</div>
  </div>`;
}

export function Stuck() {
  const data = useLoad(() => get<StuckOrders>(routes.stuckOrders), []);
  const d = data.data;
  // Longest stuck first.
  const orders = [...(d?.orders ?? [])].sort((a, b) => b.stuck_seconds - a.stuck_seconds);
  return html`<section id="stuck">
    <${PageHeader} title=${t('operator.stuck.title')}>
      <button class="btn" onClick=${data.reload} disabled=${data.loading}>${t('common.refresh')}</button>
    <//>
    <${ErrorBox} error=${data.error} />
    ${data.loading && !d
      ? html`<${Loading} />`
      : !d
        ? null
        : html`
            <p class="muted">${t('operator.stuck.lead', { minutes: Math.round(d.stuck_after_seconds / 60) })}</p>
            <h2>${t('operator.stuck.queues')}</h2>
            <div class="dlq-row" id="dead-letters">${d.dead_letters.map((q) => html`<${Queue} q=${q} />`)}</div>
            <h2>${t('operator.stuck.orders')} ${orders.length ? html`<span class="muted small">${tn('operator.stuck.count', orders.length)}</span>` : null}</h2>
            ${!orders.length
              ? html`<${Empty}><span id="stuck-none">${t('operator.stuck.none')}</span><//>`
              : html`<table class="table" id="stuck-orders">
                  <thead>
                    <tr>
                      <th>${t('service.order.out_trade_no')}</th>
                      <th>${t('operator.stuck.for')}</th>
                      <th>${t('service.order.student')}</th>
                      <th>${t('service.order.state')}</th>
                      <th>${t('service.order.paid_at')}</th>
                      <th>${t('service.order.campaign')}</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${orders.map(
                      (o) => html`<tr data-order=${o.order_id} data-stuck-seconds=${o.stuck_seconds}>
                        <td><a class="mono order-link" href=${href(`/service/orders/${encodeURIComponent(o.order_id)}`)}>${o.order_id}</a></td>
                        <td class="nowrap warn-text">${duration(o.stuck_seconds)}</td>
                        <td><${Student} student=${o.student} /></td>
                        <td><${StateBadge} state=${o.state} /></td>
                        <td class="nowrap">${dateTime(o.paid_at)}</td>
                        <td class="mono small muted">${o.campaign_id}</td>
                      </tr>`,
                    )}
                  </tbody>
                </table>`}
          `}
  </section>`;
}
