/**
 * The service worker (vite-plugin-pwa, configured in src/web/vite.config.ts): registered for the citizen
 * page only. It precaches the app shell and every chunk, so the app opens and reloads with no network.
 * A new version is installed in the background and takes over at once (`autoUpdate`); the page is not
 * reloaded under the user's hands — {@link updateReady} turns true and a quiet notice offers to reload.
 */
import { registerSW } from 'virtual:pwa-register';
import { ref } from 'vue';

/** A new version of the app is active; reloading the page shows it. */
export const updateReady = ref(false);
/** The app shell is cached: it will open without a network from now on. */
export const offlineReady = ref(false);

let registered = false;

/** Registers the service worker once (production builds in browsers that have service workers). */
export function registerServiceWorker(): void {
  if (registered || !('serviceWorker' in navigator)) return;
  registered = true;
  registerSW({
    immediate: true,
    onNeedReload: () => {
      updateReady.value = true;
    },
    onOfflineReady: () => {
      offlineReady.value = true;
    },
    onRegisterError: () => {
      // no service worker (an old browser, a private mode): the app still works online
    },
  });
}
