import { AppError } from '../../../domain/errors.ts';
import { anyGrantAllows } from '../../../domain/roles.ts';
import { requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';

/**
 * Who may manage a hall (windows, opening hours, status): a grant with `hall.manage` in force whose scope
 * covers the hall — the hall itself (大厅管理员 over it), or a division subtree containing it (县级 /
 * 市（州）级 / 省级管理员). Halls are public reference data, so an out-of-scope caller is told so (403
 * `hall.out_of_scope`), not 404. 等保 2.0 8.1.4.2 访问控制.
 * @throws 401; 403 `hall.out_of_scope`.
 */
export function authorizeHallManagement(
  principal: Principal | null,
  hall: { code: string; divisionCode: string },
  now: Date,
): Principal {
  const p = requirePrincipal(principal);
  if (
    !anyGrantAllows(
      p.grants,
      'hall.manage',
      { hallCodes: [hall.code], divisionCodes: [hall.divisionCode] },
      now,
    )
  )
    throw new AppError(
      'forbidden',
      'hall.out_of_scope',
      `You do not administer the hall ${hall.code}: hall, county, prefecture and province administrators manage the halls of their own scope.`,
    );
  return p;
}
