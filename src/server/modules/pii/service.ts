import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { AppError, invalid } from '../../../domain/errors.ts';
import { PII_KEY_ID, type PiiKeyProvider, StaticKeyProvider } from './keys.ts';

export type { PiiKey, PiiKeyProvider } from './keys.ts';
export { loadPiiKeyProvider, parsePiiKeys, StaticKeyProvider } from './keys.ts';
export { maskAddress, maskIdNumber, maskName, maskPhone } from './mask.ts';

/**
 * Envelope scheme written by this build: SM4-CBC (GB/T 32907-2016, random 16-byte IV, PKCS#7) then
 * HMAC-SM3 (GB/T 32905-2016) over header ‖ IV ‖ ciphertext — encrypt-then-MAC. Node 24's OpenSSL offers
 * `sm4-cbc` but no `sm4-gcm` (`crypto.getCiphers()`), so the AEAD is composed; a future `sm4gcm:v1`
 * scheme can be added beside it because every envelope names its scheme and key.
 */
export const ENVELOPE_SCHEME = 'sm4cbc-sm3';
const ENVELOPE = /^sm4cbc-sm3:v1:([A-Za-z0-9_-]{1,32}):([A-Za-z0-9_-]{22}):([A-Za-z0-9_-]{64,})$/;
const TAG_BYTES = 32;

/** The fields the vault seals and indexes (the name is used in errors and separates blind indexes). */
export type PiiField =
  | 'identifier'
  | 'idNumber'
  | 'phone'
  | 'email'
  | 'address'
  | 'name'
  | 'pickupCode'
  | 'messageBody'
  | 'totpSecret';

/** A store of sealed values (a module's table) that can re-seal its rows under the current key. */
export interface PiiStore {
  /** e.g. `cases` — used in reports. */
  name: string;
  /**
   * Re-seals up to `limit` rows that hold plaintext (written before encryption) or envelopes under a key
   * other than `currentKeyId`; claims them with FOR UPDATE SKIP LOCKED so several nodes share the work.
   * @returns how many rows were rewritten.
   */
  reseal(limit: number): Promise<number>;
}

/**
 * Personal-data vault (个人信息保护法 arts. 28, 51; GB/T 35273-2020 §6.3; GB/T 39786-2021 商用密码应用):
 * seals resident ID numbers, phone numbers and other personal data with SM4 into self-describing
 * envelopes, opens them, computes keyed SM3 blind indexes for lookups, and drives key rotation over the
 * registered {@link PiiStore}s.
 *
 * Envelope: `sm4cbc-sm3:v1:<keyId>:<iv>:<ciphertext‖tag>` — iv 16 bytes, tag HMAC-SM3 32 bytes, both
 * base64url without padding. Per master key, the SM4 key (16 bytes) and the MAC key (32 bytes) are
 * derived with HKDF-SM3 (RFC 5869), so the two never coincide.
 */
export class PiiVault {
  private readonly keys: PiiKeyProvider;
  private readonly hashKey: string;
  /** Derived keys per key id, as KeyObjects (made once: raw-buffer keys are re-imported on every call). */
  private readonly derived = new Map<string, { enc: KeyObject; mac: KeyObject }>();
  private readonly stores: PiiStore[] = [];

  /**
   * @param keys where the SM4 master keys come from (first = current).
   * @param options.hashKey the key of the blind index (PII_HASH_KEY): HMAC-SM3, independent of `keys`
   *   and never rotated by {@link rotate} (existing `cases.applicant_key` values stay valid).
   */
  constructor(keys: PiiKeyProvider, options: { hashKey: string }) {
    this.keys = keys;
    this.hashKey = options.hashKey;
  }

  /** A vault with a random in-memory key (tests and tools; what it seals cannot be read after the process ends). */
  static ephemeral(): PiiVault {
    return new PiiVault(new StaticKeyProvider([{ id: 'ephemeral', key: randomBytes(32) }]), {
      hashKey: randomBytes(32).toString('base64url'),
    });
  }

  /** Id of the key new envelopes are sealed with. */
  currentKeyId(): string {
    return this.keys.current().id;
  }

  /** Ids of the configured keys other than the current one (their envelopes are re-sealed by {@link rotate}). */
  staleKeyIds(): string[] {
    const current = this.currentKeyId();
    return this.keys.ids().filter((id) => id !== current);
  }

  /**
   * Seals `plain` under the current key. Each call uses a fresh random IV, so equal inputs give different
   * envelopes (look values up with {@link blindIndex}, never by envelope).
   * @throws AppError(validation) naming `field` when `plain` is not a string.
   */
  encrypt(plain: string, field: PiiField): string {
    if (typeof plain !== 'string')
      throw invalid(field, `${field} must be text to be encrypted.`, 'pii.invalid');
    const { id } = this.keys.current();
    const { enc, mac } = this.keyMaterial(id)!;
    const iv = randomBytes(16);
    const cipher = createCipheriv('sm4-cbc', enc, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const header = `${ENVELOPE_SCHEME}:v1:${id}`;
    const tag = createHmac('sm3', mac).update(header).update(iv).update(ct).digest();
    return `${header}:${iv.toString('base64url')}:${Buffer.concat([ct, tag]).toString('base64url')}`;
  }

  /**
   * Opens an envelope made by {@link encrypt} under any configured key.
   * @throws AppError(validation, `pii.not_an_envelope`) for a string that is not an envelope;
   *   AppError(internal, `pii.unknown_key`) when its key is no longer configured (restore it in
   *   PII_ENCRYPTION_KEYS); AppError(internal, `pii.tampered`) when the tag does not verify.
   */
  decrypt(envelope: string): string {
    const m = typeof envelope === 'string' ? ENVELOPE.exec(envelope) : null;
    if (!m) throw invalid('envelope', 'Not an envelope made by the PII vault.', 'pii.not_an_envelope');
    const [, id, ivText, body] = m as unknown as [string, string, string, string];
    const material = this.keyMaterial(id);
    if (!material)
      throw new AppError(
        'internal',
        'pii.unknown_key',
        `Personal data is sealed under key "${id}", which is not configured; add it back to PII_ENCRYPTION_KEYS (after the current key) and run \`tongban pii rotate\`.`,
      );
    const iv = Buffer.from(ivText, 'base64url');
    const raw = Buffer.from(body, 'base64url');
    const ct = raw.subarray(0, raw.length - TAG_BYTES);
    const tag = raw.subarray(raw.length - TAG_BYTES);
    const expected = createHmac('sm3', material.mac)
      .update(`${ENVELOPE_SCHEME}:v1:${id}`)
      .update(iv)
      .update(ct)
      .digest();
    if (ct.length === 0 || ct.length % 16 !== 0 || !timingSafeEqual(tag, expected))
      throw new AppError(
        'internal',
        'pii.tampered',
        'A sealed personal-data value failed its integrity check.',
      );
    const decipher = createDecipheriv('sm4-cbc', material.enc, iv);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  }

  /** `true` for a string shaped like an envelope of this vault. */
  isEnvelope(value: unknown): value is string {
    return typeof value === 'string' && ENVELOPE.test(value);
  }

  /** Key id of an envelope, or undefined for anything else (e.g. plaintext written before encryption). */
  keyIdOf(value: unknown): string | undefined {
    return typeof value === 'string' ? ENVELOPE.exec(value)?.[1] : undefined;
  }

  /**
   * Reads a stored value: opens an envelope, and returns any other string unchanged — so rows written
   * before encryption stay readable until {@link rotate} has sealed them. @throws as {@link decrypt}.
   */
  unseal(value: string): string {
    return this.isEnvelope(value) ? this.decrypt(value) : value;
  }

  /**
   * Seals a stored value unless it is already an envelope under the current key: plaintext is encrypted,
   * an envelope under an older key is re-encrypted (rotation). Non-strings are returned unchanged.
   */
  reseal<T>(value: T, field: PiiField): T {
    if (typeof value !== 'string') return value;
    if (this.keyIdOf(value) === this.currentKeyId()) return value;
    return this.encrypt(this.unseal(value), field) as T;
  }

  /**
   * Blind index: HMAC-SM3 (keyed SM3, GB/T 32905) of the normalised value, hex (64 characters), for
   * equality lookups without storing the value. `identifier` (resident ID numbers and credit codes,
   * trimmed and upper-cased) is hashed as is — the form `cases.applicant_key` always had; other fields
   * are prefixed with their name (`phone:13800000000`), so equal values of different fields differ.
   * Phone numbers are reduced to their digits, emails lower-cased.
   */
  blindIndex(value: string, field: PiiField): string {
    const v = value.trim();
    const normalised =
      field === 'identifier'
        ? v.toUpperCase()
        : field === 'phone'
          ? `phone:${v.replace(/\D/g, '')}`
          : field === 'email'
            ? `email:${v.toLowerCase()}`
            : `${field}:${v}`;
    return createHmac('sm3', this.hashKey).update(normalised).digest('hex');
  }

  /** Registers a store for {@link rotate} (each module that keeps envelopes registers itself). */
  register(store: PiiStore): void {
    this.stores.push(store);
  }

  /**
   * One rotation / migration step: asks every registered store to re-seal up to `limit` rows still in
   * plaintext or under an older key. Safe on several nodes at once (rows are claimed with SKIP LOCKED);
   * reads keep working throughout because older keys still decrypt. Call it until it returns 0, then a
   * retired key may be removed from PII_ENCRYPTION_KEYS.
   * @returns rows rewritten per store, e.g. `{ cases: 200, notifications: 12 }`.
   */
  async rotate(limit = 200): Promise<Record<string, number>> {
    const done: Record<string, number> = {};
    for (const store of this.stores) done[store.name] = await store.reseal(limit);
    return done;
  }

  private keyMaterial(id: string): { enc: KeyObject; mac: KeyObject } | undefined {
    const cached = this.derived.get(id);
    if (cached) return cached;
    if (!PII_KEY_ID.test(id)) return undefined;
    const master = this.keys.byId(id);
    if (!master) return undefined;
    const derive = (info: string, length: number) =>
      createSecretKey(Buffer.from(hkdfSync('sm3', master, Buffer.alloc(0), info, length)));
    const material = {
      enc: derive('tongban pii sm4-cbc v1', 16),
      mac: derive('tongban pii hmac-sm3 v1', 32),
    };
    this.derived.set(id, material);
    return material;
  }
}
