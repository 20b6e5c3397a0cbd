/**
 * The admin part of the staff API client (管理): staff accounts, grants, halls (windows, opening hours,
 * service status), implementation lists (实施清单) and their local variances, the catalog workbook
 * import / export, and the admin audit trail. Shapes follow docs/openapi.json; errors are
 * {@link ApiError}s (400s list every field in `issues`).
 */
import type { Role } from '../../../domain/roles.ts';
import { request } from './http.ts';
import type { Grant } from './types.ts';

const enc = encodeURIComponent;

/** A staff account as administrators see it (`Staff` in the OpenAPI document). */
export interface Staff {
  id: string;
  name: string;
  username: string | null;
  departmentId: string | null;
  hallCode: string | null;
  hallDivision: string | null;
  departmentDivision: string | null;
  isAdmin: boolean;
  totpEnrolled: boolean;
  /** ISO 8601; null while enabled */
  disabledAt: string | null;
  createdAt: string;
  /** roles of the grants in force now */
  roles: Role[];
}

/** A new account or a password reset: the initial password is returned this once only. */
export interface StaffWithPassword {
  account: Staff;
  initialPassword: string;
}

/** One administrator grant of mine in force, and what it lets me hand out. */
export interface Grantable {
  grantId: string | null;
  role: Role;
  scope: { kind: 'division' | 'hall' | 'department'; value: string; divisionCode: string };
  /** null = all items */
  itemCodes: string[] | null;
  /** the latest validUntil I may give (ISO 8601) */
  validUntil: string;
  roles: { role: Role; name: string }[];
}

export interface TimeLimit {
  value: number;
  unit: 'working_days' | 'calendar_days' | 'months';
}
export interface FeeItem {
  name: string;
  /** yuan (元), at most 2 decimals */
  amountYuan: number;
  basis: string;
}
export interface Fees {
  free: boolean;
  items: FeeItem[];
}
/** The local variances of an implementation; an absent field inherits. */
export interface Variances {
  promisedTimeLimit?: TimeLimit;
  fees?: Fees;
  notes?: string;
  acceptingHallCodes?: string[];
}

/** One row of a division's implementation list (`ImplementationAdmin`). */
export interface Implementation {
  code: string;
  itemCode: string;
  itemName: string;
  divisionCode: string;
  departmentId: string | null;
  variances: Variances;
  standard: {
    legalTimeLimit: TimeLimit | null;
    promisedTimeLimit: TimeLimit;
    fees: Fees;
    caseType: string;
  };
}

export type HallStatus = 'open' | 'closed' | 'degraded' | 'offline';

/** Opening hours, Asia/Shanghai `HH:MM-HH:MM` ranges. */
export interface OpeningHours {
  weekdays: string[];
  saturday?: string[];
  sunday?: string[];
  note?: string;
}

/** A hall as the admin screens need it (`Hall`). */
export interface HallDetail {
  code: string;
  name: string;
  kind: string;
  level: string;
  divisionCode: string;
  address: string;
  windows: number;
  openingHours: OpeningHours;
  openNow: boolean | null;
  status: HallStatus;
  statusReason: string | null;
  statusExpectedEndAt: string | null;
  statusChangedAt: string | null;
}

/** One window (窗口) of a hall; both lists null = 综合窗口. */
export interface HallWindow {
  number: number;
  name: string;
  itemCodes: string[] | null;
  industries: string[] | null;
}

/** One problem of an imported workbook, by sheet / row / column. */
export interface ImportIssue {
  field: string;
  message: string;
  sheet: string | null;
  row: number | null;
  column: string | null;
}

export interface ImportReport {
  dryRun: boolean;
  valid: boolean;
  applied: boolean;
  summary: { items: number; materials: number; variances: number; industries: number } | null;
  issues: ImportIssue[];
  implementations: { implementations: number; unbound: number } | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { kind: string; id: string; onBehalfOf: string | null };
  action: string;
  target: { type: string; id: string } | null;
  purpose: string | null;
  outcome: 'ok' | 'denied';
  details: Record<string, unknown>;
}

export interface Page<T> {
  total: number;
  limit: number;
  offset: number;
  items: T[];
}

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

export const adminApi = {
  // ---- staff
  staff: (query: { q?: string; limit?: number; offset?: number }) =>
    request<Page<Staff>>('GET', '/api/v1/staff', { query }),
  createStaff: (body: {
    name: string;
    username: string;
    hallCode?: string;
    departmentId?: string;
    isAdmin?: boolean;
    reason?: string;
  }) => request<StaffWithPassword>('POST', '/api/v1/staff', { body }),
  setDisabled: (id: string, disabled: boolean, reason: string) =>
    request<Staff>('POST', `/api/v1/staff/${enc(id)}/${disabled ? 'disable' : 'enable'}`, {
      body: { reason },
    }),
  resetPassword: (id: string, reason: string) =>
    request<StaffWithPassword>('POST', `/api/v1/staff/${enc(id)}/password-reset`, { body: { reason } }),

  // ---- grants
  grantable: () =>
    request<{ grants: Grantable[]; anyHallItems: { code: string; name: string }[] }>(
      'GET',
      '/api/v1/grants/grantable',
    ),
  grantsOf: (accountId: string) =>
    request<{ items: Grant[] }>('GET', `/api/v1/accounts/${enc(accountId)}/grants`),
  grant: (body: {
    accountId: string;
    role: Role;
    scope: { kind: 'division' | 'hall' | 'department'; value: string };
    itemCodes: string[] | null;
    validUntil: string;
    reason: string;
  }) => request<Grant>('POST', '/api/v1/grants', { body }),
  revoke: (id: string, reason: string) =>
    request<Grant>('DELETE', `/api/v1/grants/${enc(id)}`, { query: { reason } }),

  // ---- halls
  hall: (code: string) => request<HallDetail>('GET', `/api/v1/halls/${enc(code)}`),
  hallsOf: (division: string, level?: string) =>
    request<{ items: HallDetail[]; next: string | null }>('GET', '/api/v1/halls', {
      query: { division, limit: 200, level },
    }),
  windows: (code: string) => request<{ items: HallWindow[] }>('GET', `/api/v1/halls/${enc(code)}/windows`),
  setWindows: (code: string, windows: HallWindow[], reason?: string) =>
    request<{ items: HallWindow[] }>('PUT', `/api/v1/halls/${enc(code)}/windows`, {
      body: { windows, ...(reason ? { reason } : {}) },
    }),
  setOpeningHours: (code: string, openingHours: OpeningHours, reason?: string) =>
    request<HallDetail>('PUT', `/api/v1/halls/${enc(code)}/opening-hours`, {
      body: { openingHours, ...(reason ? { reason } : {}) },
    }),
  setStatus: (code: string, body: { status: HallStatus; reason?: string; expectedEndAt?: string }) =>
    request<HallDetail>('PUT', `/api/v1/halls/${enc(code)}/status`, { body }),

  // ---- implementation lists
  implementations: (division: string, query: { q?: string; limit?: number; offset?: number }) =>
    request<Page<Implementation>>('GET', `/api/v1/divisions/${enc(division)}/implementations`, { query }),
  setVariances: (code: string, variances: Variances, reason?: string) =>
    request<Implementation>('PUT', `/api/v1/implementations/${enc(code)}/variances`, {
      body: { variances, ...(reason ? { reason } : {}) },
    }),

  // ---- catalog workbook
  importCatalog: (file: File, dryRun: boolean) =>
    request<ImportReport>('POST', '/api/v1/catalog/import', {
      body: new Blob([file], { type: file.name.toLowerCase().endsWith('.csv') ? 'text/csv' : XLSX_TYPE }),
      query: { dryRun: String(dryRun) },
    }),
  /** The download URL of the whole catalog (same-origin GET; the session cookie authorizes it). */
  exportUrl: (format: 'xlsx' | 'csv') => `/api/v1/catalog/export?format=${format}`,

  // ---- audit trail
  adminChanges: (query: { action?: string; limit?: number; cursor?: string }) =>
    request<{ items: AuditEntry[]; next: string | null }>('GET', '/api/v1/audit/admin-changes', { query }),
};
