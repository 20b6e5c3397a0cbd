import path from 'node:path';
import { z } from 'zod';
import { invalid } from '../domain/errors.ts';
import { type PiiKey, parsePiiKeys } from './modules/pii/keys.ts';

/**
 * Runtime configuration, read once from environment variables. Every value has a default that runs on
 * a laptop; nothing secret lives in the repository.
 *
 * | variable      | meaning                                                        | default          |
 * |---------------|----------------------------------------------------------------|------------------|
 * | PORT          | HTTP port                                                      | 3000             |
 * | HOST          | interface to listen on                                         | 127.0.0.1        |
 * | DATA_DIR      | folder for the embedded database (PGlite) and local files      | var/             |
 * | DATABASE_URL  | postgres://… switches from embedded PGlite to PostgreSQL ≥ 15   | (unset: PGlite)  |
 * | LOG_LEVEL     | pino level: fatal error warn info debug trace silent           | info             |
 * | RATE_LIMIT_MAX| requests per minute per client IP on /api                      | 600              |
 * | PII_HASH_KEY  | key of the keyed SM3 hash for applicant lookups (≥ 32 chars)   | generated, stored|
 * | PII_ENCRYPTION_KEYS | SM4 keys `id:base64,id:base64` (first current, rest decrypt only) | generated, stored|
 * | JOBS_INTERVAL_MS | how often this node runs outbox/notification/timer work (0: off) | 2000          |
 * | TRUST_PROXY   | behind a reverse proxy: the proxies' addresses/CIDRs (`true` refused in production) | false |
 */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  rateLimitMax: number;
  /** Key of the keyed SM3 hash for applicant lookups; undefined: one generated and kept in the database. */
  piiHashKey: string | undefined;
  /** SM4 master keys for personal data, current first; undefined: a development key kept in the database. */
  piiEncryptionKeys: PiiKey[] | undefined;
  /** Interval of the background jobs on this node, ms (0 disables them, e.g. for a read-only node). */
  jobsIntervalMs: number;
  /**
   * Trust X-Forwarded-For from these proxies (rate limits per real client behind a proxy): their addresses
   * or CIDRs, comma-separated; `true` (trust any hop) only outside production.
   */
  trustProxy: boolean | string;
}

const EnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('var'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional()
    .or(z.literal('').transform(() => undefined)),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  RATE_LIMIT_MAX: z.coerce.number().int().positive().default(600),
  PII_HASH_KEY: z.string().min(32, 'must be at least 32 characters').optional(),
  PII_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v.trim() === '' ? undefined : v)),
  JOBS_INTERVAL_MS: z.coerce.number().int().min(0).default(2000),
  TRUST_PROXY: z
    .string()
    .optional()
    .transform((v) => (v === undefined || v === '' || v === 'false' ? false : v === 'true' ? true : v)),
});

/**
 * Parses environment variables with a zod schema — the one place configuration errors are worded.
 * @throws AppError(validation, `config.invalid`) naming the variable and what it must look like.
 */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.infer<T> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = String(issue.path[0] ?? 'environment');
    throw invalid(
      name,
      `Environment variable ${name} ${issue.message}. Fix it or unset it to use the default.`,
      'config.invalid',
    );
  }
  return parsed.data;
}

/**
 * Reads the configuration from `env` (default: process.env).
 * @throws AppError(validation, `config.invalid`) naming the variable and what it must look like — also for
 *   TRUST_PROXY=true when NODE_ENV=production (list the proxies' addresses/CIDRs instead).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(EnvSchema, env);
  // `true` trusts the leftmost X-Forwarded-For, which any client writes itself: per-client rate limits
  // (public tracking, sign-in) would then be the client's choice
  if (e.TRUST_PROXY === true && env.NODE_ENV === 'production')
    throw invalid(
      'TRUST_PROXY',
      'Environment variable TRUST_PROXY=true trusts whatever X-Forwarded-For a client sends, so clients pick the address their rate limits count. In production list your reverse proxies instead: TRUST_PROXY=10.0.0.5,10.0.1.0/24 (addresses or CIDRs, comma-separated).',
      'config.invalid',
    );
  return {
    port: e.PORT,
    host: e.HOST,
    dataDir: path.resolve(e.DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    logLevel: e.LOG_LEVEL,
    rateLimitMax: e.RATE_LIMIT_MAX,
    trustProxy: e.TRUST_PROXY,
    piiHashKey: e.PII_HASH_KEY,
    piiEncryptionKeys: e.PII_ENCRYPTION_KEYS === undefined ? undefined : parsePiiKeys(e.PII_ENCRYPTION_KEYS),
    jobsIntervalMs: e.JOBS_INTERVAL_MS,
  };
}
