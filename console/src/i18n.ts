// All words of the console, one dictionary per language. Chinese first; English available.
// API messages come from the API (`message_zh` / `message`), labels of reasons and presets
// from the API too; this file holds only the console's own words.
import { ApiError } from './api';
import { zh } from './i18n/zh';
import { en } from './i18n/en';

export type Lang = 'zh' | 'en';
export type Key = keyof typeof zh;

const dictionaries: Record<Lang, Record<Key, string>> = { zh, en };
const STORAGE_KEY = 'yz.lang';

function stored(): Lang {
  try {
    return localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'zh';
  } catch {
    return 'zh';
  }
}

let current: Lang = stored();
const listeners = new Set<() => void>();

export function lang(): Lang {
  return current;
}

export function setLang(l: Lang): void {
  current = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    /* private mode: the choice lasts for this page */
  }
  document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
  listeners.forEach((f) => f());
}

export function onLangChange(f: () => void): () => void {
  listeners.add(f);
  return () => listeners.delete(f);
}

/** The word for `key`, with `{name}` placeholders filled from `vars`. */
export function t(key: Key, vars?: Record<string, string | number>): string {
  let s = dictionaries[current][key] ?? dictionaries.zh[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.split(`{${k}}`).join(String(v));
  return s;
}

/** A word the API labels in both languages (`label_zh` / `label_en`). */
export function pick(zhText: string | undefined, enText: string | undefined): string {
  return (current === 'zh' ? zhText || enText : enText || zhText) ?? '';
}

/** What to tell a person about an error. */
export function errorText(e: unknown): string {
  if (e instanceof ApiError) return current === 'zh' ? e.messageZh : e.messageEn;
  return t('error.unexpected');
}

/** A key's word if the dictionary has it, else the fallback (codes the API may add later). */
export function tOr(key: string, fallback: string): string {
  const d = dictionaries[current] as Record<string, string>;
  return d[key] ?? (dictionaries.zh as Record<string, string>)[key] ?? fallback;
}

document.documentElement.lang = current === 'zh' ? 'zh-CN' : 'en';

/** `t(key)` with `n` filled in, or `key_one`'s word when `n` is 1 and the dictionary has one. */
export function tn(key: Key, n: number, vars: Record<string, string | number> = {}): string {
  const one = `${key}_one` as Key;
  return t(n === 1 && one in dictionaries.zh ? one : key, { n, ...vars });
}
