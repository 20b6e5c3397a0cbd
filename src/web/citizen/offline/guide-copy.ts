/**
 * A guide from the server, or — when there is no network or the server fails (5xx) — the copy synced to
 * the device (offline/catalog.ts, loaded only then). Used by every view that shows or applies from a guide.
 */
import { ApiError, api, type Guide } from '../api.ts';

export interface GuideOrCopy {
  guide: Guide;
  /** when the device's copy was synced; null when the guide came from the server */
  syncedAt: Date | null;
}

/**
 * The guide of item `code` for `division` (6-, 9- or 12-digit code); `fresh` revalidates with the server
 * rather than trusting the browser's HTTP cache (the device copy is still the fallback without a network).
 * @throws ApiError — the server's refusal (4xx, e.g. unknown item), or the network error when the device
 *   holds no copy of this guide; AbortError when `signal` aborts.
 */
export async function guideOrCopy(
  code: string,
  division: string,
  signal?: AbortSignal,
  fresh = false,
): Promise<GuideOrCopy> {
  try {
    return { guide: await api.guide(code, division, signal, fresh), syncedAt: null };
  } catch (e) {
    if (!(e instanceof ApiError) || !(e.network || e.status >= 500)) throw e;
    const { guideOffline } = await import('./catalog.ts');
    const copy = await guideOffline(code, division);
    if (!copy) throw e;
    return { guide: copy.guide as Guide, syncedAt: copy.syncedAt };
  }
}
