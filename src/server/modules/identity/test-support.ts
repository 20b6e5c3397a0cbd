import { computeIdentityCheckCharacter } from '../../../domain/identity-number.ts';
import type { Database } from '../../db/index.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { buildHttpApp, type HttpApp } from '../../http/app.ts';
import { DevSmsChannel } from '../notifications/channels.ts';
import { PiiVault } from '../pii/service.ts';
import { type AuthConfig, loadAuthConfig } from './config.ts';
import { OidcLogin } from './oidc.ts';
import { installAuthentication } from './plugin.ts';
import { principalToCaseActor } from './principal.ts';
import { redactOneTimeCodes } from './redact.ts';
import { identityRoutes } from './routes.ts';
import { type AuthLimits, IdentityService } from './service.ts';

/** A valid resident ID number (GB 11643) for tests: area 520102, born 1990-03-07, sequence `seq`. */
export function testIdNumber(seq = 123): string {
  const first17 = `52010219900307${String(seq).padStart(3, '0')}`;
  return first17 + computeIdentityCheckCharacter(first17);
}

export interface IdentityHarness {
  database: Database;
  app: HttpApp;
  identity: IdentityService;
  sms: DevSmsChannel;
  config: AuthConfig;
  /** every log line: pino (HTTP) and the service's own log */
  logs: string[];
  /** the injected clock; move it with `advance(ms)` */
  now(): Date;
  advance(ms: number): void;
  close(): Promise<void>;
}

/**
 * The identity module on a real test database (PGlite, or PostgreSQL with DATABASE_URL) behind a real
 * Fastify app with the `authenticate` hook, an injected clock, the recording SMS adapter, and every log
 * line captured (pino at `trace`). Extra test routes: `GET|POST /api/v1/test/whoami` echo the principal
 * and its CaseActor. Never imported by production code.
 */
export async function startIdentityHarness(
  options: { env?: NodeJS.ProcessEnv; limits?: Partial<AuthLimits>; oidc?: boolean } = {},
): Promise<IdentityHarness> {
  const database = await openTestDatabase();
  let now = new Date('2026-03-02T02:00:00.000Z');
  const logs: string[] = [];
  // as wired in src/server/services.ts: the development adapter's log line has sign-in codes redacted
  const sms = new DevSmsChannel({ log: (line) => logs.push(redactOneTimeCodes(line)) });
  const config = loadAuthConfig({ HOST: '127.0.0.1', ...options.env });
  const identity = new IdentityService(database.db, {
    piiHashKey: 'test-pii-hash-key-0123456789abcdef',
    cipher: PiiVault.ephemeral(),
    sms,
    config,
    clock: () => now,
    log: { info: (l) => logs.push(l), warn: (l) => logs.push(l) },
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const oidc = config.oidc ? new OidcLogin(identity, config.oidc) : undefined;
  const app = await buildHttpApp({
    logLevel: 'trace',
    logStream: { write: (line) => logs.push(line) },
    rateLimitMax: 100_000,
    authenticate: (root) => installAuthentication(root, { identity, config }),
    routes: [
      identityRoutes({ identity, oidc, authConfig: config }),
      async (api) => {
        const echo = async (req: { principal: import('./principal.ts').Principal | null }) => ({
          principal: req.principal,
          actor: req.principal ? principalToCaseActor(req.principal) : null,
        });
        api.get('/api/v1/test/whoami', echo);
        api.post('/api/v1/test/whoami', echo);
      },
    ],
  });
  return {
    database,
    app,
    identity,
    sms,
    config,
    logs,
    now: () => now,
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
    close: async () => {
      await app.close();
      await database.close();
    },
  };
}
