import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { notFound } from '../../../domain/errors.ts';
import {
  assertSafeKey,
  type FileBody,
  type FileStore,
  metered,
  type StoredFile,
  sm3Hash,
  storeUnavailable,
} from './file-store.ts';

export interface S3FileStoreOptions {
  bucket: string;
  /** S3-compatible endpoint (MinIO, Ceph RGW, 阿里云 OSS, 腾讯云 COS, 华为云 OBS …); undefined: AWS. */
  endpoint?: string | undefined;
  region: string;
  /** undefined: the SDK's default credential chain (AWS_* variables, instance role). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key` (most self-hosted stores need it). */
  forcePathStyle: boolean;
  maxBytes: number;
}

/**
 * Files in an S3-compatible bucket (production; stateless API nodes share it). The object key is the
 * file key (safe keys only, as for the local store). A body is read into memory while its SM3 digest
 * is computed — bounded by `maxBytes` (FILES_MAX_BYTES) — and written with one PutObject carrying its
 * length, content type and the digest as `x-amz-meta-sm3`; S3 makes the object visible only when
 * complete, so readers never see a partial file. Checksums are sent only where the S3 API requires
 * them, for compatibility with stores that do not implement the newer flexible checksums.
 */
export class S3FileStore implements FileStore {
  readonly kind = 's3' as const;
  readonly maxBytes: number;
  readonly describe: string;
  readonly bucket: string;
  private readonly client: S3Client;

  constructor(options: S3FileStoreOptions) {
    this.bucket = options.bucket;
    this.maxBytes = options.maxBytes;
    this.describe = `s3 bucket ${options.bucket}${options.endpoint ? ` at ${options.endpoint}` : ` (${options.region})`}`;
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 3,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  }

  async put(key: string, body: FileBody, options: { contentType: string }): Promise<StoredFile> {
    assertSafeKey(key);
    const hash = sm3Hash();
    const chunks: Uint8Array[] = [];
    let bytes = 0;
    for await (const chunk of metered(body, this.maxBytes, hash)) {
      chunks.push(chunk);
      bytes += chunk.byteLength;
    }
    const sm3 = hash.digest('hex');
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: Buffer.concat(chunks, bytes),
          ContentLength: bytes,
          ContentType: options.contentType,
          Metadata: { sm3 },
        }),
      );
    } catch (e) {
      throw storeUnavailable(this.describe, e);
    }
    return { key, bytes, sm3 };
  }

  async get(key: string): Promise<Readable> {
    assertSafeKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = out.Body;
      if (body instanceof Readable) return body;
      if (!body) return Readable.from([]);
      return Readable.from(Buffer.from(await body.transformToByteArray()));
    } catch (e) {
      if (isNotFound(e)) throw notFound('file.not_found', `No stored file ${key}.`, 'key');
      throw storeUnavailable(this.describe, e);
    }
  }

  async exists(key: string): Promise<boolean> {
    assertSafeKey(key);
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw storeUnavailable(this.describe, e);
    }
  }

  async delete(key: string): Promise<void> {
    assertSafeKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (isNotFound(e)) return;
      throw storeUnavailable(this.describe, e);
    }
  }

  /** Closes the client's connections (tests; shutdown). */
  close(): void {
    this.client.destroy();
  }
}

function isNotFound(e: unknown): boolean {
  if (e instanceof S3ServiceException) {
    return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
  }
  return false;
}
