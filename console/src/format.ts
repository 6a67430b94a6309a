// How values look on the page. Times are shown in Asia/Shanghai, whatever the browser's zone.
import { lang } from './i18n';

const ZONE = 'Asia/Shanghai';

/** An API time (RFC 3339, or epoch seconds/millis) as a Date. */
export function toDate(v: unknown): Date | null {
  if (v === null || v === undefined || v === '') return null;
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v > 1e11 ? v : v * 1000);
  const d = new Date(String(v));
  return isNaN(d.getTime()) ? null : d;
}

function parts(d: Date): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of new Intl.DateTimeFormat('en-CA', {
    timeZone: ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(d))
    out[p.type] = p.value;
  return out;
}

/** `2026-03-18 18:00` in Shanghai time. */
export function dateTime(v: unknown, seconds = false): string {
  const d = toDate(v);
  if (!d) return '—';
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}${seconds ? `:${p.second}` : ''}`;
}

/** The value of an `<input type=datetime-local>` showing this time in Shanghai. */
export function toLocalInput(v: unknown): string {
  const d = toDate(v);
  if (!d) return '';
  const p = parts(d);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

/** What the API takes for a Shanghai wall-clock time: `2026-03-18 18:00`. */
export function fromLocalInput(v: string): string {
  return v.replace('T', ' ');
}

/** A duration in seconds as `1 天 3 小时` / `1 d 3 h`. */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined) return '—';
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const zh = lang() === 'zh';
  const u = zh ? { d: ' 天', h: ' 小时', m: ' 分' } : { d: ' d', h: ' h', m: ' min' };
  if (d) return `${d}${u.d} ${h}${u.h}`;
  if (h) return `${h}${u.h} ${m}${u.m}`;
  if (s < 60) return zh ? `${s} 秒` : `${s} s`;
  return `${m}${u.m}`;
}

/** Fen as `¥12.50`. */
export function yuan(fen: number | null | undefined): string {
  if (fen === null || fen === undefined) return '—';
  return `¥${(fen / 100).toFixed(2)}`;
}

/** A measurement: up to 3 significant decimals, no trailing zeros. */
export function num(v: unknown): string {
  if (typeof v !== 'number' || !isFinite(v)) return v === null || v === undefined ? '—' : String(v);
  if (Number.isInteger(v)) return String(v);
  return String(Math.round(v * 1000) / 1000);
}

export function bytes(n: number | null | undefined): string {
  if (!n) return '—';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

/** A deadline: midnight reads as 24:00 of the day before (`2026-04-05 24:00`), as schools write it. */
export function closing(v: unknown): string {
  const d = toDate(v);
  if (!d) return '—';
  const p = parts(d);
  if (p.hour === '00' && p.minute === '00' && p.second === '00') {
    const q = parts(new Date(d.getTime() - 1000));
    return `${q.year}-${q.month}-${q.day} 24:00`;
  }
  return dateTime(d);
}
