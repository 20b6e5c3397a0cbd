import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { AppError, invalid } from '../../../domain/errors.ts';

/**
 * File storage (scanned materials, later recordings): one interface, two adapters — a local folder
 * (default, `DATA_DIR/files`) and S3-compatible object storage (production). Every write computes the
 * SM3 digest (GB/T 32905-2016) of the bytes while they are written, so callers can record it and verify
 * it on every read (tamper evidence).
 */

/** What a write stored: the key, the size in bytes and the SM3 digest (64 lowercase hex digits). */
export interface StoredFile {
  key: string;
  bytes: number;
  sm3: string;
}

/** A file's bytes as given to {@link FileStore.put}: a buffer, a Node stream or any async byte iterable. */
export type FileBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

export interface FileStore {
  /** `local` or `s3`. */
  readonly kind: 'local' | 's3';
  /** Upload limit in bytes (FILES_MAX_BYTES); a longer body is refused with `file.too_large` (413). */
  readonly maxBytes: number;
  /** Where the files go, for logs (never a secret). */
  readonly describe: string;
  /**
   * Stores `body` under `key` (replacing an existing file atomically: a reader sees the old or the new
   * bytes, never a mix). The SM3 digest is computed while writing.
   * @throws AppError(validation, `file.key_unsafe`) for a key that is not {@link isSafeKey};
   *         AppError(payload_too_large, `file.too_large`) past {@link maxBytes} (nothing is stored);
   *         AppError(unavailable, `file.store_unavailable`) when the object store cannot be reached.
   */
  put(key: string, body: FileBody, options: { contentType: string }): Promise<StoredFile>;
  /**
   * The file's bytes as a stream.
   * @throws AppError(not_found, `file.not_found`); `file.key_unsafe`; `file.store_unavailable`.
   */
  get(key: string): Promise<Readable>;
  /** Whether a file exists under `key`. @throws `file.key_unsafe`; `file.store_unavailable`. */
  exists(key: string): Promise<boolean>;
  /** Deletes the file; deleting a missing file is not an error. @throws `file.key_unsafe`. */
  delete(key: string): Promise<void>;
  /** Releases connections (the S3 client); the local store has none. */
  close(): void;
}

/** Default upload limit: 20 MiB. */
export const DEFAULT_MAX_FILE_BYTES = 20 * 1024 * 1024;

const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Safe keys: 1–512 characters, segments separated by `/`, each segment 1–128 of `A–Z a–z 0–9 . _ -`
 * not starting with `.` (so no `.`/`..`, no hidden or temporary names), no leading/trailing/double `/`,
 * no backslash, no NUL. Both adapters accept exactly these, so a key means the same everywhere and
 * can never leave the store's folder or prefix.
 */
export function isSafeKey(key: unknown): key is string {
  return (
    typeof key === 'string' &&
    key.length >= 1 &&
    key.length <= 512 &&
    key.split('/').every((segment) => SEGMENT.test(segment))
  );
}

/** @throws AppError(validation, `file.key_unsafe`) unless {@link isSafeKey}. */
export function assertSafeKey(key: unknown): asserts key is string {
  if (!isSafeKey(key)) {
    throw invalid(
      'key',
      'A file key is 1–512 characters: segments of letters, digits, ".", "_" or "-" separated by "/", none starting with "." (no "..", no absolute paths).',
      'file.key_unsafe',
    );
  }
}

/** The error for a body longer than the limit (413). */
export function fileTooLarge(maxBytes: number, bytes?: number): AppError {
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MB`;
  return new AppError(
    'payload_too_large',
    'file.too_large',
    `${bytes === undefined ? 'The file is larger than' : `The file has ${bytes} bytes (${mb(bytes)}); more than`} the limit of ${maxBytes} bytes (${mb(maxBytes)}, FILES_MAX_BYTES). Scan at a lower resolution, or split the material into several files.`,
    { field: 'file' },
  );
}

/**
 * Iterates `body` in chunks, counting bytes and updating an SM3 hash; throws {@link fileTooLarge} as
 * soon as the count passes `maxBytes` (before the chunk is handed on). A Node stream is NOT destroyed
 * when iteration stops early, so an HTTP request can still be answered with the 413.
 */
export async function* metered(
  body: FileBody,
  maxBytes: number,
  hash: ReturnType<typeof createHash>,
): AsyncGenerator<Uint8Array> {
  if (body instanceof Uint8Array) {
    if (body.byteLength > maxBytes) throw fileTooLarge(maxBytes, body.byteLength);
    hash.update(body);
    yield body;
    return;
  }
  const iterable: AsyncIterable<unknown> =
    body instanceof Readable ? body.iterator({ destroyOnReturn: false }) : body;
  let total = 0;
  for await (const raw of iterable) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Uint8Array);
    total += chunk.byteLength;
    if (total > maxBytes) throw fileTooLarge(maxBytes);
    hash.update(chunk);
    yield chunk;
  }
}

/** A new SM3 hash (node:crypto, OpenSSL). */
export function sm3Hash(): ReturnType<typeof createHash> {
  return createHash('sm3');
}

/** SM3 digest (hex) of bytes. */
export function sm3Hex(bytes: Uint8Array): string {
  return createHash('sm3').update(bytes).digest('hex');
}

/**
 * Reads a whole stream into memory, refusing more than `maxBytes` (then `onTooLarge` is thrown).
 * For files that must be verified before any byte is handed on (SM3 check on download).
 */
export async function readAll(stream: Readable, maxBytes: number, onTooLarge: () => Error): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += b.byteLength;
      if (total > maxBytes) throw onTooLarge();
      chunks.push(b);
    }
  } finally {
    stream.destroy();
  }
  return Buffer.concat(chunks, total);
}

/** The error for an object store that cannot be reached or refuses the request (503). */
export function storeUnavailable(describe: string, cause: unknown): AppError {
  return new AppError(
    'unavailable',
    'file.store_unavailable',
    `The file store (${describe}) did not answer correctly; try again later. Operators: check the FILES_S3_* settings and the store's health.`,
    { cause },
  );
}
