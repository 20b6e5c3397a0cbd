/**
 * The kinds of 文书 (written notices) tongban issues for a case, which timeline event produces each, who
 * issues it and on which article of 中华人民共和国行政许可法 it stands. Pure: no I/O.
 */

/** Every document kind, in the order a case meets them. */
export const DOCUMENT_KINDS = [
  'receipt',
  'supplement_notice',
  'acceptance_notice',
  'non_acceptance_notice',
  'grant_decision',
  'denial_decision',
  'delivery_receipt',
] as const;

/** A document kind; see {@link DOCUMENT_KINDS}. */
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];

/** How a kind is titled, numbered and justified. */
export interface DocumentKindInfo {
  /** The title printed on the document (中文). */
  title: string;
  /** The word of the 文号 before 字, e.g. 受 in `…受字〔2026〕第000123号`. */
  numberWord: string;
  /** Who issues it: the intake hall (收件地) or the competent department (受理/审批机关). */
  issuer: 'intake_hall' | 'competent_department';
  /** The legal basis printed on it. */
  legalBasis: string;
}

/** The table of kinds (行政许可法 arts. 32, 37, 38, 42, 44). */
export const DOCUMENT_KIND_INFO: Readonly<Record<DocumentKind, DocumentKindInfo>> = {
  receipt: {
    title: '收件凭证',
    numberWord: '收',
    issuer: 'intake_hall',
    legalBasis: '《中华人民共和国行政许可法》第三十二条第二款',
  },
  supplement_notice: {
    title: '补正材料一次性告知书',
    numberWord: '补',
    issuer: 'competent_department',
    legalBasis: '《中华人民共和国行政许可法》第三十二条第一款第（四）项',
  },
  acceptance_notice: {
    title: '受理通知书',
    numberWord: '受',
    issuer: 'competent_department',
    legalBasis: '《中华人民共和国行政许可法》第三十二条第一款第（五）项、第二款',
  },
  non_acceptance_notice: {
    title: '不予受理通知书',
    numberWord: '不受',
    issuer: 'competent_department',
    legalBasis: '《中华人民共和国行政许可法》第三十二条第一款、第二款',
  },
  grant_decision: {
    title: '准予行政许可决定书',
    numberWord: '许准',
    issuer: 'competent_department',
    legalBasis: '《中华人民共和国行政许可法》第三十七条、第三十八条第一款、第四十二条',
  },
  denial_decision: {
    title: '不予行政许可决定书',
    numberWord: '许不准',
    issuer: 'competent_department',
    legalBasis: '《中华人民共和国行政许可法》第三十七条、第三十八条第二款、第四十二条',
  },
  delivery_receipt: {
    title: '送达回证',
    numberWord: '送',
    issuer: 'competent_department',
    legalBasis: '《中华人民共和国行政许可法》第四十四条',
  },
};

/**
 * The document a timeline event produces, or null: `receive` → 收件凭证, `request_supplement` → 补正材料
 * 一次性告知书, `accept` (also 视为受理) → 受理通知书, `not_accept` → 不予受理通知书, `decide` → 准予 / 不予
 * 行政许可决定书 by `data.outcome`, `deliver` → 送达回证.
 */
export function documentKindOf(event: { type: string; data: Record<string, unknown> }): DocumentKind | null {
  switch (event.type) {
    case 'receive':
      return 'receipt';
    case 'request_supplement':
      return 'supplement_notice';
    case 'accept':
      return 'acceptance_notice';
    case 'not_accept':
      return 'non_acceptance_notice';
    case 'decide':
      return event.data.outcome === 'denied' ? 'denial_decision' : 'grant_decision';
    case 'deliver':
      return 'delivery_receipt';
    default:
      return null;
  }
}

/** Outbox topics (`case.<event type>`) after which a case may have a new document to issue. */
export const DOCUMENT_TOPICS: ReadonlySet<string> = new Set(
  ['receive', 'request_supplement', 'accept', 'not_accept', 'decide', 'deliver'].map((t) => `case.${t}`),
);

/**
 * The short name of an issuing authority used in 文号 (机关代字): ethnic autonomous counties and prefectures
 * by their short form (威宁彝族回族苗族自治县 → 威宁县, 黔东南苗族侗族自治州 → 黔东南州), 市场监督管理局 →
 * 市场监管局. Other names are used as they are.
 */
const ETHNIC_GROUPS =
  '布依|仡佬|土家|蒙古|维吾尔|哈萨克|朝鲜|纳西|哈尼|拉祜|傈僳|景颇|毛南|苗|侗|彝|回|水|白|瑶|壮|满|藏|傣|黎|羌|佤';
/** `<place><ethnic group 族>+自治<县|州|旗>` → `<place><县|州|旗>`. */
const AUTONOMOUS = new RegExp(`(?:(?:${ETHNIC_GROUPS})族)+自治(?=县|州|旗)`, 'gu');

export function issuerAbbreviation(name: string): string {
  return name.replace(AUTONOMOUS, '').replace('市场监督管理局', '市场监管局').replace(/\s+/g, '');
}

/**
 * The 文号 of a document: issuing authority abbreviation + kind word + 字〔year〕第NNNNNN号, e.g.
 * `威宁县市场监管局受字〔2026〕第000123号`. @param sequence 1-based, per issuer per kind per year.
 */
export function formatDocumentNumber(issuerName: string, kind: DocumentKind, year: number, sequence: number) {
  return `${issuerAbbreviation(issuerName)}${DOCUMENT_KIND_INFO[kind].numberWord}字〔${year}〕第${String(sequence).padStart(6, '0')}号`;
}
