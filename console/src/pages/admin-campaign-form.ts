// Create or edit a campaign: name, kind, photo preset (with a preview of its frame), window in
// Shanghai time, price in 元, how students prove who they are.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html';
import { get, post, put, routes } from '../api';
import { pick, t, tOr } from '../i18n';
import { fromLocalInput, toLocalInput } from '../format';
import { go, href } from '../router';
import { ErrorBox, Loading, PageHeader, useAction, useLoad } from '../components/ui';
import { geometryOf } from '../components/geometry';
import { FramePreview } from '../components/overlay';
import { asView, Campaign, IDENTITY_MODES, KINDS, loadSchools, Preset } from '../admin/types';

interface Form {
  name: string;
  kind: string;
  preset: string;
  opens_at: string;
  closes_at: string;
  price_yuan: string;
  identity_mode: string;
  require_id_card_photos: boolean;
  allow_withdraw: boolean;
  free_checks: string;
  agreement_version: string;
  agreement_url: string;
}

const empty: Form = {
  name: '',
  kind: 'graduation',
  preset: 'chsi',
  opens_at: '',
  closes_at: '',
  price_yuan: '',
  identity_mode: 'name_id_number',
  require_id_card_photos: false,
  allow_withdraw: false,
  free_checks: '10',
  agreement_version: '',
  agreement_url: '',
};

function fromCampaign(c: Campaign): Form {
  return {
    name: c.name,
    kind: c.kind,
    preset: c.spec?.preset ?? '',
    opens_at: toLocalInput(c.opens_at),
    closes_at: toLocalInput(c.closes_at),
    price_yuan: (c.price_fen / 100).toFixed(2),
    identity_mode: c.identity_mode,
    require_id_card_photos: !!c.require_id_card_photos,
    allow_withdraw: !!c.allow_withdraw,
    free_checks: String(c.free_checks ?? 10),
    agreement_version: c.privacy_agreement?.version ?? '',
    agreement_url: c.privacy_agreement?.url ?? '',
  };
}

export function CampaignForm({ schoolId, campaignId }: { schoolId?: string; campaignId?: string }) {
  const presets = useLoad(() => get<{ presets: Preset[] }>(routes.presets).then((r) => r.presets), []);
  const existing = useLoad(
    () => (campaignId ? get(routes.campaign(campaignId)).then(asView) : Promise.resolve(null)),
    [campaignId],
  );
  const schools = useLoad(() => loadSchools(), []);
  const [form, setForm] = useState<Form>(empty);
  useEffect(() => {
    if (existing.data) setForm(fromCampaign(existing.data.campaign));
  }, [existing.data]);
  // A new campaign starts from the first preset the API offers.
  useEffect(() => {
    const list = presets.data ?? [];
    if (!campaignId && list.length && !list.some((p) => p.id === form.preset)) setForm((f) => ({ ...f, preset: list[0].id }));
  }, [presets.data]);

  const set = (k: keyof Form) => (e: any) =>
    setForm((f) => ({ ...f, [k]: e.currentTarget.type === 'checkbox' ? e.currentTarget.checked : e.currentTarget.value }));

  const save = useAction(async () => {
    const c = existing.data?.campaign;
    const body: any = {
      name: form.name,
      kind: form.kind,
      opens_at: fromLocalInput(form.opens_at),
      closes_at: fromLocalInput(form.closes_at),
      price_fen: Math.round(Number(form.price_yuan || '0') * 100),
      identity_mode: form.identity_mode,
      require_id_card_photos: form.require_id_card_photos,
      allow_withdraw: form.allow_withdraw,
      free_checks: Math.round(Number(form.free_checks || '10')),
    };
    // Students accept this version before verifying; a new version asks them again.
    if (form.agreement_version.trim() && form.agreement_url.trim()) {
      body.privacy_agreement = { version: form.agreement_version.trim(), url: form.agreement_url.trim() };
    } else if (!form.agreement_version.trim() && !form.agreement_url.trim() && c?.privacy_agreement) {
      body.privacy_agreement = null; // cleared: students are no longer asked
    }
    // A campaign made with a custom spec keeps it unless a preset is chosen.
    if (form.preset) body.preset = form.preset;
    else if (c) body.spec = c.spec;
    const saved = c
      ? await put(routes.campaign(c.id), body)
      : await post(routes.campaigns(), { ...body, school_id: schoolId });
    const v = asView(saved);
    go(`/admin/campaigns/${encodeURIComponent(v.campaign.id)}`);
  });

  if (campaignId && existing.loading) return html`<${Loading} />`;
  const preset = presets.data?.find((p) => p.id === form.preset);
  const spec = preset?.spec ?? existing.data?.campaign.spec;
  const school = schools.data?.find((s) => s.id === (schoolId ?? existing.data?.campaign.school_id));
  const back = campaignId ? `/admin/campaigns/${encodeURIComponent(campaignId)}` : `/admin/campaigns${schoolId ? `?school=${encodeURIComponent(schoolId)}` : ''}`;

  return html`<section>
    <${PageHeader} title=${campaignId ? t('admin.form.edit_title') : t('admin.form.new_title')}>
      ${school ? html`<span class="muted">${school.name}</span>` : null}
    <//>
    <${ErrorBox} error=${existing.error || presets.error} />
    <form class="form-grid" id="campaign-form" onSubmit=${(e: Event) => (e.preventDefault(), save.run())}>
      <div class="form-fields">
        <label class="field">
          <span>${t('admin.campaign.name')}</span>
          <input name="name" required maxlength="80" value=${form.name} onInput=${set('name')} placeholder=${t('admin.form.name_placeholder')} />
        </label>
        <div class="field-row">
          <label class="field">
            <span>${t('admin.campaign.kind')}</span>
            <select name="kind" value=${form.kind} onChange=${set('kind')}>
              ${KINDS.map((k) => html`<option value=${k}>${t(`kind.${k}`)}</option>`)}
            </select>
          </label>
          <label class="field">
            <span>${t('admin.campaign.preset')}</span>
            <select name="preset" value=${form.preset} onChange=${set('preset')}>
              ${!form.preset ? html`<option value="">${t('admin.form.custom_spec')}</option>` : null}
              ${(presets.data ?? []).map((p) => html`<option value=${p.id}>${pick(p.label_zh, p.label_en)}</option>`)}
            </select>
          </label>
        </div>
        <div class="field-row">
          <label class="field">
            <span>${t('admin.campaign.opens_at')}</span>
            <input type="datetime-local" name="opens_at" required value=${form.opens_at} onInput=${set('opens_at')} />
          </label>
          <label class="field">
            <span>${t('admin.campaign.closes_at')}</span>
            <input type="datetime-local" name="closes_at" required value=${form.closes_at} onInput=${set('closes_at')} />
          </label>
        </div>
        <p class="muted small">${t('admin.form.timezone')}</p>
        <div class="field-row">
          <label class="field">
            <span>${t('admin.campaign.price_yuan')}</span>
            <input type="number" name="price_yuan" min="0.01" max="1000" step="0.01" required value=${form.price_yuan} onInput=${set('price_yuan')} />
          </label>
          <label class="field">
            <span>${t('admin.campaign.identity_mode')}</span>
            <select name="identity_mode" value=${form.identity_mode} onChange=${set('identity_mode')}>
              ${IDENTITY_MODES.map((m) => html`<option value=${m}>${t(`identity.${m}`)}</option>`)}
            </select>
          </label>
          <label class="field">
            <span>${t('admin.campaign.free_checks')}</span>
            <input type="number" name="free_checks" min="1" max="50" step="1" required value=${form.free_checks} onInput=${set('free_checks')} />
          </label>
        </div>
        <label class="check">
          <input type="checkbox" name="require_id_card_photos" checked=${form.require_id_card_photos} onChange=${set('require_id_card_photos')} />
          ${t('admin.campaign.require_id_card_photos')}
        </label>
        <div class="field-row">
          <label class="field">
            <span>${t('admin.campaign.agreement_version')}</span>
            <input name="agreement_version" maxlength="32" placeholder="2026-09" value=${form.agreement_version} onInput=${set('agreement_version')} />
          </label>
          <label class="field">
            <span>${t('admin.campaign.agreement_url')}</span>
            <input name="agreement_url" type="url" placeholder="https://" value=${form.agreement_url} onInput=${set('agreement_url')} />
          </label>
        </div>
        <label class="check">
          <input type="checkbox" name="allow_withdraw" checked=${form.allow_withdraw} onChange=${set('allow_withdraw')} />
          ${t('admin.campaign.allow_withdraw')}
        </label>
        <${ErrorBox} error=${save.error} />
        <div class="form-actions">
          <button class="btn btn-primary" type="submit" id="save-campaign" disabled=${save.busy}>
            ${save.busy ? t('common.working') : t('common.save')}
          </button>
          <a class="btn btn-quiet" href=${href(back)}>${t('common.cancel')}</a>
        </div>
      </div>
      <div class="form-side">
        <h2>${t('admin.form.preview')}</h2>
        ${spec ? html`<${FramePreview} g=${geometryOf(spec)} />` : html`<div class="muted">${t('admin.form.no_preview')}</div>`}
        ${spec ? html`<${SpecSummary} spec=${spec} />` : null}
      </div>
    </form>
  </section>`;
}

export function SpecSummary({ spec }: { spec: any }) {
  const g = geometryOf(spec);
  const row = (k: string, v: any) => html`<tr><th>${k}</th><td>${v}</td></tr>`;
  return html`<table class="table table-compact kv spec-summary">
    <tbody>
      ${row(t('spec.size'), `${g.width} × ${g.height} px${spec.dpi ? ` · ${spec.dpi} dpi` : ''}`)}
      ${g.background ? row(t('spec.background'), html`<span class="swatch" style=${{ background: `rgb(${g.background.join(',')})` }}></span> RGB(${g.background.join(', ')})`) : null}
      ${spec.min_kb !== undefined ? row(t('spec.file_size'), `${spec.min_kb}–${spec.max_kb} KB`) : null}
      ${g.hairline ? row(t('overlay.hairline'), `${g.hairline.min}–${g.hairline.max} px`) : null}
      ${g.eyes ? row(t('overlay.eyes_band'), `${g.eyes.min}–${g.eyes.max} px`) : null}
      ${g.faceWidth ? row(t('overlay.face_width'), `${g.faceWidth.min}–${g.faceWidth.max} px`) : null}
      ${spec.naming ? row(t('spec.naming'), tOr(`naming.${spec.naming}`, String(spec.naming))) : null}
    </tbody>
  </table>`;
}
