// One campaign: its settings at a glance, where its students stand, roster import, exports.
import { html } from '../html';
import { get, routes } from '../api';
import { t, tOr } from '../i18n';
import { closing, dateTime, yuan } from '../format';
import { href } from '../router';
import { ErrorBox, Loading, PageHeader, useLoad } from '../components/ui';
import { asView, CampaignView, ProgressFilter } from '../admin/types';
import { filterKey, filterOf, ProgressPanel } from './admin-progress';
import { StatusBadge } from './admin-campaigns';
import { SpecSummary } from './admin-campaign-form';
import { RosterImport } from './admin-roster';
import { Exports } from './admin-exports';

const TABS = ['progress', 'roster', 'exports'] as const;

export function CampaignDetail({
  campaignId,
  tab = 'progress',
  query = {},
}: {
  campaignId: string;
  tab?: string;
  query?: Record<string, string>;
}) {
  const view = useLoad<CampaignView>(() => get(routes.campaign(campaignId)).then(asView), [campaignId]);
  if (view.loading && !view.data) return html`<${Loading} />`;
  if (!view.data) return html`<${ErrorBox} error=${view.error} />`;
  const { campaign: c, progress } = view.data;
  const base = `/admin/campaigns/${encodeURIComponent(c.id)}`;
  // The list's filter lives in the address (shareable, Back undoes a click); typing replaces.
  const onFilter = (f: ProgressFilter, push = true) => {
    const q = filterKey(f);
    const next = `#${base}?tab=progress${q ? `&${q}` : ''}`;
    if (next === location.hash) return;
    if (push) location.hash = next;
    else location.replace(next);
  };
  return html`<section id="campaign" data-campaign=${c.id}>
    <${PageHeader} title=${c.name}>
      <${StatusBadge} status=${c.status} />
      <a class="btn" href=${href(`${base}/edit`)} id="edit-campaign">${t('common.edit')}</a>
    <//>
    <dl class="facts">
      <div><dt>${t('admin.campaign.kind')}</dt><dd>${tOr(`kind.${c.kind}`, c.kind)}</dd></div>
      <div><dt>${t('admin.campaign.window')}</dt><dd>${dateTime(c.opens_at)} – ${closing(c.closes_at)}</dd></div>
      <div><dt>${t('admin.campaign.price')}</dt><dd>${yuan(c.price_fen)}</dd></div>
      <div><dt>${t('admin.campaign.identity_mode')}</dt><dd>${tOr(`identity.${c.identity_mode}`, c.identity_mode)}</dd></div>
      <div><dt>${t('admin.campaign.preset')}</dt><dd>${c.spec?.preset ? tOr(`preset.${c.spec.preset}`, c.spec.preset) : t('admin.form.custom_spec')}</dd></div>
      ${c.code ? html`<div><dt>${t('admin.campaign.code')}</dt><dd class="mono" id="campaign-code">${c.code}</dd></div>` : null}
      <div><dt>ID</dt><dd class="mono">${c.id}</dd></div>
    </dl>
    <nav class="tabs" role="tablist">
      ${TABS.map(
        (k) => html`<a role="tab" id="tab-${k}" aria-selected=${tab === k} class=${tab === k ? 'active' : ''} href=${href(`${base}?tab=${k}`)}>${t(`admin.tab.${k}`)}</a>`,
      )}
    </nav>
    <div class="tab-body">
      ${tab === 'progress'
        ? html`<${ProgressPanel} campaign=${c} progress=${progress} filter=${filterOf(query)} onFilter=${onFilter} onRefresh=${view.reload} />
            <details class="panel spec-details">
              <summary>${t('admin.form.spec')}</summary>
              <${SpecSummary} spec=${c.spec ?? {}} />
            </details>`
        : tab === 'roster'
          ? html`<${RosterImport} campaign=${c} onImported=${view.reload} />`
          : html`<${Exports} campaign=${c} />`}
    </div>
  </section>`;
}
