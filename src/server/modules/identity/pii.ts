import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { AppError } from '../../../domain/errors.ts';

/**
 * Encryption of personal data at rest (ID numbers, phone numbers, TOTP secrets). The identity module
 * writes `*_enc` columns only through this interface, so the SM4 implementation being built in parallel
 * (GB/T 39786-2021) can replace {@link TemporarySm4PiiCipher} without touching the module.
 */
export interface PiiCipher {
  /** Encrypts UTF-8 text; the result is a printable string (stored in a text column). */
  encrypt(plain: string): string;
  /**
   * Decrypts a value produced by {@link encrypt}.
   * @throws AppError(internal, `pii.decrypt_failed`) when the value was altered or the key is wrong.
   */
  decrypt(stored: string): string;
}

/**
 * TEMPORARY — TO BE REPLACED by the shared SM4 module (issue: PII encryption at rest).
 *
 * SM4-CBC (GB/T 32907-2016, random 16-byte IV) then HMAC-SM3 over `v0|iv|ciphertext` (encrypt-then-MAC;
 * Node/OpenSSL offers no `sm4-gcm`). Stored form: `v0.<iv b64url>.<ciphertext b64url>.<tag b64url>`.
 * The 128-bit encryption key and the MAC key are derived from the one configured secret with SM3
 * (domain-separated), so PII_ENCRYPTION_KEY (or the generated setting) is all an operator keeps.
 */
export class TemporarySm4PiiCipher implements PiiCipher {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  /** @param secret at least 32 characters (PII_ENCRYPTION_KEY, or a generated installation setting). */
  constructor(secret: string) {
    if (secret.length < 32) throw new Error('PiiCipher secret must be at least 32 characters');
    this.encKey = createHash('sm3').update(`tongban-pii-enc|${secret}`).digest().subarray(0, 16);
    this.macKey = createHash('sm3').update(`tongban-pii-mac|${secret}`).digest();
  }

  encrypt(plain: string): string {
    const iv = randomBytes(16);
    const cipher = createCipheriv('sm4-cbc', this.encKey, iv);
    const ct = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    const tag = this.tag(iv, ct);
    return ['v0', iv.toString('base64url'), ct.toString('base64url'), tag.toString('base64url')].join('.');
  }

  decrypt(stored: string): string {
    const parts = stored.split('.');
    const fail = () =>
      new AppError(
        'internal',
        'pii.decrypt_failed',
        'A stored personal-data value could not be decrypted (altered, or PII_ENCRYPTION_KEY changed).',
      );
    if (parts.length !== 4 || parts[0] !== 'v0') throw fail();
    const [, ivText, ctText, tagText] = parts as [string, string, string, string];
    const iv = Buffer.from(ivText, 'base64url');
    const ct = Buffer.from(ctText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    const expected = this.tag(iv, ct);
    if (tag.length !== expected.length || !timingSafeEqual(tag, expected)) throw fail();
    const decipher = createDecipheriv('sm4-cbc', this.encKey, iv);
    return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
  }

  private tag(iv: Buffer, ct: Buffer): Buffer {
    return createHmac('sm3', this.macKey).update('v0|').update(iv).update(ct).digest();
  }
}

/**
 * Keyed SM3 blind index (HMAC-SM3, GB/T 32905-2016) of a normalised identifier, for equality lookups
 * without storing the value: `purpose` separates domains (`id_number`, `phone`, `otp`, …). Hex, 64 chars.
 */
export function blindIndex(key: string, purpose: string, value: string): string {
  return createHmac('sm3', key).update(`${purpose}|${value}`).digest('hex');
}

/** Unkeyed SM3 digest (hex) of a high-entropy secret (session id, API token, CSRF token). */
export function secretDigest(secret: string): string {
  return createHash('sm3').update(secret).digest('hex');
}

/** Constant-time comparison of two hex/text digests of equal length (false on different lengths). */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Normalises a mainland mobile number (11 digits starting with 1; `+86`/`86` and spaces/dashes removed).
 * @returns the 11 digits, or null when it is not a mobile number.
 */
export function normalisePhone(input: string): string | null {
  const digits = input
    .normalize('NFKC')
    .replace(/[\s-]/g, '')
    .replace(/^\+?86(?=1\d{10}$)/, '');
  return /^1[3-9]\d{9}$/.test(digits) ? digits : null;
}

/** `13812345678` → `138****5678` (for responses and logs). */
export function maskPhone(phone: string): string {
  return phone.length >= 7 ? `${phone.slice(0, 3)}****${phone.slice(-4)}` : '*'.repeat(phone.length);
}
