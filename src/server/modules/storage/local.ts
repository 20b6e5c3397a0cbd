import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { invalid, notFound } from '../../../domain/errors.ts';
import {
  assertSafeKey,
  type FileBody,
  type FileStore,
  metered,
  type StoredFile,
  sm3Hash,
  storeUnavailable,
} from './file-store.ts';

/**
 * Files in a local folder (default: `DATA_DIR/files`). A key `a/b/c` is the file `<root>/a/b/c`; only
 * safe keys are accepted (see `isSafeKey`), and the resolved path is checked to stay inside the root.
 * Writes go to a temporary file in the same folder (name starting with `.`, which no key can have),
 * are flushed to disk (fsync) and renamed over the target: a reader or a crash sees the old file or the
 * new one, never a partial one.
 */
export class LocalFileStore implements FileStore {
  readonly kind = 'local' as const;
  readonly root: string;
  readonly maxBytes: number;
  readonly describe: string;

  constructor(options: { root: string; maxBytes: number }) {
    this.root = path.resolve(options.root);
    this.maxBytes = options.maxBytes;
    this.describe = `local folder ${this.root}`;
  }

  /** Absolute path of a key, checked to lie inside the root. */
  pathOf(key: string): string {
    assertSafeKey(key);
    const target = path.resolve(this.root, key);
    if (!target.startsWith(this.root + path.sep)) {
      // unreachable for safe keys; kept as a second wall
      throw invalid('key', `The file key ${key} leads outside the file store.`, 'file.key_unsafe');
    }
    return target;
  }

  async put(key: string, body: FileBody, _options: { contentType: string }): Promise<StoredFile> {
    const target = this.pathOf(key);
    const dir = path.dirname(target);
    await fs.mkdir(dir, { recursive: true });
    const temp = path.join(dir, `.${path.basename(target)}.${randomUUID()}.tmp`);
    const hash = sm3Hash();
    let bytes = 0;
    const handle = await fs.open(temp, 'wx', 0o640);
    try {
      try {
        for await (const chunk of metered(body, this.maxBytes, hash)) {
          await handle.write(chunk);
          bytes += chunk.byteLength;
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fs.rename(temp, target);
    } catch (e) {
      await fs.rm(temp, { force: true });
      throw e;
    }
    return { key, bytes, sm3: hash.digest('hex') };
  }

  async get(key: string): Promise<Readable> {
    const target = this.pathOf(key);
    // Open first, so a missing file is a clean not-found rather than a stream error later.
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(target, 'r');
    } catch (e) {
      throw this.mapError(e, key);
    }
    return handle.createReadStream(); // closes the handle when done or destroyed
  }

  async exists(key: string): Promise<boolean> {
    const target = this.pathOf(key);
    try {
      return (await fs.stat(target)).isFile();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw this.mapError(e, key);
    }
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  close(): void {}

  private mapError(e: unknown, key: string): Error {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') {
      return notFound('file.not_found', `No stored file ${key}.`, 'key');
    }
    return storeUnavailable(this.describe, e);
  }
}
