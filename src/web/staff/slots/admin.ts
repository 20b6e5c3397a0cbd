/**
 * SLOT — the admin menu (管理): staff and grants, halls, implementation lists, catalog import. The
 * admin server routes are built elsewhere; after merge, replace {@link ADMIN_MENU} entries and
 * {@link ADMIN_ROUTES} components with the real screens (one route per entry, under `/admin/…`). The
 * header shows the menu to holders of an administrator role (session.ts `isAdministrator`).
 */
import type { RouteRecordRaw } from 'vue-router';

/** Entries of the admin menu: path under /staff/ and the i18n key of its label. */
export const ADMIN_MENU: readonly { path: string; label: string }[] = [
  { path: '/admin/staff', label: 'admin.staff' },
  { path: '/admin/halls', label: 'admin.halls' },
  { path: '/admin/implementations', label: 'admin.implementations' },
  { path: '/admin/catalog', label: 'admin.catalog' },
];

const placeholder = () => import('./AdminPlaceholder.vue');

export const ADMIN_ROUTES: RouteRecordRaw[] = [
  { path: '/admin', redirect: '/admin/staff' },
  ...ADMIN_MENU.map((m) => ({
    path: m.path,
    component: placeholder,
    props: { label: m.label },
    meta: { title: m.label },
  })),
];
