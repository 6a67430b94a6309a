// A school admin's campaigns: one school at a time (operators choose which).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html';
import { get, routes } from '../api';
import { t, tOr } from '../i18n';
import { closing, dateTime, yuan } from '../format';
import { go, href } from '../router';
import { Empty, ErrorBox, Loading, PageHeader, useLoad } from '../components/ui';
import { asView, CampaignView, loadSchools, School } from '../admin/types';

export function StatusBadge({ status }: { status?: string }) {
  if (!status) return null;
  const cls = status === 'open' ? 'badge-ok' : status === 'closed' ? '' : 'badge-info';
  return html`<span class="badge ${cls}" data-status=${status}>${tOr(`campaign.status.${status}`, status)}</span>`;
}

export function CampaignList({ schoolId }: { schoolId?: string }) {
  const schools = useLoad<School[]>(() => loadSchools(), []);
  const chosen = schoolId ?? schools.data?.[0]?.id;
  const [filter, setFilter] = useState('');
  const campaigns = useLoad<CampaignView[] | null>(
    () => (chosen ? get(routes.campaigns(chosen)).then((r: any) => (r.campaigns ?? []).map(asView)) : Promise.resolve(null)),
    [chosen],
  );
  useEffect(() => setFilter(''), [chosen]);

  if (schools.loading && !schools.data) return html`<${Loading} />`;
  const list = (campaigns.data ?? []).filter((v) => !filter || v.campaign.name.includes(filter));
  const school = schools.data?.find((s) => s.id === chosen);
  return html`<section>
    <${PageHeader} title=${t('admin.campaigns.title')}>
      ${(schools.data?.length ?? 0) > 1
        ? html`<label class="inline-field">${t('admin.school')}
            <select id="school-select" value=${chosen} onChange=${(e: any) => go(`/admin/campaigns?school=${encodeURIComponent(e.currentTarget.value)}`)}>
              ${schools.data!.map((s) => html`<option value=${s.id}>${s.name}</option>`)}
            </select>
          </label>`
        : school
          ? html`<span class="muted">${school.name}</span>`
          : null}
      <input type="search" class="search-small" placeholder=${t('admin.campaigns.filter')} value=${filter} onInput=${(e: any) => setFilter(e.currentTarget.value)} />
      ${chosen ? html`<a class="btn btn-primary" id="new-campaign" href=${href(`/admin/schools/${encodeURIComponent(chosen)}/new`)}>${t('admin.campaigns.new')}</a>` : null}
    <//>
    <${ErrorBox} error=${schools.error || campaigns.error} />
    ${!chosen
      ? html`<${Empty}>${t('admin.no_school')}<//>`
      : campaigns.loading && !campaigns.data
        ? html`<${Loading} />`
        : list.length === 0
          ? html`<${Empty}>${t('admin.campaigns.none')}<//>`
          : html`<table class="table" id="campaigns">
              <thead>
                <tr>
                  <th>${t('admin.campaign.name')}</th>
                  <th>${t('admin.campaign.kind')}</th>
                  <th>${t('admin.campaign.window')}</th>
                  <th class="num">${t('admin.campaign.price')}</th>
                  <th>${t('admin.campaign.status')}</th>
                  <th class="num">${t('admin.progress.enrolled')}</th>
                  <th class="num">${t('admin.progress.verified')}</th>
                  <th class="num">${t('admin.progress.paid')}</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${list.map(
                  ({ campaign: c, progress: p }) => html`<tr data-campaign=${c.id}>
                    <td><a href=${href(`/admin/campaigns/${encodeURIComponent(c.id)}`)}>${c.name}</a></td>
                    <td>${tOr(`kind.${c.kind}`, c.kind)}</td>
                    <td class="nowrap">${dateTime(c.opens_at)} – ${closing(c.closes_at)}</td>
                    <td class="num">${yuan(c.price_fen)}</td>
                    <td><${StatusBadge} status=${c.status} /></td>
                    <td class="num">${p.enrolled ?? 0}</td>
                    <td class="num">${p.verified ?? 0}</td>
                    <td class="num">${p.paid ?? 0}</td>
                    <td class="actions"><a href=${href(`/admin/campaigns/${encodeURIComponent(c.id)}/edit`)}>${t('common.edit')}</a></td>
                  </tr>`,
                )}
              </tbody>
            </table>`}
  </section>`;
}
