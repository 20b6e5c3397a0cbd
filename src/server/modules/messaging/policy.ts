import { type Action, anyGrantAllows, type ScopeTarget } from '../../../domain/roles.ts';
import { mayReadCase } from '../cases/policy.ts';
import type { Principal } from '../identity/principal.ts';

/**
 * Who may do what in in-case messaging (办件沟通), by roles × jurisdiction (等保 2.0 8.1.4.2 访问控制).
 *
 * - **Read and post** in every thread of a case: staff who may read the case by the case policy
 *   ({@link mayReadCase}: the intake hall, the competent or previously competent department, the 多地联办
 *   part departments, the pickup hall, supervisors whose division scope covers the case).
 * - **Consulted departments** (会商部门): a department added to ONE thread by the intake hall or the
 *   competent department. Staff whose grant (`case.read`) is scoped to that department read and post in
 *   that thread only — they do not see the case itself, nor its other threads (need to know: 个人信息保护法
 *   art. 6). A division-scoped grant over the consulted department's county does not open the thread
 *   (that would widen every county supervisor to every consultation).
 * - **Consult a department** (add it to a thread): operational staff of the intake hall or of the
 *   competent department — a grant with one of {@link CONSULTING_ACTIONS} over that hall or department
 *   (not administrators, not supervisors by division: they oversee, they do not handle the case).
 * - **Residents and agents** never see staff threads.
 *
 * A thread the caller may not read answers 404 — `case.not_found` when the caller sees nothing of the
 * case, `case_thread.not_found` when they see the case (or another thread of it) but not this thread.
 */

/** Actions of those who handle a case (收件、转交、受理、审批): any of them over the place allows consulting. */
export const CONSULTING_ACTIONS: readonly Action[] = [
  'case.receive',
  'case.forward',
  'case.accept',
  'case.decide',
];

/** Whether `p` may read (and post in) a thread of a case at `target`, consulted `departmentIds`. */
export function mayReadThread(
  p: Pick<Principal, 'kind' | 'grants'>,
  target: ScopeTarget,
  consultedDepartmentIds: readonly string[],
  now: Date,
): boolean {
  if (p.kind !== 'staff') return false;
  if (mayReadCase(p as Principal, target, now)) return true;
  return consultedDepartmentIds.some((d) =>
    anyGrantAllows(
      p.grants,
      'case.read',
      { departmentIds: [d], ...(target.itemCode ? { itemCode: target.itemCode } : {}) },
      now,
    ),
  );
}

/**
 * Whether `p` may add a consulted department to a thread: an operational grant over the case's intake
 * hall or its competent department ({@link CONSULTING_ACTIONS}, for the case's item).
 */
export function mayConsult(
  p: Pick<Principal, 'kind' | 'grants'>,
  c: { intakeHallCode: string | null; competentDepartmentId: string | null; itemCode: string },
  now: Date,
): boolean {
  if (p.kind !== 'staff') return false;
  const target: ScopeTarget = {
    hallCodes: c.intakeHallCode ? [c.intakeHallCode] : [],
    departmentIds: c.competentDepartmentId ? [c.competentDepartmentId] : [],
    itemCode: c.itemCode,
  };
  return CONSULTING_ACTIONS.some((a) => anyGrantAllows(p.grants, a, target, now));
}
