import { randomBytes, randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import { hash as argon2Hash, verify as argon2Verify } from '@node-rs/argon2';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import { parseCreditCode } from '../../../domain/credit-code.ts';
import { AppError, conflict, invalid, notFound } from '../../../domain/errors.ts';
import { maskIdentityNumber, parseIdentityNumber } from '../../../domain/identity-number.ts';
import type { Grant } from '../../../domain/roles.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import type { Channel } from '../notifications/channels.ts';
import type { PiiVault } from '../pii/service.ts';
import type { FileStore } from '../storage/service.ts';
import { AgentAuthorizationsService } from './authorizations.ts';
import type { AuthConfig } from './config.ts';
import { GrantsService, type ScopeResolver } from './grants.ts';
import { blindIndex, digestsEqual, maskPhone, normalisePhone, type PiiCipher, secretDigest } from './pii.ts';
import {
  API_SCOPES,
  forbidden,
  isApiScope,
  requirePrincipal,
  requireStaffSession,
  unauthenticated,
} from './policy.ts';
import type { Principal } from './principal.ts';
import {
  type AccountRow,
  type ApiTokenRow,
  IdentityRepository,
  type SessionRow,
  type StaffPlace,
} from './repository.ts';
import { type AnyHallItemLookup, StaffAdminService } from './staff.ts';

/** Abuse limits (等保 2.0 level 3: 登录失败处理 — limit attempts, lock out, time out sessions). */
export interface AuthLimits {
  /** Failures of one account (identifier) before it is locked. */
  accountFailureThreshold: number;
  /** Failures from one client IP before it is locked (higher: NAT, halls). */
  ipFailureThreshold: number;
  /** First lockout, ms; each further failure doubles it (exponential backoff) up to `lockoutMaxMs`. */
  lockoutBaseMs: number;
  lockoutMaxMs: number;
  /** A failure count restarts when the last failure is older than this, ms. */
  failureWindowMs: number;
  /** An SMS code is valid for this long, ms (5 minutes). */
  otpTtlMs: number;
  /** At most one SMS code per phone in this interval, ms. */
  otpResendMs: number;
  otpPerPhonePerHour: number;
  otpPerIpPerHour: number;
  /** Wrong guesses of one SMS code before it is void. */
  otpMaxAttempts: number;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  accountFailureThreshold: 5,
  ipFailureThreshold: 20,
  lockoutBaseMs: 60_000,
  lockoutMaxMs: 3_600_000,
  failureWindowMs: 3_600_000,
  otpTtlMs: 300_000,
  otpResendMs: 60_000,
  otpPerPhonePerHour: 5,
  otpPerIpPerHour: 20,
  otpMaxAttempts: 5,
};

export interface IdentityServiceOptions {
  /** Key of the keyed SM3 blind indexes (the installation's PII hash key). */
  piiHashKey: string;
  /** Encryption at rest of ID numbers, phones and TOTP secrets. */
  cipher: PiiCipher;
  /** The notifications module's SMS adapter (HTTP gateway, or the recording development adapter). */
  sms: Channel | undefined;
  config: Pick<AuthConfig, 'idleMinutes' | 'absoluteHours'>;
  limits?: Partial<AuthLimits>;
  clock?: () => Date;
  log?: { info(message: string): void; warn(message: string): void };
  /**
   * 审计日志 (等保 2.0 安全审计): sign-ins, refusals, lockouts, accounts, API tokens and TOTP enrolment are
   * recorded there, grants and revocations in their own transaction. Optional for tests of the module alone.
   */
  audit?: AuditService;
  /** File store for the scans of signed authorization forms (签字委托书扫描件). Optional for module tests. */
  files?: FileStore;
  /** Client retry keys (agent authorizations recorded from an offline outbox). Optional for module tests. */
  idempotency?: Pick<IdempotencyService, 'run'>;
  /** Where halls and departments lie (grant scopes). */
  scopes?: ScopeResolver;
  /** The catalog's items by processing mode (无差别办理 items an administrator may delegate). */
  anyHallItems?: AnyHallItemLookup;
  /** argon2id cost; tests may lower it. Default: 19 MiB, 2 passes (OWASP minimum). */
  argon2?: { memoryCost: number; timeCost: number };
}

/** An account as shown to its owner: personal data masked. */
export interface AccountView {
  id: string;
  kind: AccountRow['kind'];
  name: string;
  /** e.g. `5201**********1234` */
  idNumber: string | null;
  /** e.g. `138****5678` */
  phone: string | null;
  creditCode: string | null;
  username: string | null;
  departmentId: string | null;
  hallCode: string | null;
  isAdmin: boolean;
  totpEnrolled: boolean;
  createdAt: string;
}

/** A new session: the cookie value and the CSRF token are returned once and stored only as hashes. */
export interface SessionGrant {
  sessionId: string;
  csrfToken: string;
  /** ISO 8601: absolute end of the session. */
  expiresAt: string;
  principal: Principal;
}

/** A resolved cookie session. */
export interface ResolvedSession {
  principal: Principal;
  session: SessionRow;
}

export interface ApiTokenView {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

const USERNAME = /^[\p{L}\p{N}._-]{2,64}$/u;
const SESSION_TOUCH_MS = 15_000;

/**
 * The identity module's public face: accounts (residents, legal persons with their operators, staff),
 * sign-in (SMS one-time code, password, password + TOTP RFC 6238), cookie sessions with CSRF tokens,
 * API tokens, federation (./oidc.ts), and abuse limits stored in the database (shared by all nodes).
 *
 * Personal data (个人信息保护法, GB/T 39786-2021): ID numbers and phones are kept only as keyed SM3 blind
 * indexes plus `PiiCipher` ciphertext, shown masked, never logged. Secrets (passwords: argon2id; session
 * ids, CSRF tokens, API tokens: SM3; SMS codes: HMAC-SM3) are stored hashed and compared in constant time.
 */
export class IdentityService {
  private readonly repo: IdentityRepository;
  private readonly options: IdentityServiceOptions;
  private readonly limits: AuthLimits;
  private readonly clock: () => Date;
  private readonly log: { info(message: string): void; warn(message: string): void };
  private dummyHash: Promise<string> | undefined;
  /** Roles × jurisdiction: grant, revoke, list; loaded into every principal (./grants.ts). */
  readonly grants: GrantsService;
  /** 帮办代办 consent: agent authorizations (./authorizations.ts). */
  readonly authorizations: AgentAuthorizationsService;
  /** Staff administration for administrators (./staff.ts). */
  readonly staff: StaffAdminService;

  constructor(db: Db, options: IdentityServiceOptions) {
    this.repo = new IdentityRepository(db);
    this.options = options;
    this.limits = { ...DEFAULT_AUTH_LIMITS, ...options.limits };
    this.clock = options.clock ?? (() => new Date());
    this.log = options.log ?? { info: () => {}, warn: () => {} };
    this.grants = new GrantsService(db, this.repo, { audit: options.audit, scopes: options.scopes }, () =>
      this.clock(),
    );
    this.authorizations = new AgentAuthorizationsService(
      db,
      this.repo,
      {
        audit: options.audit,
        idNumberIndex: (idNumber) => this.index('id_number', idNumber),
        files: options.files,
        idempotency: options.idempotency,
      },
      () => this.clock(),
    );
    this.staff = new StaffAdminService({ identity: this, repo: this.repo, items: options.anyHallItems });
  }

  // ================================================================================== key rotation

  /**
   * Key rotation step for the identity tables (a PiiStore of the pii module): re-seals up to `limit`
   * accounts whose ID number, phone or TOTP secret is sealed under an older key, under the current one.
   * Rows are claimed with FOR UPDATE SKIP LOCKED (several nodes share the work). @returns rows rewritten.
   */
  async resealPii(vault: Pick<PiiVault, 'reseal' | 'currentKeyId'>, limit = 200): Promise<number> {
    return this.repo.db.transaction(async (tx) => {
      const rows = await this.repo.lockPiiStale(tx, vault.currentKeyId(), limit);
      for (const r of rows) {
        await this.repo.setSealed(tx, r.id, {
          idNumberEnc: r.idNumberEnc === null ? null : vault.reseal(r.idNumberEnc, 'idNumber'),
          phoneEnc: r.phoneEnc === null ? null : vault.reseal(r.phoneEnc, 'phone'),
          totpSecretEnc: r.totpSecretEnc === null ? null : vault.reseal(r.totpSecretEnc, 'totpSecret'),
        });
      }
      return rows.length;
    });
  }

  // ================================================================================== accounts

  /**
   * Registers a resident (居民): real name, resident ID number (GB 11643, validated), mobile phone, and
   * optionally a password (else SMS sign-in only).
   * @throws 400 `identity.*` (idNumber), `account.phone_invalid`, `account.name_invalid`,
   *   `account.password_weak`; 409 `account.already_registered` (field idNumber or phone).
   */
  async registerResident(input: {
    name: string;
    idNumber: string;
    phone: string;
    password?: string | undefined;
  }): Promise<AccountView> {
    return this.view(await this.insertResident(input));
  }

  /** {@link registerResident}, answering the stored row. */
  private async insertResident(input: {
    name: string;
    idNumber: string;
    phone: string;
    password?: string | undefined;
  }): Promise<AccountRow> {
    const name = checkName(input.name, 'name');
    const idNumber = parseIdentityNumber(input.idNumber, 'idNumber').value;
    const phone = this.phoneOrThrow(input.phone);
    if (input.password !== undefined) checkPassword(input.password);
    const idNumberHash = this.index('id_number', idNumber);
    const phoneHash = this.index('phone', phone);
    await this.checkResidentFree(idNumberHash, phoneHash);
    const row = await this.repo.insertAccountUnlessTaken(this.repo.db, {
      kind: 'resident',
      name,
      idNumberHash,
      idNumberEnc: this.options.cipher.encrypt(idNumber, 'idNumber'),
      phoneHash,
      phoneEnc: this.options.cipher.encrypt(phone, 'phone'),
      ...(input.password === undefined ? {} : { passwordHash: await this.hashPassword(input.password) }),
    });
    if (!row) {
      // A concurrent registration took the ID number or the phone between the check and the insert (the
      // unique indexes are the final guard): the same 409 as the check, naming the field that is taken.
      await this.checkResidentFree(idNumberHash, phoneHash);
      throw conflict('account.already_registered', 'This person already has an account: sign in instead.');
    }
    this.log.info(`identity: resident account ${row.id} registered`);
    await this.audit('account.create', { kind: 'resident', id: row.id }, 'ok', row.id, { kind: 'resident' });
    return row;
  }

  /**
   * Real name (实名) for the case engine: true when the applicant of an application is the account itself —
   * a resident account whose ID number (compared as the keyed blind index, nothing opened) is the
   * applicant's `idNumber`, or a legal person account whose credit code is the applicant's `creditCode`.
   * False for anything else (another person, a malformed identifier, a disabled or unknown account, a
   * resident naming a legal person or the reverse). Never throws for bad input.
   */
  async applicantIsAccount(
    accountId: string,
    applicant: { kind: 'natural_person'; idNumber: string } | { kind: 'legal_person'; creditCode: string },
  ): Promise<boolean> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(accountId)) return false;
    const account = await this.repo.accountById(accountId);
    if (!account || account.disabledAt) return false;
    try {
      if (applicant.kind === 'natural_person')
        return (
          account.kind === 'resident' &&
          !!account.idNumberHash &&
          digestsEqual(
            account.idNumberHash,
            this.index('id_number', parseIdentityNumber(applicant.idNumber).value),
          )
        );
      return (
        account.kind === 'legal_person' && account.creditCode === parseCreditCode(applicant.creditCode).value
      );
    } catch {
      return false;
    }
  }

  /**
   * Throws when the ID number or the phone (blind indexes) already has an account.
   * @throws 409 `account.already_registered` (field idNumber or phone).
   */
  private async checkResidentFree(idNumberHash: string, phoneHash: string): Promise<void> {
    if (await this.repo.accountByIdNumberHash(idNumberHash))
      throw conflict(
        'account.already_registered',
        'This ID number already has an account: sign in instead.',
        'idNumber',
      );
    if (await this.repo.accountByPhoneHash(phoneHash))
      throw conflict(
        'account.already_registered',
        'This phone number already has an account: sign in instead.',
        'phone',
      );
  }

  /**
   * Registers a legal person (法人) by its unified social credit code (GB 32100, validated) with one or more
   * authorised operators (经办人), which must be resident accounts.
   * @throws 400 `credit_code.*`, `account.operators_required`; 404 `account.not_found` (an operator);
   *   409 `account.already_registered` (creditCode).
   */
  async registerLegalPerson(input: {
    name: string;
    creditCode: string;
    operatorIds: string[];
  }): Promise<AccountView> {
    const name = checkName(input.name, 'name');
    const creditCode = parseCreditCode(input.creditCode, 'creditCode').value;
    if (input.operatorIds.length === 0)
      throw invalid(
        'operatorIds',
        'Name at least one resident account as operator (经办人).',
        'account.operators_required',
      );
    for (const [i, id] of input.operatorIds.entries()) {
      const op = await this.repo.accountById(id);
      if (op?.kind !== 'resident')
        throw notFound('account.not_found', `Operator ${id} is not a resident account.`, `operatorIds.${i}`);
    }
    if (await this.repo.accountByCreditCode(creditCode))
      throw conflict('account.already_registered', 'This credit code is already registered.', 'creditCode');
    const row = await this.repo.db.transaction(async (tx) => {
      const lp = await this.repo.insertAccount(tx, { kind: 'legal_person', name, creditCode });
      for (const id of input.operatorIds) await this.repo.addOperator(tx, lp.id, id);
      return lp;
    });
    this.log.info(`identity: legal person account ${row.id} registered`);
    await this.audit('account.create', { kind: 'legal_person', id: row.id }, 'ok', row.id, {
      kind: 'legal_person',
    });
    return this.view(row);
  }

  /**
   * Creates a staff account (工作人员) bound to a department id and/or hall code, signing in by `username`
   * and password (argon2id); `isAdmin` marks administrators, who must enrol TOTP (what they may do comes from their grants).
   * @throws 400 `account.username_invalid`, `account.binding_required`, `account.password_weak`;
   *   409 `account.already_registered` (username).
   */
  async createStaff(
    input: {
      name: string;
      username: string;
      password: string;
      departmentId?: string | undefined;
      hallCode?: string | undefined;
      isAdmin?: boolean | undefined;
    },
    by: { actor: { kind: string; id: string }; reason?: string } = {
      actor: { kind: 'system', id: 'identity' },
    },
  ): Promise<AccountView> {
    const name = checkName(input.name, 'name');
    const username = input.username.normalize('NFKC').trim();
    if (!USERNAME.test(username))
      throw invalid(
        'username',
        'A username has 2–64 letters, digits, ".", "_" or "-".',
        'account.username_invalid',
      );
    if (!input.departmentId && !input.hallCode)
      throw invalid(
        'department',
        'Bind the staff account to a department id and/or a hall code.',
        'account.binding_required',
      );
    checkPassword(input.password);
    if (await this.repo.accountByUsername(username))
      throw conflict('account.already_registered', `The username "${username}" is taken.`, 'username');
    const places = await this.placesOf(input.hallCode ?? null, input.departmentId ?? null, true);
    const passwordHash = await this.hashPassword(input.password);
    // the account and its audit entry commit together
    const row = await this.repo.db.transaction(async (tx) => {
      const created = await this.repo.insertAccount(tx, {
        kind: 'staff',
        name,
        username,
        departmentId: input.departmentId ?? null,
        hallCode: input.hallCode ?? null,
        ...places,
        isAdmin: input.isAdmin ?? false,
        passwordHash,
      });
      await this.options.audit?.append(tx, {
        actor: by.actor,
        action: 'account.create',
        target: { type: 'account', id: created.id },
        ...(by.reason ? { purpose: by.reason } : {}),
        details: {
          kind: 'staff',
          divisionCode: places.hallDivision ?? places.departmentDivision,
          hallCode: created.hallCode,
          departmentId: created.departmentId,
          isAdmin: created.isAdmin,
        },
      });
      return created;
    });
    this.log.info(`identity: staff account ${row.id} created`);
    return this.view(row);
  }

  /**
   * The GB/T 2260 divisions of a staff binding (hall, department), through the halls and departments
   * services; without them (the identity module alone) a hall's division is taken from its code.
   * @throws 400 naming `hallCode` / `departmentId` for an unknown hall or department when `strict`.
   */
  async placesOf(
    hallCode: string | null,
    departmentId: string | null,
    strict = false,
  ): Promise<{ hallDivision: string | null; departmentDivision: string | null }> {
    const scopes = this.options.scopes;
    const resolve = async (field: string, f: () => Promise<string>) => {
      try {
        return await f();
      } catch (e) {
        if (!strict || !(e instanceof AppError)) return null;
        throw invalid(field, e.message, 'account.binding_unknown');
      }
    };
    return {
      hallDivision: hallCode
        ? scopes
          ? await resolve('hallCode', () => scopes.hallDivision(hallCode))
          : (hallCode.split('-')[0] ?? null)
        : null,
      departmentDivision:
        departmentId && scopes
          ? await resolve('departmentId', () => scopes.departmentDivision(departmentId))
          : null,
    };
  }

  /**
   * Disables or enables a staff account (the staff admin service checks who may). Disabling ends every
   * session at once and stops its API tokens (both are refused for a disabled account); written with its
   * audit entry in one transaction. @returns the account as it is now.
   */
  async setStaffDisabled(
    accountId: string,
    disabled: boolean,
    by: { actor: { kind: string; id: string }; reason: string; divisionCode: string | null },
  ): Promise<{ account: AccountView; disabledAt: string | null; sessionsEnded: number }> {
    const now = this.clock();
    const result = await this.repo.db.transaction(async (tx) => {
      await this.repo.updateAccount(accountId, { disabledAt: disabled ? now : null }, tx);
      const ended = disabled ? await this.repo.deleteSessionsOf(accountId, tx) : 0;
      await this.options.audit?.append(tx, {
        actor: by.actor,
        action: disabled ? 'account.disable' : 'account.enable',
        target: { type: 'account', id: accountId },
        purpose: by.reason,
        details: { divisionCode: by.divisionCode, sessionsEnded: ended },
      });
      return ended;
    });
    const row = await this.repo.accountById(accountId);
    if (!row) throw notFound('account.not_found', `No staff account ${accountId}.`, 'id');
    this.log.info(`identity: staff account ${accountId} ${disabled ? 'disabled' : 'enabled'}`);
    return {
      account: this.view(row),
      disabledAt: row.disabledAt?.toISOString() ?? null,
      sessionsEnded: result,
    };
  }

  /**
   * Sets a new password chosen by the server for a staff account (initial-password reset by an
   * administrator): every session ends; the audit entry never holds the password.
   */
  async resetStaffPassword(
    accountId: string,
    password: string,
    by: { actor: { kind: string; id: string }; reason: string; divisionCode: string | null },
  ): Promise<void> {
    checkPassword(password);
    const hash = await this.hashPassword(password);
    await this.repo.db.transaction(async (tx) => {
      await this.repo.updateAccount(accountId, { passwordHash: hash }, tx);
      const ended = await this.repo.deleteSessionsOf(accountId, tx);
      await this.options.audit?.append(tx, {
        actor: by.actor,
        action: 'account.password_reset',
        target: { type: 'account', id: accountId },
        purpose: by.reason,
        details: { divisionCode: by.divisionCode, sessionsEnded: ended },
      });
    });
  }

  /** Marks a staff account as an administrator (TOTP becomes mandatory at its next sign-in). */
  async markAdmin(tx: Tx | Db, accountId: string): Promise<void> {
    await this.repo.updateAccount(accountId, { isAdmin: true }, tx);
  }

  /** The stored account (internal use by the identity module's services). */
  accountRow(id: string): Promise<AccountRow | undefined> {
    return this.repo.accountById(id);
  }

  /** The masked view of an account. */
  accountView(row: AccountRow): AccountView {
    return this.view(row);
  }

  /**
   * Demo and bootstrap only (`tongban seed --demo`): sets a staff account's password and, when `totp`,
   * enrols a NEW authenticator already confirmed (the secret is returned once, to print); without `totp`
   * any authenticator is removed. Every session of the account ends. Audited as `account.reset_credentials`.
   * @throws 400 weak password (as {@link createStaff}); 404 `account.not_found`.
   */
  async resetStaffCredentials(
    accountId: string,
    input: { password: string; totp: boolean },
  ): Promise<{ otpauthUri: string; secret: string } | null> {
    checkPassword(input.password);
    const account = await this.repo.accountById(accountId);
    if (account?.kind !== 'staff')
      throw notFound('account.not_found', `No staff account ${accountId}.`, 'accountId');
    let enrolled: { otpauthUri: string; secret: string } | null = null;
    const set: Parameters<IdentityRepository['updateAccount']>[1] = {
      passwordHash: await this.hashPassword(input.password),
      totpSecretEnc: null,
      totpConfirmedAt: null,
      totpLastStep: null,
    };
    if (input.totp) {
      const secret = generateSecret();
      enrolled = {
        secret,
        otpauthUri: generateURI({
          issuer: '贵州通办 tongban',
          label: account.username ?? account.id,
          secret,
        }),
      };
      set.totpSecretEnc = this.options.cipher.encrypt(secret, 'totpSecret');
      set.totpConfirmedAt = this.clock();
    }
    await this.repo.updateAccount(account.id, set);
    await this.repo.deleteSessionsOf(account.id);
    await this.audit('account.reset_credentials', { kind: 'system', id: 'identity' }, 'ok', account.id, {
      totp: input.totp,
    });
    return enrolled;
  }

  /** The caller's own account, masked, with the legal persons they may act for. @throws 401, 404. */
  async me(principal: Principal | null): Promise<{
    account: AccountView;
    principal: Principal;
    legalPersons: { id: string; name: string; creditCode: string | null }[];
  }> {
    const p = requirePrincipal(principal, { allowRestricted: true });
    // A development actor (X-Tongban-Actor) names no stored account: its id is whatever the header said.
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const row = uuid.test(p.accountId) ? await this.repo.accountById(p.accountId) : undefined;
    if (!row)
      throw notFound(
        'account.not_found',
        p.via === 'dev_header'
          ? 'The X-Tongban-Actor caller has no account: sign in to see one.'
          : 'The signed-in account no longer exists.',
      );
    const legalPersons = [];
    if (row.kind === 'resident') {
      for (const id of await this.repo.legalPersonsOf(row.id)) {
        const lp = await this.repo.accountById(id);
        if (lp) legalPersons.push({ id: lp.id, name: lp.name, creditCode: lp.creditCode });
      }
    }
    return { account: this.view(row), principal: p, legalPersons };
  }

  // ================================================================================== SMS codes

  /**
   * Sends a 6-digit sign-in code by SMS (valid `otpTtlMs`, 5 minutes; single use). Answers the same whether
   * or not the phone has an account (no account enumeration); only registered phones get a message.
   * Limits: one per phone per `otpResendMs`, `otpPerPhonePerHour`, `otpPerIpPerHour` → 429
   * `auth.otp_rate_limited`. @throws 400 `account.phone_invalid`; 503 `auth.sms_unavailable`.
   */
  async requestSmsCode(
    phoneInput: string,
    ip: string,
    purpose: 'sign_in' | 'register' = 'sign_in',
  ): Promise<{ sentTo: string; expiresInSeconds: number }> {
    const phone = this.phoneOrThrow(phoneInput);
    const phoneHash = this.index('phone', phone);
    const now = this.clock();
    const hourAgo = new Date(now.getTime() - 3_600_000);
    const last = await this.repo.latestOtpRequest(phoneHash);
    const tooSoon = last && now.getTime() - last.createdAt.getTime() < this.limits.otpResendMs;
    if (
      tooSoon ||
      (await this.repo.countOtpsSince({ phoneHash }, hourAgo)) >= this.limits.otpPerPhonePerHour ||
      (await this.repo.countOtpsSince({ ip }, hourAgo)) >= this.limits.otpPerIpPerHour
    ) {
      throw new AppError(
        'rate_limited',
        'auth.otp_rate_limited',
        `Too many codes requested. Wait ${Math.ceil(this.limits.otpResendMs / 1000)} seconds (or an hour after several) and try again.`,
      );
    }
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const existing = await this.repo.accountByPhoneHash(phoneHash);
    // sign_in: only to a registered phone; register: only to a phone without an account (it proves the
    // registrant holds it). Otherwise nothing is sent and the answer is the same.
    const send = purpose === 'sign_in' ? !!existing && !existing.disabledAt : !existing;
    const codeHash = this.index('otp', `${phoneHash}|${code}`);
    await this.repo.insertOtp({
      phoneHash,
      // A request that sends nothing stores no code: the row keeps the rate limits (and the answers) the
      // same either way, and — not being a code — it does not replace the phone's live code, so asking a
      // "register" code for someone's phone cannot void the sign-in code she was just sent.
      codeHash: send ? codeHash : null,
      requestIp: ip,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.limits.otpTtlMs),
      ...(send ? {} : { consumedAt: now }),
    });
    if (send) {
      if (!this.options.sms)
        throw new AppError(
          'unavailable',
          'auth.sms_unavailable',
          'SMS is not available; sign in with a password.',
        );
      await this.options.sms.send({
        id: crypto.randomUUID(),
        channel: 'sms',
        address: phone,
        locale: 'zh-CN',
        topic: 'auth.otp',
        templateKey: 'auth.otp',
        caseId: null,
        caseNumber: null,
        subject: '',
        body: `【贵州通办】验证码 ${code}，${Math.round(this.limits.otpTtlMs / 60_000)} 分钟内有效，请勿告诉他人。`,
      });
      this.log.info(`identity: sign-in code sent to ${maskPhone(phone)}`);
    }
    return { sentTo: maskPhone(phone), expiresInSeconds: Math.round(this.limits.otpTtlMs / 1000) };
  }

  /**
   * Signs a resident in with phone + SMS code. The latest code only, unexpired, unused; `otpMaxAttempts`
   * wrong guesses void it; failures count towards the phone's and the IP's lockout.
   * @throws 401 `auth.otp_invalid`; 429 `auth.locked`; 400 `account.phone_invalid`.
   */
  async loginWithSmsCode(input: { phone: string; code: string }, ip: string): Promise<SessionGrant> {
    const phoneHash = await this.takeSmsCode(input, ip);
    const account = await this.repo.accountByPhoneHash(phoneHash);
    if (!account || account.disabledAt)
      throw new AppError('unauthenticated', 'auth.otp_invalid', 'Request a new code.');
    await this.repo.clearLockout(`otp:${phoneHash}`);
    return this.startSession(account, 'sms_otp', false);
  }

  /**
   * Registers a resident whose phone is proved by an SMS code (request one with purpose `register`):
   * the public sign-up path. The code proved the phone as a sign-in code would, so the new resident is
   * signed in at once (a session like {@link loginWithSmsCode}'s, method `sms_otp`): no second code.
   * @returns the account (masked) and its new session.
   * @throws as {@link registerResident} and {@link loginWithSmsCode}.
   */
  async registerResidentWithCode(
    input: { name: string; idNumber: string; phone: string; password?: string | undefined; code: string },
    ip: string,
  ): Promise<{ account: AccountView; session: SessionGrant }> {
    const { code, ...account } = input;
    // Validate the rest first, so a typo does not spend the code.
    checkName(account.name, 'name');
    const idNumber = parseIdentityNumber(account.idNumber, 'idNumber').value;
    const phone = this.phoneOrThrow(account.phone);
    if (account.password !== undefined) checkPassword(account.password);
    // An ID number (or phone) that already has an account does not spend the code either. The check runs
    // once the code is known to be right (so only a holder of a live code learns that an ID number is
    // registered, one attempt of the code per try) and before it is used up. It holds no lock: a
    // concurrent registration of the same ID number can still win between the check and the insert; the
    // unique indexes then refuse this one with the same 409 (insertResident), and in that rare race the
    // code has been spent.
    const phoneHash = await this.takeSmsCode({ phone, code }, ip, () =>
      this.checkResidentFree(this.index('id_number', idNumber), this.index('phone', phone)),
    );
    const row = await this.insertResident(account);
    await this.repo.clearLockout(`otp:${phoneHash}`);
    return { account: this.view(row), session: await this.startSession(row, 'sms_otp', false) };
  }

  /**
   * Checks and uses up an SMS code (the latest for the phone, unexpired, unused, within its attempts).
   * `beforeUse` runs once the code is known to be right and before it is used up: what it throws leaves
   * the code usable (less the attempt this guess took) and counts no sign-in failure.
   * @returns the phone's blind index. @throws 401 `auth.otp_invalid`; 429 `auth.locked`; what `beforeUse` throws.
   */
  private async takeSmsCode(
    input: { phone: string; code: string },
    ip: string,
    beforeUse?: () => Promise<void>,
  ): Promise<string> {
    const phone = this.phoneOrThrow(input.phone);
    const phoneHash = this.index('phone', phone);
    const keys = [`otp:${phoneHash}`, `ip:${ip}`];
    await this.checkLocked(keys);
    const now = this.clock();
    const otp = await this.repo.latestOtp(phoneHash);
    const given = this.index('otp', `${phoneHash}|${String(input.code).trim()}`);
    // Each guess first takes one of the code's attempts in a single conditional UPDATE, so concurrent
    // guesses cannot test more than otpMaxAttempts values.
    const usable = !!otp && (await this.repo.claimOtpAttempt(otp.id, this.limits.otpMaxAttempts, now));
    const right = usable && digestsEqual(given, otp.codeHash);
    if (right && beforeUse) await beforeUse();
    if (!right || !(await this.repo.consumeOtp(otp.id, now))) {
      await this.fail(keys);
      throw new AppError(
        'unauthenticated',
        'auth.otp_invalid',
        'The code is wrong, used or expired (codes last 5 minutes). Request a new code.',
        { field: 'code' },
      );
    }
    return phoneHash;
  }

  // ================================================================================== passwords and TOTP

  /**
   * Password sign-in: residents by `phone`, staff by `username`. Staff with an enrolled TOTP authenticator
   * also send `totp` (RFC 6238, 6 digits, ±1 step of 30 s; each code once). An administrator without TOTP
   * gets a restricted session that may only enrol it.
   * @throws 401 `auth.invalid_credentials` (same for an unknown account), `auth.totp_required`,
   *   `auth.totp_invalid`; 429 `auth.locked` (per identifier and per IP, exponential backoff).
   */
  async loginWithPassword(
    input: {
      phone?: string | undefined;
      username?: string | undefined;
      password: string;
      totp?: string | undefined;
    },
    ip: string,
  ): Promise<SessionGrant> {
    let identifier: string;
    let account: AccountRow | undefined;
    if (input.username !== undefined) {
      identifier = `username|${input.username.normalize('NFKC').trim()}`;
      account = await this.repo.accountByUsername(input.username.normalize('NFKC').trim());
      if (account && account.kind !== 'staff') account = undefined;
    } else if (input.phone !== undefined) {
      const phone = this.phoneOrThrow(input.phone);
      identifier = `phone|${phone}`;
      account = await this.repo.accountByPhoneHash(this.index('phone', phone));
    } else {
      throw invalid(
        'phone',
        'Send phone (residents) or username (staff) with the password.',
        'auth.identifier_required',
      );
    }
    const keys = [`login:${this.index('login', identifier)}`, `ip:${ip}`];
    await this.checkLocked(keys);
    const stored = account && !account.disabledAt ? account.passwordHash : null;
    // Verify against a dummy hash when there is no account, so timing does not reveal which accounts exist.
    const ok = await argon2Verify(stored ?? (await this.dummy()), String(input.password ?? '')).catch(
      () => false,
    );
    if (!ok || !stored || !account) {
      await this.fail(keys);
      throw new AppError(
        'unauthenticated',
        'auth.invalid_credentials',
        'The sign-in name or password is wrong. After several failures sign-in is paused for a while.',
      );
    }
    let mfa = false;
    if (account.kind === 'staff' && account.totpConfirmedAt) {
      if (!input.totp)
        throw new AppError(
          'unauthenticated',
          'auth.totp_required',
          'Enter the 6-digit code of your authenticator app.',
          {
            field: 'totp',
          },
        );
      if (!(await this.checkTotp(account, input.totp))) {
        await this.fail(keys);
        throw new AppError(
          'unauthenticated',
          'auth.totp_invalid',
          'The authenticator code is wrong or was already used.',
          {
            field: 'totp',
          },
        );
      }
      mfa = true;
    }
    await this.repo.clearLockout(keys[0]!);
    return this.startSession(account, account.kind === 'staff' && mfa ? 'password+totp' : 'password', mfa);
  }

  /**
   * Starts TOTP enrolment for the signed-in staff member: a new secret (replacing an unconfirmed one) and
   * its `otpauth://totp/…` URI (RFC 6238, SHA-1, 6 digits, 30 s — what authenticator apps read from a QR
   * code). Confirm it with {@link confirmTotp}. @throws 401; 403 `auth.staff_only`; 409 `auth.totp_enrolled`.
   */
  async enrolTotp(principal: Principal | null): Promise<{ otpauthUri: string; secret: string }> {
    const p = requirePrincipal(principal, { allowRestricted: true });
    const account = await this.staffOf(p);
    if (account.totpConfirmedAt)
      throw conflict('auth.totp_enrolled', 'An authenticator is already enrolled.');
    const secret = generateSecret();
    await this.repo.updateAccount(account.id, {
      totpSecretEnc: this.options.cipher.encrypt(secret, 'totpSecret'),
      totpLastStep: null,
    });
    const otpauthUri = generateURI({
      issuer: '贵州通办 tongban',
      label: account.username ?? account.id,
      secret,
    });
    return { otpauthUri, secret };
  }

  /**
   * Confirms enrolment with a current code; the session then counts as two-factor and is rotated
   * (privilege change). @throws 400 `auth.totp_not_started`; 401 `auth.totp_invalid`.
   */
  async confirmTotp(
    principal: Principal | null,
    sessionId: string | undefined,
    code: string,
  ): Promise<SessionGrant> {
    const p = requirePrincipal(principal, { allowRestricted: true });
    const account = await this.staffOf(p);
    if (!account.totpSecretEnc || account.totpConfirmedAt)
      throw invalid('code', 'Start with POST /api/v1/auth/totp/enrol.', 'auth.totp_not_started');
    if (!(await this.checkTotp(account, code)))
      throw new AppError(
        'unauthenticated',
        'auth.totp_invalid',
        'The authenticator code is wrong; try the current one.',
        {
          field: 'code',
        },
      );
    await this.repo.updateAccount(account.id, { totpConfirmedAt: this.clock() });
    await this.audit('auth.totp_enrol', { kind: account.kind, id: account.id }, 'ok', account.id);
    if (!sessionId) throw unauthenticated();
    return this.rotate(sessionId, { mfa: true, method: 'password+totp' });
  }

  // ================================================================================== sessions

  /**
   * Resolves a session id from the cookie. Ends (deletes) it when idle longer than SESSION_IDLE_MINUTES or
   * older than SESSION_ABSOLUTE_HOURS. Returns null for an unknown or ended session.
   */
  async resolveSession(sessionId: string): Promise<ResolvedSession | null> {
    const idHash = secretDigest(sessionId);
    const session = await this.repo.sessionByHash(idHash);
    if (!session) return null;
    const now = this.clock();
    const idleMs = this.options.config.idleMinutes * 60_000;
    if (now >= session.expiresAt || now.getTime() - session.lastSeenAt.getTime() > idleMs) {
      await this.repo.deleteSession(idHash);
      return null;
    }
    const account = await this.repo.accountById(session.accountId);
    if (!account || account.disabledAt) {
      await this.repo.deleteSession(idHash);
      return null;
    }
    if (now.getTime() - session.lastSeenAt.getTime() > SESSION_TOUCH_MS)
      await this.repo.touchSession(idHash, now);
    return { session, principal: this.principalOf(account, session, await this.grantsFor(account, now)) };
  }

  /** Whether `token` is the session's CSRF token (constant-time). */
  csrfMatches(session: SessionRow, token: string | undefined): boolean {
    return (
      typeof token === 'string' && token.length > 0 && digestsEqual(secretDigest(token), session.csrfHash)
    );
  }

  /**
   * Gives a session a new id and CSRF token, keeping its account and absolute expiry — call it on every
   * privilege change (grants, acting for a legal person, second factor). The old id stops working at once.
   * @throws 401 `auth.required` when the session is gone.
   */
  async rotate(
    sessionId: string,
    changes: { mfa?: boolean; method?: string; actingFor?: string | null } = {},
  ): Promise<SessionGrant> {
    const newId = randomSecret();
    const csrfToken = randomSecret();
    const now = this.clock();
    const ok = await this.repo.rekeySession(secretDigest(sessionId), {
      idHash: secretDigest(newId),
      csrfHash: secretDigest(csrfToken),
      lastSeenAt: now,
      ...changes,
    });
    if (!ok) throw unauthenticated('The session has ended; sign in again.');
    const resolved = await this.resolveSession(newId);
    if (!resolved) throw unauthenticated('The session has ended; sign in again.');
    return {
      sessionId: newId,
      csrfToken,
      expiresAt: resolved.session.expiresAt.toISOString(),
      principal: resolved.principal,
    };
  }

  /**
   * Lets a resident act for a legal person they are an authorised operator of (null: act for themself
   * again); rotates the session. @throws 403 `auth.not_operator`.
   */
  async actAs(
    principal: Principal | null,
    sessionId: string | undefined,
    legalPersonId: string | null,
  ): Promise<SessionGrant> {
    const p = requirePrincipal(principal);
    if (p.via !== 'session' || !sessionId || p.kind === 'staff')
      throw forbidden(
        'auth.not_operator',
        'Only a resident signed in with a session can act for a legal person.',
      );
    if (legalPersonId !== null && !(await this.repo.isOperator(legalPersonId, p.accountId)))
      throw forbidden(
        'auth.not_operator',
        'You are not an authorised operator (经办人) of this legal person.',
      );
    return this.rotate(sessionId, { actingFor: legalPersonId });
  }

  /**
   * Issues a new CSRF token for a session (the old one stops working), e.g. after the page was reloaded
   * and the client lost the one it got at sign-in. Only the hash is stored. @throws 401 when the session ended.
   */
  async renewCsrfToken(sessionId: string): Promise<string> {
    const csrfToken = randomSecret();
    if (!(await this.repo.rekeySession(secretDigest(sessionId), { csrfHash: secretDigest(csrfToken) })))
      throw unauthenticated('The session has ended; sign in again.');
    return csrfToken;
  }

  /** Ends a session (logout). Unknown ids are ignored. */
  async logout(sessionId: string): Promise<void> {
    await this.repo.deleteSession(secretDigest(sessionId));
  }

  /** Ends every session of an account (password change, disablement). Returns how many ended. */
  async logoutEverywhere(accountId: string): Promise<number> {
    return this.repo.deleteSessionsOf(accountId);
  }

  /** Starts a fresh session (new random id: a session id planted before sign-in is never reused). */
  async startSession(account: AccountRow, method: string, mfa: boolean): Promise<SessionGrant> {
    const sessionId = randomSecret();
    const csrfToken = randomSecret();
    const now = this.clock();
    const session = {
      idHash: secretDigest(sessionId),
      accountId: account.id,
      csrfHash: secretDigest(csrfToken),
      method,
      mfa,
      actingFor: null,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: new Date(now.getTime() + this.options.config.absoluteHours * 3_600_000),
    };
    await this.repo.insertSession(session);
    this.log.info(`identity: account ${account.id} signed in (${method})`);
    await this.audit('auth.login', { kind: account.kind, id: account.id }, 'ok', account.id, { method, mfa });
    return {
      sessionId,
      csrfToken,
      expiresAt: session.expiresAt.toISOString(),
      principal: this.principalOf(account, session, await this.grantsFor(account, now)),
    };
  }

  // ================================================================================== API tokens

  /**
   * Creates an API token for an integration, acting as the calling staff member limited to `scopes`
   * (`area:action`, e.g. `cases:read`), expiring after `expiresInDays` (1–365). The token is returned once
   * (`tbk_…`) and stored as its SM3 hash. @throws 401; 403 `auth.staff_only`; 400 `auth.scope_invalid`.
   */
  async createApiToken(
    principal: Principal | null,
    input: { name: string; scopes: string[]; expiresInDays: number },
  ): Promise<ApiTokenView & { token: string }> {
    const p = requirePrincipal(principal);
    requireStaffSession(p);
    const unknown = input.scopes.filter((s) => !isApiScope(s));
    if (unknown.length > 0)
      throw invalid(
        'scopes',
        `Unknown scope${unknown.length > 1 ? 's' : ''} ${unknown.map((s) => `"${s.slice(0, 64)}"`).join(', ')}: use ${API_SCOPES.join(', ')}.`,
        'auth.scope_invalid',
      );
    const token = `tbk_${randomSecret()}`;
    const now = this.clock();
    const row = await this.repo.insertToken({
      tokenHash: secretDigest(token),
      name: checkName(input.name, 'name'),
      accountId: p.accountId,
      scopes: [...new Set(input.scopes)],
      createdAt: now,
      expiresAt: new Date(now.getTime() + input.expiresInDays * 86_400_000),
    });
    this.log.info(`identity: API token ${row.id} created by ${p.accountId}`);
    await this.audit('auth.token_create', { kind: p.kind, id: p.accountId }, 'ok', p.accountId, {
      tokenId: row.id,
      scopes: row.scopes,
      expiresAt: row.expiresAt.toISOString(),
    });
    return { ...tokenView(row), token };
  }

  /** The caller's API tokens (never the secrets). @throws 401, 403. */
  async listApiTokens(principal: Principal | null): Promise<ApiTokenView[]> {
    const p = requirePrincipal(principal);
    requireStaffSession(p);
    return (await this.repo.tokensOf(p.accountId)).map(tokenView);
  }

  /** Revokes one of the caller's tokens; effective on the next request. @throws 404 `auth.token_not_found`. */
  async revokeApiToken(principal: Principal | null, id: string): Promise<void> {
    const p = requirePrincipal(principal);
    requireStaffSession(p);
    if (!(await this.repo.revokeToken(id, p.accountId, this.clock())))
      throw notFound('auth.token_not_found', 'No such active token of yours.', 'id');
    this.log.info(`identity: API token ${id} revoked`);
    await this.audit('auth.token_revoke', { kind: p.kind, id: p.accountId }, 'ok', p.accountId, {
      tokenId: id,
    });
  }

  /** The principal of a bearer token; null when unknown, expired, revoked or its account is disabled. */
  async resolveApiToken(token: string): Promise<Principal | null> {
    if (!token.startsWith('tbk_')) return null;
    const row = await this.repo.tokenByHash(secretDigest(token));
    const now = this.clock();
    if (!row || row.revokedAt || row.expiresAt <= now) return null;
    const account = await this.repo.accountById(row.accountId);
    if (!account || account.disabledAt || account.kind !== 'staff') return null;
    await this.repo.touchToken(row.id, now);
    return {
      accountId: account.id,
      kind: 'staff',
      via: 'api_token',
      name: account.name,
      ...(account.departmentId ? { departmentId: account.departmentId } : {}),
      ...(account.hallCode ? { hallCode: account.hallCode } : {}),
      isAdmin: false,
      mfa: false,
      grants: await this.grantsFor(account, now),
      scopes: row.scopes,
      tokenId: row.id,
    };
  }

  // ================================================================================== federation support

  /**
   * The account of a federated identity (issuer + sub, OpenID Connect Core §2): linked before; else linked
   * now to the resident with the same verified ID number; else a new resident account.
   * @throws 403 `auth.oidc_unverified` without a verified, valid ID number or a name for a new account.
   */
  async accountForFederatedIdentity(claims: {
    issuer: string;
    subject: string;
    idNumber: string | undefined;
    name: string | undefined;
    phone: string | undefined;
  }): Promise<AccountRow> {
    const linked = await this.repo.federated(claims.issuer, claims.subject);
    if (linked) {
      const account = await this.repo.accountById(linked);
      if (account && !account.disabledAt) return account;
      throw forbidden('auth.account_disabled', 'This account is disabled.');
    }
    let idNumber: string;
    try {
      idNumber = parseIdentityNumber(claims.idNumber ?? '').value;
    } catch {
      throw forbidden(
        'auth.oidc_unverified',
        'The identity platform did not confirm a valid resident ID number; register or sign in another way.',
      );
    }
    const idNumberHash = this.index('id_number', idNumber);
    const existing = await this.repo.accountByIdNumberHash(idNumberHash);
    if (existing) {
      // The identity platform has verified this ID number; a self-registered account only proved a
      // phone. Whoever registered it may not be this person, so the verified identity takes it over:
      // its password and phone are cleared and every session and API token of it ends (the person adds
      // their own phone again). 个人信息保护法 art. 8: the account must belong to the person it names.
      const federated = await this.repo.db.transaction(async (tx) => {
        await this.repo.link(tx, claims.issuer, claims.subject, existing.id);
        return this.repo.takeOverForFederation(tx, existing.id);
      });
      await this.repo.deleteSessionsOf(existing.id);
      await this.audit('auth.federated_takeover', { kind: 'resident', id: existing.id }, 'ok', existing.id, {
        issuer: claims.issuer,
      });
      this.log.info(
        `identity: account ${existing.id} linked to the identity platform (password and phone reset)`,
      );
      return federated;
    }
    if (!claims.name) throw forbidden('auth.oidc_unverified', 'The identity platform did not give a name.');
    const phone = claims.phone ? normalisePhone(claims.phone) : null;
    const phoneHash = phone ? this.index('phone', phone) : null;
    const phoneFree = phoneHash ? !(await this.repo.accountByPhoneHash(phoneHash)) : false;
    return this.repo.db.transaction(async (tx) => {
      const account = await this.repo.insertAccount(tx, {
        kind: 'resident',
        name: claims.name!.slice(0, 100),
        idNumberHash,
        idNumberEnc: this.options.cipher.encrypt(idNumber, 'idNumber'),
        ...(phone && phoneFree ? { phoneHash, phoneEnc: this.options.cipher.encrypt(phone, 'phone') } : {}),
      });
      await this.repo.link(tx, claims.issuer, claims.subject, account.id);
      this.log.info(`identity: resident account ${account.id} created from the identity platform`);
      return account;
    });
  }

  /** The repository, for the OIDC helper of this module only (flows in flight). */
  get flows(): Pick<IdentityRepository, 'insertFlow' | 'takeFlow' | 'deleteFlowsBefore'> {
    return this.repo;
  }

  /** The id of the staff account signed in as `username`, or undefined (CLI bootstrap). */
  async staffIdByUsername(username: string): Promise<string | undefined> {
    const row = await this.repo.accountByUsername(username);
    return row?.kind === 'staff' ? row.id : undefined;
  }

  /**
   * Staff accounts by id, as other modules' policies see them (in-case messaging checks that a mentioned
   * colleague may read the thread): name, binding, grants in force now. Unknown, non-staff and disabled
   * accounts are left out. No personal data (staff names are public in the hall).
   */
  async staffMembers(
    ids: readonly string[],
  ): Promise<
    { id: string; name: string; departmentId: string | null; hallCode: string | null; grants: Grant[] }[]
  > {
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
    const wanted = [...new Set(ids)].filter((id) => uuid.test(id));
    const now = this.clock();
    const rows = (await this.repo.accountsByIds(wanted)).filter((a) => a.kind === 'staff' && !a.disabledAt);
    return Promise.all(
      rows.map(async (a) => ({
        id: a.id,
        name: a.name,
        departmentId: a.departmentId,
        hallCode: a.hallCode,
        grants: await this.grants.grantsOf(a.id, now),
      })),
    );
  }

  /**
   * Staff accounts bound to any of these halls or departments (their account's 所属大厅 / 所属部门), enabled,
   * with their grants in force now — the colleagues a case's people can be chosen from (in-case messaging's
   * @mention picker; the caller filters by who may read). At most `limit` (1–500), ordered by name.
   */
  async staffAt(
    places: { hallCodes: readonly string[]; departmentIds: readonly string[] },
    limit = 200,
  ): Promise<
    { id: string; name: string; departmentId: string | null; hallCode: string | null; grants: Grant[] }[]
  > {
    const list: StaffPlace[] = [
      ...places.hallCodes.map((code) => ({ kind: 'hall' as const, code })),
      ...places.departmentIds.map((id) => ({ kind: 'department' as const, id })),
    ];
    const { rows } = await this.repo.listStaff({
      places: list,
      limit: Math.min(Math.max(limit, 1), 500),
      offset: 0,
    });
    const now = this.clock();
    return Promise.all(
      rows
        .filter((a) => !a.disabledAt)
        .map(async (a) => ({
          id: a.id,
          name: a.name,
          departmentId: a.departmentId,
          hallCode: a.hallCode,
          grants: await this.grants.grantsOf(a.id, now),
        })),
    );
  }

  /** This service's clock (tests inject one). */
  now(): Date {
    return this.clock();
  }

  // ================================================================================== internals

  /** Staff grants in force, loaded afresh for every request (one indexed query; no cache). */
  private async grantsFor(account: AccountRow, now: Date): Promise<Grant[]> {
    return account.kind === 'staff' ? this.grants.grantsOf(account.id, now) : [];
  }

  private principalOf(
    account: AccountRow,
    session: Pick<SessionRow, 'mfa' | 'actingFor'>,
    grants: Grant[],
  ): Principal {
    const isStaff = account.kind === 'staff';
    return {
      accountId: account.id,
      kind: isStaff ? 'staff' : session.actingFor ? 'legal_person_operator' : 'resident',
      via: 'session',
      name: account.name,
      ...(account.departmentId ? { departmentId: account.departmentId } : {}),
      ...(account.hallCode ? { hallCode: account.hallCode } : {}),
      ...(session.actingFor ? { legalPersonId: session.actingFor } : {}),
      isAdmin: account.isAdmin,
      mfa: session.mfa,
      grants,
      ...(isStaff && account.isAdmin && !session.mfa ? { restricted: true } : {}),
    };
  }

  private async staffOf(p: Principal): Promise<AccountRow> {
    const account =
      p.kind === 'staff' && p.via === 'session' ? await this.repo.accountById(p.accountId) : undefined;
    if (!account) throw forbidden('auth.staff_only', 'TOTP is for staff accounts signed in with a session.');
    return account;
  }

  private async checkTotp(account: AccountRow, code: string): Promise<boolean> {
    if (!account.totpSecretEnc || !/^\d{6}$/.test(String(code).trim())) return false;
    const secret = this.options.cipher.decrypt(account.totpSecretEnc);
    const result = await verifyTotp({
      secret,
      token: String(code).trim(),
      epoch: Math.floor(this.clock().getTime() / 1000),
      epochTolerance: 30,
      ...(account.totpLastStep === null ? {} : { afterTimeStep: account.totpLastStep }),
    }).catch(() => ({ valid: false as const }));
    if (!result.valid || !('timeStep' in result)) return false;
    return this.repo.advanceTotpStep(account.id, result.timeStep);
  }

  /**
   * For other modules' guessable checks (e.g. public tracking, `track:<case number>`): seconds left of
   * `key`'s lockout, 0 when it is not locked. Shared by every API node (identity_lockouts).
   */
  async lockedSeconds(key: string): Promise<number> {
    const row = await this.repo.lockout(key);
    const left = row?.lockedUntil ? row.lockedUntil.getTime() - this.clock().getTime() : 0;
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /**
   * Counts one failed check on `key` (the count restarts after `windowMs` ms without a failure); at
   * `threshold` failures the key is locked for `lockMs` ms (see {@link lockedSeconds}).
   */
  async countFailure(
    key: string,
    limits: { threshold: number; windowMs: number; lockMs: number },
  ): Promise<void> {
    const now = this.clock();
    const failures = await this.repo.countFailure(key, now, new Date(now.getTime() - limits.windowMs));
    if (failures >= limits.threshold) await this.repo.lockUntil(key, new Date(now.getTime() + limits.lockMs));
  }

  private async checkLocked(keys: string[]): Promise<void> {
    const now = this.clock();
    for (const key of keys) {
      const row = await this.repo.lockout(key);
      if (row?.lockedUntil && row.lockedUntil > now) {
        const seconds = Math.ceil((row.lockedUntil.getTime() - now.getTime()) / 1000);
        throw new AppError(
          'rate_limited',
          'auth.locked',
          `Too many failed sign-in attempts. Try again in ${seconds} seconds.`,
        );
      }
    }
  }

  /** Counts a failure on each key; past its threshold a key is locked for base × 2^(extra failures). */
  private async fail(keys: string[]): Promise<void> {
    const now = this.clock();
    const ip = keys.find((k) => k.startsWith('ip:'))?.slice(3);
    await this.audit('auth.login_failed', { kind: 'anonymous', id: 'unknown' }, 'denied', undefined, {}, ip);
    const resetBefore = new Date(now.getTime() - this.limits.failureWindowMs);
    for (const key of keys) {
      const failures = await this.repo.countFailure(key, now, resetBefore);
      const threshold = key.startsWith('ip:')
        ? this.limits.ipFailureThreshold
        : this.limits.accountFailureThreshold;
      if (failures >= threshold) {
        const ms = Math.min(
          this.limits.lockoutBaseMs * 2 ** (failures - threshold),
          this.limits.lockoutMaxMs,
        );
        await this.repo.lockUntil(key, new Date(now.getTime() + ms));
        await this.audit(
          'auth.locked',
          { kind: 'anonymous', id: 'unknown' },
          'denied',
          undefined,
          { lockedSeconds: Math.round(ms / 1000), keyKind: key.split(':')[0] ?? 'key', failures },
          ip,
        );
        this.log.warn(
          `identity: sign-in locked for ${Math.round(ms / 1000)} s after ${failures} failures (${key.split(':')[0]})`,
        );
      }
    }
  }

  /**
   * Records an identity event in the audit log (its own statement: a refused sign-in has no transaction
   * to join). A failure to record is logged and does not change the answer the caller gets.
   */
  private async audit(
    action: string,
    actor: { kind: string; id: string },
    outcome: 'ok' | 'denied',
    accountId?: string,
    details: Record<string, unknown> = {},
    clientIp?: string,
  ): Promise<void> {
    if (!this.options.audit) return;
    try {
      await this.options.audit.record({
        actor,
        action,
        outcome,
        ...(accountId ? { target: { type: 'account', id: accountId } } : {}),
        ...(clientIp && isIP(clientIp) ? { clientIp } : {}),
        details,
      });
    } catch (e) {
      this.log.warn(`identity: audit entry ${action} not recorded: ${(e as Error).message}`);
    }
  }

  private index(purpose: string, value: string): string {
    return blindIndex(this.options.piiHashKey, purpose, value);
  }

  private phoneOrThrow(input: string): string {
    const phone = normalisePhone(String(input ?? ''));
    if (!phone)
      throw invalid(
        'phone',
        'Enter an 11-digit mainland mobile number, e.g. 13812345678.',
        'account.phone_invalid',
      );
    return phone;
  }

  private hashPassword(password: string): Promise<string> {
    // @node-rs/argon2 defaults to argon2id (RFC 9106); parameters per OWASP: 19 MiB, 2 passes, 1 lane.
    return argon2Hash(password, {
      memoryCost: this.options.argon2?.memoryCost ?? 19_456,
      timeCost: this.options.argon2?.timeCost ?? 2,
      parallelism: 1,
    });
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hashPassword(randomSecret());
    return this.dummyHash;
  }

  private view(row: AccountRow): AccountView {
    const c = this.options.cipher;
    return {
      id: row.id,
      kind: row.kind,
      name: row.name,
      idNumber: row.idNumberEnc ? maskIdentityNumber(c.decrypt(row.idNumberEnc)) : null,
      phone: row.phoneEnc ? maskPhone(c.decrypt(row.phoneEnc)) : null,
      creditCode: row.creditCode,
      username: row.username,
      departmentId: row.departmentId,
      hallCode: row.hallCode,
      isAdmin: row.isAdmin,
      totpEnrolled: row.totpConfirmedAt !== null,
      createdAt: row.createdAt.toISOString(),
    };
  }
}

function randomSecret(): string {
  return randomBytes(32).toString('base64url');
}

function tokenView(row: ApiTokenRow): ApiTokenView {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes,
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    revokedAt: row.revokedAt?.toISOString() ?? null,
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
  };
}

function checkName(input: string, field: string): string {
  const name = String(input ?? '')
    .normalize('NFKC')
    .trim();
  if (name.length < 1 || name.length > 100)
    throw invalid(field, 'Enter a name of 1–100 characters.', 'account.name_invalid');
  return name;
}

/**
 * Password rule (等保 2.0 level 3 身份鉴别: complexity): at least 10 characters with at least three of
 * lower-case, upper-case, digits and other characters; at most 200.
 * @throws 400 `account.password_weak` (field password).
 */
export function checkPassword(password: string): void {
  const p = String(password ?? '');
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((r) => r.test(p)).length;
  if (p.length < 10 || p.length > 200 || classes < 3) {
    throw invalid(
      'password',
      'Choose a password of 10–200 characters using at least three of: lower-case, upper-case, digits, symbols.',
      'account.password_weak',
    );
  }
}
