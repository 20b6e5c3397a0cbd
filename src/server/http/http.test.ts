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
