import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db/index.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { parseActorHeader } from '../../http/actor.ts';
import { buildHttpApp, type HttpApp } from '../../http/app.ts';
import { principalFromDevActor } from '../identity/principal.ts';
import { auditRoutes } from './routes.ts';
import { AuditService } from './service.ts';

let database: Database;
let audit: AuditService;
let app: HttpApp;
beforeAll(async () => {
  database = await openTestDatabase();
  audit = new AuditService(database.db);
  app = await buildHttpApp({
    logLevel: false,
    // the development header only, as the authenticate hook maps it (identity/plugin.ts)
    authenticate: async (root) => {
      root.decorateRequest('principal', null);
      root.addHook('onRequest', async (req) => {
        const h = req.headers['x-tongban-actor'];
        if (typeof h === 'string') req.principal = principalFromDevActor(parseActorHeader(h));
      });
    },
    routes: [auditRoutes({ audit })],
  });
});
afterAll(async () => {
  await app?.close();
  await database?.close();
});

const get = (url: string, actor?: string) =>
  app.inject({ method: 'GET', url, headers: actor ? { 'x-tongban-actor': actor } : {} });

describe('GET /api/v1/audit/entries', () => {
  it('pages entries newest first for staff, and records the read itself', async () => {
    for (let i = 0; i < 3; i++) {
      await audit.record({
        actor: { kind: 'staff', id: 'li' },
        action: 'grant.create',
        target: { type: 'grant', id: `g${i}` },
      });
    }
    await audit.chainAll();
    const first = await get('/api/v1/audit/entries?action=grant.create&limit=2', 'staff:auditor1');
    expect(first.statusCode).toBe(200);
    const body = first.json();
    expect(body.items.map((e: { target: { id: string } }) => e.target.id)).toEqual(['g2', 'g1']);
    expect(body.items[0]).toMatchObject({
      actor: { kind: 'staff', id: 'li', onBehalfOf: null },
      outcome: 'ok',
    });
    expect(body.items[0].hash).toMatch(/^[0-9a-f]{64}$/);
    const second = await get(
      `/api/v1/audit/entries?action=grant.create&limit=2&cursor=${body.next}`,
      'staff:auditor1',
    );
    expect(second.json()).toMatchObject({ items: [{ target: { id: 'g0' } }], next: null });
    const reads = (await audit.list({ action: 'audit.read' })).items;
    expect(reads).toHaveLength(2);
    expect(reads[1]).toMatchObject({
      actor: { kind: 'staff', id: 'auditor1' },
      details: { filters: { action: 'grant.create', limit: 2 }, returned: 2 },
      clientIp: '127.0.0.1',
    });
  });

  it('400 without an actor or with a bad filter, 403 for a non-staff actor', async () => {
    const anonymous = await get('/api/v1/audit/entries');
    expect([anonymous.statusCode, anonymous.json().error.code]).toEqual([401, 'auth.required']);
    const bad = await get('/api/v1/audit/entries?from=yesterday', 'staff:a');
    expect([bad.statusCode, bad.json().error.field]).toEqual([400, 'from']);
    const forged = await get('/api/v1/audit/entries?cursor=abc', 'staff:a');
    expect([forged.statusCode, forged.json().error.code]).toEqual([400, 'audit.cursor_invalid']);
    const applicant = await get('/api/v1/audit/entries', 'applicant:wang');
    expect([applicant.statusCode, applicant.json().error.code]).toEqual([403, 'audit.forbidden']);
  });
});
