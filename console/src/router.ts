// Hash routes (`#/review/<campaign>/<task>`): the static files need no server rewrites.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  name: string;
  params: Record<string, string>;
}

const patterns: [string, string][] = [
  ['review', '/review'],
  ['review-task', '/review/:campaign/:task'],
  ['admin-campaigns', '/admin/campaigns'],
  ['admin-new', '/admin/schools/:school/new'],
  ['admin-campaign', '/admin/campaigns/:campaign'],
  ['admin-edit', '/admin/campaigns/:campaign/edit'],
  ['service-orders', '/service/orders'],
  ['service-order', '/service/orders/:order'],
  ['service-anomalies', '/service/anomalies'],
  ['operator-stuck', '/operator/stuck'],
  ['operator-schools', '/operator/schools'],
  ['operator-staff', '/operator/staff'],
];

export function parse(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#/, '').split('?');
  const parts = (path || '/').split('/').filter(Boolean);
  for (const [name, pattern] of patterns) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const ok = want.every((w, i) => {
      if (w.startsWith(':')) {
        params[w.slice(1)] = decodeURIComponent(parts[i]);
        return true;
      }
      return w === parts[i];
    });
    if (ok) {
      new URLSearchParams(query).forEach((v, k) => (params[k] = v));
      return { name, params };
    }
  }
  return { name: parts.length ? 'not-found' : 'home', params: {} };
}

export function href(path: string): string {
  return `#${path}`;
}

export function go(path: string): void {
  if (location.hash !== `#${path}`) location.hash = path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.hash));
  useEffect(() => {
    const f = () => setRoute(parse(location.hash));
    window.addEventListener('hashchange', f);
    return () => window.removeEventListener('hashchange', f);
  }, []);
  return route;
}
