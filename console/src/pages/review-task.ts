// One photo to decide: original, standard photo (with overlays), cut-out, ID-card photos, the
// check report, and the decision. Keyboard first; the next task is claimed ahead of time.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html';
import { ApiError, post, routes } from '../api';
import { errorText, pick, t } from '../i18n';
import { dateTime, duration } from '../format';
import { go, href } from '../router';
import { ErrorBox, Loading, Notice } from '../components/ui';
import { geometryOf, marksOf } from '../components/geometry';
import { Overlay } from '../components/overlay';
import { CheckReport } from '../components/check-report';
import {
  TaskView,
  claim,
  dropAhead,
  forget,
  loadReasons,
  markDecided,
  markSkipped,
  open,
  prefetchAfter,
  Reason,
  release,
  releaseQuietly,
  renew,
  renewEveryMs,
  settled,
  takeAhead,
  wasSkipped,
} from '../review/claims';

interface Recent {
  taskId: string;
  campaignId: string;
  orderId: string;
  decision: 'approve' | 'reject' | 'skip';
  status: 'pending' | 'ok' | 'failed';
  error?: unknown;
}

const OVERLAY_KEY = 'yz.review.overlays';
const taskPath = (c: string, t: string) => `/review/${encodeURIComponent(c)}/${encodeURIComponent(t)}`;

function Photo({ url, label, cls = '', id, onFail, children }: { url?: string; label: string; cls?: string; id: string; onFail?: () => void; children?: any }) {
  const [failed, setFailed] = useState(false);
  useEffect(() => setFailed(false), [url]);
  return html`<figure class="photo ${cls}" id=${id}>
    <figcaption>${label}</figcaption>
    <div class="photo-frame">
      ${url && !failed
        ? html`<img src=${url} alt=${label} onError=${() => (setFailed(true), onFail?.())} draggable="false" />`
        : html`<div class="photo-missing">${failed ? t('review.photo_failed') : t('review.photo_none')}</div>`}
      ${children}
    </div>
  </figure>`;
}

export function ReviewTask({ campaignId, taskId }: { campaignId: string; taskId: string }) {
  const [task, setTask] = useState<TaskView | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [reasons, setReasons] = useState<Reason[]>([]);
  const [selected, setSelected] = useState<string[]>([]);
  const [note, setNote] = useState('');
  const [overlays, setOverlays] = useState(() => localStorage.getItem(OVERLAY_KEY) !== 'off');
  const [help, setHelp] = useState(false);
  const [busy, setBusy] = useState(false);
  const [finished, setFinished] = useState(false);
  const [recent, setRecent] = useState<Recent[]>([]);
  const [, tick] = useState(0);
  const rejectBtn = useRef<HTMLButtonElement>(null);
  const noteEl = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    loadReasons().then(setReasons, setError);
    const timer = setInterval(() => tick((x) => x + 1), 15_000);
    return () => {
      clearInterval(timer);
      dropAhead();
    };
  }, []);

  // The previous task stays on screen (locked) until this one is in: no blank flash between
  // photos. With the task claimed ahead, it is in at once.
  const refreshed = useRef(false);
  useEffect(() => {
    let live = true;
    refreshed.current = false;
    setBusy(true);
    setError(null);
    setFinished(false);
    let holding = false;
    open(campaignId, taskId).then(
      (v) => {
        if (!live) {
          if (!settled(taskId)) releaseQuietly(campaignId, taskId);
          return;
        }
        holding = true;
        setTask(v);
        setSelected([]);
        setNote('');
        setBusy(false);
        prefetchAfter(campaignId, taskId);
      },
      (e) => {
        if (!live) return;
        setTask(null);
        setError(e);
        setBusy(false);
      },
    );
    return () => {
      live = false;
      // Leaving a task undecided (back to the queues, another page) gives it back at once,
      // rather than leaving it locked until its lease runs out.
      if (holding && !settled(taskId)) releaseQuietly(campaignId, taskId);
    };
  }, [campaignId, taskId]);

  // While the task is on screen it stays the reviewer's, however long they look: the lease is
  // renewed every third of its length (a lapsed one says so rather than failing at the decision).
  const shownId = task?.task_id;
  useEffect(() => {
    if (!task || task.task_id !== taskId) return;
    let live = true;
    const timer = setInterval(() => {
      if (settled(taskId)) return;
      renew(campaignId, taskId).then(
        (until) => live && setTask((cur) => (cur && cur.task_id === taskId ? { ...cur, lease_until: until } : cur)),
        (e) => live && !settled(taskId) && setError(e),
      );
    }, renewEveryMs(task));
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [campaignId, taskId, shownId]);

  /** A photo link that no longer loads (expired): fetch the task once more for fresh links. */
  function photoFailed() {
    if (refreshed.current || !task) return;
    refreshed.current = true;
    forget(campaignId, taskId);
    open(campaignId, taskId).then(setTask, setError);
  }

  function track(r: Recent, p: Promise<unknown>): Promise<boolean> {
    setRecent((list) => [r, ...list].slice(0, 6));
    const update = (patch: Partial<Recent>) =>
      setRecent((list) => list.map((x) => (x.taskId === r.taskId && x.decision === r.decision ? { ...x, ...patch } : x)));
    return p.then(
      () => (update({ status: 'ok' }), true),
      (e) => (update({ status: 'failed', error: e }), false),
    );
  }

  /** Show the next task: the one claimed ahead at once, else claim one now. */
  async function next(done: Promise<boolean>) {
    const ahead = await takeAhead(campaignId, taskId);
    if (ahead) return go(taskPath(ahead.campaign_id, ahead.task_id));
    if (!(await done)) {
      setBusy(false);
      return;
    }
    try {
      const v = await claim(campaignId, [taskId]);
      if (v && v.task_id !== taskId) go(taskPath(v.campaign_id, v.task_id));
      else {
        setTask(null);
        setFinished(true);
      }
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  }

  function decide(decision: 'approve' | 'reject') {
    if (!task || busy) return;
    setBusy(true);
    const body = decision === 'approve' ? { decision } : { decision, reasons: selected, note: note.trim() };
    markDecided(taskId);
    const sent = post(routes.decision(campaignId, taskId), body);
    void next(track({ taskId, campaignId, orderId: task.order_id, decision, status: 'pending' }, sent));
  }

  function skip() {
    if (!task || busy) return;
    setBusy(true);
    markSkipped(taskId);
    const released = release(campaignId, taskId);
    const done = track({ taskId, campaignId, orderId: task.order_id, decision: 'skip', status: 'pending' }, released);
    void takeAhead(campaignId, taskId).then(async (ahead) => {
      if (ahead) return go(taskPath(ahead.campaign_id, ahead.task_id));
      await done;
      const v = await claim(campaignId, [taskId]).catch(() => null);
      go(v ? taskPath(v.campaign_id, v.task_id) : '/review');
    });
  }

  function toggle(code: string) {
    setSelected((s) => (s.includes(code) ? s.filter((c) => c !== code) : [...s, code]));
  }

  // Keyboard: A approve, R reject, S skip, 1–9 reasons, N note, O overlays, ? help.
  const keys = useRef<(e: KeyboardEvent) => void>(() => {});
  keys.current = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const el = e.target as HTMLElement;
    const typing = el && (el.tagName === 'TEXTAREA' || (el.tagName === 'INPUT' && (el as HTMLInputElement).type === 'text'));
    if (typing) {
      if (e.key === 'Escape') el.blur();
      return;
    }
    const k = e.key.toLowerCase();
    if (k === '?' || (k === '/' && e.shiftKey)) setHelp((h) => !h);
    else if (k === 'o') setOverlays((o) => (localStorage.setItem(OVERLAY_KEY, o ? 'off' : 'on'), !o));
    else if (k === 'escape') setHelp(false);
    else if (!task) return;
    else if (k === 'a') decide('approve');
    else if (k === 'r') {
      if (document.activeElement === rejectBtn.current && selected.length) decide('reject');
      else rejectBtn.current?.focus();
    } else if (k === 's') skip();
    else if (k === 'n') noteEl.current?.focus();
    else if (/^[1-9]$/.test(k) && reasons[Number(k) - 1]) toggle(reasons[Number(k) - 1].code);
    else return;
    e.preventDefault();
  };
  useEffect(() => {
    const f = (e: KeyboardEvent) => keys.current(e);
    window.addEventListener('keydown', f);
    return () => window.removeEventListener('keydown', f);
  }, []);

  const recentStrip = recent.length
    ? html`<ol class="recent" id="recent-decisions" aria-label=${t('review.recent')}>
        ${recent.map(
          (r) => html`<li class="recent-${r.status}" data-order=${r.orderId} data-status=${r.status}>
            <span class="badge ${r.decision === 'approve' ? 'badge-ok' : r.decision === 'reject' ? 'badge-danger' : ''}">${t(`review.decision.${r.decision}`)}</span>
            <span class="mono">${r.orderId}</span>
            ${r.status === 'pending' ? html`<span class="muted">…</span>` : null}
            ${r.status === 'failed'
              ? html`<span class="error-text">${errorText(r.error)}</span>
                  <a href=${href(taskPath(r.campaignId, r.taskId))}>${t('review.reopen')}</a>`
              : null}
          </li>`,
        )}
      </ol>`
    : null;

  if (finished)
    return html`<section class="review-done">
      <${Notice} kind="ok">${t('review.queue_done')}<//>
      ${recentStrip}
      <a class="btn" href=${href('/review')}>${t('review.back_to_queues')}</a>
    </section>`;
  if (error)
    return html`<section class="review-done">
      <h1>${t('review.cannot_open')}</h1>
      <${ErrorBox} error=${error} />
      ${recentStrip}
      <div class="form-actions">
        ${error instanceof ApiError && error.code === 'task_not_held'
          ? html`<button class="btn btn-primary" id="claim-next" onClick=${() => void next(Promise.resolve(true))}>${t('review.claim_next')}</button>`
          : null}
        <a class="btn" href=${href('/review')}>${t('review.back_to_queues')}</a>
      </div>
    </section>`;
  if (!task) return html`<${Loading} />`;
  const stale = task.task_id !== taskId;

  const g = geometryOf(task.spec, { width: task.report?.output?.width, height: task.report?.output?.height });
  const marks = marksOf(task.report);
  const leaseLeft = (Date.parse(task.lease_until) - Date.now()) / 1000;
  const queuedAge = (Date.now() - Date.parse(task.queued_at)) / 1000;
  const p = task.photos ?? {};

  return html`<section class=${stale ? 'review review-stale' : 'review'} id="review-task" data-task=${task.task_id} data-order=${task.order_id} aria-busy=${stale}>
    <div class="review-bar">
      <a href=${href('/review')} class="btn btn-quiet">← ${t('review.back_to_queues')}</a>
      <span>${t('review.order')} <strong class="mono" id="task-order">${task.order_id}</strong></span>
      <span>${t('review.attempt', { n: task.attempt })}</span>
      <span class="muted">${t('review.queued', { at: dateTime(task.queued_at), age: duration(queuedAge) })}</span>
      <span class=${leaseLeft < 120 ? 'warn-text' : 'muted'}>${t('review.lease', { left: duration(leaseLeft) })}</span>
      ${wasSkipped(task.task_id) ? html`<span class="badge">${t('review.skipped_before')}</span>` : null}
      <span class="spacer"></span>
      <label class="switch"><input type="checkbox" id="toggle-overlays" checked=${overlays} onChange=${() => setOverlays((o) => (localStorage.setItem(OVERLAY_KEY, o ? 'off' : 'on'), !o))} /> ${t('review.overlays')} <kbd>O</kbd></label>
      <button class="btn btn-quiet" onClick=${() => setHelp((h) => !h)} aria-expanded=${help}>${t('review.shortcuts')} <kbd>?</kbd></button>
    </div>
    ${help
      ? html`<div class="shortcut-help" id="shortcut-help" role="dialog" aria-label=${t('review.shortcuts')}>
          <dl>
            <dt><kbd>A</kbd></dt><dd>${t('review.key.approve')}</dd>
            <dt><kbd>R</kbd></dt><dd>${t('review.key.reject')}</dd>
            <dt><kbd>1</kbd>–<kbd>9</kbd></dt><dd>${t('review.key.reasons')}</dd>
            <dt><kbd>N</kbd></dt><dd>${t('review.key.note')}</dd>
            <dt><kbd>S</kbd></dt><dd>${t('review.key.skip')}</dd>
            <dt><kbd>O</kbd></dt><dd>${t('review.key.overlays')}</dd>
            <dt><kbd>?</kbd></dt><dd>${t('review.key.help')}</dd>
            <dt><kbd>Esc</kbd></dt><dd>${t('review.key.escape')}</dd>
          </dl>
        </div>`
      : null}
    <div class="review-grid">
      <div class="review-photos">
        <div class="photo-row">
          <${Photo} id="photo-standard" onFail=${photoFailed} cls="photo-standard" url=${p.standard_url} label=${t('review.photo.standard')}>
            ${overlays ? html`<${Overlay} g=${g} marks=${marks} />` : null}
          <//>
          <${Photo} id="photo-original" onFail=${photoFailed} url=${p.original_url} label=${t('review.photo.original')} />
          <${Photo} id="photo-cutout" onFail=${photoFailed} cls="photo-cutout" url=${p.cutout_url} label=${t('review.photo.cutout')} />
        </div>
        ${overlays
          ? html`<div class="legend muted small">
              <span class="lg lg-eye"></span>${t('overlay.eye_line')}
              <span class="lg lg-face"></span>${t('overlay.face_box')}
              <span class="lg lg-top"></span>${t('overlay.head_top')}
              <span class="lg lg-band"></span>${t('overlay.bands')}
            </div>`
          : null}
        ${p.id_card_front_url || p.id_card_back_url
          ? html`<div class="photo-row photo-row-cards">
              <${Photo} id="photo-id-front" onFail=${photoFailed} cls="photo-card" url=${p.id_card_front_url} label=${t('review.photo.id_front')} />
              <${Photo} id="photo-id-back" onFail=${photoFailed} cls="photo-card" url=${p.id_card_back_url} label=${t('review.photo.id_back')} />
            </div>`
          : null}
        <${CheckReport} report=${task.report} reasons=${reasons} />
      </div>
      <aside class="decision" aria-label=${t('review.decision')}>
        <button class="btn btn-approve btn-block" id="approve" onClick=${() => decide('approve')} disabled=${busy}>
          ${t('review.approve')} <kbd>A</kbd>
        </button>
        <fieldset class="reasons" id="reasons">
          <legend>${t('review.reasons')}</legend>
          ${reasons.map(
            (r, i) => html`<label class=${selected.includes(r.code) ? 'reason checked' : 'reason'} data-code=${r.code}>
              <input type="checkbox" name="reason" value=${r.code} checked=${selected.includes(r.code)} onChange=${() => toggle(r.code)} />
              ${i < 9 ? html`<kbd>${i + 1}</kbd>` : html`<span class="kbd-space"></span>`}
              <span>${pick(r.label_zh, r.label_en)}</span>
            </label>`,
          )}
        </fieldset>
        <label class="field">
          <span>${t('review.note')} <kbd>N</kbd></span>
          <textarea id="note" ref=${noteEl} rows="3" maxlength="200" value=${note} onInput=${(e: any) => setNote(e.currentTarget.value)} placeholder=${t('review.note_placeholder')}></textarea>
        </label>
        <button class="btn btn-reject btn-block" id="reject" ref=${rejectBtn} onClick=${() => decide('reject')} disabled=${busy}>
          ${t('review.reject')}${selected.length ? ` (${selected.length})` : ''} <kbd>R</kbd>
        </button>
        <button class="btn btn-block" id="skip" onClick=${skip} disabled=${busy}>${t('review.skip')} <kbd>S</kbd></button>
        <p class="muted small">${t('review.hint')}</p>
        ${recentStrip}
      </aside>
    </div>
  </section>`;
}
