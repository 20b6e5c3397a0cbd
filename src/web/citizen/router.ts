/**
 * Routes of the citizen app. Hash history: the server serves static files only, so every deep link
 * (e.g. `/#/guide/CODE`) loads index.html; `/track/<number>` (the QR code on every notice) is served
 * index.html by the server and rewritten to `#/track/<number>` in main.ts. Every view but search is a
 * separate chunk, fetched when opened (and precached by the service worker for offline use).
 *
 * `meta.signIn`: the view needs a signed-in resident; it sends the user to `/login?next=…`. The agent view
 * (/agent) has its own 代办员 sign-in.
 */
import { createRouter, createWebHashHistory } from 'vue-router';
import SearchView from './views/SearchView.vue';

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'search', component: SearchView },
    { path: '/guide/:code', name: 'guide', component: () => import('./views/GuideView.vue'), props: true },
    {
      path: '/browse/:kind(life-event|industry)/:key?',
      name: 'browse',
      component: () => import('./views/BrowseView.vue'),
      // `key` is reserved by Vue (a vnode key, never a prop): passed as `id`
      props: (route) => ({ kind: route.params.kind, id: route.params.key || undefined }),
    },
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue') },
    {
      path: '/apply/:code',
      name: 'apply',
      component: () => import('./views/ApplyView.vue'),
      props: true,
      meta: { signIn: true },
    },
    {
      path: '/me',
      name: 'my-cases',
      component: () => import('./views/MyCasesView.vue'),
      meta: { signIn: true },
    },
    {
      path: '/me/cases/:number',
      name: 'my-case',
      component: () => import('./views/MyCaseView.vue'),
      props: true,
      meta: { signIn: true },
    },
    { path: '/track/:number', name: 'track', component: () => import('./views/TrackView.vue'), props: true },
    {
      path: '/messages',
      name: 'messages',
      component: () => import('./views/MessagesView.vue'),
      meta: { signIn: true },
    },
    // 好差评: rate a case — signed in (my case) or from the link in the notification (?t=token)
    { path: '/rate/:number', name: 'rate', component: () => import('./views/RateView.vue'), props: true },
    { path: '/outbox', name: 'outbox', component: () => import('./views/OutboxView.vue') },
    { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue') },
    // 帮办代办: the view signs the agent in itself (staff username + password, not the resident's SMS login)
    { path: '/agent', name: 'agent', component: () => import('./views/AgentView.vue') },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
});
