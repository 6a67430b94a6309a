// Operators: who works in the console (roles, schools, revoke) and the invitations that bring
// new staff in (a one-time link bound to roles and schools).
import { useRef, useState } from 'preact/hooks';
import { html } from '../html';
import { del, get, post, put, Role, routes } from '../api';
import { t, Key } from '../i18n';
import { dateTime } from '../format';
import { ConfirmButton, copyText, Empty, ErrorBox, Loading, Notice, PageHeader, useAction, useLoad } from '../components/ui';
import { loadSchools, School } from '../admin/types';

const ROLES: Role[] = ['reviewer', 'school_admin', 'customer_service', 'operator'];

interface Member {
  id: string;
  name: string;
  roles: Role[];
  school_ids: string[];
  status: string;
  created_at?: string;
  last_sign_in_at?: string;
}
interface Invitation {
  id: string;
  roles: Role[];
  school_ids: string[];
  label: string;
  created_at: string;
  expires_at: string;
  status: string;
  link?: string;
  used_by?: string;
}

function RolePicker({ value, onChange, name }: { value: Role[]; onChange: (r: Role[]) => void; name: string }) {
  return html`<div class="chips" role="group">
    ${ROLES.map(
      (r) => html`<label class=${value.includes(r) ? 'chip checked' : 'chip'}>
        <input type="checkbox" name=${name} value=${r} checked=${value.includes(r)} onChange=${() => onChange(value.includes(r) ? value.filter((x) => x !== r) : [...value, r])} />
        ${t(`role.${r}` as Key)}
      </label>`,
    )}
  </div>`;
}

function SchoolPicker({ schools, value, onChange, name }: { schools: School[]; value: string[]; onChange: (s: string[]) => void; name: string }) {
  const [find, setFind] = useState('');
  const many = schools.length > 8;
  const shown = many && find.trim() ? schools.filter((s) => value.includes(s.id) || s.name.includes(find.trim())) : schools;
  return html`<div class="school-picker">
    ${many ? html`<input type="search" class="search-small picker-find" placeholder=${t('operator.staff.find_school')} value=${find} onInput=${(e: any) => setFind(e.currentTarget.value)} />` : null}
    <div class=${many ? 'chips chips-scroll' : 'chips'} role="group">
    ${shown.map(
      (s) => html`<label class=${value.includes(s.id) ? 'chip checked' : 'chip'} title=${s.id}>
        <input type="checkbox" name=${name} value=${s.id} checked=${value.includes(s.id)} onChange=${() => onChange(value.includes(s.id) ? value.filter((x) => x !== s.id) : [...value, s.id])} />
        ${s.name}
      </label>`,
    )}
    </div>
  </div>`;
}

const INVITATIONS_SHOWN = 15;
const MEMBERS_SHOWN = 30;

function newestFirst<T extends { created_at?: string }>(list: T[]): T[] {
  return [...list].sort((a, b) => (Date.parse(b.created_at ?? '') || 0) - (Date.parse(a.created_at ?? '') || 0));
}

function schoolNames(ids: string[], schools: School[]): string {
  if (!ids?.length) return t('operator.staff.all_schools');
  return ids.map((id) => schools.find((s) => s.id === id)?.name ?? id).join('、');
}

function MemberRow({ m, schools, onSaved }: { m: Member; schools: School[]; onSaved: () => void }) {
  const [editing, setEditing] = useState(false);
  const [roles, setRoles] = useState<Role[]>(m.roles);
  const [ids, setIds] = useState<string[]>(m.school_ids ?? []);
  const save = useAction(async () => {
    await put(routes.member(m.id), { roles, school_ids: ids });
    setEditing(false);
    onSaved();
  });
  const revoke = useAction(async () => {
    await post(routes.revokeMember(m.id));
    onSaved();
  });
  const revoked = m.status === 'revoked';
  return html`<tr data-member=${m.id} data-status=${m.status} class=${revoked ? 'row-muted' : ''}>
    <td>${m.name || '—'}<div class="mono small muted">${m.id}</div></td>
    <td>${editing ? html`<${RolePicker} name="member-roles" value=${roles} onChange=${setRoles} />` : m.roles.map((r) => t(`role.${r}` as Key)).join('、')}</td>
    <td>${editing ? html`<${SchoolPicker} name="member-schools" schools=${schools} value=${ids} onChange=${setIds} />` : schoolNames(m.school_ids, schools)}</td>
    <td><span class="badge ${revoked ? 'badge-danger' : 'badge-ok'}">${t(revoked ? 'operator.staff.revoked' : 'operator.staff.active')}</span></td>
    <td class="nowrap small">${dateTime(m.last_sign_in_at)}</td>
    <td class="actions">
      ${editing
        ? html`<button class="btn btn-small btn-primary" onClick=${() => save.run()} disabled=${save.busy}>${t('common.save')}</button>
            <button class="btn btn-small btn-quiet" onClick=${() => (setEditing(false), setRoles(m.roles), setIds(m.school_ids ?? []))}>${t('common.cancel')}</button>`
        : revoked
          ? null
          : html`<button class="btn btn-small edit-member" onClick=${() => setEditing(true)}>${t('common.edit')}</button>
              <${ConfirmButton} label=${t('operator.staff.revoke')} question=${t('operator.staff.revoke_confirm', { name: m.name || m.id })} confirmLabel=${t('operator.staff.revoke_yes')} onConfirm=${() => revoke.run()} />`}
      <${ErrorBox} error=${save.error || revoke.error} />
    </td>
  </tr>`;
}

function NewInvitation({ schools, onCreated }: { schools: School[]; onCreated: () => void }) {
  const [roles, setRoles] = useState<Role[]>(['reviewer']);
  const [ids, setIds] = useState<string[]>([]);
  const [label, setLabel] = useState('');
  const [made, setMade] = useState<Invitation | null>(null);
  const [copied, setCopied] = useState(false);
  const linkEl = useRef<HTMLInputElement>(null);
  const create = useAction(async () => {
    const r = await post<{ invitation: Invitation }>(routes.invitations, { roles, school_ids: ids, label: label.trim() });
    setMade(r.invitation);
    setCopied(false);
    setLabel('');
    onCreated();
  });
  return html`<form class="panel" id="invite-form" onSubmit=${(e: Event) => (e.preventDefault(), create.run())}>
    <h2>${t('operator.invite.title')}</h2>
    <label class="field"><span>${t('operator.invite.label')}</span>
      <input id="invite-label" maxlength="40" required value=${label} onInput=${(e: any) => setLabel(e.currentTarget.value)} placeholder=${t('operator.invite.label_placeholder')} />
    </label>
    <div class="field"><span>${t('operator.invite.roles')}</span><${RolePicker} name="invite-roles" value=${roles} onChange=${setRoles} /></div>
    <div class="field"><span>${t('operator.invite.schools')}</span><${SchoolPicker} name="invite-schools" schools=${schools} value=${ids} onChange=${setIds} /></div>
    <p class="muted small">${t('operator.invite.schools_hint')}</p>
    <${ErrorBox} error=${create.error} />
    <button class="btn btn-primary" type="submit" id="invite-create" disabled=${create.busy}>${t('operator.invite.create')}</button>
    ${made?.link
      ? html`<div class="invite-link" id="invite-result">
          <${Notice} kind="ok">${t('operator.invite.made', { at: dateTime(made.expires_at) })}<//>
          <div class="copy-row">
            <input id="invite-link" readonly value=${made.link} ref=${linkEl} onFocus=${(e: any) => e.currentTarget.select()} />
            <button type="button" class="btn" id="invite-copy" onClick=${async () => setCopied(await copyText(made.link!, linkEl.current))}>
              ${copied ? t('operator.invite.copied') : t('operator.invite.copy')}
            </button>
          </div>
          <p class="muted small">${t('operator.invite.once')}</p>
        </div>`
      : null}
  </form>`;
}

export function Staff() {
  const schools = useLoad(() => loadSchools(), []);
  const members = useLoad(() => get<{ members: Member[] }>(routes.members).then((r) => r.members ?? []), []);
  const invitations = useLoad(() => get<{ invitations: Invitation[] }>(routes.invitations).then((r) => r.invitations ?? []), []);
  const cancel = useAction(async (id: string) => {
    await del(routes.invitation(id));
    invitations.reload();
  });
  const [filter, setFilter] = useState('');
  const [allInvitations, setAllInvitations] = useState(false);
  const sch = schools.data ?? [];
  const matches = (m: Member) => {
    const f = filter.trim();
    if (!f) return true;
    const words = [m.name, m.id, ...m.roles.map((r) => t(`role.${r}` as Key)), schoolNames(m.school_ids, sch), t(m.status === 'revoked' ? 'operator.staff.revoked' : 'operator.staff.active')];
    return words.some((w) => w && w.includes(f));
  };
  // Most recently active first; a long list shows its first rows until asked for all.
  const matching = [...(members.data ?? [])]
    .filter(matches)
    .sort((a, b) => (Date.parse(b.last_sign_in_at ?? '') || 0) - (Date.parse(a.last_sign_in_at ?? '') || 0));
  const [allMembers, setAllMembers] = useState(false);
  const shown = allMembers || filter.trim() ? matching : matching.slice(0, MEMBERS_SHOWN);
  return html`<section>
    <${PageHeader} title=${t('operator.staff.title')} />
    <${ErrorBox} error=${schools.error || members.error} />
    <div class="staff-layout">
      <div>
        <div class="section-head">
          <h2>${t('operator.staff.members')} <span class="muted small">${members.data ? `${matching.length} / ${members.data.length}` : ''}</span></h2>
          <input type="search" id="member-filter" class="search-small" placeholder=${t('operator.staff.filter')} value=${filter} onInput=${(e: any) => setFilter(e.currentTarget.value)} />
        </div>
        ${members.loading && !members.data
          ? html`<${Loading} />`
          : !members.data?.length
            ? html`<${Empty}>${t('operator.staff.none')}<//>`
            : html`<table class="table" id="members">
                <thead><tr><th>${t('operator.staff.name')}</th><th>${t('operator.staff.roles')}</th><th>${t('operator.staff.schools')}</th><th>${t('operator.staff.status')}</th><th>${t('operator.staff.last_sign_in')}</th><th></th></tr></thead>
                <tbody>${shown.map((m) => html`<${MemberRow} key=${m.id} m=${m} schools=${sch} onSaved=${members.reload} />`)}</tbody>
              </table>
              ${matching.length > shown.length || allMembers
                ? html`<button class="btn btn-quiet" id="all-members" onClick=${() => setAllMembers((x) => !x)}>
                    ${allMembers ? t('operator.invite.show_recent') : t('operator.invite.show_all', { n: matching.length })}
                  </button>`
                : null}`}
        <h2>${t('operator.invite.list')}</h2>
        <${ErrorBox} error=${invitations.error || cancel.error} />
        ${!invitations.data?.length
          ? html`<${Empty}>${t('operator.invite.none')}<//>`
          : html`<table class="table" id="invitations">
              <thead><tr><th>${t('operator.invite.label')}</th><th>${t('operator.staff.roles')}</th><th>${t('operator.staff.schools')}</th><th>${t('operator.staff.status')}</th><th>${t('operator.invite.expires_at')}</th><th></th></tr></thead>
              <tbody>
                ${newestFirst(invitations.data).slice(0, allInvitations ? undefined : INVITATIONS_SHOWN).map(
                  (i) => html`<tr data-invitation=${i.id} data-status=${i.status} data-used-by=${i.used_by}>
                    <td>${i.label}</td>
                    <td>${i.roles.map((r) => t(`role.${r}` as Key)).join('、')}</td>
                    <td>${schoolNames(i.school_ids, sch)}</td>
                    <td><span class="badge ${i.status === 'pending' ? 'badge-info' : i.status === 'used' ? 'badge-ok' : ''}">${t(`invitation.${i.status}` as Key)}</span>${i.used_by ? html` <span class="small muted">${i.used_by}</span>` : null}</td>
                    <td class="nowrap small">${dateTime(i.expires_at)}</td>
                    <td class="actions">${i.status === 'pending' ? html`<button class="btn btn-small btn-quiet" onClick=${() => cancel.run(i.id)}>${t('operator.invite.cancel')}</button>` : null}</td>
                  </tr>`,
                )}
              </tbody>
            </table>
            ${invitations.data.length > INVITATIONS_SHOWN
              ? html`<button class="btn btn-quiet" id="all-invitations" onClick=${() => setAllInvitations((x) => !x)}>
                  ${allInvitations ? t('operator.invite.show_recent') : t('operator.invite.show_all', { n: invitations.data.length })}
                </button>`
              : null}`}
      </div>
      <${NewInvitation} schools=${sch} onCreated=${invitations.reload} />
    </div>
  </section>`;
}
