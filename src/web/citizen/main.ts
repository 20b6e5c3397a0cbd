// first: `/track/<number>` (the QR on paper notices) becomes `#/track/<number>` before the router reads it
import './track-link.ts';
import { createApp } from 'vue';
import App from './App.vue';
import { csrfHeaders, refreshCsrfHeaders } from './api/account.ts';
import './display.ts';
import { i18n, localeReady } from './i18n.ts';
import { router } from './router.ts';
import { installSignInGuard } from './session.ts';
import 'vant/es/style/base.css';
import 'vant/es/badge/index.css';
import './vant-icons.css';
import './styles.css';
import './modes.css';

installSignInGuard(router);

// A remembered non-default language is fetched first, so the page never flashes in Chinese.
void localeReady.then(() => {
  createApp(App).use(i18n).use(router).mount('#app');
  // the offline core (service worker, catalog sync, outbox sender) as its own chunk, after the first paint;
  // the outbox sends with the page's one CSRF source (api/account.ts), for residents and village agents
  // alike — never a token of its own, which would replace the session's
  void Promise.all([import('./offline/outbox.ts'), import('./offline/start.ts')]).then(([outbox, m]) => {
    outbox.setRequestHeaders(csrfHeaders, refreshCsrfHeaders);
    m.startOffline();
  });
});
