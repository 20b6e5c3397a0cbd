import { randomBytes } from 'node:crypto';
import { AppError } from '../../../domain/errors.ts';

/** One SM4 master key: its id (written into every envelope) and 16 or 32 bytes of key material. */
export interface PiiKey {
  id: string;
  key: Buffer;
}

/**
 * Where the personal-data encryption keys come from (GB/T 39786-2021 密钥管理: keys outside the data they
 * protect, rotatable). `current()` seals new values; `byId()` opens values sealed under any key still
 * configured (the current one and older ones kept for decryption only). A KMS/HSM-backed provider
 * implements the same interface.
 */
export interface PiiKeyProvider {
  /** The key new envelopes are written with. */
  current(): PiiKey;
  /** The key material of `id`, or undefined when that key is not (or no longer) configured. */
  byId(id: string): Buffer | undefined;
  /** Ids of every configured key, current first. */
  ids(): string[];
}

/** A key id: 1–32 letters, digits, `_` or `-` (no `:`, which separates envelope parts). */
export const PII_KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/** A provider over a fixed list of keys; the first is current. */
export class StaticKeyProvider implements PiiKeyProvider {
  private readonly keys: PiiKey[];
  constructor(keys: PiiKey[]) {
    if (keys.length === 0) throw new Error('StaticKeyProvider needs at least one key');
    this.keys = keys;
  }
  current(): PiiKey {
    return this.keys[0]!;
  }
  byId(id: string): Buffer | undefined {
    return this.keys.find((k) => k.id === id)?.key;
  }
  ids(): string[] {
    return this.keys.map((k) => k.id);
  }
}

/**
 * Parses `PII_ENCRYPTION_KEYS`: `id1:base64key,id2:base64key` (standard or URL-safe base64 of 16 or 32
 * random bytes, e.g. `openssl rand -base64 32`). The first key is current; the others only decrypt
 * (rotation). Messages never contain key material.
 * @throws AppError(validation, `config.invalid`, field `PII_ENCRYPTION_KEYS`) for a malformed list, a bad
 *   id, a key of another length, or a repeated id.
 */
export function parsePiiKeys(value: string): PiiKey[] {
  const fail = (why: string): never => {
    throw new AppError(
      'validation',
      'config.invalid',
      `Environment variable PII_ENCRYPTION_KEYS ${why}. Give id:base64key[,id:base64key…] (first = current), e.g. k2026:$(openssl rand -base64 32).`,
      { field: 'PII_ENCRYPTION_KEYS' },
    );
  };
  const keys: PiiKey[] = [];
  for (const [i, entry] of value.split(',').entries()) {
    const at = entry.indexOf(':');
    const id = entry.slice(0, at).trim();
    const material = entry.slice(at + 1).trim();
    if (at <= 0 || !PII_KEY_ID.test(id))
      fail(`entry ${i + 1} must start with a key id of 1–32 letters, digits, _ or - and a colon`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(material)) fail(`key ${id} is not base64`);
    const key = Buffer.from(material.replaceAll('-', '+').replaceAll('_', '/'), 'base64');
    if (key.length !== 16 && key.length !== 32)
      fail(`key ${id} must decode to 16 or 32 bytes (it has ${key.length})`);
    if (keys.some((k) => k.id === id)) fail(`names key ${id} twice`);
    keys.push({ id, key });
  }
  return keys;
}

/** Id of the development key generated once and kept in the settings table when no keys are configured. */
export const DEV_KEY_ID = 'dev';

/**
 * The key provider of an installation: `PII_ENCRYPTION_KEYS` when set; otherwise — on a laptop — one
 * development key generated on first start and kept through the settings module (like the fallback
 * PII_HASH_KEY), with a warning, because a key stored beside the data protects nothing against a dump.
 * To move such a database to configured keys, list `dev:<that value>` last in PII_ENCRYPTION_KEYS and
 * run `tongban pii rotate`.
 */
export async function loadPiiKeyProvider(
  configured: PiiKey[] | undefined,
  settings: { getOrCreate(key: string, generate: () => string): Promise<string> },
  log?: { warn(message: string): void },
): Promise<PiiKeyProvider> {
  if (configured && configured.length > 0) return new StaticKeyProvider(configured);
  const stored = await settings.getOrCreate('pii_encryption_key', () =>
    randomBytes(32).toString('base64url'),
  );
  log?.warn(
    'PII_ENCRYPTION_KEYS is unset: personal data is encrypted with a development key kept in the database. Set PII_ENCRYPTION_KEYS in production.',
  );
  return new StaticKeyProvider([{ id: DEV_KEY_ID, key: Buffer.from(stored, 'base64url') }]);
}
