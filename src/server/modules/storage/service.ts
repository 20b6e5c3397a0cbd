import path from 'node:path';
import { z } from 'zod';
import { invalid } from '../../../domain/errors.ts';
import { parseEnv } from '../../config.ts';
import { DEFAULT_MAX_FILE_BYTES, type FileStore } from './file-store.ts';
import { LocalFileStore } from './local.ts';
import { S3FileStore } from './s3.ts';

export {
  assertSafeKey,
  DEFAULT_MAX_FILE_BYTES,
  type FileBody,
  type FileStore,
  fileTooLarge,
  isSafeKey,
  readAll,
  type StoredFile,
  sm3Hex,
} from './file-store.ts';
export { LocalFileStore } from './local.ts';
export { S3FileStore } from './s3.ts';

// -------------------------------------------------------------------------------------------------
// Configuration

/**
 * File store configuration, from environment variables:
 *
 * | variable                    | meaning                                                        | when unset |
 * |-----------------------------|----------------------------------------------------------------|------------|
 * | FILES_MAX_BYTES             | largest accepted upload, bytes                                 | 20971520 (20 MiB) |
 * | FILES_S3_BUCKET             | bucket name; setting it switches from the local folder to S3   | local folder `DATA_DIR/files` |
 * | FILES_S3_ENDPOINT           | S3-compatible endpoint URL (MinIO, Ceph, OSS, COS, OBS …)      | AWS S3 of the region |
 * | FILES_S3_REGION             | region                                                         | us-east-1 |
 * | FILES_S3_ACCESS_KEY_ID      | access key id (set both or neither)                            | the SDK's default chain (AWS_* env, instance role) |
 * | FILES_S3_SECRET_ACCESS_KEY  | secret access key                                              | ″ |
 * | FILES_S3_FORCE_PATH_STYLE   | `true`: `endpoint/bucket/key` URLs (MinIO); `false`: virtual-hosted | true when FILES_S3_ENDPOINT is set, else false |
 */
export interface FileStoreConfig {
  maxBytes: number;
  /** Absolute folder of the local store (`DATA_DIR/files`). */
  localDir: string;
  s3:
    | {
        bucket: string;
        endpoint: string | undefined;
        region: string;
        credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
        forcePathStyle: boolean;
      }
    | undefined;
}

const optional = (s: z.ZodString) => s.optional().or(z.literal('').transform(() => undefined));

const EnvSchema = z.object({
  FILES_MAX_BYTES: z.coerce
    .number()
    .int('must be a whole number of bytes')
    .min(1024, 'must be at least 1024 bytes')
    .max(1024 * 1024 * 1024, 'must be at most 1 GiB')
    .default(DEFAULT_MAX_FILE_BYTES),
  FILES_S3_BUCKET: optional(
    z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be a valid bucket name (3–63 a–z 0–9 . -)'),
  ),
  FILES_S3_ENDPOINT: optional(z.string().regex(/^https?:\/\/[^\s]+$/, 'must be an http:// or https:// URL')),
  FILES_S3_REGION: optional(
    z.string().regex(/^[a-z0-9-]{1,64}$/, 'must be a region name like cn-southwest-2'),
  ),
  FILES_S3_ACCESS_KEY_ID: optional(z.string()),
  FILES_S3_SECRET_ACCESS_KEY: optional(z.string()),
  FILES_S3_FORCE_PATH_STYLE: z
    .enum(['true', 'false'], 'must be true or false')
    .optional()
    .or(z.literal('').transform(() => undefined)),
});

/**
 * Reads the file store configuration from `env`; `dataDir` is DATA_DIR (the local store lives in
 * `<dataDir>/files`).
 * @throws AppError(validation, `config.invalid`) naming the variable.
 */
export function loadFileStoreConfig(env: NodeJS.ProcessEnv, dataDir: string): FileStoreConfig {
  const e = parseEnv(EnvSchema, env);
  const s3Set = [
    'FILES_S3_ENDPOINT',
    'FILES_S3_REGION',
    'FILES_S3_ACCESS_KEY_ID',
    'FILES_S3_SECRET_ACCESS_KEY',
    'FILES_S3_FORCE_PATH_STYLE',
  ].filter((k) => e[k as keyof typeof e] !== undefined);
  if (!e.FILES_S3_BUCKET && s3Set.length > 0) {
    throw invalid(
      'FILES_S3_BUCKET',
      `${s3Set.join(', ')} ${s3Set.length > 1 ? 'are' : 'is'} set but FILES_S3_BUCKET is not: set the bucket to store files in S3, or unset the FILES_S3_* variables to use the local folder.`,
      'config.invalid',
    );
  }
  if ((e.FILES_S3_ACCESS_KEY_ID === undefined) !== (e.FILES_S3_SECRET_ACCESS_KEY === undefined)) {
    const missing =
      e.FILES_S3_ACCESS_KEY_ID === undefined ? 'FILES_S3_ACCESS_KEY_ID' : 'FILES_S3_SECRET_ACCESS_KEY';
    throw invalid(
      missing,
      `Set both FILES_S3_ACCESS_KEY_ID and FILES_S3_SECRET_ACCESS_KEY, or neither (then the SDK's default credentials are used); ${missing} is missing.`,
      'config.invalid',
    );
  }
  return {
    maxBytes: e.FILES_MAX_BYTES,
    localDir: path.resolve(dataDir, 'files'),
    s3: e.FILES_S3_BUCKET
      ? {
          bucket: e.FILES_S3_BUCKET,
          endpoint: e.FILES_S3_ENDPOINT,
          region: e.FILES_S3_REGION ?? 'us-east-1',
          credentials:
            e.FILES_S3_ACCESS_KEY_ID && e.FILES_S3_SECRET_ACCESS_KEY
              ? { accessKeyId: e.FILES_S3_ACCESS_KEY_ID, secretAccessKey: e.FILES_S3_SECRET_ACCESS_KEY }
              : undefined,
          forcePathStyle:
            e.FILES_S3_FORCE_PATH_STYLE === undefined
              ? e.FILES_S3_ENDPOINT !== undefined
              : e.FILES_S3_FORCE_PATH_STYLE === 'true',
        }
      : undefined,
  };
}

/**
 * The file store the environment asks for: S3 when FILES_S3_BUCKET is set, else the local folder
 * `<dataDir>/files` (created on first write). See {@link loadFileStoreConfig} for the variables.
 * @throws AppError(validation, `config.invalid`) naming a malformed variable.
 */
export function createFileStore(env: NodeJS.ProcessEnv, dataDir: string): FileStore {
  const config = loadFileStoreConfig(env, dataDir);
  return config.s3
    ? new S3FileStore({ ...config.s3, maxBytes: config.maxBytes })
    : new LocalFileStore({ root: config.localDir, maxBytes: config.maxBytes });
}
