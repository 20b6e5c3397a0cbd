import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { brotliCompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp, type HttpApp } from './app.ts';
import { ROUTE_POLICIES } from './route-policies.ts';

let app: HttpApp;
let root: string;
beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-web-'));
  fs.mkdirSync(path.join(root, 'staff'));
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>citizen</title>');
  fs.writeFileSync(path.join(root, 'staff/index.html'), '<!doctype html><title>staff</title>');
  fs.writeFileSync(path.join(root, 'assets/app-abc.js'), 'console.log(1)');
  // what the build writes beside each file (vite.config.ts precompress)
  fs.writeFileSync(path.join(root, 'index.html.gz'), gzipSync('<!doctype html><title>citizen</title>'));
  fs.writeFileSync(path.join(root, 'assets/app-abc.js.br'), brotliCompressSync('console.log(1)'));
  fs.writeFileSync(path.join(root, 'sw.js'), 'self.addEventListener("fetch", () => {})');
  fs.writeFileSync(path.join(root, 'manifest.webmanifest'), '{"name":"通办"}');
  app = await buildHttpApp({ logLevel: false, routes: [], webRoot: root, routePolicies: ROUTE_POLICIES });
});
afterAll(async () => {
  await app?.close();
  fs.rmSync(root, { recursive: true, force: true });
});

describe('web client', () => {
  it('serves the citizen page at / and the staff workbench at /staff/ and every client-side route under it', async () => {
    expect((await app.inject({ url: '/' })).body).toContain('citizen');
    for (const url of [
      '/staff',
      '/staff/',
      '/staff/inbox',
      '/staff/cases/522601202612010000001',
      '/staff/admin/halls',
    ]) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body, url).toContain('<title>staff</title>');
      expect(res.headers['cache-control'], url).toBe('no-cache');
    }
    const asset = await app.inject({ url: '/assets/app-abc.js' });
    expect(asset.headers['cache-control']).toContain('immutable');
    expect((await app.inject({ url: '/api/v1/nothing' })).statusCode).toBe(404);
  });

  it('sends the precompressed variant the browser accepts, with the headers of the original file', async () => {
    const page = await app.inject({ url: '/', headers: { 'accept-encoding': 'gzip, deflate' } });
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.headers.vary).toMatch(/accept-encoding/i);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(gunzipSync(page.rawPayload).toString()).toContain('citizen');
    const asset = await app.inject({ url: '/assets/app-abc.js', headers: { 'accept-encoding': 'br, gzip' } });
    expect(asset.headers['content-encoding']).toBe('br');
    expect(asset.headers['cache-control']).toContain('immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);
    // a browser that accepts no encoding gets the file itself
    const plain = await app.inject({ url: '/assets/app-abc.js', headers: { 'accept-encoding': 'identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe('console.log(1)');
  });

  it('serves the service worker and the web manifest revalidated on every load, the manifest with its own type', async () => {
    const sw = await app.inject({ url: '/sw.js' });
    expect(sw.statusCode).toBe(200);
    expect(sw.headers['cache-control']).toBe('no-cache');
    expect(sw.headers['content-type']).toMatch(/javascript/);
    const manifest = await app.inject({ url: '/manifest.webmanifest' });
    expect(manifest.statusCode).toBe(200);
    expect(manifest.headers['cache-control']).toBe('no-cache');
    expect(manifest.headers['content-type']).toBe('application/manifest+json; charset=utf-8');
    expect(manifest.json()).toEqual({ name: '通办' });
  });
});
