import { describe, expect, it } from 'vitest';
import { loadAuthConfig } from './config.ts';
import { redactOneTimeCodes } from './redact.ts';

describe('loadAuthConfig', () => {
  it('defaults: 30 min idle, 12 h absolute; Secure cookie off only on loopback outside production', () => {
    const dev = loadAuthConfig({});
    expect(dev).toMatchObject({
      idleMinutes: 30,
      absoluteHours: 12,
      cookieSecure: false,
      devActorHeader: true,
    });
    expect(loadAuthConfig({ HOST: '0.0.0.0' })).toMatchObject({ cookieSecure: true, devActorHeader: false });
    expect(loadAuthConfig({ HOST: '0.0.0.0', DEV_ACTOR_HEADER: 'true' }).devActorHeader).toBe(true);
    expect(loadAuthConfig({ NODE_ENV: 'production' })).toMatchObject({
      cookieSecure: true,
      devActorHeader: false,
    });
    expect(loadAuthConfig({ HOST: '0.0.0.0', SESSION_COOKIE_SECURE: 'false' }).cookieSecure).toBe(false);
  });

  it('refuses the development header in production, half an OIDC configuration, and bad numbers', () => {
    expect(() => loadAuthConfig({ NODE_ENV: 'production', DEV_ACTOR_HEADER: 'true' })).toThrow(
      expect.objectContaining({ field: 'DEV_ACTOR_HEADER' }),
    );
    expect(() => loadAuthConfig({ OIDC_ISSUER: 'https://id.guizhou.example' })).toThrow(
      expect.objectContaining({ field: 'OIDC_CLIENT_ID' }),
    );
    expect(() => loadAuthConfig({ SESSION_IDLE_MINUTES: '0' })).toThrow(
      expect.objectContaining({ field: 'SESSION_IDLE_MINUTES' }),
    );
  });
});

describe('log redaction', () => {
  it('redacts sign-in codes from log lines', () => {
    expect(redactOneTimeCodes('SMS to 138****4321: 【贵州通办】验证码 042917，5 分钟内有效')).toBe(
      'SMS to 138****4321: 【贵州通办】验证码 ******，5 分钟内有效',
    );
  });
});
