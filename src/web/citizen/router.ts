/**
 * Routes of the citizen app. Hash history: the server serves static files only, so every deep link
 * (e.g. `/#/guide/CODE`) loads index.html. The guide view is a separate chunk, fetched when opened.
 */
import { createRouter, createWebHashHistory } from 'vue-router';
import SearchView from './views/SearchView.vue';

export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', name: 'search', component: SearchView },
    { path: '/guide/:code', name: 'guide', component: () => import('./views/GuideView.vue'), props: true },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
});
