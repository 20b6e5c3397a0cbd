import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rejectionOf } from '../../../testing/app-error.ts';
import {
  createFileStore,
  type FileStore,
  isSafeKey,
  LocalFileStore,
  loadFileStoreConfig,
  readAll,
  type S3FileStore,
} from './service.ts';

/** Real adapters only: a temporary folder, and a real S3-compatible HTTP server (s3rver) on a free port. */

const sm3 = (b: Uint8Array) => createHash('sm3').update(b).digest('hex');
const bytes = (n: number, seed = 7) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
};
const read = async (store: FileStore, key: string) =>
  readAll(await store.get(key), 1 << 30, () => new Error());
/** A stream of `total` bytes in 64 KiB chunks, like an HTTP upload. */
const chunked = (b: Buffer) =>
  Readable.from(
    (function* () {
      for (let i = 0; i < b.length; i += 65536) yield b.subarray(i, i + 65536);
    })(),
  );

let tmp: string;
beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'tongban-storage-'));
});
afterAll(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

/** The behaviour both adapters share. */
function contract(name: string, make: () => FileStore) {
  describe(`${name}: the FileStore contract`, () => {
    it('stores bytes and a stream, returns their size and SM3 digest (node:crypto), reads them back', async () => {
      const store = make();
      const small = Buffer.from('贵州通办 材料扫描件');
      const r1 = await store.put('cases/c1/1/a.pdf', small, { contentType: 'application/pdf' });
      expect(r1).toEqual({ key: 'cases/c1/1/a.pdf', bytes: small.length, sm3: sm3(small) });
      const big = bytes(1_000_003);
      const r2 = await store.put('cases/c1/1/b.jpg', chunked(big), { contentType: 'image/jpeg' });
      expect(r2).toEqual({ key: 'cases/c1/1/b.jpg', bytes: big.length, sm3: sm3(big) });
      expect(Buffer.compare(await read(store, 'cases/c1/1/a.pdf'), small)).toBe(0);
      expect(Buffer.compare(await read(store, 'cases/c1/1/b.jpg'), big)).toBe(0);
      expect(await store.exists('cases/c1/1/a.pdf')).toBe(true);
      expect(await store.exists('cases/c1/1/none')).toBe(false);
    });

    it('replaces a file under the same key, and deletes (a missing file too)', async () => {
      const store = make();
      await store.put('k/replace', Buffer.from('old'), { contentType: 'application/octet-stream' });
      await store.put('k/replace', Buffer.from('new!'), { contentType: 'application/octet-stream' });
      expect((await read(store, 'k/replace')).toString()).toBe('new!');
      await store.delete('k/replace');
      await store.delete('k/replace');
      expect(await store.exists('k/replace')).toBe(false);
      const e = await rejectionOf(store.get('k/replace'));
      expect([e.status, e.code]).toEqual([404, 'file.not_found']);
    });

    it('refuses a body past the limit with a clear 413, storing nothing (buffer and stream)', async () => {
      const store = make();
      const tooBig = bytes(store.maxBytes + 1);
      const e1 = await rejectionOf(store.put('k/big', tooBig, { contentType: 'image/png' }));
      expect([e1.status, e1.code]).toEqual([413, 'file.too_large']);
      expect(e1.message).toContain(`limit of ${store.maxBytes} bytes`);
      expect(e1.message).toContain('FILES_MAX_BYTES');
      const e2 = await rejectionOf(store.put('k/big', chunked(tooBig), { contentType: 'image/png' }));
      expect([e2.status, e2.code]).toEqual([413, 'file.too_large']);
      expect(await store.exists('k/big')).toBe(false);
      // exactly the limit is fine
      const exact = bytes(store.maxBytes);
      expect((await store.put('k/exact', chunked(exact), { contentType: 'image/png' })).bytes).toBe(
        store.maxBytes,
      );
    });

    it('refuses unsafe keys (path traversal, absolute paths, hidden names) on every operation', async () => {
      const store = make();
      for (const key of [
        '../x',
        'a/../../etc/passwd',
        '/etc/passwd',
        'a//b',
        'a/',
        '.hidden',
        'a\\b',
        '',
        'a/./b',
        'a\u0000b',
        'a b',
        `${'x'.repeat(129)}`,
      ]) {
        for (const op of [
          () => store.put(key, Buffer.from('x'), { contentType: 'text/plain' }),
          () => store.get(key),
          () => store.exists(key),
          () => store.delete(key),
        ]) {
          const e = await rejectionOf(op);
          expect([key, e.status, e.code]).toEqual([key, 400, 'file.key_unsafe']);
        }
      }
    });
  });
}

describe('safe keys', () => {
  it('accepts segment paths of letters, digits, . _ - and refuses anything that could escape', () => {
    expect(isSafeKey('cases/0b6c-11/1/3f2a.pdf')).toBe(true);
    expect(isSafeKey('a..b')).toBe(true); // dots inside a name are harmless
    for (const k of ['..', '.', 'a/..', '../a', '/a', 'a/', 'a\\..\\b', '%2e%2e/a', 'C:/x', 'a/.b']) {
      expect([k, isSafeKey(k)]).toEqual([k, false]);
    }
  });
});

contract(
  'LocalFileStore',
  () => new LocalFileStore({ root: path.join(tmp, 'files'), maxBytes: 2 * 1024 * 1024 }),
);

describe('LocalFileStore on disk', () => {
  it('writes atomically: no temporary file is left, after success or after a refused body', async () => {
    const root = path.join(tmp, 'atomic');
    const store = new LocalFileStore({ root, maxBytes: 4096 });
    await store.put('a/ok', bytes(4000), { contentType: 'application/pdf' });
    await rejectionOf(store.put('a/ok', bytes(5000), { contentType: 'application/pdf' }));
    // a failing source stream: the old file stays whole, no temp file remains
    const failing = Readable.from(
      (async function* () {
        yield Buffer.from('partial');
        throw new Error('connection reset');
      })(),
    );
    await expect(store.put('a/ok', failing, { contentType: 'application/pdf' })).rejects.toThrow(
      'connection reset',
    );
    expect(await filesUnder(root)).toEqual(['a/ok']);
    expect(Buffer.compare(await read(store, 'a/ok'), bytes(4000))).toBe(0);
  });

  it('maps a key to the same relative path under its root', async () => {
    const root = path.join(tmp, 'root2');
    const store = new LocalFileStore({ root, maxBytes: 4096 });
    await store.put('x/y', Buffer.from('1'), { contentType: 'text/plain' });
    expect(store.pathOf('x/y')).toBe(path.join(root, 'x', 'y'));
    expect(await fs.readFile(path.join(root, 'x', 'y'), 'utf8')).toBe('1');
  });
});

describe('createFileStore', () => {
  it('defaults to a local folder DATA_DIR/files with a 20 MiB limit', () => {
    const store = createFileStore({}, tmp);
    expect(store.kind).toBe('local');
    expect(store.maxBytes).toBe(20 * 1024 * 1024);
    expect((store as LocalFileStore).root).toBe(path.join(tmp, 'files'));
    expect(createFileStore({ FILES_MAX_BYTES: '1048576' }, tmp).maxBytes).toBe(1048576);
  });

  it('picks S3 when FILES_S3_BUCKET is set (path-style by default with an endpoint)', () => {
    const c = loadFileStoreConfig(
      {
        FILES_S3_BUCKET: 'tongban-files',
        FILES_S3_ENDPOINT: 'http://minio.internal:9000',
        FILES_S3_ACCESS_KEY_ID: 'id',
        FILES_S3_SECRET_ACCESS_KEY: 'secret',
      },
      tmp,
    );
    expect(c.s3).toEqual({
      bucket: 'tongban-files',
      endpoint: 'http://minio.internal:9000',
      region: 'us-east-1',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      forcePathStyle: true,
    });
    const store = createFileStore(
      { FILES_S3_BUCKET: 'tongban-files', FILES_S3_REGION: 'cn-southwest-2' },
      tmp,
    );
    expect(store.kind).toBe('s3');
    expect(store.describe).not.toContain('secret');
    store.close();
  });

  it('names the variable that is wrong', () => {
    const cases: [Record<string, string>, string][] = [
      [{ FILES_MAX_BYTES: 'lots' }, 'FILES_MAX_BYTES'],
      [{ FILES_S3_ENDPOINT: 'http://minio:9000' }, 'FILES_S3_BUCKET'],
      [{ FILES_S3_BUCKET: 'b-1', FILES_S3_ACCESS_KEY_ID: 'id' }, 'FILES_S3_SECRET_ACCESS_KEY'],
      [{ FILES_S3_BUCKET: 'B_1' }, 'FILES_S3_BUCKET'],
      [{ FILES_S3_BUCKET: 'b-1', FILES_S3_FORCE_PATH_STYLE: 'yes' }, 'FILES_S3_FORCE_PATH_STYLE'],
    ];
    for (const [env, field] of cases) {
      let error: unknown;
      try {
        createFileStore(env, tmp);
      } catch (e) {
        error = e;
      }
      expect([field, (error as { field?: string })?.field, (error as { code?: string })?.code]).toEqual([
        field,
        field,
        'config.invalid',
      ]);
    }
  });
});

describe('S3FileStore against a real S3-compatible server (s3rver)', () => {
  let s3: S3rver;
  let endpoint = '';
  const stores: S3FileStore[] = [];
  beforeAll(async () => {
    s3 = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: path.join(tmp, 's3rver'),
      configureBuckets: [{ name: 'tongban-files' }],
    });
    const { port } = await s3.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const s of stores) s.close();
    await s3?.close();
  });
  const make = () => {
    const store = createFileStore(
      {
        FILES_S3_BUCKET: 'tongban-files',
        FILES_S3_ENDPOINT: endpoint,
        FILES_S3_ACCESS_KEY_ID: 'S3RVER',
        FILES_S3_SECRET_ACCESS_KEY: 'S3RVER',
        FILES_MAX_BYTES: String(2 * 1024 * 1024),
      },
      tmp,
    ) as S3FileStore;
    stores.push(store);
    return store;
  };

  it('is an S3 store at the test endpoint', () => {
    const store = make();
    expect(store.kind).toBe('s3');
    expect(store.describe).toContain(endpoint);
  });

  contract('S3FileStore', make);

  it('reports an unreachable store as 503 file.store_unavailable', async () => {
    const store = createFileStore(
      {
        FILES_S3_BUCKET: 'tongban-files',
        FILES_S3_ENDPOINT: 'http://127.0.0.1:9', // discard port: nothing listens
        FILES_S3_ACCESS_KEY_ID: 'x',
        FILES_S3_SECRET_ACCESS_KEY: 'y',
      },
      tmp,
    );
    stores.push(store as S3FileStore);
    const e = await rejectionOf(store.put('k/x', Buffer.from('x'), { contentType: 'text/plain' }));
    expect([e.status, e.code]).toEqual([503, 'file.store_unavailable']);
    const e2 = await rejectionOf(store.get('k/x'));
    expect(e2.code).toBe('file.store_unavailable');
  });
});
