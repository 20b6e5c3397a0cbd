import { AppError, isAppError } from '../domain/errors.ts';

/**
 * Test support: the AppError that `fn` throws. Fails (throws a plain Error) when `fn` returns normally
 * or throws anything that is not an AppError, so a test using it cannot pass by accident.
 */
export function errorOf(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (isAppError(e)) return e;
    throw new Error(`expected an AppError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected an AppError, but nothing was thrown');
}

/** Test support: the AppError a promise (or an async function) rejects with; fails as {@link errorOf}. */
export async function rejectionOf(p: Promise<unknown> | (() => unknown)): Promise<AppError> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    if (isAppError(e)) return e;
    throw new Error(`expected an AppError, got ${String(e)}`, { cause: e });
  }
  throw new Error('expected an AppError, but the promise resolved');
}

export { AppError };
