import { sql } from 'drizzle-orm';
import {
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Source of the 7-digit sequence in case numbers: one PostgreSQL sequence, unique across all nodes. */
export const caseNumberSequence = pgSequence('case_number_seq', { startWith: 1, increment: 1 });

/**
 * 办件 — one application for one implementation (GB/T 39046-2020 tables 5–8). The status is written
 * ONLY by the case service through the domain state machine (src/domain/case-state.ts), in the same
 * transaction as the timeline event and the outbox row. `state` holds the machine's full state (clock
 * inputs); the columns beside it are copies for queries (inbox order, warnings). `version` guards
 * against lost updates (optimistic concurrency: a stale write is a 409).
 */
export const cases = pgTable(
  'cases',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    number: text('number').notNull().unique(),
    itemCode: text('item_code').notNull(),
    /** The item's name when the case was filed (kept with the case, like the document the applicant signed). */
    itemName: text('item_name').notNull(),
    implementationCode: text('implementation_code').notNull(),
    /** natural_person (resident ID number) | legal_person (credit code); contact details */
    applicant: jsonb('applicant').$type<Record<string, unknown>>().notNull(),
    /** Keyed hash of the applicant's identifier, to list "my cases" without reading the identifier. */
    applicantKey: text('applicant_key').notNull(),
    /**
     * The account the case belongs to on the applicant's side, set by the server (never from the body): the
     * signed-in resident who filed it (or the legal person an operator acted for), or the resident an agent
     * filed it for under an agent authorization (帮办代办). Null for a walk-in filed by staff. Residents read
     * and act on their cases through it ("my applications"); text, as development actors have no uuid.
     */
    applicantAccountId: text('applicant_account_id'),
    /** 帮办代办: the agent and the authorization (委托) reference, when someone applies on another's behalf. */
    agent: jsonb('agent').$type<Record<string, unknown> | null>(),
    /**
     * Key id of the SM4 envelopes in `applicant`, `agent` and `delivery` (ID number, phone, email, mailing
     * recipient/address are stored only as envelopes, see the pii module); null: a row written before
     * encryption, sealed by the rotation job. Rows under an older key are re-sealed by the same job.
     */
    piiKeyId: text('pii_key_id'),
    /**
     * Public tracking (GET /api/v1/track/:number): keyed SM3 blind indexes (HMAC-SM3 with PII_HASH_KEY,
     * salted with the case number) of the check characters the applicant may give — the last 4 digits of
     * their phone, the last 6 characters of their ID number or credit code — so a lookup compares hashes
     * and never opens personal data. Null on rows written before tracking: the PII rotation job fills them.
     */
    trackingKeys: text('tracking_keys').array(),
    channel: text('channel').notNull(),
    processingMode: text('processing_mode').notNull(),
    intakeHallCode: text('intake_hall_code'),
    intakeDivisionCode: text('intake_division_code').notNull(),
    competentDepartmentId: uuid('competent_department_id'),
    decidingDivisionCode: text('deciding_division_code').notNull(),
    formData: jsonb('form_data').$type<Record<string, unknown>>().notNull(),
    status: text('status').notNull(),
    outcome: text('outcome'),
    state: jsonb('state').$type<Record<string, unknown>>().notNull(),
    /** The legal and promised limits that apply (item + local variance; 45 working days for 多地联办). */
    limits: jsonb('limits').$type<Record<string, unknown>>().notNull(),
    /** Decision due date (YYYY-MM-DD, Asia/Shanghai working days) — inbox order. */
    decisionDue: text('decision_due'),
    supplementDue: text('supplement_due'),
    certificateDue: text('certificate_due'),
    /** A due date reaches a year whose holiday schedule is not published. */
    dueProvisional: boolean('due_provisional').notNull().default(false),
    warning: text('warning').notNull().default('none'),
    delivery: jsonb('delivery').$type<Record<string, unknown> | null>(),
    /**
     * Statistics facts fixed at submission, free of personal data ({@link CaseFacts} in src/domain/kpi.ts):
     * the applicant's home county (GB/T 2260, from the ID number's or credit code's area code), age band
     * at submission (65+ for 适老化 KPIs), and the item's traditional visits (到现场次数). Null on older rows.
     */
    facts: jsonb('facts').$type<Record<string, unknown> | null>(),
    /** Applicant visits counted for the one-visit rate (一次办成). */
    visits: integer('visits').notNull().default(0),
    version: integer('version').notNull().default(1),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('cases_inbox_idx').on(t.competentDepartmentId, t.decisionDue, t.id),
    index('cases_intake_idx').on(t.intakeHallCode, t.createdAt),
    index('cases_applicant_idx').on(t.applicantKey, t.createdAt),
    index('cases_applicant_account_idx').on(t.applicantAccountId, t.createdAt),
    index('cases_pii_key_idx').on(t.piiKeyId),
    index('cases_intake_division_idx').on(t.intakeDivisionCode, t.createdAt),
    index('cases_open_warning_idx')
      .on(t.warning)
      .where(sql`${t.status} not in ('not_accepted','decided','delivered','rated','withdrawn')`),
  ],
);

/** The timeline: one event per transition (and per non-transition action), append-only. */
export const caseEvents = pgTable(
  'case_events',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    caseId: uuid('case_id').notNull(),
    seq: integer('seq').notNull(),
    type: text('type').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    at: timestamp('at', { withTimezone: true }).notNull(),
    actor: jsonb('actor').$type<Record<string, unknown>>().notNull(),
    reason: text('reason'),
    data: jsonb('data').$type<Record<string, unknown>>().notNull(),
    attachments: jsonb('attachments').$type<unknown[]>().notNull().default(sql`'[]'::jsonb`),
  },
  (t) => [uniqueIndex('case_events_case_seq_idx').on(t.caseId, t.seq)],
);

/** 多地联办: the parts of one case decided by several competent departments in different divisions. */
export const caseParts = pgTable(
  'case_parts',
  {
    caseId: uuid('case_id').notNull(),
    seq: integer('seq').notNull(),
    departmentId: uuid('department_id').notNull(),
    divisionCode: text('division_code').notNull(),
    itemCode: text('item_code').notNull(),
    status: text('status').notNull().default('pending'),
    outcome: text('outcome'),
    decidedAt: timestamp('decided_at', { withTimezone: true }),
    reason: text('reason'),
  },
  (t) => [
    primaryKey({ columns: [t.caseId, t.seq] }),
    index('case_parts_department_idx').on(t.departmentId, t.status),
  ],
);

/** The material checklist of a case (from the item's 申请材料); custody events live in the custody module. */
export const caseMaterials = pgTable(
  'case_materials',
  {
    caseId: uuid('case_id').notNull(),
    seq: integer('seq').notNull(),
    name: text('name').notNull(),
    required: boolean('required').notNull(),
  },
  (t) => [primaryKey({ columns: [t.caseId, t.seq] })],
);

/**
 * Clock timers (supplement deadline, yellow, red, overdue): claimed with FOR UPDATE SKIP LOCKED and
 * fired exactly once (fired_at set in the same transaction as the warning event), on any node.
 */
export const caseTimers = pgTable(
  'case_timers',
  {
    caseId: uuid('case_id').notNull(),
    kind: text('kind').notNull(),
    /** Instant at which the timer fires (start of the due working day, Asia/Shanghai). */
    dueAt: timestamp('due_at', { withTimezone: true }).notNull(),
    firedAt: timestamp('fired_at', { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.caseId, t.kind] }),
    index('case_timers_due_idx').on(t.dueAt).where(sql`${t.firedAt} is null`),
  ],
);

/**
 * 无差别办理 delegations: a competent department lets a hall's staff accept and decide an item
 * themselves. Recorded, time-limited, revocable; checked on every action.
 */
export const delegations = pgTable(
  'delegations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    itemCode: text('item_code').notNull(),
    departmentId: uuid('department_id').notNull(),
    hallCode: text('hall_code').notNull(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    validUntil: timestamp('valid_until', { withTimezone: true }).notNull(),
    reason: text('reason').notNull(),
    grantedBy: jsonb('granted_by').$type<Record<string, unknown>>().notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedReason: text('revoked_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index('delegations_hall_item_idx').on(t.hallCode, t.itemCode)],
);
