/**
 * Routes of the staff workbench under `/staff/` (HTML5 history: the server answers every `/staff/…`
 * path with staff/index.html). Every page but sign-in needs a session; a page opened without one goes
 * to sign-in and comes back after it. The admin pages are a slot (./slots/admin.ts) filled later.
 */
import { createRouter, createWebHistory } from 'vue-router';
import { i18n } from './i18n.ts';
import { can, restore, session, signedIn } from './session.ts';
import { ADMIN_ROUTES } from './slots/admin.ts';
import InboxView from './views/InboxView.vue';
import SignInView from './views/SignInView.vue';

export const router = createRouter({
  history: createWebHistory('/staff/'),
  routes: [
    { path: '/', redirect: '/inbox' },
    {
      path: '/sign-in',
      name: 'sign-in',
      component: SignInView,
      meta: { public: true, title: 'signIn.title' },
    },
    { path: '/inbox', name: 'inbox', component: InboxView, meta: { title: 'inbox.title' } },
    {
      path: '/cases/:number',
      name: 'case',
      component: () => import('./views/CaseView.vue'),
      props: true,
      meta: { title: 'case.title' },
    },
    {
      path: '/intake',
      name: 'intake',
      component: () => import('./views/IntakeView.vue'),
      meta: { title: 'intake.title' },
    },
    {
      path: '/pickup',
      name: 'pickup',
      component: () => import('./views/PickupView.vue'),
      meta: { title: 'pickup.title' },
    },
    // issue 7: 看板 (KPIs, warnings), 好差评 (rectifications, appeals), 窗口评价器, 一线反馈
    {
      path: '/dashboard',
      name: 'dashboard',
      component: () => import('./views/DashboardView.vue'),
      meta: { title: 'dashboard.title' },
    },
    {
      path: '/evaluations',
      name: 'evaluations',
      component: () => import('./views/EvaluationsView.vue'),
      meta: { title: 'evaluations.title' },
    },
    {
      path: '/tablet',
      name: 'tablet',
      component: () => import('./views/TabletView.vue'),
      meta: { title: 'evaluations.tabletTitle' },
    },
    {
      path: '/feedback',
      name: 'feedback',
      component: () => import('./views/FeedbackView.vue'),
      meta: { title: 'feedback.title' },
    },
    ...ADMIN_ROUTES,
    { path: '/:rest(.*)*', redirect: '/inbox' },
  ],
});

let restored = false;
router.beforeEach(async (to) => {
  if (!restored) {
    restored = true;
    await restore();
  }
  if (to.meta.public) return true;
  if (!signedIn.value) return { name: 'sign-in', query: { next: to.fullPath } };
  // a read-only 领导 (dashboard.read, no case work) starts on 看板, not on an inbox the server refuses
  if (to.name === 'inbox' && !can('case.read') && can('dashboard.read')) return { name: 'dashboard' };
  if (to.name === 'feedback' && !can('feedback.report') && !can('feedback.triage'))
    return can('case.read') ? { name: 'inbox' } : { name: 'dashboard' };
  return true;
});

router.afterEach((to) => {
  const key = typeof to.meta.title === 'string' ? to.meta.title : null;
  const t = i18n.global.t as (k: string) => string;
  document.title = key ? `${t(key)} · ${t('app.name')}` : t('app.name');
  void session;
});
