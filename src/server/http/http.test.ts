import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { buildHttpApp, type HttpApp } from './app.ts';

const echo: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/api/v1/echo',
    { schema: { querystring: z.object({ q: z.string().optional() }) } },
    async (req) => ({
      q: req.query.q ?? null,
    }),
  );
  app.post('/api/v1/echo', { schema: { body: z.object({ text: z.string() }) } }, async (req) => req.body);
  // an upload taken as the raw stream (as scans are): its bytes are counted, not walked as fields
  app.register(async (scoped) => {
    scoped.addContentTypeParser('image/png', (_req, payload, done) => done(null, payload));
    scoped.put('/api/v1/echo/upload', async (req) => {
      let bytes = 0;
      for await (const chunk of req.body as AsyncIterable<Buffer>) bytes += chunk.length;
      return { bytes };
    });
  });
};
const health: FastifyPluginAsyncZod = async (app) => {
  app.get('/health', async () => ({ status: 'ok' }));
};

let app: HttpApp;
beforeAll(async () => {
  app = await buildHttpApp({ logLevel: false, rateLimitMax: 5, routes: [echo], systemRoutes: [health] });
});
afterAll(() => app?.close());

describe('HTTP layer', () => {
  it('rate-limits API routes as matched — a percent-encoded path cannot dodge it — but not /health', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 5; i++) codes.push((await app.inject({ url: '/api/v1/echo' })).statusCode);
    expect(codes).toEqual([200, 200, 200, 200, 200]);
    const limited = await app.inject({ url: '/api/v1/echo' });
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('http.rate_limited');
    expect((await app.inject({ url: '/%61pi/v1/echo' })).statusCode).toBe(429);
    expect((await app.inject({ url: '/%61%70%69/v1/echo?q=x' })).statusCode).toBe(429);
    expect((await app.inject({ url: '/health' })).statusCode).toBe(200);
  });
});

describe('HTTP layer: malformed requests get the one error model', () => {
  let fresh: HttpApp;
  beforeAll(async () => {
    fresh = await buildHttpApp({ logLevel: false, rateLimitMax: 1000, routes: [echo] });
  });
  afterAll(() => fresh?.close());

  it('refuses a body nested absurdly deep with a 400, not a stack overflow', async () => {
    const deep = `${'['.repeat(50_000)}${']'.repeat(50_000)}`;
    const r = await fresh.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: `{"text":"x","more":${deep}}`,
    });
    expect([r.statusCode, r.json().error.code]).toEqual([400, 'http.too_deep']);
    const nested = await fresh.inject({
      method: 'POST',
      url: '/api/v1/echo',
      payload: { text: 'ok', list: [{ a: [{ b: ['c\u0000'] }] }] },
    });
    expect([nested.statusCode, nested.json().error.field]).toEqual([400, 'list.0.a.0.b.0']);
  });

  it('takes a raw upload stream over a real socket (the body checks do not walk into the socket)', async () => {
    const served = await buildHttpApp({ logLevel: false, rateLimitMax: 1000, routes: [echo] });
    try {
      const url = await served.listen({ port: 0, host: '127.0.0.1' });
      const res = await fetch(`${url}/api/v1/echo/upload`, {
        method: 'PUT',
        headers: { 'content-type': 'image/png' },
        body: new Uint8Array(4096),
      });
      expect([res.status, await res.json()]).toEqual([200, { bytes: 4096 }]);
    } finally {
      await served.close();
    }
  });

  it('refuses NUL characters in query and body with 400 naming the field', async () => {
    const q = await fresh.inject({ url: '/api/v1/echo?q=a%00b' });
    expect([q.statusCode, q.json().error.code, q.json().error.field]).toEqual([
      400,
      'http.nul_character',
      'q',
    ]);
    const b = await fresh.inject({ method: 'POST', url: '/api/v1/echo', payload: { text: 'a\u0000b' } });
    expect([b.statusCode, b.json().error.field]).toEqual([400, 'text']);
    const lone = await fresh.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"text":"a\\ud800b"}',
    });
    expect([lone.statusCode, lone.json().error.code]).toEqual([400, 'http.nul_character']);
    const key = await fresh.inject({
      method: 'POST',
      url: '/api/v1/echo',
      headers: { 'content-type': 'application/json' },
      payload: '{"text":"ok","k\\u0000":1}',
    });
    expect(key.statusCode).toBe(400);
  });

  it('answers a bad percent escape and a doubled slash sensibly', async () => {
    const bad = await fresh.inject({ url: '/api/v1/echo/%FF' });
    expect(bad.statusCode).toBeGreaterThanOrEqual(400);
    expect(bad.json().error.code).toMatch(/^http\./);
    expect((await fresh.inject({ url: '//api/v1/echo?q=x' })).json()).toEqual({ q: 'x' });
  });
});

describe('error logs', () => {
  it('keep neither the message nor the stack head of a query error with its parameters', async () => {
    const { loggable } = await import('./errors.ts');
    const e = Object.assign(new Error('duplicate key value\nparams: resident,张三丰,13800138000'), {
      params: ['resident', '张三丰', '13800138000'],
      query: 'insert into identity_accounts …',
    });
    const line = JSON.stringify(loggable(e));
    expect(line).not.toContain('13800138000');
    expect(line).not.toContain('张三丰');
    expect(line).toContain('duplicate key value');
    expect(line).toContain('at ');
  });
});
