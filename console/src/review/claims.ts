// The reviewer's tasks in hand: the one on screen and the one claimed ahead of time, so that
// "next" opens at once. Unseen claimed tasks go back (release) when the reviewer leaves.
import { get, post, postBeacon, routes, ApiError } from '../api';

export interface TaskView {
  task_id: string;
  campaign_id: string;
  order_id: string;
  attempt: number;
  queued_at: string;
  lease_until: string;
  /** How long a claim or a renewal holds the task. */
  lease_seconds?: number;
  photos: {
    original_url?: string;
    standard_url?: string;
    cutout_url?: string;
    id_card_front_url?: string;
    id_card_back_url?: string;
    expires_in?: number;
  };
  spec?: any;
  report?: any;
  /** When this copy was fetched (ms), to know whether its links are still fresh. */
  fetchedAt?: number;
}

// Tasks this reviewer skipped in this page: claims pass over them, and one handed
// out anyway goes back at once, so that another reviewer gets it.
const skipped = new Set<string>();
// Tasks decided in this page (the decision may still be on its way): never claim them again.
const decided: string[] = [];
export function markDecided(taskId: string): void {
  decided.unshift(taskId);
  decided.length = Math.min(decided.length, 20);
  forgetTask(taskId);
}
const cache = new Map<string, TaskView>();
const key = (c: string, t: string) => `${c}/${t}`;

function remember(v: TaskView): TaskView {
  v.fetchedAt = Date.now();
  cache.set(key(v.campaign_id, v.task_id), v);
  // Warm the browser's cache so the photos show without a wait.
  for (const u of [v.photos?.standard_url, v.photos?.original_url, v.photos?.cutout_url]) if (u) new Image().src = u;
  return v;
}

/** Whether the reviewer still holds the task (its lease has not run out). */
export function held(v: TaskView): boolean {
  const until = Date.parse(v.lease_until);
  return isNaN(until) || until - Date.now() > 1000;
}

/** A copy fetched recently enough that its photo links are good, and still held. */
function fresh(v: TaskView | undefined): v is TaskView {
  if (!v?.fetchedAt) return false;
  const ttl = ((v.photos?.expires_in ?? 300) - 30) * 1000;
  return Date.now() - v.fetchedAt < ttl && held(v);
}

/**
 * Claim the next task of a campaign, passing over `except` (the task on screen, the ones this
 * reviewer skipped); null when the queue has nothing else.
 */
export async function claim(campaignId: string, except: string[] = []): Promise<TaskView | null> {
  try {
    const body = { except: [...new Set([...except, ...decided, ...skipped])].slice(0, 50) };
    return remember(await post<TaskView>(routes.claims(campaignId), body));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'queue_empty') return null;
    throw e;
  }
}

/** The task view: from the claim just made when still fresh, else fetched again. */
export async function open(campaignId: string, taskId: string): Promise<TaskView> {
  const hit = cache.get(key(campaignId, taskId));
  if (fresh(hit)) return hit;
  return remember(await get<TaskView>(routes.task(campaignId, taskId)));
}

export function forget(campaignId: string, taskId: string): void {
  cache.delete(key(campaignId, taskId));
}
function forgetTask(taskId: string): void {
  for (const k of cache.keys()) if (k.endsWith(`/${taskId}`)) cache.delete(k);
}

export async function release(campaignId: string, taskId: string): Promise<void> {
  forget(campaignId, taskId);
  await post(routes.release(campaignId, taskId));
}

/** Keeps the task on screen the reviewer's: renews its lease (the cached copy learns the new end). */
export async function renew(campaignId: string, taskId: string): Promise<string> {
  const r = await post<{ lease_until: string }>(routes.lease(campaignId, taskId));
  const hit = cache.get(key(campaignId, taskId));
  if (hit) hit.lease_until = r.lease_until;
  return r.lease_until;
}

/** How often the task on screen is renewed: a third of its lease, between 5 s and 2 min. */
export function renewEveryMs(v: TaskView): number {
  return Math.max(5, Math.min(120, (v.lease_seconds ?? 600) / 3)) * 1000;
}

/** Best effort, also while the page is being closed. */
export function releaseQuietly(campaignId: string, taskId: string): void {
  forget(campaignId, taskId);
  postBeacon(routes.release(campaignId, taskId));
}

// One task claimed ahead of the one on screen.
let ahead: { campaignId: string; after: string; task: Promise<TaskView | null> } | null = null;

/** Claim the task after `currentTaskId` now, while the reviewer looks at the current one. */
export function prefetchAfter(campaignId: string, currentTaskId: string): void {
  if (ahead && ahead.campaignId === campaignId && ahead.after === currentTaskId) return;
  dropAhead();
  const task = claim(campaignId, [currentTaskId]).then(
    // A backend that hands back the task already held has nothing further to give yet.
    (v) => {
      if (!v || v.task_id === currentTaskId || decided.includes(v.task_id)) return null;
      if (skipped.has(v.task_id)) {
        releaseQuietly(v.campaign_id, v.task_id);
        return null;
      }
      return v;
    },
    () => null,
  );
  ahead = { campaignId, after: currentTaskId, task };
}

/** The task claimed ahead, if any (waits for a claim still in flight). */
export async function takeAhead(campaignId: string, currentTaskId: string): Promise<TaskView | null> {
  if (!ahead || ahead.campaignId !== campaignId) return null;
  const a = ahead;
  ahead = null;
  const v = await a.task;
  // One whose lease ran out while the reviewer was busy is nobody's any more: claim afresh.
  return v && v.task_id !== currentTaskId && held(v) ? v : null;
}

/** Give the task claimed ahead back to the queue (leaving the page). */
export function dropAhead(): void {
  if (!ahead) return;
  const a = ahead;
  ahead = null;
  void a.task.then((v) => v && releaseQuietly(v.campaign_id, v.task_id));
}

window.addEventListener('pagehide', dropAhead);

export function markSkipped(taskId: string): void {
  skipped.add(taskId);
}
export function wasSkipped(taskId: string): boolean {
  return skipped.has(taskId);
}
/** Whether the task was decided or skipped in this page (nothing left to give back). */
export function settled(taskId: string): boolean {
  return skipped.has(taskId) || decided.includes(taskId);
}

export interface Reason {
  code: string;
  label_zh: string;
  label_en: string;
}
let reasons: Promise<Reason[]> | null = null;
/** The reason codes reviewers reject with (loaded once). */
export function loadReasons(): Promise<Reason[]> {
  reasons ??= get<{ reasons: Reason[] }>(routes.reasons).then(
    (r) => r.reasons,
    (e) => {
      reasons = null;
      throw e;
    },
  );
  return reasons;
}
