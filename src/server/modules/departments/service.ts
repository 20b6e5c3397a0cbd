import { makeCreditCode } from '../../../domain/credit-code.ts';
import {
  type AdministrativeLevel,
  DEPARTMENT_KIND_CODES,
  DEPARTMENT_KINDS,
  type DepartmentKind,
  isDepartmentKind,
} from '../../../domain/department.ts';
import { toGb2260Code } from '../../../domain/division-code.ts';
import { invalid, notFound } from '../../../domain/errors.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { Division } from '../regions/service.ts';
import { type DepartmentRow, DepartmentsRepository } from './repository.ts';

/** 部门 a competent department: id (uuid), unified social credit code, name, kind, division, level. */
export interface Department {
  id: string;
  creditCode: string;
  name: string;
  kind: DepartmentKind;
  divisionCode: string;
  level: AdministrativeLevel;
  sample: boolean;
}

function present(row: DepartmentRow): Department {
  return { ...row, kind: row.kind as DepartmentKind };
}

/**
 * Name of the department of `kind` at `division`, e.g. 南明区人力资源和社会保障局, 贵阳市公安局, 贵州省民政厅.
 * Built from the bureau templates in src/domain/department.ts.
 */
export function departmentName(
  kind: DepartmentKind,
  division: Pick<Division, 'name' | 'level'>,
  provinceName = '贵州省',
): string {
  const level = division.level as AdministrativeLevel;
  const template: string = DEPARTMENT_KINDS[kind].bureau[level];
  if (template.startsWith('国家税务总局')) return template.replace('贵州省', provinceName);
  if (kind === 'taxation') return `国家税务总局${division.name}${template.slice(1)}`;
  const base = level === 'province' ? provinceName : division.name;
  return `${base}${template.slice(1)}`;
}

/**
 * The departments module's public face: the standard set of competent departments (DEPARTMENT_KINDS) at
 * province, prefecture and county level, each with a valid unified social credit code (GB 32100).
 * All seeded departments are sample data (`sample: true`): their codes are valid in form, not real.
 */
export class DepartmentsService {
  private readonly repo: DepartmentsRepository;
  constructor(db: Db) {
    this.repo = new DepartmentsRepository(db);
  }

  /**
   * Creates one department of every kind at the province and at every prefecture and county in
   * `divisions` (inside `tx`). Idempotent. Credit codes: registration authority 1 (机构编制), type 1 (机关),
   * the division's 6-digit code, a serial per kind.
   * @returns number of departments in the set.
   */
  async seed(tx: Tx, divisions: Division[], provinceName = '贵州省'): Promise<number> {
    const rows = divisions
      .filter((d) => d.level === 'province' || d.level === 'prefecture' || d.level === 'county')
      .flatMap((d) =>
        DEPARTMENT_KIND_CODES.map((kind, i) => ({
          creditCode: makeCreditCode({
            registrationAuthority: '1',
            organisationType: '1',
            divisionCode: toGb2260Code(d.code),
            serial: 1000 + i,
          }),
          name: departmentName(kind, d, provinceName),
          kind,
          divisionCode: d.code,
          level: d.level as AdministrativeLevel,
          sample: true,
        })),
      );
    await this.repo.insertMany(rows, tx);
    return rows.length;
  }

  /** The department of `kind` at exactly `divisionCode`, or null when there is none. */
  async findDepartment(divisionCode: string, kind: DepartmentKind): Promise<Department | null> {
    const [row] = await this.repo.find({ divisionCode, kind });
    return row ? present(row) : null;
  }

  /**
   * @throws AppError(not_found, `department.not_found`) for an unknown id.
   */
  async getDepartment(id: string): Promise<Department> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
      throw invalid('id', `"${id}" is not a department id (a UUID).`, 'department.malformed_id');
    const [row] = await this.repo.find({ id });
    if (!row) throw notFound('department.not_found', `No department with id ${id}.`, 'id');
    return present(row);
  }

  /**
   * Departments filtered by division and/or kind, ordered by division then kind.
   * @throws AppError(validation, `department.unknown_kind`) for a kind not in DEPARTMENT_KINDS.
   */
  async listDepartments(filter: { divisionCode?: string; kind?: string } = {}): Promise<Department[]> {
    if (filter.kind !== undefined && !isDepartmentKind(filter.kind)) {
      throw invalid(
        'kind',
        `kind must be one of ${DEPARTMENT_KIND_CODES.join(', ')}; got "${filter.kind}".`,
        'department.unknown_kind',
      );
    }
    return (await this.repo.find(filter)).map(present);
  }

  count(): Promise<number> {
    return this.repo.count();
  }
}
