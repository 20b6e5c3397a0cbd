/**
 * Where an applicant's identity comes from at the window. Typing is the default; an ID-card reader
 * (二代证读卡器, e.g. through a local driver service) plugs in later by registering an adapter here —
 * the intake form then shows a 读卡 button for it and fills name and number from the card.
 */
import { reactive } from 'vue';
import { AppError } from '../../../domain/errors.ts';
import { parseIdentityNumber } from '../../../domain/identity-number.ts';

/** What an adapter reads: the card's name and number (other fields stay out: data minimisation). */
export interface IdentityReading {
  name?: string;
  idNumber: string;
}

/** A source of identity readings (a card reader). `read` rejects with a message to show when it fails. */
export interface IdentityInputAdapter {
  /** stable id, e.g. "card-reader" */
  id: string;
  /** i18n key or text of its button, e.g. 读卡 */
  label: string;
  read(): Promise<IdentityReading>;
}

/** Registered adapters (none by default: the number is typed). */
export const identityAdapters = reactive<IdentityInputAdapter[]>([]);

/** Registers an adapter (e.g. from a card-reader integration loaded at start-up). */
export function registerIdentityAdapter(adapter: IdentityInputAdapter): void {
  if (!identityAdapters.some((a) => a.id === adapter.id)) identityAdapters.push(adapter);
}

/**
 * Checks a typed number with GB 11643 (src/domain/identity-number.ts): null when valid, else the error
 * code (identity.required, identity.length, identity.format, identity.birth_date, identity.area_code,
 * identity.check_character) for the form to explain.
 */
export function identityNumberProblem(value: string): string | null {
  try {
    parseIdentityNumber(value);
    return null;
  } catch (e) {
    return e instanceof AppError ? e.code : 'identity.format';
  }
}
