import { anyGrantAllows, type ScopeTarget } from '../../../domain/roles.ts';
import { forbidden, requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';

/**
 * Who may read a KPI dashboard (等保 2.0 8.1.4.2: least privilege): staff with `dashboard.read`
 * (administrators, leaders, duty officers) over the scope — a division grant covers its subtree and the
 * halls in it; a hall grant covers that hall only. @throws 401 without a principal, 403
 * `kpi.scope_missing` otherwise.
 */
export function requireDashboardRead(p: Principal | null, target: ScopeTarget, now: Date): void {
  const principal = requirePrincipal(p);
  if (principal.kind !== 'staff' || !anyGrantAllows(principal.grants, 'dashboard.read', target, now))
    throw forbidden(
      'kpi.scope_missing',
      'Your grants do not give dashboard.read over this place: ask for a division or hall your grant covers.',
    );
}
