// Small pieces every page uses: loading data, showing errors, notices.
import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html';
import { ApiError, Session, Role } from '../api';
import { errorText, t } from '../i18n';

export interface SessionContext {
  session: Session;
  has: (role: Role) => boolean;
  signOut: () => void;
}
export const SessionCtx = createContext<SessionContext | null>(null);

export function useSession(): SessionContext {
  const s = useContext(SessionCtx);
  if (!s) throw new Error('no session');
  return s;
}

export interface Loaded<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload: () => void;
  set: (d: T) => void;
}

/** Loads `f()` when `deps` change; `reload()` loads again, keeping the old data meanwhile. */
export function useLoad<T>(f: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(true);
  const [n, setN] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const mine = ++latest.current;
    setLoading(true);
    f().then(
      (d) => {
        if (mine !== latest.current) return;
        setData(d);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (mine !== latest.current) return;
        setError(e);
        setLoading(false);
      },
    );
  }, [...deps, n]);
  const reload = useCallback(() => setN((x) => x + 1), []);
  return { data, error, loading, reload, set: setData };
}

/** An error as a person reads it; `data-code` carries the API's code for tests and support. */
export function ErrorBox({ error }: { error: unknown }) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : 'unexpected';
  const rid = error instanceof ApiError ? error.requestId : undefined;
  return html`<div class="alert alert-error" role="alert" data-code=${code}>
    <span>${errorText(error)}</span>
    ${rid ? html`<span class="muted small"> ${t('error.request_id')}: ${rid}</span>` : null}
  </div>`;
}

export function Notice({ kind = 'info', children }: { kind?: 'info' | 'ok' | 'warn'; children: any }) {
  return html`<div class="alert alert-${kind}" role="status">${children}</div>`;
}

export function Loading() {
  return html`<div class="loading" aria-busy="true">${t('common.loading')}</div>`;
}

export function Empty({ children }: { children: any }) {
  return html`<div class="empty">${children}</div>`;
}

/** Runs an action once at a time, keeping its error. */
export function useAction<A extends unknown[]>(f: (...a: A) => Promise<void>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = useCallback(
    async (...a: A) => {
      setBusy(true);
      setError(null);
      try {
        await f(...a);
      } catch (e) {
        setError(e);
      } finally {
        setBusy(false);
      }
    },
    [f],
  );
  return { run, busy, error, setError };
}

export function PageHeader({ title, children }: { title: string; children?: any }) {
  return html`<div class="page-header"><h1>${title}</h1><div class="page-actions">${children}</div></div>`;
}

/** Copies text to the clipboard, falling back to selecting it. */
export async function copyText(text: string, fallbackEl?: HTMLInputElement | null): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (fallbackEl) {
      fallbackEl.select();
      return document.execCommand('copy');
    }
    return false;
  }
}

/** A button that asks once more, in place, before doing something that cannot be undone. */
export function ConfirmButton({
  label,
  question,
  confirmLabel,
  onConfirm,
  cls = 'btn-danger',
  id,
}: {
  label: string;
  question: string;
  confirmLabel: string;
  onConfirm: () => void;
  cls?: string;
  id?: string;
}) {
  const [asking, setAsking] = useState(false);
  if (!asking) return html`<button type="button" class="btn btn-small ${cls}" id=${id} onClick=${() => setAsking(true)}>${label}</button>`;
  return html`<span class="confirm" role="alertdialog">
    <span>${question}</span>
    <button type="button" class="btn btn-small ${cls} confirm-yes" onClick=${() => (setAsking(false), onConfirm())}>${confirmLabel}</button>
    <button type="button" class="btn btn-small btn-quiet confirm-no" onClick=${() => setAsking(false)}>${t('common.cancel')}</button>
  </span>`;
}
