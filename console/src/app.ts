// The shell: who is signed in (GET /v1/staff/session), navigation by role, the page of the route.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { html } from './html';
import { del, get, onUnauthorized, Role, routes, Session, setCsrfToken } from './api';
import { Lang, lang, onLangChange, setLang, t, Key } from './i18n';
import { href, Route, useRoute } from './router';
import { Loading, SessionCtx, SessionContext } from './components/ui';
import { SignIn } from './pages/signin';
import { ReviewQueues } from './pages/review-queues';
import { ReviewTask } from './pages/review-task';
import { CampaignList } from './pages/admin-campaigns';
import { CampaignForm } from './pages/admin-campaign-form';
import { CampaignDetail } from './pages/admin-campaign';
import { OrderSearch } from './pages/service-orders';
import { OrderDetail } from './pages/service-order';
import { Anomalies } from './pages/service-anomalies';
import { Schools } from './pages/operator-schools';
import { Staff } from './pages/operator-staff';
import { Stuck } from './pages/operator-stuck';

interface NavItem {
  path: string;
  label: Key;
  roles: Role[];
  section: string;
}

// Which pages a role finds in the menu; the API decides what each may actually do.
const NAV: NavItem[] = [
  { path: '/review', label: 'nav.review', roles: ['reviewer'], section: 'review' },
  { path: '/admin/campaigns', label: 'nav.campaigns', roles: ['school_admin'], section: 'admin' },
  { path: '/service/orders', label: 'nav.orders', roles: ['customer_service'], section: 'service' },
  { path: '/service/anomalies', label: 'nav.anomalies', roles: ['customer_service'], section: 'service-anomalies' },
  { path: '/operator/stuck', label: 'nav.stuck', roles: [], section: 'operator-stuck' },
  { path: '/operator/schools', label: 'nav.schools', roles: [], section: 'operator-schools' },
  { path: '/operator/staff', label: 'nav.staff', roles: [], section: 'operator-staff' },
];

const RETURN_KEY = 'yz.return';

function sectionOf(route: Route): string {
  if (route.name.startsWith('review')) return 'review';
  if (route.name.startsWith('admin')) return 'admin';
  if (route.name === 'service-anomalies') return 'service-anomalies';
  if (route.name.startsWith('service')) return 'service';
  return route.name;
}

function Page({ route }: { route: Route }) {
  const p = route.params;
  switch (route.name) {
    case 'review':
      return html`<${ReviewQueues} />`;
    case 'review-task':
      return html`<${ReviewTask} campaignId=${p.campaign} taskId=${p.task} />`;
    case 'admin-campaigns':
      return html`<${CampaignList} schoolId=${p.school} />`;
    case 'admin-new':
      return html`<${CampaignForm} schoolId=${p.school} />`;
    case 'admin-edit':
      return html`<${CampaignForm} campaignId=${p.campaign} />`;
    case 'admin-campaign':
      return html`<${CampaignDetail} campaignId=${p.campaign} tab=${p.tab} query=${p} />`;
    case 'service-orders':
      return html`<${OrderSearch} q=${p.q} school=${p.school} campaign=${p.campaign} name=${p.name} by=${p.by} />`;
    case 'service-order':
      return html`<${OrderDetail} orderId=${p.order} />`;
    case 'service-anomalies':
      return html`<${Anomalies} />`;
    case 'operator-schools':
      return html`<${Schools} />`;
    case 'operator-stuck':
      return html`<${Stuck} />`;
    case 'operator-staff':
      return html`<${Staff} />`;
    case 'home':
      return html`<${Loading} />`;
    default:
      return html`<div class="panel"><h1>${t('common.page_not_found')}</h1></div>`;
  }
}

function LangSwitch() {
  const other: Lang = lang() === 'zh' ? 'en' : 'zh';
  return html`<button class="btn btn-quiet" id="lang-switch" onClick=${() => setLang(other)} title=${t('lang.switch')}>
    ${other === 'en' ? 'English' : '中文'}
  </button>`;
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [signInCode, setSignInCode] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const route = useRoute();

  useEffect(() => onLangChange(() => setTick((x) => x + 1)), []);
  useEffect(() => {
    onUnauthorized((code) => {
      // Come back to the page after signing in again (the callback lands on `/`).
      if (location.hash.length > 2) sessionStorage.setItem(RETURN_KEY, location.hash);
      setCsrfToken(null);
      setSignInCode(code);
      setSession(null);
    });
    get<Session>(routes.session).then(
      (s) => {
        setCsrfToken(s.csrf_token);
        const back = sessionStorage.getItem(RETURN_KEY);
        sessionStorage.removeItem(RETURN_KEY);
        if (back && location.hash.length <= 2) location.replace(back);
        if (location.search.includes('signin_error')) history.replaceState(null, '', `/${location.hash}`);
        setSession(s);
      },
      () => setSession(null),
    );
  }, []);

  const ctx = useMemo<SessionContext | null>(() => {
    if (!session) return null;
    const roles = session.staff.roles;
    return {
      session,
      has: (r: Role) => roles.includes(r) || roles.includes('operator'),
      signOut: async () => {
        try {
          await del(routes.session);
        } catch {
          /* signed out already */
        }
        setCsrfToken(null);
        setSignInCode('signed_out');
        setSession(null);
        history.replaceState(null, '', '/');
      },
    };
  }, [session]);

  if (session === undefined) return html`<${Loading} />`;
  if (!session || !ctx) return html`<${SignIn} code=${signInCode} /><div class="corner-lang"><${LangSwitch} /></div>`;

  const nav = NAV.filter((n) => n.roles.some((r) => ctx.has(r)) || ctx.has('operator'));
  // Land on the first page the role has.
  if (route.name === 'home' && nav.length) location.replace(href(nav[0].path));
  const current = route;
  const section = sectionOf(current);
  const staff = session.staff;

  return html`<${SessionCtx.Provider} value=${ctx}>
    <header class="topbar">
      <a class="brand" href="#/">${t('app.name')}<span class="brand-sub">${t('app.console')}</span></a>
      <nav class="nav" aria-label=${t('nav.label')}>
        ${nav.map(
          (n) => html`<a href=${href(n.path)} class=${n.section === section ? 'active' : ''} aria-current=${n.section === section ? 'page' : undefined}>
            ${t(n.label)}
          </a>`,
        )}
      </nav>
      <div class="who">
        <span class="who-name" id="who-name">${staff.name || staff.id}</span>
        <span class="who-roles">${staff.roles.map((r) => t(`role.${r}` as Key)).join(' · ')}</span>
        <${LangSwitch} />
        <button class="btn btn-quiet" id="sign-out" onClick=${ctx.signOut}>${t('nav.sign_out')}</button>
      </div>
    </header>
    <main class="main" id="main">
      ${nav.length ? html`<${Page} route=${current} />` : html`<div class="panel">${t('nav.no_roles')}</div>`}
    </main>
  <//>`;
}
