// What payments recorded as anomalies (amount mismatch, notification for an unknown order…).
import { html } from '../html';
import { get, routes } from '../api';
import { t, tOr } from '../i18n';
import { dateTime, yuan } from '../format';
import { href } from '../router';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components/ui';

/** An anomaly's detail as labelled values (amounts in 元, causes in words). */
function detail(d: unknown) {
  if (d === null || d === undefined || d === '') return '—';
  if (typeof d !== 'object') return String(d);
  return Object.entries(d as Record<string, unknown>).map(
    ([k, v]) => html`<span class="kv-pair"><span class="muted">${tOr(`anomaly.field.${k}`, k)}</span> ${
      k.endsWith('_fen') && typeof v === 'number' ? yuan(v) : k === 'cause' ? tOr(`cause.${v}`, String(v)) : html`<span class=${k.endsWith('_id') ? 'mono' : ''}>${String(v)}</span>`
    }</span>`,
  );
}

export function Anomalies() {
  const list = useLoad(() => get<{ anomalies: any[] }>(routes.anomalies).then((r) => r.anomalies ?? []), []);
  return html`<section>
    <${PageHeader} title=${t('service.anomalies.title')}>
      <button class="btn" onClick=${list.reload}>${t('common.refresh')}</button>
    <//>
    <${ErrorBox} error=${list.error} />
    ${list.loading && !list.data
      ? html`<${Loading} />`
      : !list.data?.length
        ? html`<${Empty}>${t('service.anomalies.none')}<//>`
        : html`<table class="table" id="anomalies">
            <thead><tr><th>${t('service.at')}</th><th>${t('service.anomalies.kind')}</th><th>${t('service.order.out_trade_no')}</th><th>${t('service.detail')}</th></tr></thead>
            <tbody>
              ${list.data.map(
                (a) => html`<tr>
                  <td class="nowrap">${dateTime(a.at, true)}</td>
                  <td>${tOr(`anomaly.${a.kind}`, a.kind)}</td>
                  <td>${a.out_trade_no ? html`<a class="mono" href=${href(`/service/orders/${encodeURIComponent(a.out_trade_no)}`)}>${a.out_trade_no}</a>` : '—'}</td>
                  <td class="small">${detail(a.detail)}</td>
                </tr>`,
              )}
            </tbody>
          </table>`}
  </section>`;
}
