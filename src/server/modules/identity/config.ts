import { z } from 'zod';
import { invalid } from '../../../domain/errors.ts';
import { parseEnv } from '../../config.ts';

/**
 * Security configuration of sign-in and sessions, from environment variables:
 *
 * | variable               | meaning                                                          | default |
 * |------------------------|------------------------------------------------------------------|---------|
 * | SESSION_COOKIE_SECURE  | `Secure` flag (and `__Host-` name) on the session cookie          | true when NODE_ENV=production or HOST is not a loopback address; else false |
 * | SESSION_IDLE_MINUTES   | a session ends after this many minutes without a request          | 30 |
 * | SESSION_ABSOLUTE_HOURS | a session ends this many hours after sign-in, whatever the use     | 12 |
 * | DEV_ACTOR_HEADER       | accept `X-Tongban-Actor` (DEVELOPMENT ONLY: anyone can claim anyone) | true only on a loopback HOST without NODE_ENV=production |
 * | AUTH_ALLOWED_ORIGINS   | comma-separated extra origins allowed on unsafe requests          | none (same origin only) |
 * | OIDC_ISSUER            | issuer URL of the province's unified identity platform            | unset: federation off |
 * | OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_REDIRECT_URI | our client at that platform          | required with OIDC_ISSUER |
 * | OIDC_ID_NUMBER_CLAIM   | claim carrying the verified resident ID number                    | id_number |
 */
export interface AuthConfig {
  cookieSecure: boolean;
  idleMinutes: number;
  absoluteHours: number;
  devActorHeader: boolean;
  allowedOrigins: string[];
  oidc:
    | {
        issuer: string;
        clientId: string;
        clientSecret: string;
        redirectUri: string;
        idNumberClaim: string;
      }
    | undefined;
}

const bool = z
  .enum(['true', 'false', '1', '0', ''])
  .optional()
  .transform((v) => (v === undefined || v === '' ? undefined : v === 'true' || v === '1'));
const optional = (s: z.ZodString) => s.optional().or(z.literal('').transform(() => undefined));

const EnvSchema = z.object({
  NODE_ENV: z.string().optional(),
  HOST: z.string().default('127.0.0.1'),
  SESSION_COOKIE_SECURE: bool,
  SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  SESSION_ABSOLUTE_HOURS: z.coerce.number().int().min(1).max(720).default(12),
  DEV_ACTOR_HEADER: bool,
  AUTH_ALLOWED_ORIGINS: z.string().default(''),
  OIDC_ISSUER: optional(z.string().regex(/^https?:\/\//, 'must be an https:// URL')),
  OIDC_CLIENT_ID: optional(z.string()),
  OIDC_CLIENT_SECRET: optional(z.string()),
  OIDC_REDIRECT_URI: optional(z.string().regex(/^https?:\/\//, 'must be an absolute URL')),
  OIDC_ID_NUMBER_CLAIM: z.string().min(1).default('id_number'),
});

/** `127.0.0.1`, `::1`, `localhost` (and 127.x.y.z). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * Reads the security configuration from `env` (default `process.env`).
 * @throws AppError(validation, `config.invalid`) naming the variable: a malformed value, OIDC_ISSUER
 *   without its client id/secret/redirect URI, or DEV_ACTOR_HEADER=true with NODE_ENV=production.
 */
export function loadAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const e = parseEnv(EnvSchema, env);
  const production = e.NODE_ENV === 'production';
  if (production && e.DEV_ACTOR_HEADER === true) {
    throw invalid(
      'DEV_ACTOR_HEADER',
      'DEV_ACTOR_HEADER=true lets any caller claim to be anyone; it is refused with NODE_ENV=production. Unset it.',
      'config.invalid',
    );
  }
  let oidc: AuthConfig['oidc'];
  if (e.OIDC_ISSUER) {
    for (const name of ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_REDIRECT_URI'] as const) {
      if (!e[name])
        throw invalid(
          name,
          `${name} is required when OIDC_ISSUER is set (or unset OIDC_ISSUER).`,
          'config.invalid',
        );
    }
    oidc = {
      issuer: e.OIDC_ISSUER,
      clientId: e.OIDC_CLIENT_ID!,
      clientSecret: e.OIDC_CLIENT_SECRET!,
      redirectUri: e.OIDC_REDIRECT_URI!,
      idNumberClaim: e.OIDC_ID_NUMBER_CLAIM,
    };
  }
  return {
    cookieSecure: e.SESSION_COOKIE_SECURE ?? (production || !isLoopbackHost(e.HOST)),
    idleMinutes: e.SESSION_IDLE_MINUTES,
    absoluteHours: e.SESSION_ABSOLUTE_HOURS,
    // Off by default wherever other machines can reach the server (HOST not loopback) or in production.
    devActorHeader: e.DEV_ACTOR_HEADER ?? (!production && isLoopbackHost(e.HOST)),
    allowedOrigins: e.AUTH_ALLOWED_ORIGINS.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    oidc,
  };
}
