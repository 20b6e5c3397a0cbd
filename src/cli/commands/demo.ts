import { randomBytes } from 'node:crypto';
import type { Role, Scope } from '../../domain/roles.ts';
import type { Services } from '../../server/services.ts';

/** The 凯里市 county service centre (收件地 of the demo story). */
export const DEMO_KAILI_HALL = '522601-zwfw';
/** 南明区 (贵阳): another county, whose clerk must not see the 威宁 case. */
export const DEMO_NANMING_HALL = '520102-zwfw';
/** 凯里市: the county of the demo intake hall. */
export const DEMO_KAILI = '522601';
/** 威宁彝族回族苗族自治县: the deciding division of the demo story. */
export const DEMO_WEINING = '520526';

const scopeValue = (s: Scope) => (s.kind === 'department' ? s.id : s.code);

/** One demo staff account as printed by `tongban seed --demo`. */
export interface DemoAccount {
  username: string;
  name: string;
  /** what the account is for, in Chinese */
  role: string;
  password: string;
  /** set when the account signs in with password + TOTP (administrators always) */
  totp: { secret: string; otpauthUri: string } | null;
}

interface DemoSpec {
  username: string;
  name: string;
  label: string;
  bind: { hallCode?: string; departmentId?: string };
  grants: { role: Role; scope: { kind: 'division' | 'hall' | 'department'; value: string } }[];
  admin: boolean;
}

/** A random demo password of four kinds of characters (≥ 10 characters, as the identity rules want). */
function demoPassword(): string {
  return `Demo-${randomBytes(6).toString('base64url')}-9a`;
}

/**
 * `tongban seed --demo`: demo staff accounts for trying the workbench (/staff/) — a 收件员 at the 凯里市
 * hall, a 取件员 at the same hall, a 受理员 + 审批员 of the 威宁 civil-affairs bureau (民政局, the
 * competent department of 最低生活保障 there), a 收件员 of 南明区 (another county: sees nothing of 威宁's
 * cases), a 县级管理员 of 威宁 (administrators sign in with password + TOTP: an authenticator is
 * enrolled and its secret printed), a 县级管理员 of 凯里市 (feedback triage, appeals of reviews), a read-only
 * 领导 of the province (dashboards) and a 村级代办员 of the 凯里市 hall (帮办代办 on the phone, /#/agent).
 * Operational demo accounts sign in with the password alone (demo only: TOTP is mandatory for
 * administrators, optional for the rest).
 *
 * Idempotent: an existing demo account keeps its id and grants in force and gets a NEW random password
 * (and TOTP secret), so the printed credentials are always the valid ones. Grants last one year.
 * Refused when NODE_ENV=production. @returns the accounts with their credentials, to print.
 */
export async function seedDemoStaff(services: Services, by = 'seed-demo'): Promise<DemoAccount[]> {
  if (process.env.NODE_ENV === 'production')
    throw new Error('tongban seed --demo creates accounts with printed passwords: refused in production.');
  const civil = await services.departments.findDepartment(DEMO_WEINING, 'civil_affairs');
  if (!civil)
    throw new Error(`No civil-affairs department in ${DEMO_WEINING}: load the reference data first.`);
  // a staff account is bound to a department or a hall: the province's government-services office
  const office = await services.departments.findDepartment('52', 'government_services');
  if (!office)
    throw new Error('No government-services department of the province: load the reference data first.');
  const specs: DemoSpec[] = [
    {
      username: 'kaili.intake',
      name: '凯里收件员',
      label: '收件员 · 凯里市政务服务中心',
      bind: { hallCode: DEMO_KAILI_HALL },
      grants: [{ role: 'intake_clerk', scope: { kind: 'hall', value: DEMO_KAILI_HALL } }],
      admin: false,
    },
    {
      username: 'kaili.pickup',
      name: '凯里取件员',
      label: '收件员（取件窗口；取件由收件员办理） · 凯里市政务服务中心',
      bind: { hallCode: DEMO_KAILI_HALL },
      grants: [{ role: 'intake_clerk', scope: { kind: 'hall', value: DEMO_KAILI_HALL } }],
      admin: false,
    },
    {
      username: 'weining.officer',
      name: '威宁受理审批员',
      label: '受理员 + 审批员 · 威宁县民政局',
      bind: { departmentId: civil.id },
      grants: [
        { role: 'acceptance_officer', scope: { kind: 'department', value: civil.id } },
        { role: 'approver', scope: { kind: 'department', value: civil.id } },
      ],
      admin: false,
    },
    {
      username: 'nanming.intake',
      name: '南明收件员',
      label: '收件员 · 南明区政务服务中心（另一县，看不到威宁的办件）',
      bind: { hallCode: DEMO_NANMING_HALL },
      grants: [{ role: 'intake_clerk', scope: { kind: 'hall', value: DEMO_NANMING_HALL } }],
      admin: false,
    },
    {
      username: 'weining.admin',
      name: '威宁县级管理员',
      label: '县级管理员 · 威宁（密码 + TOTP）',
      bind: { departmentId: civil.id },
      grants: [{ role: 'county_admin', scope: { kind: 'division', value: DEMO_WEINING } }],
      admin: true,
    },
    {
      // issue 7: triages the 凯里 staff's feedback, decides appeals (复核) of reviews of the 凯里 hall
      username: 'kaili.admin',
      name: '凯里市县级管理员',
      label: '县级管理员 · 凯里市（一线反馈分派、差评申诉复核、看板；密码 + TOTP）',
      bind: { hallCode: DEMO_KAILI_HALL },
      grants: [{ role: 'county_admin', scope: { kind: 'division', value: DEMO_KAILI } }],
      admin: true,
    },
    {
      // issue 7: the province's dashboards (KPIs, warnings, drill-down) read-only
      username: 'guizhou.leader',
      name: '省级领导',
      label: '领导（只读看板） · 贵州省（/staff/dashboard）',
      bind: { departmentId: office.id },
      grants: [{ role: 'leader', scope: { kind: 'division', value: '52' } }],
      admin: false,
    },
    {
      username: 'kaili.village',
      name: '凯里村级代办员',
      label: '村级代办员 · 凯里市政务服务中心（手机上帮办代办：/#/agent）',
      bind: { hallCode: DEMO_KAILI_HALL },
      grants: [{ role: 'village_agent', scope: { kind: 'hall', value: DEMO_KAILI_HALL } }],
      admin: false,
    },
  ];
  const identity = services.identity;
  const until = new Date(Date.now() + 365 * 24 * 3600 * 1000);
  const out: DemoAccount[] = [];
  for (const spec of specs) {
    const password = demoPassword();
    let id = await identity.staffIdByUsername(spec.username);
    if (!id) {
      id = (
        await identity.createStaff({
          name: spec.name,
          username: spec.username,
          password,
          ...spec.bind,
          isAdmin: spec.admin,
        })
      ).id;
    }
    const totp = await identity.resetStaffCredentials(id, { password, totp: spec.admin });
    const now = new Date();
    const held = (await identity.grants.grantsOf(id, now)).filter(
      (g) => g.validUntil.getTime() > now.getTime() + 30 * 24 * 3600 * 1000,
    );
    for (const g of spec.grants) {
      if (held.some((h) => h.role === g.role && scopeValue(h.scope) === g.scope.value)) continue;
      await identity.grants.grantFromCli(
        {
          accountId: id,
          role: g.role,
          scope: g.scope,
          itemCodes: null,
          validUntil: until,
          reason: '演示账号（tongban seed --demo）',
        },
        by,
      );
    }
    out.push({ username: spec.username, name: spec.name, role: spec.label, password, totp });
  }
  return out;
}

/** The lines `tongban seed --demo` prints. */
export function formatDemoAccounts(
  accounts: readonly DemoAccount[],
  url = 'http://127.0.0.1:3000/staff/',
): string {
  const lines = [`demo staff accounts (sign in at ${url}; demo only, new passwords on every run):`];
  for (const a of accounts) {
    lines.push(`  ${a.username.padEnd(16)} ${a.password}   ${a.role}`);
    if (a.totp) lines.push(`  ${''.padEnd(16)} TOTP secret ${a.totp.secret}   ${a.totp.otpauthUri}`);
  }
  return lines.join('\n');
}
