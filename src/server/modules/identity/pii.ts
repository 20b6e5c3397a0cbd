import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { PiiField } from '../pii/service.ts';

/**
 * Encryption of personal data at rest (ID numbers, phone numbers, TOTP secrets): the identity module
 * writes `*_enc` columns only through this interface (GB/T 39786-2021), implemented by the pii module's
 * vault.
 */
export interface PiiCipher {
  /**
   * Seals UTF-8 text of one kind of personal data; the result is a printable envelope (a text column).
   * The pii module's {@link PiiVault} implements it (SM4 + HMAC-SM3, rotating keys).
   */
  encrypt(plain: string, field: PiiField): string;
  /**
   * Opens a value produced by {@link encrypt}.
   * @throws AppError when the value was altered or its key is unknown (see PiiVault.decrypt).
   */
  decrypt(stored: string): string;
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
