/**
 * Starts the offline core once the app is on screen (loaded as its own chunk from main.ts, so the first
 * paint does not wait for it): the service worker, the catalog sync and the outbox's sender.
 */
import { startCatalogSync } from './catalog.ts';
import { startOutbox } from './outbox.ts';
import { registerServiceWorker } from './pwa.ts';

export function startOffline(): void {
  if (import.meta.env.PROD) registerServiceWorker();
  startOutbox();
  startCatalogSync();
}
