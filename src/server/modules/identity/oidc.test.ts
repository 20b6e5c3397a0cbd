import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcFlowCookieName, sessionCookieName } from './plugin.ts';
import { type IdentityHarness, startIdentityHarness, testIdNumber } from './test-support.ts';

/**
 * OpenID Connect against a REAL provider (`oidc-provider`) on 127.0.0.1: the whole authorization code flow
 * with PKCE, state and nonce over HTTP — the provider's development login and consent forms are filled in
 * and posted like a browser would.
 */

const REDIRECT = 'https://tongban.test/api/v1/auth/oidc/callback';
const CLIENT_SECRET = 'a-client-secret-for-the-test-0123456789';
/** the provider's users: sub → claims */
const USERS: Record<string, Record<string, unknown>> = {
  'gz-0001': {
    name: '吴九',
    id_number: testIdNumber(401),
    id_number_verified: true,
    phone_number: '13900000401',
  },
  'gz-0002': { name: '郑十', id_number: testIdNumber(402), id_number_verified: true },
  'gz-0003': { name: '无名', id_number: testIdNumber(403), id_number_verified: false },
};

let server: http.Server;
let issuer: string;
let h: IdentityHarness;

beforeAll(async () => {
  server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: 'tongban',
        client_secret: CLIENT_SECRET,
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    async findAccount(_ctx, sub) {
      const claims = USERS[sub];
      return claims ? { accountId: sub, claims: async () => ({ sub, ...claims }) } : undefined;
    },
    claims: {
      openid: ['sub'],
      profile: ['name', 'id_number', 'id_number_verified'],
      phone: ['phone_number'],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: true } },
    cookies: { keys: ['oidc-provider-test-cookie-key'] },
  });
  server.on('request', provider.callback());
  h = await startIdentityHarness({
    env: {
      OIDC_ISSUER: issuer,
      OIDC_CLIENT_ID: 'tongban',
      OIDC_CLIENT_SECRET: CLIENT_SECRET,
      OIDC_REDIRECT_URI: REDIRECT,
    },
  });
  // the provider's tokens are checked against the real time; the harness clock only runs our sessions
  h.advance(Date.now() - h.now().getTime());
});

afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** Follows the provider's redirects and posts its login/consent forms like a browser, until it redirects to us. */
async function signInAtProvider(authorizationUrl: string, login: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  let method = 'GET';
  let body: URLSearchParams | undefined;
  for (let i = 0; i < 20; i++) {
    const res = await fetch(url, {
      method,
      redirect: 'manual',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') },
      ...(body ? { body } : {}),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [k, ...v] = pair!.split('=');
      jar.set(k!.trim(), v.join('='));
    }
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location')!, url);
      if (next.href.startsWith(REDIRECT)) return next;
      url = next.href;
      method = 'GET';
      body = undefined;
      continue;
    }
    const html = await res.text();
    expect(res.status, html.slice(0, 500)).toBe(200);
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`no form at ${url}: ${html.slice(0, 300)}`);
    body = new URLSearchParams();
    for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g))
      body.set(m[1]!, m[2]!);
    if (body.get('prompt') === 'login') {
      body.set('login', login);
      body.set('password', 'any');
    }
    url = new URL(action.replaceAll('&amp;', '&'), url).href;
    method = 'POST';
  }
  throw new Error('too many steps at the provider');
}

const FLOW = oidcFlowCookieName(false);
const SESSION = sessionCookieName(false);

async function federatedLogin(login: string, returnTo = '/cases') {
  const start = await h.app.inject({
    method: 'GET',
    url: `/api/v1/auth/oidc/start?returnTo=${encodeURIComponent(returnTo)}`,
  });
  expect(start.statusCode, start.body).toBe(303);
  const location = new URL(start.headers.location as string);
  expect(location.origin).toBe(issuer);
  expect(location.searchParams.get('code_challenge_method')).toBe('S256');
  expect(location.searchParams.get('state')).toBeTruthy();
  expect(location.searchParams.get('nonce')).toBeTruthy();
  const flow = start.cookies.find((c) => c.name === FLOW)!;
  expect(flow.httpOnly).toBe(true);
  const back = await signInAtProvider(location.href, login);
  expect(back.searchParams.get('code')).toBeTruthy();
  const callback = await h.app.inject({
    method: 'GET',
    url: `/api/v1/auth/oidc/callback${back.search}`,
    cookies: { [FLOW]: flow.value },
  });
  return { callback, back, flow: flow.value };
}

describe('OpenID Connect sign-in', () => {
  it('creates a resident from verified claims on first sign-in, finds the same account next time', async () => {
    const first = await federatedLogin('gz-0001');
    expect(first.callback.statusCode, first.callback.body).toBe(303);
    expect(first.callback.headers.location).toBe('/cases');
    const cookie = first.callback.cookies.find((c) => c.name === SESSION)!.value;
    const me = await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', cookies: { [SESSION]: cookie } });
    expect(me.statusCode, me.body).toBe(200);
    expect(me.json().account).toMatchObject({
      kind: 'resident',
      name: '吴九',
      idNumber: `5201**********${testIdNumber(401).slice(-4)}`,
      phone: '139****0401',
    });
    const second = await federatedLogin('gz-0001', '/');
    const cookie2 = second.callback.cookies.find((c) => c.name === SESSION)!.value;
    const me2 = await h.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      cookies: { [SESSION]: cookie2 },
    });
    expect(me2.json().account.id).toBe(me.json().account.id);
  });

  it('links to an existing resident with the same ID number, taking it over from whoever registered it', async () => {
    // Someone registered this ID number with their own phone and password (nothing proved the ID) …
    const local = await h.identity.registerResident({
      name: '郑十',
      idNumber: testIdNumber(402),
      phone: '13900000402',
      password: 'Squatter-Pass-2026',
    });
    const squatter = await h.identity.loginWithPassword(
      { phone: '13900000402', password: 'Squatter-Pass-2026' },
      '127.0.0.9',
    );
    // … then the real person signs in through the province's platform, which verified the ID number.
    const { callback } = await federatedLogin('gz-0002');
    expect(callback.statusCode, callback.body).toBe(303);
    const cookie = callback.cookies.find((c) => c.name === SESSION)!.value;
    const me = await h.app.inject({ method: 'GET', url: '/api/v1/auth/me', cookies: { [SESSION]: cookie } });
    expect(me.json().account.id).toBe(local.id);
    // The registrant's session, password and phone no longer open the account.
    expect(await h.identity.resolveSession(squatter.sessionId)).toBeNull();
    await expect(
      h.identity.loginWithPassword({ phone: '13900000402', password: 'Squatter-Pass-2026' }, '127.0.0.9'),
    ).rejects.toMatchObject({ code: 'auth.invalid_credentials' });
  });

  it('refuses an identity whose ID number the platform did not verify', async () => {
    const { callback } = await federatedLogin('gz-0003');
    expect(callback.statusCode).toBe(403);
    expect(callback.json().error.code).toBe('auth.oidc_unverified');
  });

  it('refuses a callback without the browser’s flow cookie, a replayed callback and a forged state', async () => {
    const start = await h.app.inject({ method: 'GET', url: '/api/v1/auth/oidc/start' });
    const back = await signInAtProvider(start.headers.location as string, 'gz-0001');
    const flow = start.cookies.find((c) => c.name === FLOW)!.value;
    const noCookie = await h.app.inject({ method: 'GET', url: `/api/v1/auth/oidc/callback${back.search}` });
    expect(noCookie.statusCode).toBe(401);
    expect(noCookie.json().error.code).toBe('auth.oidc_failed');
    const forged = new URL(back.href);
    forged.searchParams.set('state', 'forged-state');
    const bad = await h.app.inject({
      method: 'GET',
      url: `/api/v1/auth/oidc/callback${forged.search}`,
      cookies: { [FLOW]: flow },
    });
    expect(bad.statusCode).toBe(401);
    // the flow was consumed by the failed attempt: the genuine response cannot be used afterwards either
    const replay = await h.app.inject({
      method: 'GET',
      url: `/api/v1/auth/oidc/callback${back.search}`,
      cookies: { [FLOW]: flow },
    });
    expect(replay.statusCode).toBe(401);
  });

  it('refuses a returnTo outside this site (no open redirect)', async () => {
    const res = await h.app.inject({
      method: 'GET',
      url: '/api/v1/auth/oidc/start?returnTo=//evil.example/',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('returnTo');
  });

  it('logs neither the authorization code nor personal data', async () => {
    const { back } = await federatedLogin('gz-0001');
    const all = h.logs.join('\n');
    expect(all).toContain('/api/v1/auth/oidc/callback');
    expect(all).not.toContain(back.searchParams.get('code')!);
    expect(all).not.toContain(testIdNumber(401));
    expect(all).not.toContain('13900000401');
  });
});
