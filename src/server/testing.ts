import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from './config.ts';
import { openTestDatabase } from './db/testing.ts';
import { type RunningServer, startServer } from './main.ts';
import { API_SCOPES } from './modules/identity/policy.ts';

/**
 * A whole tongban server (all modules, seeded reference data) on a fresh test database, without a
 * listening port: drive it with `server.app.inject(...)`. Real database (PGlite, or PostgreSQL when
 * DATABASE_URL is set) and a temporary DATA_DIR for files; nothing mocked. `close()` drops both.
 * Background jobs do not run by themselves: call `server.jobs.runOnce()`. `clock` (optional) is the
 * current instant of the case engine and the identity module, e.g. to let a grant expire.
 */
export async function startTestServer(options: { clock?: () => Date } = {}): Promise<RunningServer> {
  const database = await openTestDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-test-'));
  const server = await startServer(
    loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_MAX: '100000', JOBS_INTERVAL_MS: '0', DATA_DIR: dataDir }),
    { listen: false, database, ...(options.clock ? { clock: options.clock } : {}) },
  );
  return {
    ...server,
    close: async () => {
      await server.close();
      await database.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A staff account on a test server, bound to a hall and/or department, optionally with ONE grant given by
 * the bootstrap path (no granter check), signed in with a password: returns the account id, an API token
 * with `scopes` (default every scope) and the session cookie header value. Test-only.
 */
export async function signedInStaff(
  server: RunningServer,
  spec: {
    username: string;
    hallCode?: string;
    departmentId?: string;
    grant?: { role: string; kind: 'division' | 'hall' | 'department'; value: string; validUntil?: Date };
    scopes?: readonly string[];
  },
): Promise<{ accountId: string; token: string; cookie: string; csrfToken: string }> {
  const { identity } = server.services;
  const password = 'Admin-Passw0rd!2026';
  const account = await identity.createStaff({
    name: `测试${spec.username}`,
    username: spec.username,
    password,
    ...(spec.hallCode ? { hallCode: spec.hallCode } : {}),
    ...(spec.departmentId ? { departmentId: spec.departmentId } : {}),
  });
  if (spec.grant)
    await identity.grants.grantFromCli(
      {
        accountId: account.id,
        role: spec.grant.role,
        scope: { kind: spec.grant.kind, value: spec.grant.value },
        validUntil: spec.grant.validUntil ?? new Date(Date.now() + 365 * 86_400_000),
        reason: '测试授权',
      },
      'test',
    );
  counter = (counter + 1) % 250;
  const session = await identity.loginWithPassword(
    { username: spec.username, password },
    `10.77.${counter}.1`,
  );
  const t = await identity.createApiToken(session.principal, {
    name: `test ${spec.username}`,
    scopes: [...(spec.scopes ?? API_SCOPES)],
    expiresInDays: 30,
  });
  return {
    accountId: account.id,
    token: t.token,
    cookie: `tongban_session=${session.sessionId}`,
    csrfToken: session.csrfToken,
  };
}
let counter = 0;

/**
 * A village agent's in-app authorization (委托, pending until the resident consents) for the resident with
 * `idNumber` and one item, valid 30 days, recorded through the API with the agent's bearer token.
 * Returns the authorization's id; fails the test (throws) when the server refuses it.
 */
export async function recordInAppAuthorization(
  server: RunningServer,
  agentToken: string,
  idNumber: string,
  itemCode: string,
): Promise<string> {
  const res = await server.app.inject({
    method: 'POST',
    url: '/api/v1/agent-authorizations',
    headers: { authorization: `Bearer ${agentToken}` },
    payload: {
      resident: { idNumber },
      itemCodes: [itemCode],
      validUntil: new Date(Date.now() + 30 * 86_400_000).toISOString(),
      evidence: { kind: 'in_app' },
    },
  });
  if (res.statusCode !== 201) throw new Error(`authorization refused: ${res.statusCode} ${res.body}`);
  return (res.json() as { id: string }).id;
}

/**
 * One request to `server` as the API token `token`; a POST carries a fresh Idempotency-Key unless `key`
 * is given (null: none). @returns the status and the body (parsed JSON, or the raw text).
 */
export async function callAs(
  server: RunningServer,
  token: string,
  method: 'GET' | 'POST',
  url: string,
  payload?: unknown,
  key?: string | null,
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies of many shapes
): Promise<{ status: number; body: any }> {
  const idempotencyKey = key === null ? undefined : (key ?? (method === 'POST' ? randomUUID() : undefined));
  const res = await server.app.inject({
    method,
    url,
    headers: {
      authorization: `Bearer ${token}`,
      ...(idempotencyKey ? { 'idempotency-key': idempotencyKey } : {}),
    },
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
  // biome-ignore lint/suspicious/noExplicitAny: as above
  let body: any;
  try {
    body = res.json();
  } catch {
    body = res.body;
  }
  return { status: res.statusCode, body };
}
