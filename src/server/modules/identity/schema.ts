import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';

/** Account kinds: 居民 resident, 法人 legal person, 工作人员 staff. */
export const ACCOUNT_KINDS = ['resident', 'legal_person', 'staff'] as const;

/**
 * Accounts (账户). Personal data (个人信息保护法; 等保 2.0 level 3): a resident's ID number and phone are
 * never stored in clear — only a keyed SM3 blind index (`*_hash`, HMAC-SM3 with the PII hash key) for
 * lookups and a ciphertext (`*_enc`) written through the injected `PiiCipher`.
 */
export const accounts = pgTable(
  'identity_accounts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    kind: text('kind', { enum: ACCOUNT_KINDS }).notNull(),
    /** Real name (resident), organisation name (legal person) or display name (staff). */
    name: text('name').notNull(),
    idNumberHash: text('id_number_hash'),
    idNumberEnc: text('id_number_enc'),
    phoneHash: text('phone_hash'),
    phoneEnc: text('phone_enc'),
    /** 统一社会信用代码 of a legal person (public registration data, stored in clear). */
    creditCode: text('credit_code'),
    /** Staff sign-in name. */
    username: text('username'),
    departmentId: text('department_id'),
    hallCode: text('hall_code'),
    /** Staff: GB/T 2260 division of the bound hall (for listing the staff of an administrator's scope). */
    hallDivision: text('hall_division'),
    /** Staff: GB/T 2260 division of the bound department. */
    departmentDivision: text('department_division'),
    /** Administrator: TOTP is mandatory. Stand-in until grants exist. */
    isAdmin: boolean('is_admin').notNull().default(false),
    /** argon2id PHC string. */
    passwordHash: text('password_hash'),
    /** RFC 6238 shared secret (base32), encrypted with the PiiCipher. */
    totpSecretEnc: text('totp_secret_enc'),
    totpConfirmedAt: timestamp('totp_confirmed_at', { withTimezone: true }),
    /** Last accepted TOTP time step (epoch seconds of its start): a code is accepted once. */
    totpLastStep: bigint('totp_last_step', { mode: 'number' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    disabledAt: timestamp('disabled_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('identity_accounts_id_number_uq')
      .on(t.idNumberHash)
      .where(sql`${t.idNumberHash} is not null`),
    uniqueIndex('identity_accounts_phone_uq').on(t.phoneHash).where(sql`${t.phoneHash} is not null`),
    uniqueIndex('identity_accounts_credit_code_uq').on(t.creditCode).where(sql`${t.creditCode} is not null`),
    uniqueIndex('identity_accounts_username_uq').on(t.username).where(sql`${t.username} is not null`),
    index('identity_accounts_hall_division_idx').on(t.hallDivision).where(sql`${t.kind} = 'staff'`),
    index('identity_accounts_department_division_idx')
      .on(t.departmentDivision)
      .where(sql`${t.kind} = 'staff'`),
  ],
);

/** Authorised operators (经办人) of a legal person: resident accounts that may act for it. */
export const legalPersonOperators = pgTable(
  'identity_legal_person_operators',
  {
    legalPersonId: uuid('legal_person_id').notNull(),
    residentId: uuid('resident_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.legalPersonId, t.residentId] }), index().on(t.residentId)],
);

/** Federated identities: (issuer, sub) of the province's unified identity platform → our account. */
export const federatedIdentities = pgTable(
  'identity_federated',
  {
    issuer: text('issuer').notNull(),
    subject: text('subject').notNull(),
    accountId: uuid('account_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.issuer, t.subject] })],
);

/** Cookie sessions. Only the SM3 hash of the session id (and of its CSRF token) is stored. */
export const sessions = pgTable(
  'identity_sessions',
  {
    idHash: text('id_hash').primaryKey(),
    accountId: uuid('account_id').notNull(),
    csrfHash: text('csrf_hash').notNull(),
    /** password | password+totp | sms_otp | oidc */
    method: text('method').notNull(),
    /** Second factor passed (TOTP) in this session. */
    mfa: boolean('mfa').notNull().default(false),
    /** Legal person the resident currently acts for (经办人), when any. */
    actingFor: uuid('acting_for'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull(),
    /** Absolute end (createdAt + SESSION_ABSOLUTE_HOURS), kept across rotations. */
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.accountId)],
);

/**
 * One-time SMS codes, stored as keyed SM3 hashes; single use, short-lived. A request that sent nothing
 * (sign-in for a phone without an account, register for a phone with one) is a row with no code
 * (`code_hash` null): it counts towards the rate limits but is never a phone's latest code, so it cannot
 * void a code that was sent.
 */
export const otpCodes = pgTable(
  'identity_otp_codes',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    phoneHash: text('phone_hash').notNull(),
    codeHash: text('code_hash'),
    requestIp: text('request_ip').notNull(),
    attempts: integer('attempts').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
  },
  (t) => [index().on(t.phoneHash, t.createdAt), index().on(t.requestIp, t.createdAt)],
);

/** Failure counters and lockouts shared by every API node (`account:…`, `ip:…`, `otp:…`). */
export const authLockouts = pgTable('identity_lockouts', {
  key: text('key').primaryKey(),
  failures: integer('failures').notNull(),
  lastFailureAt: timestamp('last_failure_at', { withTimezone: true }).notNull(),
  lockedUntil: timestamp('locked_until', { withTimezone: true }),
});

/** API tokens for integrations: shown once, stored as an SM3 hash; scoped, expiring, revocable. */
export const apiTokens = pgTable('identity_api_tokens', {
  id: uuid('id').primaryKey().defaultRandom(),
  tokenHash: text('token_hash').notNull().unique(),
  name: text('name').notNull(),
  /** The staff account that created the token; the token acts as it, limited to `scopes`. */
  accountId: uuid('account_id').notNull(),
  scopes: jsonb('scopes').$type<string[]>().notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  revokedAt: timestamp('revoked_at', { withTimezone: true }),
  lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
});

/** OpenID Connect authorization requests in flight: state, nonce and PKCE verifier, bound to a browser cookie. */
export const oidcFlows = pgTable('identity_oidc_flows', {
  idHash: text('id_hash').primaryKey(),
  state: text('state').notNull(),
  nonce: text('nonce').notNull(),
  codeVerifier: text('code_verifier').notNull(),
  returnTo: text('return_to').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
});

/**
 * Grants (授权): a role over a scope (a division subtree by GB/T 2260 code prefix, a hall, or a department),
 * optionally limited to service items, valid from/until, never deleted — revoked with who, when and why
 * (等保 2.0 访问控制 and 安全审计). `scope_division` is the division the scope lies in (the code itself for a
 * division scope; the hall's or department's division otherwise) so a grant can be placed inside another.
 * The per-request lookup is `(account_id, valid_until)` over grants not revoked.
 */
export const grants = pgTable(
  'identity_grants',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accountId: uuid('account_id').notNull(),
    role: text('role').notNull(),
    scopeKind: text('scope_kind', { enum: ['division', 'hall', 'department'] }).notNull(),
    scopeValue: text('scope_value').notNull(),
    scopeDivision: text('scope_division').notNull(),
    /** 12-digit basic codes; null = every item. */
    itemCodes: jsonb('item_codes').$type<string[] | null>(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    validUntil: timestamp('valid_until', { withTimezone: true }).notNull(),
    /** Account id of the granting administrator, or `cli:<user>` for the bootstrap command. */
    grantedBy: text('granted_by').notNull(),
    reason: text('reason').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    revokedReason: text('revoked_reason'),
  },
  (t) => [
    index('identity_grants_account_idx').on(t.accountId, t.validUntil).where(sql`${t.revokedAt} is null`),
  ],
);

/** Evidence kinds of an agent authorization (委托授权): a scanned signed form, or consent given in the app. */
export const AGENT_AUTHORIZATION_EVIDENCE = ['signed_form', 'in_app', 'on_screen_signature'] as const;
/** pending (in-app, until the resident consents) → active → revoked. Expiry is `valid_until`, not a status. */
export const AGENT_AUTHORIZATION_STATUSES = ['pending', 'active', 'revoked'] as const;

/**
 * Agent authorizations (帮办代办委托授权, 行政许可法 art. 29 委托; 个人信息保护法 art. 13/14 consent): an agent
 * (帮办员 / 村级代办员) may act for a resident only under one of these — who (`agent_account_id`), for whom
 * (`resident_account_id`), which items (`item_codes`, null = every item), until when (`valid_until`, at
 * most one year after `valid_from`) and the evidence: a scan of the signed form (`evidence_file_key` and its
 * SM3 digest, or a paper reference) or consent given in the app by the resident (`consented_at`). Never
 * deleted: revoked with who, when and why. No ID number is stored here (the resident is an account id).
 */
export const agentAuthorizations = pgTable(
  'agent_authorizations',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** The agent's account id (text: development actors have no uuid). */
    agentAccountId: text('agent_account_id').notNull(),
    agentName: text('agent_name'),
    /** The hall the agent worked at when recording it: staff with case.reveal_pii there read the signed form. */
    agentHallCode: text('agent_hall_code'),
    residentAccountId: uuid('resident_account_id').notNull(),
    /** 12-digit basic codes; null = every item. */
    itemCodes: jsonb('item_codes').$type<string[] | null>(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    validUntil: timestamp('valid_until', { withTimezone: true }).notNull(),
    evidenceKind: text('evidence_kind', { enum: AGENT_AUTHORIZATION_EVIDENCE }).notNull(),
    /** signed_form / on_screen_signature: the storage key of the scan or signature image, when uploaded. */
    evidenceFileKey: text('evidence_file_key'),
    /** signed_form / on_screen_signature: SM3 digest (64 hex) of the scan or signature PNG. */
    evidenceSm3: text('evidence_sm3'),
    /** signed_form: the form's number or filing reference (委托书编号). */
    evidenceReference: text('evidence_reference'),
    status: text('status', { enum: AGENT_AUTHORIZATION_STATUSES }).notNull(),
    consentedAt: timestamp('consented_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    revokedReason: text('revoked_reason'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (t) => [index().on(t.residentAccountId), index().on(t.agentAccountId)],
);
