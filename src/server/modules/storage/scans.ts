import type { Readable } from 'node:stream';
import { Readable as ReadableStream } from 'node:stream';
import zlib from 'node:zlib';
import { AppError, invalid } from '../../../domain/errors.ts';
import { type FileBody, type FileStore, readAll, type StoredFile, sm3Hex } from './file-store.ts';

/**
 * Scanned documents (材料扫描件, 签字委托书扫描件) shared by the modules that take them — custody (a case's
 * materials) and identity (an agent authorization's signed form): the accepted content types with their
 * leading bytes, a checked store (size ≤ FILES_MAX_BYTES, not empty, bytes matching the declared type,
 * SM3 digest computed while writing, GB/T 32905-2016), and a read verified against the recorded digest
 * before any byte is handed out (tamper evidence).
 */

/** Content types accepted for scans, with the file extension used in keys and the leading bytes checked. */
export const UPLOAD_CONTENT_TYPES = {
  'application/pdf': { ext: 'pdf', magic: Buffer.from('%PDF-'), label: 'a PDF (starts with %PDF-)' },
  'image/jpeg': { ext: 'jpg', magic: Buffer.from([0xff, 0xd8, 0xff]), label: 'a JPEG image' },
  'image/png': {
    ext: 'png',
    magic: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    label: 'a PNG image',
  },
  'application/octet-stream': { ext: 'bin', magic: Buffer.alloc(0), label: 'bytes' },
} as const;
export type UploadContentType = keyof typeof UPLOAD_CONTENT_TYPES;

/** The content type of a key's extension (`.pdf` → application/pdf), for files stored without metadata. */
export function contentTypeOfKey(key: string): UploadContentType {
  const ext = key.split('.').pop();
  const found = Object.entries(UPLOAD_CONTENT_TYPES).find(([, t]) => t.ext === ext);
  return (found?.[0] as UploadContentType | undefined) ?? 'application/octet-stream';
}

/**
 * The accepted content type a request declares (parameters such as `; charset` dropped), among `allowed`.
 * @throws AppError(validation, `<prefix>.content_type`, field `Content-Type`) naming the accepted types.
 */
export function scanContentType(
  declared: string | undefined,
  prefix: string,
  allowed: readonly UploadContentType[] = Object.keys(UPLOAD_CONTENT_TYPES) as UploadContentType[],
): UploadContentType {
  const contentType = (declared ?? '').split(';')[0]!.trim().toLowerCase();
  if (!allowed.includes(contentType as UploadContentType))
    throw invalid(
      'Content-Type',
      `Scans are uploaded as ${allowed.join(', ')}; got ${declared || 'none'}.`,
      `${prefix}.content_type`,
    );
  return contentType as UploadContentType;
}

/**
 * Stores a scan under `key` and checks it: not empty, its leading bytes those of `contentType`, at most
 * the store's FILES_MAX_BYTES (bytes). When a check fails the file is deleted again.
 * @returns the stored key, size in bytes and SM3 digest.
 * @throws AppError(validation) `<prefix>.file_empty` / `<prefix>.file_type_mismatch`;
 *   AppError(payload_too_large, `file.too_large`); the store's errors.
 */
export async function putScan(
  files: FileStore,
  key: string,
  body: FileBody,
  contentType: UploadContentType,
  prefix: string,
): Promise<StoredFile> {
  const type = UPLOAD_CONTENT_TYPES[contentType];
  const sniffed = sniff(body, type.magic.length);
  const stored = await files.put(key, sniffed.chunks, { contentType });
  try {
    if (stored.bytes === 0)
      throw invalid(
        'file',
        'The file is empty. Send the scanned bytes as the request body.',
        `${prefix}.file_empty`,
      );
    if (!sniffed.head().subarray(0, type.magic.length).equals(type.magic))
      throw invalid(
        'Content-Type',
        `The file is not ${type.label}, as its Content-Type ${contentType} says. Send the right Content-Type.`,
        `${prefix}.file_type_mismatch`,
      );
    return stored;
  } catch (e) {
    await files.delete(key).catch(() => {});
    throw e;
  }
}

/**
 * A stored scan read whole and verified against what was recorded at upload (SM3 digest, and the size in
 * bytes when known; else at most the store's limit) before any byte is handed out.
 * @throws `tampered(found)` when the bytes differ; `missing(cause)` when the file is gone from the store;
 *   the store's other errors.
 */
export async function readVerifiedScan(
  files: FileStore,
  key: string,
  recorded: { sm3: string; bytes?: number },
  errors: { tampered: (found: string) => AppError; missing: (cause: AppError) => AppError },
): Promise<Buffer> {
  let stream: Readable;
  try {
    stream = await files.get(key);
  } catch (e) {
    if (e instanceof AppError && e.code === 'file.not_found') throw errors.missing(e);
    throw e;
  }
  const limit = recorded.bytes ?? files.maxBytes;
  const body = await readAll(stream, limit, () => errors.tampered(`more than ${limit} bytes`));
  const sm3 = sm3Hex(body);
  if ((recorded.bytes !== undefined && body.length !== recorded.bytes) || sm3 !== recorded.sm3)
    throw errors.tampered(`${body.length} bytes, SM3 ${sm3}`);
  return body;
}

/** Passes a body through unchanged while keeping its first `n` bytes (to check the file type). */
function sniff(body: FileBody, n: number): { chunks: FileBody; head(): Buffer } {
  if (body instanceof Uint8Array) return { chunks: body, head: () => Buffer.from(body.subarray(0, n)) };
  let head = Buffer.alloc(0);
  const source: AsyncIterable<unknown> =
    body instanceof ReadableStream ? body.iterator({ destroyOnReturn: false }) : body;
  async function* pass(): AsyncGenerator<Uint8Array> {
    for await (const raw of source) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : (raw as Uint8Array);
      if (head.length < n) head = Buffer.concat([head, Buffer.from(chunk.subarray(0, n - head.length))]);
      yield chunk;
    }
  }
  return { chunks: pass(), head: () => head };
}

/** The largest width or height, in pixels, accepted for a PNG checked by {@link checkPngStructure}. */
export const PNG_MAX_SIDE_PX = 8000;

/** Bit depths allowed per PNG colour type (PNG spec, ISO/IEC 15948 table 11.1). */
const PNG_BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

/**
 * Checks that `bytes` is a whole PNG file, not just its 8-byte signature: chunks with valid CRC-32s
 * (zlib's), IHDR first (13 bytes, width and height 1–{@link PNG_MAX_SIDE_PX} px, a valid colour type and
 * bit depth), at least one IDAT, and IEND as the last chunk at the very end. Pixels are not decoded.
 * @returns the image's width and height in pixels.
 * @throws AppError(validation, `<prefix>.png_invalid`, field `file`) saying what is wrong.
 */
export function checkPngStructure(bytes: Buffer, prefix: string): { width: number; height: number } {
  const bad = (what: string) =>
    invalid(
      'file',
      `The file is not a valid PNG image (${what}). Upload the PNG exactly as the signature pad produced it.`,
      `${prefix}.png_invalid`,
    );
  if (!bytes.subarray(0, 8).equals(UPLOAD_CONTENT_TYPES['image/png'].magic)) throw bad('no PNG signature');
  let at = 8;
  let size: { width: number; height: number } | null = null;
  let idat = false;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) throw bad(`chunk ${JSON.stringify(type)} is cut off`);
    const crc = bytes.readUInt32BE(end - 4);
    if (zlib.crc32(bytes.subarray(at + 4, end - 4)) !== crc)
      throw bad(`chunk ${JSON.stringify(type)} has a wrong CRC`);
    if (!size) {
      if (type !== 'IHDR' || length !== 13) throw bad('the first chunk is not IHDR');
      const width = bytes.readUInt32BE(at + 8);
      const height = bytes.readUInt32BE(at + 12);
      const depth = bytes[at + 16]!;
      const colour = bytes[at + 17]!;
      if (width < 1 || height < 1 || width > PNG_MAX_SIDE_PX || height > PNG_MAX_SIDE_PX)
        throw bad(`${width} × ${height} px; at most ${PNG_MAX_SIDE_PX} × ${PNG_MAX_SIDE_PX}`);
      if (!PNG_BIT_DEPTHS[colour]?.includes(depth))
        throw bad(`colour type ${colour} with bit depth ${depth}`);
      size = { width, height };
    } else if (type === 'IHDR') throw bad('a second IHDR');
    if (type === 'IDAT') idat = true;
    if (type === 'IEND') {
      if (end !== bytes.length) throw bad('bytes after IEND');
      if (!idat) throw bad('no image data (IDAT)');
      return size;
    }
    at = end;
  }
  throw bad(size ? 'no IEND chunk at the end' : 'no IHDR chunk');
}
