import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { describe, expect, it } from 'vitest';
import { buildHttpApp } from './app.ts';
import { policyOf, ROUTE_POLICIES } from './route-policies.ts';

describe('route policies', () => {
  it('refuses to build an app with a route that has no policy', async () => {
    const rogue: FastifyPluginAsyncZod = async (app) => {
      app.get('/api/v1/backdoor', async () => ({ ok: true }));
    };
    await expect(
      buildHttpApp({ logLevel: false, routes: [rogue], routePolicies: ROUTE_POLICIES }),
    ).rejects.toThrow(/GET \/api\/v1\/backdoor has no access policy/);
  });

  it('answers HEAD as its GET and the documentation as public; unknown routes have none', () => {
    expect(policyOf('HEAD', '/api/v1/cases/:ref')).toEqual({ access: 'signed_in', scope: 'cases:read' });
    expect(policyOf('GET', '/docs/json')).toEqual({ access: 'public', scope: null });
    expect(policyOf('POST', '/api/v1/divisions')).toBeUndefined();
  });
});
