/**
 * Competent departments (部门 / 实施主体). A department is a government body at a division, identified by
 * its unified social credit code (统一社会信用代码, GB 32100). The kinds below are the standard set of
 * competent departments found at province, prefecture and county level in Guizhou; catalog items name the
 * kind that implements them, and routing finds the department of that kind at the deciding division.
 */
export const DEPARTMENT_KINDS = {
  public_security: {
    name: '公安',
    bureau: { province: '省公安厅', prefecture: '市公安局', county: '县公安局' },
  },
  human_resources_social_security: {
    name: '人力资源和社会保障',
    bureau: {
      province: '省人力资源和社会保障厅',
      prefecture: '市人力资源和社会保障局',
      county: '县人力资源和社会保障局',
    },
  },
  healthcare_security: {
    name: '医疗保障',
    bureau: { province: '省医疗保障局', prefecture: '市医疗保障局', county: '县医疗保障局' },
  },
  civil_affairs: {
    name: '民政',
    bureau: { province: '省民政厅', prefecture: '市民政局', county: '县民政局' },
  },
  natural_resources: {
    name: '自然资源',
    bureau: { province: '省自然资源厅', prefecture: '市自然资源局', county: '县自然资源局' },
  },
  housing_urban_rural: {
    name: '住房和城乡建设',
    bureau: {
      province: '省住房和城乡建设厅',
      prefecture: '市住房和城乡建设局',
      county: '县住房和城乡建设局',
    },
  },
  market_regulation: {
    name: '市场监督管理',
    bureau: { province: '省市场监督管理局', prefecture: '市市场监督管理局', county: '县市场监督管理局' },
  },
  health: {
    name: '卫生健康',
    bureau: { province: '省卫生健康委员会', prefecture: '市卫生健康局', county: '县卫生健康局' },
  },
  transport: {
    name: '交通运输',
    bureau: { province: '省交通运输厅', prefecture: '市交通运输局', county: '县交通运输局' },
  },
  taxation: {
    name: '税务',
    bureau: { province: '国家税务总局贵州省税务局', prefecture: '市税务局', county: '县税务局' },
  },
  housing_provident_fund: {
    name: '住房公积金',
    bureau: {
      province: '省住房资金管理中心',
      prefecture: '市住房公积金管理中心',
      county: '县住房公积金管理部',
    },
  },
  education: { name: '教育', bureau: { province: '省教育厅', prefecture: '市教育局', county: '县教育局' } },
  agriculture_rural: {
    name: '农业农村',
    bureau: { province: '省农业农村厅', prefecture: '市农业农村局', county: '县农业农村局' },
  },
  ecology_environment: {
    name: '生态环境',
    bureau: { province: '省生态环境厅', prefecture: '市生态环境局', county: '县生态环境分局' },
  },
  veterans_affairs: {
    name: '退役军人事务',
    bureau: { province: '省退役军人事务厅', prefecture: '市退役军人事务局', county: '县退役军人事务局' },
  },
  justice: { name: '司法行政', bureau: { province: '省司法厅', prefecture: '市司法局', county: '县司法局' } },
  culture_tourism: {
    name: '文化和旅游',
    bureau: { province: '省文化和旅游厅', prefecture: '市文化和旅游局', county: '县文化旅游局' },
  },
  emergency_management: {
    name: '应急管理',
    bureau: { province: '省应急管理厅', prefecture: '市应急管理局', county: '县应急管理局' },
  },
  water_resources: {
    name: '水利',
    bureau: { province: '省水利厅', prefecture: '市水务局', county: '县水务局' },
  },
  forestry: { name: '林业', bureau: { province: '省林业局', prefecture: '市林业局', county: '县林业局' } },
  disabled_persons_federation: {
    name: '残疾人联合会',
    bureau: { province: '省残疾人联合会', prefecture: '市残疾人联合会', county: '县残疾人联合会' },
  },
  government_services: {
    name: '政务服务管理',
    bureau: { province: '省政务服务中心', prefecture: '市政务服务中心', county: '县政务服务中心' },
  },
} as const;

/** Identifier of a department kind, e.g. `human_resources_social_security` (人力资源和社会保障). */
export type DepartmentKind = keyof typeof DEPARTMENT_KINDS;

export const DEPARTMENT_KIND_CODES = Object.keys(DEPARTMENT_KINDS) as DepartmentKind[];

/** Administrative levels at which departments and halls exist (GB/T 39046 A.2 行使层级 uses the same). */
export type AdministrativeLevel = 'province' | 'prefecture' | 'county';

export function isDepartmentKind(value: string): value is DepartmentKind {
  return Object.hasOwn(DEPARTMENT_KINDS, value);
}
