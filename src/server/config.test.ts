import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';

describe('config from the environment', () => {
  it('has laptop defaults: embedded database in var/, port 3000', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: path.resolve('var'),
    });
  });
  it('takes DATABASE_URL, PORT and DATA_DIR', () => {
    const c = loadConfig({ DATABASE_URL: 'postgres://a@b/c', PORT: '8080', DATA_DIR: '/tmp/x' });
    expect(c).toMatchObject({ port: 8080, databaseUrl: 'postgres://a@b/c', dataDir: '/tmp/x' });
  });
  it('refuses TRUST_PROXY=true in production (clients would pick their address): list the proxies', () => {
    expect(() => loadConfig({ NODE_ENV: 'production', TRUST_PROXY: 'true' })).toThrow(
      /TRUST_PROXY=true .*list your reverse proxies/,
    );
    expect(loadConfig({ NODE_ENV: 'production', TRUST_PROXY: '10.0.0.5,10.0.1.0/24' }).trustProxy).toBe(
      '10.0.0.5,10.0.1.0/24',
    );
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
  });
  it('names the bad variable and what it must look like', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL must start with postgres:\/\//,
    );
  });
});
