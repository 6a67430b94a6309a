// Exports: ask for one (all approved photos, or only the new ones), watch it build, download.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html';
import { get, post, routes } from '../api';
import { t, tOr } from '../i18n';
import { bytes, dateTime } from '../format';
import { ErrorBox, Empty, useAction, useLoad } from '../components/ui';
import type { Campaign } from '../admin/types';

interface Export {
  export_id: string;
  status: string;
  requested_at?: number | string;
  since?: number;
  photos?: number;
  missing?: number;
  bytes?: number;
  sha256?: string;
}

export function Exports({ campaign }: { campaign: Campaign }) {
  const list = useLoad(() => get<{ exports: Export[] }>(routes.exports(campaign.id)).then((r) => r.exports ?? []), [campaign.id]);
  const [incremental, setIncremental] = useState(false);
  const [links, setLinks] = useState<Record<string, { url: string; expires_in?: number }>>({});

  const building = (list.data ?? []).some((e) => e.status !== 'ready');
  useEffect(() => {
    if (!building) return;
    const timer = setInterval(list.reload, 2000);
    return () => clearInterval(timer);
  }, [building]);

  const request = useAction(async () => {
    await post(routes.exports(campaign.id), { incremental });
    list.reload();
  });
  const fetchLink = useAction(async (id: string) => {
    const r = await get<{ download_url?: string; expires_in?: number }>(routes.export(campaign.id, id));
    if (r.download_url) {
      setLinks((l) => ({ ...l, [id]: { url: r.download_url!, expires_in: r.expires_in } }));
    }
  });

  const rows = [...(list.data ?? [])].reverse();
  return html`<div class="exports" id="exports">
    <div class="upload-row">
      <label class="check"><input type="checkbox" checked=${incremental} onChange=${(e: any) => setIncremental(e.currentTarget.checked)} /> ${t('admin.exports.incremental')}</label>
      <button class="btn btn-primary" id="request-export" onClick=${() => request.run()} disabled=${request.busy}>${t('admin.exports.request')}</button>
      ${building ? html`<span class="muted" id="export-building">${t('admin.exports.building_hint')}</span>` : null}
    </div>
    <p class="muted small">${t('admin.exports.lead')}</p>
    <${ErrorBox} error=${request.error || list.error || fetchLink.error} />
    ${rows.length === 0
      ? html`<${Empty}>${t('admin.exports.none')}<//>`
      : html`<table class="table" id="export-list">
          <thead>
            <tr>
              <th>${t('admin.exports.requested_at')}</th>
              <th>${t('admin.exports.scope')}</th>
              <th>${t('admin.exports.status')}</th>
              <th class="num">${t('admin.exports.photos')}</th>
              <th class="num">${t('admin.exports.missing')}</th>
              <th class="num">${t('admin.exports.size')}</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            ${rows.map(
              (e) => html`<tr data-export=${e.export_id} data-status=${e.status}>
                <td class="nowrap">${dateTime(e.requested_at, true)}</td>
                <td>${e.since ? t('admin.exports.only_new') : t('admin.exports.all')}</td>
                <td><span class="badge ${e.status === 'ready' ? 'badge-ok' : 'badge-info'}">${tOr(`export.status.${e.status}`, e.status)}</span></td>
                <td class="num">${e.status === 'ready' ? e.photos ?? 0 : '—'}</td>
                <td class="num">${e.status === 'ready' ? e.missing ?? 0 : '—'}</td>
                <td class="num">${e.status === 'ready' ? bytes(e.bytes) : '—'}</td>
                <td class="actions">
                  ${e.status === 'ready'
                    ? links[e.export_id]
                      ? html`<a class="btn btn-primary download-link" href=${links[e.export_id].url} download="${campaign.name}.zip">${t('admin.exports.download_zip')}</a>`
                      : html`<button class="btn download" onClick=${() => fetchLink.run(e.export_id)} disabled=${fetchLink.busy}>${t('admin.exports.get_link')}</button>`
                    : null}
                </td>
              </tr>`,
            )}
          </tbody>
        </table>`}
  </div>`;
}
