// The one client of the public HTTP API. Same origin, relative `/v1/...` URLs, the session
// cookie goes along by itself (HttpOnly: this code never sees it); the CSRF token lives in
// memory only and is sent on every state-changing request.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageEn: string,
    readonly messageZh: string,
    readonly requestId?: string,
  ) {
    super(messageEn);
  }
}

export interface Staff {
  id: string;
  name: string;
  roles: Role[];
  school_ids: string[];
}
export type Role = 'reviewer' | 'school_admin' | 'customer_service' | 'operator';
export interface Session {
  staff: Staff;
  csrf_token: string;
  expires_at: string;
  idle_timeout_seconds: number;
}

let csrfToken: string | null = null;
let unauthorized: (code: string) => void = () => {};

/** Called with the error code whenever any call answers 401: back to the sign-in page. */
export function onUnauthorized(handler: (code: string) => void): void {
  unauthorized = handler;
}

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

function headers(method: Method, json: boolean): Record<string, string> {
  const h: Record<string, string> = { Accept: 'application/json' };
  if (json) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  return h;
}

async function toError(res: Response): Promise<ApiError> {
  let body: any = null;
  try {
    body = await res.json();
  } catch {
    /* not JSON: a gateway page or an empty body */
  }
  const e = body?.error;
  if (e && typeof e.code === 'string') {
    return new ApiError(res.status, e.code, e.message ?? e.code, e.message_zh ?? e.message ?? e.code, e.request_id);
  }
  return new ApiError(res.status, `http_${res.status}`, `HTTP ${res.status}`, `HTTP ${res.status}`);
}

export async function request<T = any>(method: Method, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: headers(method, body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The service cannot be reached.', '无法连接服务，请检查网络后重试。');
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401) unauthorized(err.code);
    throw err;
  }
  if (res.status === 204) return null as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

export const get = <T = any>(path: string) => request<T>('GET', path);
export const post = <T = any>(path: string, body: unknown = {}) => request<T>('POST', path, body);
export const put = <T = any>(path: string, body: unknown) => request<T>('PUT', path, body);
export const del = <T = any>(path: string) => request<T>('DELETE', path);

/** Fire-and-forget POST that survives the page being left (releasing a prefetched task). */
export function postBeacon(path: string): void {
  try {
    void fetch(path, { method: 'POST', credentials: 'same-origin', keepalive: true, headers: headers('POST', true), body: '{}' });
  } catch {
    /* best effort */
  }
}

const enc = encodeURIComponent;

/** Every route the console calls, in one place. */
export const routes = {
  session: '/v1/staff/session',
  signIn: '/v1/staff/sign-in',
  invitations: '/v1/staff/invitations',
  invitation: (id: string) => `/v1/staff/invitations/${enc(id)}`,
  members: '/v1/staff/members',
  member: (id: string) => `/v1/staff/members/${enc(id)}`,
  revokeMember: (id: string) => `/v1/staff/members/${enc(id)}/revoke`,
  schools: '/v1/admin/schools',
  presets: '/v1/admin/presets',
  campaigns: (schoolId?: string) => `/v1/admin/campaigns${schoolId ? `?school_id=${enc(schoolId)}` : ''}`,
  campaign: (id: string) => `/v1/admin/campaigns/${enc(id)}`,
  rosterUploads: (id: string) => `/v1/admin/campaigns/${enc(id)}/roster-uploads`,
  rosterImport: (id: string, importId: string) => `/v1/admin/campaigns/${enc(id)}/roster-imports/${enc(importId)}`,
  progress: (id: string, filter: Record<string, string | undefined> = {}) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    const qs = q.toString();
    return `/v1/admin/campaigns/${enc(id)}/progress${qs ? `?${qs}` : ''}`;
  },
  exports: (id: string) => `/v1/admin/campaigns/${enc(id)}/exports`,
  export: (id: string, exportId: string) => `/v1/admin/campaigns/${enc(id)}/exports/${enc(exportId)}`,
  queues: '/v1/review/queues',
  reasons: '/v1/review/reasons',
  claims: (campaignId: string) => `/v1/review/campaigns/${enc(campaignId)}/claims`,
  task: (campaignId: string, taskId: string) => `/v1/review/campaigns/${enc(campaignId)}/tasks/${enc(taskId)}`,
  decision: (campaignId: string, taskId: string) =>
    `/v1/review/campaigns/${enc(campaignId)}/tasks/${enc(taskId)}/decision`,
  release: (campaignId: string, taskId: string) =>
    `/v1/review/campaigns/${enc(campaignId)}/tasks/${enc(taskId)}/release`,
  lease: (campaignId: string, taskId: string) =>
    `/v1/review/campaigns/${enc(campaignId)}/tasks/${enc(taskId)}/lease`,
  searchOrders: (q: string) => `/v1/service/orders?q=${enc(q)}`,
  searchOrdersByName: (campaignId: string, name: string) =>
    `/v1/service/orders?campaign_id=${enc(campaignId)}&name=${enc(name)}`,
  searchOrdersByStudentNo: (campaignId: string, studentNo: string) =>
    `/v1/service/orders?campaign_id=${enc(campaignId)}&student_no=${enc(studentNo)}`,
  serviceOrder: (id: string) => `/v1/service/orders/${enc(id)}`,
  sendBack: (id: string) => `/v1/service/orders/${enc(id)}/send-back`,
  unbind: (campaignId: string, userId: string) =>
    `/v1/service/campaigns/${enc(campaignId)}/users/${enc(userId)}/unbind`,
  refund: (id: string) => `/v1/orders/${enc(id)}/refund`,
  anomalies: '/v1/service/anomalies',
  stuckOrders: '/v1/service/stuck-orders',
};

/**
 * A presigned upload: S3 POST form (every field first, then the file as `file`), or a
 * presigned PUT of the bytes. The storage origin is not ours: no cookies go along.
 */
export async function uploadToStorage(
  upload: { method?: string; url: string; fields?: Record<string, string> },
  file: File,
): Promise<void> {
  let res: Response;
  try {
    if ((upload.method ?? 'POST').toUpperCase() === 'PUT') {
      res = await fetch(upload.url, { method: 'PUT', body: file, credentials: 'omit' });
    } else {
      const form = new FormData();
      for (const [k, v] of Object.entries(upload.fields ?? {})) form.append(k, v);
      form.append('file', file);
      res = await fetch(upload.url, { method: 'POST', body: form, credentials: 'omit' });
    }
  } catch {
    throw new ApiError(0, 'upload_failed', 'The file could not be uploaded.', '文件上传失败，请重试。');
  }
  if (!res.ok) {
    throw new ApiError(res.status, 'upload_refused', `Storage refused the file (HTTP ${res.status}).`, `文件上传被拒绝（HTTP ${res.status}）。`);
  }
}
