import PDFDocument from 'pdfkit';
import QRCode from 'qrcode';
import { todayInShanghai } from '../../../domain/calendar.ts';
import type { DocumentFont } from './font.ts';
import { DOCUMENT_KIND_INFO, type DocumentKind } from './kinds.ts';

/**
 * Everything printed on a document, fixed when its number is allocated and stored with it
 * (`case_documents.content`): rendering is a pure function of it, so the bytes — and their SM3 digest —
 * can be reproduced at any time. Identifiers are masked; no phone, address or pickup code is printed.
 */
export interface DocumentContent {
  kind: DocumentKind;
  /** 文号, e.g. `威宁县民政局受字〔2026〕第000123号`. */
  number: string;
  /** The issuing authority's full name (hall or department). */
  issuer: string;
  caseNumber: string;
  item: { code: string; name: string };
  applicant: {
    name: string;
    /** 公民身份号码 or 统一社会信用代码. */
    idLabel: string;
    /** Masked (`5205**********0020`) for a resident; a credit code is printed as it is. */
    id: string | null;
  };
  /** ISO-8601 instant of the case event: the document's date and the PDF CreationDate. */
  issuedAt: string;
  /** Asia/Shanghai day the application was received (收件日), when known. */
  receivedOn: string | null;
  /** Where it was received (收件地). */
  intakeHall: string | null;
  /** The competent department (受理/审批机关). */
  competentDepartment: string | null;
  /** 补正: every missing or defective material with what to do, and the day by which to bring them. */
  gaps?: { material: string; reason: string }[];
  /** The reason given (不予受理, 不予许可: required; others: the note recorded with the event). */
  reason?: string | null;
  /** 承诺办结时限 in working days (受理通知书). */
  promisedWorkingDays?: number | null;
  /** 送达: method (pickup/mail/e_licence) and the tracking number or reference. */
  delivery?: { method: string; reference: string | null } | null;
  /** Case tracking page the QR code links to. */
  trackingUrl: string;
}

const PAGE = { size: 'A4' as const, margin: 64 };
/** Kinds whose event reason is an optional note (the others print it as the reason or in the body). */
const NOTE_KINDS: ReadonlySet<DocumentKind> = new Set([
  'receipt',
  'supplement_notice',
  'acceptance_notice',
  'delivery_receipt',
]);
const DELIVERY_LABELS: Record<string, string> = { pickup: '窗口领取', mail: '邮寄', e_licence: '电子证照' };
const REMEDY =
  '申请人如对本决定不服，可以自收到本文书之日起六十日内依法申请行政复议，或者六个月内依法向人民法院提起行政诉讼。';

/** `2026-03-02` → `2026年3月2日`. */
export function chineseDate(day: string): string {
  const [y, m, d] = day.split('-').map(Number);
  return `${y}年${m}月${d}日`;
}

/** The paragraphs of the body, by kind (行政许可法 arts. 32, 38, 44 wording). */
function body(c: DocumentContent): string[] {
  const on = chineseDate(todayInShanghai(new Date(c.issuedAt)));
  const received = c.receivedOn ? chineseDate(c.receivedOn) : on;
  const item = `“${c.item.name}”`;
  const basis = DOCUMENT_KIND_INFO[c.kind].legalBasis;
  switch (c.kind) {
    case 'receipt':
      return [
        `本机关于${received}收到你提交的${item}申请材料，办件编号为 ${c.caseNumber}。材料是否齐全、是否受理，将由受理机关${c.competentDepartment ? `（${c.competentDepartment}）` : ''}依法审查后告知。`,
        '本凭证仅证明已收到申请材料，不代表申请已被受理。请凭办件编号或扫描下方二维码查询办理进度。',
      ];
    case 'supplement_notice':
      return [
        `你于${received}提出的${item}申请，经审查，申请材料不齐全或者不符合法定形式。根据${basis}的规定，现一次性告知你需要补正的全部内容如下：`,
      ];
    case 'acceptance_notice':
      return [
        `你于${received}提出的${item}申请，申请材料齐全、符合法定形式。根据${basis}的规定，本机关决定予以受理。`,
        c.promisedWorkingDays
          ? `本机关将自受理之日起${c.promisedWorkingDays}个工作日内作出决定（依法需要听证、检验、检测、检疫、鉴定和专家评审的，所需时间不计算在内）。`
          : '本机关将在法定期限内作出决定。',
      ];
    case 'non_acceptance_notice':
      return [
        `你于${received}提出的${item}申请，经审查，本机关决定不予受理。`,
        `理由：${c.reason ?? ''}`,
        `依据：${basis}。`,
        REMEDY,
      ];
    case 'grant_decision':
      return [
        `你于${received}提出的${item}申请，经审查，符合法定条件、标准。根据${basis}的规定，本机关决定准予行政许可。`,
        ...(c.reason ? [`说明：${c.reason}`] : []),
        '请按选定的送达方式领取许可结果。',
      ];
    case 'denial_decision':
      return [
        `你于${received}提出的${item}申请，经审查，本机关决定不予行政许可。`,
        `理由：${c.reason ?? ''}`,
        `依据：${basis}。`,
        REMEDY,
      ];
    case 'delivery_receipt':
      return [
        `本机关于${on}向受送达人送达${item}的许可结果（办件编号 ${c.caseNumber}）。`,
        `送达方式：${DELIVERY_LABELS[c.delivery?.method ?? ''] ?? c.delivery?.method ?? '—'}${c.delivery?.reference ? `；单号/凭证：${c.delivery.reference}` : ''}。`,
        '受送达人签名：________________    签收日期：________________',
      ];
  }
}

/**
 * Renders a document as a one-page A4 PDF: issuer, title, 文号, addressee, body (the supplement list for
 * 补正), case facts, legal basis, the seal area (a box labelled 印章) with the issuer and date, and a QR code
 * of the tracking URL. Deterministic: the same content and font give the same bytes (CreationDate is the
 * event instant, the file ID derives from it, the font subset tag from the font's slot). Only the glyphs used
 * are embedded (fontkit subset, name `XXXXXX+<PostScript name>`). Typically 20–40 KB.
 */
export async function renderDocument(content: DocumentContent, font: DocumentFont): Promise<Buffer> {
  const info = DOCUMENT_KIND_INFO[content.kind];
  const issuedAt = new Date(content.issuedAt);
  const doc = new PDFDocument({
    size: PAGE.size,
    margin: PAGE.margin,
    compress: true,
    info: {
      Title: `${info.title} ${content.number}`,
      Author: content.issuer,
      Subject: content.caseNumber,
      Producer: 'tongban',
      Creator: 'tongban',
      CreationDate: issuedAt,
      ModDate: issuedAt,
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  const qr = await QRCode.toBuffer(content.trackingUrl, { errorCorrectionLevel: 'M', margin: 1, scale: 4 });

  if (font.family) doc.registerFont('cjk', font.bytes, font.family);
  else doc.registerFont('cjk', font.bytes);
  doc.font('cjk');
  const left = PAGE.margin;
  const width = doc.page.width - 2 * PAGE.margin;

  doc.fontSize(15).text(content.issuer, { align: 'center' });
  doc.moveDown(0.4).fontSize(22).text(info.title, { align: 'center', characterSpacing: 2 });
  doc.moveDown(0.3).fontSize(11).text(content.number, { align: 'center' });
  doc
    .moveDown(0.6)
    .moveTo(left, doc.y)
    .lineTo(left + width, doc.y)
    .lineWidth(0.8)
    .stroke();
  doc.moveDown(0.8).fontSize(12).text(`${content.applicant.name}：`);
  doc.moveDown(0.3);
  for (const p of body(content)) doc.text(p, { indent: 24, lineGap: 4, paragraphGap: 4 });
  if (content.gaps) {
    doc.moveDown(0.3);
    content.gaps.forEach((g, i) => {
      doc.text(`${i + 1}. ${g.material}`, { indent: 24, lineGap: 3 });
      doc.text(`需补正：${g.reason}`, { indent: 42, lineGap: 3, paragraphGap: 3 });
    });
    doc.moveDown(0.3);
    doc.text(
      '请一次性补齐上述全部材料后重新提交（可在原收件地或网上提交）。补正材料提交后，本机关依法重新审查。',
      { indent: 24, lineGap: 4 },
    );
  }
  if (content.reason && NOTE_KINDS.has(content.kind))
    doc.text(`说明：${content.reason}`, { indent: 24, lineGap: 4 });

  doc.moveDown(0.8).fontSize(10.5);
  const facts: [string, string][] = [
    ['办件编号', content.caseNumber],
    ['事项名称', content.item.name],
    ['事项编码', content.item.code],
    ['申请人', content.applicant.name],
    [content.applicant.idLabel, content.applicant.id ?? '—'],
  ];
  if (content.intakeHall) facts.push(['收件地', content.intakeHall]);
  if (content.competentDepartment) facts.push(['受理/审批机关', content.competentDepartment]);
  if (content.kind !== 'non_acceptance_notice' && content.kind !== 'denial_decision')
    facts.push(['法律依据', info.legalBasis]);
  for (const [k, v] of facts) doc.text(`${k}：${v}`, { lineGap: 2 });

  // Seal area (印章) on the right, the QR code of the tracking page on the left, at the foot of the page.
  const foot = Math.max(doc.y + 24, doc.page.height - PAGE.margin - 150);
  const date = chineseDate(todayInShanghai(issuedAt));
  doc.image(qr, left, foot, { width: 92, height: 92 });
  doc.fontSize(8).text('扫码查询办理进度', left, foot + 96, { width: 140 });
  doc.text(content.trackingUrl, left, foot + 108, { width: 200 });
  const sealX = left + width - 150;
  doc
    .rect(sealX + 25, foot - 6, 100, 100)
    .lineWidth(0.6)
    .dash(3, { space: 3 })
    .stroke()
    .undash();
  doc.fontSize(10).text('印章', sealX + 25, foot + 38, { width: 100, align: 'center' });
  doc.fontSize(11).text(content.issuer, sealX - 40, foot + 102, { width: 190, align: 'right' });
  doc.text(date, sealX - 40, foot + 118, { width: 190, align: 'right' });

  doc.end();
  return done;
}
