import type { CaseActor } from '../../../domain/case-state.ts';

/**
 * Who may read an applicant's full identifiers (个人信息保护法 arts. 28, 51: sensitive personal
 * information only for a specific purpose, by those who need it). Hook until the identity issue brings
 * roles and grants: for now, staff of the case's competent department or of its intake hall.
 * @returns true when allowed.
 */
export function mayRevealApplicant(
  actor: CaseActor,
  c: { competentDepartmentId: string | null; intakeHallCode: string | null },
): boolean {
  if (actor.kind !== 'staff') return false;
  if (actor.departmentId && actor.departmentId === c.competentDepartmentId) return true;
  return !!actor.hallCode && actor.hallCode === c.intakeHallCode;
}
