import { maskIdentityNumber } from '../../../domain/identity-number.ts';

/**
 * Masks a resident identity number (公民身份号码, GB 11643) for display and logs: first 4 and last 4
 * characters kept, e.g. `520102199003071234` → `5201**********1234` (GB/T 35273-2020 §6.2 去标识化 by
 * masking; 个人信息保护法 art. 51). Never throws.
 */
export function maskIdNumber(value: string): string {
  return maskIdentityNumber(value);
}

/**
 * Masks a phone number: first 3 and last 4 digits kept, e.g. `13812345678` → `138****5678`; a value of
 * 7 characters or fewer is masked entirely. Never throws.
 */
export function maskPhone(value: string): string {
  const v = value.trim();
  if (v.length <= 7) return '*'.repeat(v.length);
  return `${v.slice(0, 3)}${'*'.repeat(v.length - 7)}${v.slice(-4)}`;
}

/** Masks a personal name: the first character kept, e.g. `王小芳` → `王**`. Never throws. */
export function maskName(value: string): string {
  const chars = [...value.trim()];
  if (chars.length === 0) return '';
  return `${chars[0]}${'*'.repeat(Math.max(2, chars.length - 1))}`;
}

/** Masks a postal address: the first 6 characters kept, e.g. `贵州省贵阳市云岩区…` → `贵州省贵阳市…`. */
export function maskAddress(value: string): string {
  const chars = [...value.trim()];
  return chars.length <= 6 ? `${chars.slice(0, 2).join('')}…` : `${chars.slice(0, 6).join('')}…`;
}
