// The standardization report as a reviewer reads it: every check with its value against its
// threshold, then the raw measurements.
import { html } from '../html';
import { lang, pick, t, tOr } from '../i18n';
import { num } from '../format';
import type { Reason } from '../review/claims';

interface Check {
  code: string;
  passed: boolean;
  value: number;
  threshold: number;
  message?: string;
  message_zh?: string;
}

export function CheckReport({ report, reasons }: { report: any; reasons: Reason[] }) {
  if (!report) return html`<div class="panel muted">${t('report.none')}</div>`;
  const checks: Check[] = report.checks ?? [];
  const byCode = new Map(reasons.map((r) => [r.code, r]));
  const label = (c: Check) => {
    const r = byCode.get(c.code);
    return r ? pick(r.label_zh, r.label_en) : lang() === 'zh' ? c.message_zh ?? c.code : c.message ?? c.code;
  };
  const failed = checks.filter((c) => !c.passed).length;
  const m: Record<string, number> = report.measurements ?? {};
  const out = report.output;
  const input = report.input;
  return html`<div class="report" id="check-report">
    <h2>
      ${t('report.title')}
      ${failed
        ? html`<span class="badge badge-danger">${t('report.failed_n', { n: failed })}</span>`
        : html`<span class="badge badge-ok">${t('report.all_passed')}</span>`}
    </h2>
    <table class="table table-compact" id="checks">
      <thead>
        <tr>
          <th>${t('report.check')}</th>
          <th>${t('report.code')}</th>
          <th class="num">${t('report.value')}</th>
          <th class="num">${t('report.threshold')}</th>
          <th>${t('report.result')}</th>
        </tr>
      </thead>
      <tbody>
        ${checks.map(
          (c) => html`<tr class=${c.passed ? '' : 'row-failed'} data-code=${c.code}>
            <td>${label(c)}</td>
            <td class="mono muted">${c.code}</td>
            <td class="num mono">${num(c.value)}</td>
            <td class="num mono">${num(c.threshold)}</td>
            <td>${c.passed
              ? html`<span class="pass">✓ ${t('report.pass')}</span>`
              : html`<span class="fail">✗ ${t('report.fail')}</span>`}</td>
          </tr>`,
        )}
      </tbody>
    </table>
    ${(report.hints ?? []).length
      ? html`<ul class="hints" id="hints">
          ${(report.hints as { code: string; value: number; message?: string; message_zh?: string }[]).map(
            (h) => html`<li data-code=${h.code}><span class="badge badge-warn">${t('report.hint')}</span>
              ${lang() === 'zh' ? h.message_zh ?? h.code : h.message ?? h.code}
              <span class="mono muted">${h.code} = ${num(h.value)}</span></li>`,
          )}
        </ul>`
      : null}
    <div class="report-extra">
      <table class="table table-compact kv" id="measurements">
        <caption>${t('report.measurements')}</caption>
        <tbody>
          ${Object.entries(m).map(
            ([k, v]) => html`<tr><th>${tOr(`measure.${k}`, k)}</th><td class="num mono">${num(v)}</td></tr>`,
          )}
        </tbody>
      </table>
      ${out || input
        ? html`<table class="table table-compact kv">
            <caption>${t('report.files')}</caption>
            <tbody>
              ${input ? html`<tr><th>${t('report.input')}</th><td>${input.format ?? '—'} ${input.width}×${input.height} · ${num((input.bytes ?? 0) / 1024)} KB${input.exif_orientation > 1 ? ` · EXIF ${input.exif_orientation}` : ''}</td></tr>` : null}
              ${input?.lens_model ? html`<tr><th>${t('report.lens')}</th><td>${input.lens_model}</td></tr>` : null}
              ${out ? html`<tr><th>${t('report.output')}</th><td>${out.width}×${out.height} · ${num(out.kb)} KB ${out.in_kb_range === false ? html`<span class="fail">${t('report.kb_out_of_range')}</span>` : ''} · Q${out.jpeg_quality} · ${out.dpi} dpi</td></tr>` : null}
              ${out?.background ? html`<tr><th>${t('report.background')}</th><td><span class="swatch" style=${{ background: `rgb(${out.background.join(',')})` }}></span> RGB(${out.background.join(', ')})</td></tr>` : null}
            </tbody>
          </table>`
        : null}
    </div>
  </div>`;
}
