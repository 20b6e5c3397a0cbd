import { AppError } from '../../../domain/errors.ts';
import { anyGrantAllows, grantInForce, roleAllows } from '../../../domain/roles.ts';
import { requirePrincipal } from '../identity/policy.ts';
import type { Principal } from '../identity/principal.ts';
import { PROVINCE_CODE } from './constants.ts';

/**
 * Who may edit the local variances of an implementation (实施清单): a grant with `implementation.manage`
 * (县级 / 市（州）级 / 省级管理员) whose division scope covers the implementation's division. Implementation
 * lists are public (政务公开), so an out-of-scope caller is told so: 403 `implementation.out_of_scope`.
 * @throws 401; 403.
 */
export function authorizeImplementation(
  principal: Principal | null,
  divisionCode: string,
  now: Date,
): Principal {
  const p = requirePrincipal(principal);
  if (!anyGrantAllows(p.grants, 'implementation.manage', { divisionCodes: [divisionCode] }, now))
    throw new AppError(
      'forbidden',
      'implementation.out_of_scope',
      `You do not administer the implementation list of division ${divisionCode}: county, prefecture and province administrators edit their own division's.`,
    );
  return p;
}

/**
 * Who may import the catalog over HTTP: a province administrator — `catalog.import` over the whole province
 * (`52`): the catalog is the provincial standard (基本目录). @throws 401; 403 `catalog.province_admin_only`.
 */
export function authorizeCatalogImport(principal: Principal | null, now: Date): Principal {
  const p = requirePrincipal(principal);
  if (!anyGrantAllows(p.grants, 'catalog.import', { divisionCodes: [PROVINCE_CODE] }, now))
    throw new AppError(
      'forbidden',
      'catalog.province_admin_only',
      'Only a province administrator (省级管理员) imports the catalog.',
    );
  return p;
}

/**
 * Who may download the catalog workbook: any administrator of implementation lists (`implementation.manage`
 * in force, any scope). @throws 401; 403 `catalog.admin_only`.
 */
export function authorizeCatalogExport(principal: Principal | null, now: Date): Principal {
  const p = requirePrincipal(principal);
  if (!p.grants.some((g) => grantInForce(g, now) && roleAllows(g.role, 'implementation.manage')))
    throw new AppError(
      'forbidden',
      'catalog.admin_only',
      'Only administrators of implementation lists (county, prefecture, province) download the catalog workbook.',
    );
  return p;
}
