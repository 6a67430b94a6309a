import { get, routes } from '../api';

export interface Campaign {
  id: string;
  school_id: string;
  name: string;
  kind: string;
  spec: any;
  opens_at: string;
  closes_at: string;
  price_fen: number;
  identity_mode: string;
  require_id_card_photos?: boolean;
  allow_withdraw?: boolean;
  free_checks?: number;
  privacy_agreement?: { version: string; url: string } | null;
  code?: string;
  status?: string;
}
export interface CampaignView {
  campaign: Campaign;
  progress: Record<string, number>;
}
export interface School {
  id: string;
  name: string;
  created_at?: string;
}
export interface Preset {
  id: string;
  label_zh: string;
  label_en: string;
  spec: any;
}

/** A list item may be `{campaign, progress}` or the campaign itself. */
export function asView(x: any): CampaignView {
  return x?.campaign ? { campaign: x.campaign, progress: x.progress ?? {} } : { campaign: x, progress: x?.progress ?? {} };
}

export const KINDS = ['graduation', 'degree', 'new_student', 'other'] as const;
export const IDENTITY_MODES = ['name_id_number', 'exam_number', 'collection_code'] as const;
/** The campaign's own headline counters (GET campaign), as a funnel. */
export const PROGRESS_ORDER = ['enrolled', 'verified', 'paid'];

/** Where each roster line stands, in the order a student goes through them. */
export const STAGES = [
  'not_verified',
  'no_order',
  'unpaid',
  'paid_no_photo',
  'processing',
  'not_submitted',
  'retake',
  'in_review',
  'approved',
  'cancelled',
  'refunded',
  'collected_offline',
] as const;

export interface StageCount {
  stage: string;
  label_zh: string;
  label_en: string;
  count: number;
}
export interface ProgressGroup {
  department: string;
  major: string;
  class: string;
  total: number;
  approved: number;
  /** Approved or collected offline. */
  done?: number;
}
export interface ProgressLine {
  entry_id: string;
  name: string;
  id_number: string;
  student_no: string | null;
  department: string | null;
  major: string | null;
  class: string | null;
}
export interface ProgressStudent {
  line: ProgressLine;
  stage: string;
  stage_zh: string;
  stage_en: string;
  order_id: string | null;
}
/** GET /v1/admin/campaigns/{id}/progress: counts of the whole roster, the filtered list. */
export interface CampaignProgress {
  campaign_id: string;
  roster: number;
  stages: StageCount[];
  groups: ProgressGroup[];
  students: ProgressStudent[];
  matching: number;
  truncated: boolean;
}
/** The list's filter; every field optional (no stage: everyone not approved). */
export interface ProgressFilter {
  stage?: string;
  q?: string;
  department?: string;
  major?: string;
  class?: string;
}
export const FILTER_KEYS = ['stage', 'q', 'department', 'major', 'class'] as const;

let schools: Promise<School[]> | null = null;
export function loadSchools(force = false): Promise<School[]> {
  if (force || !schools)
    schools = get<{ schools: School[] }>(routes.schools).then(
      (r) => r.schools,
      (e) => {
        schools = null;
        throw e;
      },
    );
  return schools;
}
