// Roster import from the browser: presigned S3 POST, then the import, then the per-line report.
import { useRef, useState } from 'preact/hooks';
import { html } from '../html';
import { post, routes, uploadToStorage } from '../api';
import { lang, t, tOr } from '../i18n';
import { ErrorBox, Notice, useAction } from '../components/ui';
import type { Campaign } from '../admin/types';

interface LineError {
  line: number;
  code: string;
  message: string;
  message_zh?: string;
  field?: string;
  column?: string;
}
interface Report {
  rows: number;
  created: number;
  updated: number;
  unchanged: number;
  errors: LineError[];
}

export function RosterImport({ campaign, onImported }: { campaign: Campaign; onImported: () => void }) {
  const fileEl = useRef<HTMLInputElement>(null);
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<Report | null>(null);
  const [step, setStep] = useState<string>('');

  const upload = useAction(async () => {
    if (!file) return;
    setReport(null);
    setStep(t('admin.roster.step_upload'));
    const slot = await post<{ import_id: string; upload: any; max_bytes?: number }>(routes.rosterUploads(campaign.id));
    await uploadToStorage(slot.upload, file);
    setStep(t('admin.roster.step_import'));
    const r = await post<{ report: Report }>(routes.rosterImport(campaign.id, slot.import_id));
    setReport(r.report);
    setStep('');
    onImported();
  });

  function again() {
    setReport(null);
    setFile(null);
    if (fileEl.current) {
      fileEl.current.value = '';
      fileEl.current.focus();
      fileEl.current.click();
    }
  }

  const errs = report?.errors ?? [];
  return html`<div class="roster" id="roster">
    <p class="muted">${t('admin.roster.lead')}</p>
    <pre class="sample">${t('admin.roster.sample')}</pre>
    <form class="upload-row" onSubmit=${(e: Event) => (e.preventDefault(), upload.run())}>
      <input type="file" id="roster-file" ref=${fileEl} accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" onChange=${(e: any) => setFile(e.currentTarget.files?.[0] ?? null)} />
      <button class="btn btn-primary" type="submit" id="roster-upload" disabled=${!file || upload.busy}>
        ${upload.busy ? step || t('common.working') : t('admin.roster.upload')}
      </button>
    </form>
    <${ErrorBox} error=${upload.error} />
    ${report
      ? html`<div class="import-report" id="import-report">
          <div class="stats stats-small">
            <div class="stat"><div class="stat-value" id="report-rows">${report.rows}</div><div class="stat-label">${t('admin.roster.rows')}</div></div>
            <div class="stat"><div class="stat-value" id="report-created">${report.created}</div><div class="stat-label">${t('admin.roster.created')}</div></div>
            <div class="stat"><div class="stat-value">${report.updated}</div><div class="stat-label">${t('admin.roster.updated')}</div></div>
            <div class="stat"><div class="stat-value">${report.unchanged}</div><div class="stat-label">${t('admin.roster.unchanged')}</div></div>
            <div class="stat ${errs.length ? 'stat-bad' : ''}"><div class="stat-value" id="report-errors">${errs.length}</div><div class="stat-label">${t('admin.roster.bad_lines')}</div></div>
          </div>
          ${errs.length
            ? html`<${Notice} kind="warn">${t('admin.roster.fix_hint')}<//>
                <table class="table table-compact" id="import-errors">
                  <thead><tr><th class="num">${t('admin.roster.line')}</th><th>${t('admin.roster.column')}</th><th>${t('admin.roster.problem')}</th><th>${t('report.code')}</th></tr></thead>
                  <tbody>
                    ${errs.map(
                      (e) => html`<tr data-line=${e.line}>
                        <td class="num mono">${e.line}</td>
                        <td>${e.column ?? e.field ?? ''}</td>
                        <td>${lang() === 'zh' ? e.message_zh ?? tOr(`roster.error.${e.code}`, e.message) : e.message}</td>
                        <td class="mono muted">${e.code}</td>
                      </tr>`,
                    )}
                  </tbody>
                </table>
                <button class="btn" id="roster-again" onClick=${again}>${t('admin.roster.again')}</button>`
            : html`<${Notice} kind="ok">${t('admin.roster.all_good')}<//>`}
        </div>`
      : null}
  </div>`;
}
