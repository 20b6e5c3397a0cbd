/**
 * The live socket handles a client's frames one at a time and in order, and closes (1008) a client that
 * floods it: every subscribe reads the database, and frames handled concurrently also slipped past the
 * per-socket subscription limit. Real server listening on a port, real database.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../config.ts';
import type { Database } from '../../db/index.ts';
import { openTestDatabase } from '../../db/testing.ts';
import { type RunningServer, startServer } from '../../main.ts';
import { signedInStaff } from '../../testing.ts';
import { MAX_PENDING_FRAMES } from './live.ts';

const KAILI_HALL = '522601-zwfw';
let database: Database;
let dataDir: string;
let server: RunningServer;
let cookie = '';

async function open(): Promise<{
  ws: WebSocket;
  frames: Record<string, unknown>[];
  closed: Promise<number>;
}> {
  const frames: Record<string, unknown>[] = [];
  const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/messaging/live`, {
    headers: { cookie, origin: server.url },
  });
  ws.on('message', (d) => frames.push(JSON.parse(d.toString())));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, frames, closed };
}

beforeAll(async () => {
  database = await openTestDatabase();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-live-'));
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '100000',
    JOBS_INTERVAL_MS: '0',
    DATA_DIR: dataDir,
    PORT: '0',
    HOST: '127.0.0.1',
  });
  server = await startServer(config, { database, jobs: false });
  cookie = (
    await signedInStaff(server, {
      username: 'live-clerk',
      hallCode: KAILI_HALL,
      grant: { role: 'intake_clerk', kind: 'hall', value: KAILI_HALL },
    })
  ).cookie;
}, 120_000);
afterAll(async () => {
  await server?.close();
  await database?.close();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('live socket frames', () => {
  it('answers a burst within the limit one by one, in order', async () => {
    const { ws, frames } = await open();
    const refs = Array.from({ length: 20 }, (_, i) => `5226012026120100${String(i).padStart(5, '0')}`);
    for (const ref of refs) ws.send(JSON.stringify({ type: 'subscribe', case: ref }));
    const until = Date.now() + 10_000;
    while (frames.length < refs.length && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(frames.map((f) => [f.type, f.code, f.case])).toEqual(
      refs.map((ref) => ['error', 'case.not_found', ref]),
    );
    expect(ws.readyState).toBe(WebSocket.OPEN);
    ws.close();
  });

  it('closes a client that floods it (1008)', async () => {
    const { ws, frames, closed } = await open();
    for (let i = 0; i < MAX_PENDING_FRAMES * 10; i++)
      ws.send(JSON.stringify({ type: 'subscribe', case: `5226012026120100${String(i).padStart(5, '0')}` }));
    expect(await closed).toBe(1008);
    expect(frames.some((f) => f.code === 'live.too_many_frames')).toBe(true);
    expect(frames.length).toBeLessThan(MAX_PENDING_FRAMES * 2);
  });
});
