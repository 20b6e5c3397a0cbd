import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { invalid } from '../domain/errors.ts';
import type { Config } from './config.ts';
import type { Database } from './db/index.ts';
import { loadAuditConfig } from './modules/audit/config.ts';
import { AuditService } from './modules/audit/service.ts';
import { CalendarService } from './modules/calendar/service.ts';
import { CasesService, LEGACY_PAYLOAD_KEYS, sealLegacyCasePayload } from './modules/cases/service.ts';
import { SAMPLE_CATALOG_XLSX } from './modules/catalog/sample.ts';
import { CatalogService, DEFAULT_IMPORT_MAX_BYTES } from './modules/catalog/service.ts';
import { CustodyService } from './modules/custody/service.ts';
import { DepartmentsService } from './modules/departments/service.ts';
import { publicBaseUrlFrom } from './modules/documents/font.ts';
import { DocumentsService } from './modules/documents/service.ts';
import { EvaluationsService, loadRectificationLimits } from './modules/evaluations/service.ts';
import { FeedbackService } from './modules/feedback/service.ts';
import { HallsService } from './modules/halls/service.ts';
import { IdempotencyService } from './modules/idempotency/service.ts';
import { type AuthConfig, loadAuthConfig } from './modules/identity/config.ts';
import { OidcLogin } from './modules/identity/oidc.ts';
import { redactOneTimeCodes } from './modules/identity/redact.ts';
import { IdentityService } from './modules/identity/service.ts';
import { KpiService } from './modules/kpi/service.ts';
import { MessagingService } from './modules/messaging/service.ts';
import { DevSmsChannel } from './modules/notifications/channels.ts';
import { loadNotificationsConfig } from './modules/notifications/config.ts';
import { NotificationsService } from './modules/notifications/service.ts';
import { OutboxService } from './modules/outbox/service.ts';
import { loadPiiKeyProvider, PiiVault } from './modules/pii/service.ts';
import { RegionsService } from './modules/regions/service.ts';
import { CatalogSearchService } from './modules/search/service.ts';
import { SettingsService } from './modules/settings/service.ts';
import { SimulationService } from './modules/simulation/service.ts';
import { createFileStore, type FileStore } from './modules/storage/service.ts';
import { loadWarningThresholds } from './modules/warnings/rules.ts';
import { WarningsService } from './modules/warnings/service.ts';

/** Every module's public face, built once per process (composition root helper). */
export interface Services {
  calendar: CalendarService;
  regions: RegionsService;
  departments: DepartmentsService;
  halls: HallsService;
  catalog: CatalogService;
  search: CatalogSearchService;
  outbox: OutboxService;
  idempotency: IdempotencyService;
  notifications: NotificationsService;
  cases: CasesService;
  /** In-case messaging (办件沟通): threads, messages, mentions, unread counts. */
  messaging: MessagingService;
  files: FileStore;
  custody: CustodyService;
  /** 文书: the PDF notices of a case (收件凭证, 受理通知书 …). */
  documents: DocumentsService;
  audit: AuditService;
  identity: IdentityService;
  /** Sign-in through the province's identity platform; undefined when OIDC_ISSUER is unset. */
  oidc: OidcLogin | undefined;
  /** Session, cookie, CSRF and federation settings (SESSION_*, DEV_ACTOR_HEADER, OIDC_*). */
  authConfig: AuthConfig;
  /** Personal data: SM4 envelopes, blind indexes, key rotation. */
  pii: PiiVault;
  /** 好差评: ratings, rectifications (整改), appeals (申诉) and reviews (复核); public satisfaction. */
  evaluations: EvaluationsService;
  /** 一线反馈: staff problem reports, triaged and tracked to closure. */
  feedback: FeedbackService;
  /** KPIs (docs/metrics.md) from rollups kept current by the outbox. */
  kpi: KpiService;
  /** 预警: alert rules, de-duplicated alerts, acknowledge and resolve. */
  warnings: WarningsService;
  /** The ledger of `tongban simulate` runs (which cases are demo data). */
  simulation: SimulationService;
}

/** The settings of the composition that do not come from a module: keys and loggers. */
export type ServicesConfig = Pick<Config, 'piiHashKey' | 'dataDir'> & {
  piiEncryptionKeys?: Config['piiEncryptionKeys'];
  log?: { info(message: string): void; warn(message: string): void };
  env?: NodeJS.ProcessEnv;
  /**
   * The current instant for the case engine and the identity module (grant validity, sessions, tokens);
   * default the system clock. Tests pass a movable clock to see a grant end at its `validUntil`.
   */
  clock?: () => Date;
};

/**
 * Builds every module's service for one process. The applicant-lookup key is PII_HASH_KEY, or — on a
 * laptop — one generated on first start and kept in the database (set PII_HASH_KEY in production).
 */
export async function createServices(database: Database, config: ServicesConfig): Promise<Services> {
  const { db } = database;
  const audit = new AuditService(db, loadAuditConfig(config.env ?? process.env));
  const regions = new RegionsService(db);
  const departments = new DepartmentsService(db);
  const calendar = new CalendarService(db);
  const outbox = new OutboxService(db);
  const halls = new HallsService(db, {
    calendar,
    audit,
    outbox,
    ...(config.clock ? { clock: config.clock } : {}),
  });
  const env0 = config.env ?? process.env;
  const catalog = new CatalogService(db, {
    regions,
    departments,
    halls,
    audit,
    ...(config.clock ? { clock: config.clock } : {}),
    importMaxBytes: catalogImportMaxBytes(env0),
  });
  const search = new CatalogSearchService(catalog);
  const idempotency = new IdempotencyService(db);
  const env = config.env ?? process.env;
  const settings = new SettingsService(db);
  if (!config.piiHashKey)
    config.log?.warn(
      'PII_HASH_KEY is unset: the key of the blind indexes is kept in the database beside the data (fine on a laptop; set it in production, or a database dump makes the indexes guessable).',
    );
  const piiHashKey =
    config.piiHashKey ??
    (await settings.getOrCreate('pii_hash_key', () => randomBytes(32).toString('base64url')));
  const pii = new PiiVault(await loadPiiKeyProvider(config.piiEncryptionKeys, settings, config.log), {
    hashKey: piiHashKey,
  });
  const notificationsConfig = loadNotificationsConfig(env);
  // Without a gateway the development SMS adapter records messages; its log line must not show sign-in codes.
  const devSms = notificationsConfig.smsGatewayUrl
    ? undefined
    : new DevSmsChannel({
        log: (line) => config.log?.info(redactOneTimeCodes(line)),
        // Development only: the full texts (sign-in codes) in a file a developer can read.
        ...(config.dataDir && env.NODE_ENV !== 'production'
          ? { file: path.join(config.dataDir, 'dev-sms.jsonl') }
          : {}),
      });
  if (devSms)
    config.log?.info(
      `SMS: SMS_GATEWAY_URL is unset; SMS messages are recorded by the development adapter, not sent${
        config.dataDir && env.NODE_ENV !== 'production'
          ? ` (texts in ${path.join(config.dataDir, 'dev-sms.jsonl')})`
          : ''
      }.`,
    );
  const notifications = new NotificationsService(db, {
    config: notificationsConfig,
    vault: pii,
    // 好差评: the delivered message carries the case's rating link (evaluations is built below)
    ratingLink: (n: string): string =>
      `${publicBaseUrlFrom(env).replace(/\/+$/, '')}/#/rate/${encodeURIComponent(n)}?t=${evaluations.ratingToken(n)}`,
    ...(devSms ? { channels: { sms: devSms } } : {}),
    ...(config.log ? { log: config.log } : {}),
  });
  outbox.subscribe(notifications.handler);
  const cases = new CasesService(
    db,
    {
      catalog,
      halls,
      departments,
      calendar,
      outbox,
      idempotency,
      audit,
      pii,
      // 帮办代办: the identity module's agent authorizations (identity is built below; called per submission)
      agentAuthorizations: {
        verify: (q) => identity.authorizations.verify(q),
        verifyForCase: (q) => identity.authorizations.verifyForCase(q),
      },
      // 实名: a signed-in applicant files in her own name (identity's blind index of the account's ID number)
      applicants: {
        applicantIsAccount: (accountId, applicant) => identity.applicantIsAccount(accountId, applicant),
      },
      lockouts: {
        lockedSeconds: (key) => identity.lockedSeconds(key),
        countFailure: (key, limits) => identity.countFailure(key, limits),
      },
    },
    { piiHashKey, ...(config.clock ? { clock: config.clock } : {}) },
  );
  pii.register({ name: 'cases', reseal: (limit) => cases.resealPii(limit) });
  pii.register({ name: 'notifications', reseal: (limit) => notifications.resealPii(limit) });
  // Case events written in clear before encryption (new ones carry envelopes only).
  pii.register({
    name: 'outbox',
    reseal: (limit) =>
      outbox.rewritePayloads(LEGACY_PAYLOAD_KEYS, limit, (p) => sealLegacyCasePayload(pii, p)),
  });
  const files = createFileStore(config.env ?? process.env, config.dataDir);
  const custody = new CustodyService(db, { cases, idempotency, files });
  const documents = new DocumentsService(
    db,
    { cases, halls, departments, files },
    { publicBaseUrl: publicBaseUrlFrom(env) },
  );
  // Queues the case only (one INSERT); the jobs loop renders outside the dispatch transaction.
  outbox.subscribe(documents.handler);
  const authConfig = loadAuthConfig(env);
  const identity = new IdentityService(db, {
    files,
    idempotency,
    piiHashKey,
    cipher: pii,
    sms: notifications.channel('sms'),
    config: authConfig,
    audit,
    ...(config.clock ? { clock: config.clock } : {}),
    scopes: {
      hallDivision: async (code) => (await halls.getHall(code)).divisionCode,
      departmentDivision: async (id) => (await departments.getDepartment(id)).divisionCode,
    },
    anyHallItems: catalog,
    ...(config.log ? { log: config.log } : {}),
  });
  pii.register({ name: 'identity', reseal: (limit) => identity.resealPii(pii, limit) });
  const messaging = new MessagingService(db, { cases, staff: identity, departments, idempotency, outbox });
  const oidc = authConfig.oidc ? new OidcLogin(identity, authConfig.oidc) : undefined;
  // issue 7: 好差评, the staff feedback channel, the KPI rollups (fed by the outbox) and the warnings
  const evaluations = new EvaluationsService(
    db,
    { cases, halls, calendar, outbox, idempotency, audit },
    {
      piiHashKey,
      limits: loadRectificationLimits(env),
      ...(config.clock ? { clock: config.clock } : {}),
      ...(config.log ? { log: config.log } : {}),
    },
  );
  const feedback = new FeedbackService(db, {
    audit,
    outbox,
    idempotency,
    cases,
    halls,
    departments,
    staff: identity,
    ...(config.clock ? { clock: config.clock } : {}),
  });
  const kpi = new KpiService(db, {
    calendar,
    regions,
    halls,
    ...(config.clock ? { clock: config.clock } : {}),
  });
  outbox.subscribe(kpi.handler);
  const warnings = new WarningsService(db, {
    kpi,
    regions,
    halls,
    idempotency,
    audit,
    thresholds: loadWarningThresholds(env),
    ...(config.clock ? { clock: config.clock } : {}),
  });
  outbox.subscribe(warnings.handler);
  const simulation = new SimulationService(db);
  return {
    simulation,
    evaluations,
    feedback,
    kpi,
    warnings,
    audit,
    identity,
    oidc,
    authConfig,
    files,
    custody,
    documents,
    calendar,
    regions,
    departments,
    halls,
    catalog,
    search,
    outbox,
    idempotency,
    notifications,
    cases,
    messaging,
    pii,
  };
}

/**
 * CATALOG_IMPORT_MAX_BYTES: the largest catalog workbook accepted over HTTP (default 10 MiB).
 * @throws AppError(validation, `config.invalid`) for anything but a positive whole number.
 */
export function catalogImportMaxBytes(env: NodeJS.ProcessEnv): number {
  const raw = env.CATALOG_IMPORT_MAX_BYTES;
  if (raw === undefined || raw === '') return DEFAULT_IMPORT_MAX_BYTES;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw invalid(
      'CATALOG_IMPORT_MAX_BYTES',
      `CATALOG_IMPORT_MAX_BYTES must be a whole number of bytes ≥ 1; got "${raw}".`,
      'config.invalid',
    );
  return n;
}

/** What the database holds, for the start-up summary and `/health`. */
export interface LoadSummary {
  divisions: Record<'province' | 'prefecture' | 'county' | 'township' | 'village', number>;
  halls: Record<'province' | 'prefecture' | 'county' | 'township' | 'village', number>;
  departments: number;
  catalog: {
    items: number;
    materials: number;
    implementations: number;
    boundImplementations: number;
    itemsWithoutStandard: number;
  };
}

export async function summarize(services: Services): Promise<LoadSummary> {
  const [divisions, halls, departments, catalog] = await Promise.all([
    services.regions.countByLevel(),
    services.halls.countByLevel(),
    services.departments.count(),
    services.catalog.counts(),
  ]);
  return { divisions, halls, departments, catalog };
}

/**
 * Loads the shipped reference data — divisions, departments, halls — in ONE transaction, so a crash
 * leaves the database as before. Idempotent (existing rows are kept). Returns what was in the data.
 */
export async function seedReferenceData(
  database: Database,
  services: Services,
): Promise<{ divisions: number; departments: number; halls: number }> {
  return database.db.transaction(async (tx) => {
    const all = await services.regions.seed(tx);
    const departments = await services.departments.seed(tx, all);
    const halls = await services.halls.seed(tx, all);
    return { divisions: all.length, departments, halls };
  });
}

/**
 * Loads the sample catalog (data/catalog/guizhou-sample-catalog.xlsx) when the catalog is empty, then
 * binds implementation lists (实施清单) to the departments. Runs after {@link seedReferenceData} (the
 * departments must exist). The import is one transaction; binding is repeatable, so a crash between
 * the two is mended by the next start.
 */
export async function seedCatalog(services: Services): Promise<void> {
  if ((await services.catalog.counts()).items === 0) {
    await services.catalog.importFile(SAMPLE_CATALOG_XLSX);
  }
  await services.catalog.seedImplementations(services.departments);
}
