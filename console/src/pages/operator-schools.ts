// Operators: the schools the service works for.
import { useState } from 'preact/hooks';
import { html } from '../html';
import { post, routes } from '../api';
import { t } from '../i18n';
import { dateTime } from '../format';
import { href } from '../router';
import { Empty, ErrorBox, Loading, PageHeader, useAction, useLoad } from '../components/ui';
import { loadSchools } from '../admin/types';

export function Schools() {
  const schools = useLoad(() => loadSchools(true), []);
  const [name, setName] = useState('');
  const create = useAction(async () => {
    await post(routes.schools, { name: name.trim() });
    setName('');
    schools.reload();
  });
  return html`<section>
    <${PageHeader} title=${t('operator.schools.title')} />
    <form class="search-row" id="school-form" onSubmit=${(e: Event) => (e.preventDefault(), create.run())}>
      <input id="school-name" required maxlength="80" value=${name} onInput=${(e: any) => setName(e.currentTarget.value)} placeholder=${t('operator.schools.name_placeholder')} />
      <button class="btn btn-primary" type="submit" disabled=${create.busy || !name.trim()}>${t('operator.schools.create')}</button>
    </form>
    <${ErrorBox} error=${create.error || schools.error} />
    ${schools.loading && !schools.data
      ? html`<${Loading} />`
      : !schools.data?.length
        ? html`<${Empty}>${t('operator.schools.none')}<//>`
        : html`<table class="table" id="schools">
            <thead><tr><th>${t('operator.schools.name')}</th><th>ID</th><th>${t('operator.created_at')}</th><th></th></tr></thead>
            <tbody>
              ${schools.data.map(
                (s) => html`<tr data-school=${s.id}>
                  <td>${s.name}</td>
                  <td class="mono small">${s.id}</td>
                  <td class="nowrap">${dateTime(s.created_at)}</td>
                  <td class="actions"><a href=${href(`/admin/campaigns?school=${encodeURIComponent(s.id)}`)}>${t('nav.campaigns')}</a></td>
                </tr>`,
              )}
            </tbody>
          </table>`}
  </section>`;
}
