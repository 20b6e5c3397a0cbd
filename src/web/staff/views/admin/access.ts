/**
 * What the signed-in administrator may manage, from their grants in force (src/domain/roles.ts, the
 * same table the server decides with): which admin screens to show, the divisions and halls they
 * administer. The server still decides every request; this only chooses what to show.
 */
import { computed } from 'vue';
import { type Action, type Role, roleAllows } from '../../../../domain/roles.ts';
import type { Grant } from '../../api/types.ts';
import { session } from '../../session.ts';

function inForce(): Grant[] {
  const now = Date.now();
  return session.grants.filter(
    (g) => !g.revokedAt && Date.parse(g.validFrom) <= now && Date.parse(g.validUntil) > now,
  );
}

/** Grants in force whose role allows `action`. */
export function grantsFor(action: Action): Grant[] {
  return inForce().filter((g) => roleAllows(g.role, action));
}

/** Whether a grant in force has one of `roles`. */
export function holdsRole(...roles: Role[]): boolean {
  return inForce().some((g) => roles.includes(g.role));
}

/** Division codes I administer for `action` (division-scoped grants), without duplicates. */
export function divisionsFor(action: Action): string[] {
  return [...new Set(grantsFor(action).flatMap((g) => (g.scope.kind === 'division' ? [g.scope.value] : [])))];
}

/** Hall codes I administer directly (hall-scoped grants) for `action`. */
export function hallsFor(action: Action): string[] {
  return [...new Set(grantsFor(action).flatMap((g) => (g.scope.kind === 'hall' ? [g.scope.value] : [])))];
}

/** The catalog workbook import is for province administrators only (the server's catalog policy). */
export const isProvinceAdmin = computed(() => holdsRole('province_admin'));
