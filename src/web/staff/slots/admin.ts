/**
 * The admin menu (管理): staff and grants, halls, implementation lists, catalog import / export and the
 * admin audit trail — one route per entry under `/admin/…` (views/admin/). The header shows the menu
 * to holders of an administrator role (session.ts `isAdministrator`); each entry is shown only when a
 * grant in force allows what the screen does (`show`), and opening one otherwise goes to the inbox.
 */
import type { RouteRecordRaw } from 'vue-router';
import { isAdministrator } from '../session.ts';
import { grantsFor } from '../views/admin/access.ts';

/** Entries of the admin menu: path under /staff/, the i18n key of its label, and who sees it. */
export const ADMIN_MENU: readonly { path: string; label: string; show: () => boolean }[] = [
  { path: '/admin/staff', label: 'admin.staff', show: () => grantsFor('grant.manage').length > 0 },
  { path: '/admin/halls', label: 'admin.halls', show: () => grantsFor('hall.manage').length > 0 },
  {
    path: '/admin/implementations',
    label: 'admin.implementations',
    show: () => grantsFor('implementation.manage').length > 0,
  },
  {
    path: '/admin/catalog',
    label: 'admin.catalog',
    show: () => grantsFor('implementation.manage').length > 0,
  },
  { path: '/admin/audit', label: 'admin.audit', show: () => isAdministrator.value },
];

const VIEWS: Record<string, () => Promise<unknown>> = {
  '/admin/staff': () => import('../views/admin/StaffView.vue'),
  '/admin/halls': () => import('../views/admin/HallsView.vue'),
  '/admin/implementations': () => import('../views/admin/ImplementationsView.vue'),
  '/admin/catalog': () => import('../views/admin/CatalogView.vue'),
  '/admin/audit': () => import('../views/admin/AuditView.vue'),
};

export const ADMIN_ROUTES: RouteRecordRaw[] = [
  {
    path: '/admin',
    redirect: () => ADMIN_MENU.find((m) => m.show())?.path ?? '/inbox',
  },
  ...ADMIN_MENU.map(
    (m): RouteRecordRaw => ({
      path: m.path,
      component: VIEWS[m.path] as never,
      meta: { title: m.label, admin: true },
      beforeEnter: () => (m.show() ? true : '/inbox'),
    }),
  ),
];
