import { z } from 'zod';
import { parseEnv } from '../../config.ts';

/**
 * The legal floor of audit retention, days: 网络安全法 art. 21(三) — network logs kept ≥ six months. Six
 * calendar months are at most 184 days (e.g. 1 July – 31 December), so 184 days is never shorter.
 */
export const MIN_AUDIT_RETENTION_DAYS = 184;

/**
 * Audit configuration, from environment variables:
 *
 * | variable             | meaning                                                             | default |
 * |----------------------|---------------------------------------------------------------------|---------|
 * | AUDIT_RETENTION_DAYS | calendar days an audit entry is kept before `tongban audit prune` may delete it (≥ 184) | 184 |
 */
export interface AuditConfig {
  /** Calendar days (not working days) entries are kept; ≥ {@link MIN_AUDIT_RETENTION_DAYS}. */
  retentionDays: number;
}

const EnvSchema = z.object({
  AUDIT_RETENTION_DAYS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce
      .number({ message: 'must be a whole number of days' })
      .int('must be a whole number of days')
      .min(
        MIN_AUDIT_RETENTION_DAYS,
        `must be at least ${MIN_AUDIT_RETENTION_DAYS} (days): 网络安全法 art. 21 requires network logs to be kept for at least six months`,
      )
      .default(MIN_AUDIT_RETENTION_DAYS),
  ),
});

/**
 * Reads the audit configuration from `env` (default `process.env`).
 * @throws AppError(validation, `config.invalid`, field `AUDIT_RETENTION_DAYS`) for a value that is not a
 *         whole number or is below 184.
 */
export function loadAuditConfig(env: NodeJS.ProcessEnv = process.env): AuditConfig {
  const e = parseEnv(EnvSchema, env);
  return { retentionDays: e.AUDIT_RETENTION_DAYS };
}
