import i18next, { type i18n as I18n } from 'i18next';
import { z } from 'zod';

/**
 * Message templates per language, rendered with i18next (interpolation `{{name}}`, `_context` variants).
 * Applicant-facing templates exist for every case event the notifications module handles; staff-facing
 * ones for `case.forwarded` (to the competent department) and `case.warning` (to the department).
 *
 * Texts are plain text (no HTML escaping): they go into an inbox, an SMS, a push notification and a
 * text/plain email.
 */

/** Languages with templates. Anything else falls back to {@link DEFAULT_LOCALE}. */
export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = 'zh-CN';

/** Case event types (outbox topic `case.<type>`) with an applicant-facing template. */
export const APPLICANT_EVENTS = [
  'submitted',
  'received',
  'forwarded',
  'supplement_requested',
  'accepted',
  'not_accepted',
  'extended',
  'decided',
  'delivered',
  'withdrawn',
  'resubmitted',
  'reassigned',
  'rated',
  'pickup_code_reissued',
] as const;
/**
 * Outbox topics name case events either by the resulting event (`case.accepted`, as in the notifications
 * contract) or by the command that caused it (`case.accept`, as the case state machine names commands);
 * both are understood. Command names map to event names here.
 */
export const CASE_EVENT_ALIASES: Readonly<Record<string, string>> = {
  submit: 'submitted',
  receive: 'received',
  forward: 'forwarded',
  request_supplement: 'supplement_requested',
  accept: 'accepted',
  not_accept: 'not_accepted',
  extend: 'extended',
  decide: 'decided',
  deliver: 'delivered',
  withdraw: 'withdrawn',
  resubmit: 'resubmitted',
  reassign: 'reassigned',
  rate: 'rated',
  reissue_pickup_code: 'pickup_code_reissued',
  warn: 'warning',
};

/** `case.accept` / `case.accepted` → `accepted`; `undefined` for topics outside `case.`. */
export function caseEventOf(topic: string): string | undefined {
  if (!topic.startsWith('case.')) return undefined;
  const type = topic.slice('case.'.length);
  return CASE_EVENT_ALIASES[type] ?? type;
}

/** Case event types with a staff-facing template (sent to the competent department's inbox). */
export const STAFF_EVENTS = ['forwarded', 'warning', 'resubmitted', 'reassigned'] as const;

/**
 * The payload the case module puts on its outbox events (`case.<type>`). Unknown fields are ignored;
 * only `caseId`, `caseNumber` and `itemName` are required to render a message.
 */
export const CaseEventPayloadSchema = z.object({
  caseId: z.string().min(1),
  caseNumber: z.string().min(1),
  itemCode: z.string().nullish(),
  itemName: z.string().min(1),
  status: z.string().nullish(),
  locale: z.string().nullish(),
  applicant: z
    .object({
      name: z.string().nullish(),
      phone: z.string().nullish().describe('legacy: in clear (events written before encryption)'),
      phoneSealed: z.string().nullish().describe('SM4 envelope of the phone (pii module)'),
      email: z.string().nullish().describe('legacy: in clear'),
      emailSealed: z.string().nullish().describe('SM4 envelope of the email address'),
      accountId: z.string().nullish(),
    })
    .nullish(),
  competentDepartmentId: z.string().nullish(),
  intakeHallCode: z.string().nullish(),
  reason: z.string().nullish(),
  gaps: z.array(z.object({ material: z.string(), reason: z.string() })).nullish(),
  outcome: z.string().nullish().describe('granted | denied'),
  pickupCode: z.string().nullish().describe('legacy: in clear (events written before encryption)'),
  pickupCodeSealed: z.string().nullish().describe('SM4 envelope of the 6-digit pickup code'),
  pickupHallCode: z.string().nullish(),
  trackingNumber: z.string().nullish(),
  /** 好差评: the case's rating link (`/#/rate/<number>?t=<token>`), added by the service to `delivered`. */
  rateUrl: z.string().nullish(),
  deadline: z.string().nullish().describe('YYYY-MM-DD'),
  warning: z.string().nullish().describe('yellow | red | overdue'),
});
export type CaseEventPayload = z.infer<typeof CaseEventPayloadSchema>;

const zhCN = {
  sms: '【贵州通办】{{text}}',
  gapItem: '{{material}}（{{reason}}）',
  gapSeparator: '；',
  sentenceSeparator: '',
  case: {
    submitted: {
      subject: '办件已提交',
      body: '您的办件 {{caseNumber}}（{{itemName}}）已提交，我们会尽快收件审查，请留意办理进度。',
    },
    received: {
      subject: '办件已收件',
      body: '您的办件 {{caseNumber}}（{{itemName}}）已收件，工作人员正在审查材料。',
    },
    forwarded: {
      subject: '办件已转送审批部门',
      body: '您的办件 {{caseNumber}}（{{itemName}}）已转送审批部门办理，无需您再跑腿。',
    },
    supplement_requested: {
      subject: '请补正材料',
      body: '您的办件 {{caseNumber}}（{{itemName}}）需要补正以下材料：{{gaps}}。请一次性补齐后重新提交。',
      body_deadline:
        '您的办件 {{caseNumber}}（{{itemName}}）需要补正以下材料：{{gaps}}。请于 {{deadline}} 前一次性补齐后重新提交。',
      body_nogaps: '您的办件 {{caseNumber}}（{{itemName}}）需要补正材料，请按说明一次性补齐后重新提交。',
      reason: '说明：{{reason}}。',
    },
    accepted: {
      subject: '办件已受理',
      body: '您的办件 {{caseNumber}}（{{itemName}}）已受理。',
      body_deadline: '您的办件 {{caseNumber}}（{{itemName}}）已受理，承诺办结日期为 {{deadline}}。',
    },
    not_accepted: {
      subject: '办件不予受理',
      body: '很抱歉，您的办件 {{caseNumber}}（{{itemName}}）不予受理。',
      reason: '理由：{{reason}}。',
    },
    extended: {
      subject: '办理期限已延长',
      body: '您的办件 {{caseNumber}}（{{itemName}}）的办理期限依法延长。',
      body_deadline: '您的办件 {{caseNumber}}（{{itemName}}）的办理期限依法延长至 {{deadline}}。',
      reason: '理由：{{reason}}。',
    },
    decided: {
      subject: '办件已办结',
      body_granted: '您的办件 {{caseNumber}}（{{itemName}}）已办结，结果为准予。',
      body_denied: '您的办件 {{caseNumber}}（{{itemName}}）已办结，结果为不予批准。',
      body: '您的办件 {{caseNumber}}（{{itemName}}）已办结。',
      reason: '理由：{{reason}}。',
      pickup: '请凭取件码 {{pickupCode}} 到大厅领取办理结果。',
    },
    delivered: {
      subject: '办理结果已送达',
      body: '您的办件 {{caseNumber}}（{{itemName}}）的办理结果已送达，欢迎评价本次服务。',
      body_mail:
        '您的办件 {{caseNumber}}（{{itemName}}）的办理结果已寄出，运单号 {{trackingNumber}}，欢迎评价本次服务。',
      rate: '评价请点 {{rateUrl}}',
    },
    withdrawn: {
      subject: '办件已撤回',
      body: '您的办件 {{caseNumber}}（{{itemName}}）已撤回。',
    },
    resubmitted: {
      subject: '补正材料已收到',
      body: '您的办件 {{caseNumber}}（{{itemName}}）补正的材料已收到，办件继续办理。',
    },
    reassigned: {
      subject: '办件已转交有权部门',
      body: '您的办件 {{caseNumber}}（{{itemName}}）已转交有权办理的部门，您无需重新申请，也无需再跑腿。',
      reason: '说明：{{reason}}。',
    },
    rated: {
      subject: '感谢您的评价',
      body: '感谢您对办件 {{caseNumber}}（{{itemName}}）的评价，我们会认真改进。',
    },
    pickup_code_reissued: {
      subject: '新的取件码',
      body: '您的办件 {{caseNumber}}（{{itemName}}）的新取件码为 {{pickupCode}}，原取件码作废。请凭新取件码到大厅领取办理结果。',
    },
  },
  staff: {
    mentioned: {
      subject: '{{authorName}} 在办件沟通中提到了您：{{caseNumber}}',
      body: '{{authorName}} 在办件 {{caseNumber}} 的沟通中提到了您：“{{excerpt}}”。请到工作台查看并回复。',
      body_topic:
        '{{authorName}} 在办件 {{caseNumber}} 的专题“{{threadSubject}}”中提到了您：“{{excerpt}}”。请到工作台查看并回复。',
    },
    resubmitted: {
      subject: '补正材料已提交：{{caseNumber}}',
      body: '办件 {{caseNumber}}（{{itemName}}）的申请人已补正材料，请继续办理。',
    },
    reassigned: {
      subject: '新转交办件：{{caseNumber}}',
      body: '办件 {{caseNumber}}（{{itemName}}）已转交本部门办理，请及时处理。',
      body_deadline: '办件 {{caseNumber}}（{{itemName}}）已转交本部门办理，请于 {{deadline}} 前处理。',
      reason: '转交理由：{{reason}}。',
    },
    forwarded: {
      subject: '新转入办件待受理',
      body: '异地收件的办件 {{caseNumber}}（{{itemName}}）已转入本部门，请及时受理。',
      body_deadline: '异地收件的办件 {{caseNumber}}（{{itemName}}）已转入本部门，请于 {{deadline}} 前处理。',
    },
    warning: {
      subject_yellow: '黄牌预警：{{caseNumber}}',
      subject_red: '红牌预警：{{caseNumber}}',
      subject_overdue: '超期：{{caseNumber}}',
      subject: '办件预警：{{caseNumber}}',
      body_yellow: '办件 {{caseNumber}}（{{itemName}}）临近办理时限，请抓紧办理。',
      body_red: '办件 {{caseNumber}}（{{itemName}}）即将超过办理时限，请立即办理。',
      body_overdue: '办件 {{caseNumber}}（{{itemName}}）已超过承诺办结时限，请尽快办结并说明原因。',
      body: '办件 {{caseNumber}}（{{itemName}}）需要关注办理时限。',
      deadline: '时限：{{deadline}}。',
    },
  },
};

const en: typeof zhCN = {
  sms: '[Guizhou Tongban] {{text}}',
  gapItem: '{{material}} ({{reason}})',
  gapSeparator: '; ',
  sentenceSeparator: ' ',
  case: {
    submitted: {
      subject: 'Application submitted',
      body: 'Your application {{caseNumber}} ({{itemName}}) has been submitted. We will check it soon; you can follow its progress online.',
    },
    received: {
      subject: 'Application received',
      body: 'Your application {{caseNumber}} ({{itemName}}) has been received and its materials are being checked.',
    },
    forwarded: {
      subject: 'Application forwarded to the deciding authority',
      body: 'Your application {{caseNumber}} ({{itemName}}) has been forwarded to the deciding authority. You do not need to go there.',
    },
    supplement_requested: {
      subject: 'Please supplement your materials',
      body: 'Your application {{caseNumber}} ({{itemName}}) needs these materials supplemented: {{gaps}}. Please provide all of them and resubmit.',
      body_deadline:
        'Your application {{caseNumber}} ({{itemName}}) needs these materials supplemented: {{gaps}}. Please provide all of them and resubmit by {{deadline}}.',
      body_nogaps:
        'Your application {{caseNumber}} ({{itemName}}) needs its materials supplemented. Please follow the note below and resubmit everything at once.',
      reason: 'Note: {{reason}}.',
    },
    accepted: {
      subject: 'Application accepted',
      body: 'Your application {{caseNumber}} ({{itemName}}) has been accepted.',
      body_deadline:
        'Your application {{caseNumber}} ({{itemName}}) has been accepted. The promised decision date is {{deadline}}.',
    },
    not_accepted: {
      subject: 'Application not accepted',
      body: 'We are sorry: your application {{caseNumber}} ({{itemName}}) was not accepted.',
      reason: 'Reason: {{reason}}.',
    },
    extended: {
      subject: 'Time limit extended',
      body: 'The time limit for your application {{caseNumber}} ({{itemName}}) has been extended as the law allows.',
      body_deadline:
        'The time limit for your application {{caseNumber}} ({{itemName}}) has been extended as the law allows, to {{deadline}}.',
      reason: 'Reason: {{reason}}.',
    },
    decided: {
      subject: 'Decision made on your application',
      body_granted: 'Your application {{caseNumber}} ({{itemName}}) has been decided: granted.',
      body_denied: 'Your application {{caseNumber}} ({{itemName}}) has been decided: not granted.',
      body: 'Your application {{caseNumber}} ({{itemName}}) has been decided.',
      reason: 'Reason: {{reason}}.',
      pickup: 'Collect the result at the hall with pickup code {{pickupCode}}.',
    },
    delivered: {
      subject: 'Result delivered',
      body: 'The result of your application {{caseNumber}} ({{itemName}}) has been delivered. Please rate our service.',
      body_mail:
        'The result of your application {{caseNumber}} ({{itemName}}) has been mailed, tracking number {{trackingNumber}}. Please rate our service.',
      rate: 'Rate it here: {{rateUrl}}',
    },
    withdrawn: {
      subject: 'Application withdrawn',
      body: 'Your application {{caseNumber}} ({{itemName}}) has been withdrawn.',
    },
    resubmitted: {
      subject: 'Supplemented materials received',
      body: 'The materials you supplemented for application {{caseNumber}} ({{itemName}}) have been received; handling continues.',
    },
    reassigned: {
      subject: 'Application passed to the competent department',
      body: 'Your application {{caseNumber}} ({{itemName}}) has been passed to the department competent to decide it. You do not need to apply again or go anywhere.',
      reason: 'Note: {{reason}}.',
    },
    rated: {
      subject: 'Thank you for your rating',
      body: 'Thank you for rating application {{caseNumber}} ({{itemName}}). We will use it to improve.',
    },
    pickup_code_reissued: {
      subject: 'New pickup code',
      body: 'The new pickup code for application {{caseNumber}} ({{itemName}}) is {{pickupCode}}; the old code no longer works. Collect the result at the hall with the new code.',
    },
  },
  staff: {
    mentioned: {
      subject: '{{authorName}} mentioned you: {{caseNumber}}',
      body: '{{authorName}} mentioned you in the conversation on application {{caseNumber}}: “{{excerpt}}”. Open the workbench to read and reply.',
      body_topic:
        '{{authorName}} mentioned you in the thread “{{threadSubject}}” on application {{caseNumber}}: “{{excerpt}}”. Open the workbench to read and reply.',
    },
    resubmitted: {
      subject: 'Materials supplemented: {{caseNumber}}',
      body: 'The applicant of application {{caseNumber}} ({{itemName}}) has supplemented the materials. Please continue handling it.',
    },
    reassigned: {
      subject: 'Application passed to you: {{caseNumber}}',
      body: 'Application {{caseNumber}} ({{itemName}}) has been passed to your department. Please handle it promptly.',
      body_deadline:
        'Application {{caseNumber}} ({{itemName}}) has been passed to your department. Please handle it by {{deadline}}.',
      reason: 'Reason given: {{reason}}.',
    },
    forwarded: {
      subject: 'New forwarded application to accept',
      body: 'Application {{caseNumber}} ({{itemName}}), received at another hall, has been forwarded to your department. Please accept it promptly.',
      body_deadline:
        'Application {{caseNumber}} ({{itemName}}), received at another hall, has been forwarded to your department. Please handle it by {{deadline}}.',
    },
    warning: {
      subject_yellow: 'Yellow warning: {{caseNumber}}',
      subject_red: 'Red warning: {{caseNumber}}',
      subject_overdue: 'Overdue: {{caseNumber}}',
      subject: 'Deadline warning: {{caseNumber}}',
      body_yellow: 'Application {{caseNumber}} ({{itemName}}) is nearing its time limit. Please speed it up.',
      body_red:
        'Application {{caseNumber}} ({{itemName}}) is about to pass its time limit. Please handle it now.',
      body_overdue:
        'Application {{caseNumber}} ({{itemName}}) has passed its promised time limit. Please decide it and record the reason.',
      body: 'Application {{caseNumber}} ({{itemName}}) needs attention before its time limit.',
      deadline: 'Time limit: {{deadline}}.',
    },
  },
};

const i18n: I18n = i18next.createInstance();
void i18n.init({
  resources: { 'zh-CN': { translation: zhCN }, en: { translation: en } },
  lng: DEFAULT_LOCALE,
  fallbackLng: DEFAULT_LOCALE,
  supportedLngs: [...LOCALES],
  initAsync: false,
  interpolation: { escapeValue: false },
  returnNull: false,
});

/** `value` when it is one of `allowed` (a template variant exists), else undefined (the plain template). */
function variantOf(value: string | null | undefined, allowed: string[]): string | undefined {
  return value && allowed.includes(value) ? value : undefined;
}

/** `zh-CN` / `zh` / `zh-Hans-CN` → zh-CN; `en`, `en-GB` → en; anything else (or nothing) → zh-CN. */
export function normalizeLocale(locale: string | undefined): Locale {
  const l = (locale ?? '').toLowerCase();
  if (l === 'en' || l.startsWith('en-')) return 'en';
  return DEFAULT_LOCALE;
}

/** A rendered message. `sms` is the body with the SMS signature (签名) in front. */
export interface RenderedMessage {
  /** e.g. `case.accepted` or `staff.warning` */
  templateKey: string;
  locale: Locale;
  subject: string;
  body: string;
  sms: string;
}

/**
 * Renders the message for one case event in one language.
 * @param audience `applicant` (events in {@link APPLICANT_EVENTS}) or `staff` ({@link STAFF_EVENTS}).
 * @param event the event type, e.g. `accepted` (the outbox topic without `case.`).
 * @returns the rendered message, or `undefined` when there is no template for that audience and event.
 */
export function renderCaseMessage(
  audience: 'applicant' | 'staff',
  event: string,
  payload: CaseEventPayload,
  locale: Locale,
): RenderedMessage | undefined {
  const known: readonly string[] = audience === 'applicant' ? APPLICANT_EVENTS : STAFF_EVENTS;
  if (!known.includes(event)) return undefined;
  const base = `${audience === 'applicant' ? 'case' : 'staff'}.${event}`;
  const t = i18n.getFixedT(locale);
  const vars: Record<string, string> = {
    caseNumber: payload.caseNumber,
    itemName: payload.itemName,
    deadline: payload.deadline ?? '',
    reason: (payload.reason ?? '').replace(/[。.！!；;，,\s]+$/u, ''),
    pickupCode: payload.pickupCode ?? '',
    trackingNumber: payload.trackingNumber ?? '',
    rateUrl: payload.rateUrl ?? '',
    gaps: (payload.gaps ?? [])
      .map((g) => t('gapItem', { material: g.material, reason: g.reason }))
      .join(t('gapSeparator')),
  };
  let context: string | undefined;
  if (event === 'decided') context = variantOf(payload.outcome, ['granted', 'denied']);
  else if (event === 'warning') context = variantOf(payload.warning, ['yellow', 'red', 'overdue']);
  else if (event === 'delivered') context = payload.trackingNumber ? 'mail' : undefined;
  else if (event === 'supplement_requested' && !payload.gaps?.length) context = 'nogaps';
  else if (payload.deadline) context = 'deadline';
  const sentences = [t(`${base}.body`, { ...vars, context })];
  if (
    payload.reason &&
    ['supplement_requested', 'not_accepted', 'extended', 'decided', 'reassigned'].includes(event)
  )
    sentences.push(t(`${base}.reason`, vars));
  if (event === 'warning' && payload.deadline) sentences.push(t(`${base}.deadline`, vars));
  // A denial is collected at the desk too (不予许可决定书), so the code goes out either way.
  if (event === 'decided' && payload.pickupCode) sentences.push(t(`${base}.pickup`, vars));
  if (event === 'delivered' && payload.rateUrl) sentences.push(t(`${base}.rate`, vars));
  const body = sentences.join(t('sentenceSeparator'));
  return {
    templateKey: base,
    locale,
    subject: t(`${base}.subject`, { ...vars, context }),
    body,
    sms: t('sms', { text: body }),
  };
}

/**
 * The payload of an in-case messaging mention (outbox topic `case_message.mentioned`, written by the
 * messaging module when a message mentions staff or a department): who is told, and what to say.
 */
export const MentionPayloadSchema = z.object({
  caseId: z.string().min(1),
  caseNumber: z.string().min(1),
  threadId: z.string().min(1),
  threadSubject: z.string().nullish(),
  messageId: z.string().min(1),
  seq: z.number().int().nullish(),
  authorName: z.string().min(1),
  excerpt: z.string().describe('first 60 characters of the (masked) text'),
  recipients: z.array(z.object({ kind: z.enum(['staff', 'department']), id: z.string().min(1) })).min(1),
});
export type MentionPayload = z.infer<typeof MentionPayloadSchema>;

/**
 * Renders the staff message "X mentioned you" (办件沟通 @提及) in one language; the topic variant names
 * the thread's subject. Plain text.
 */
export function renderMentionMessage(payload: MentionPayload, locale: Locale): RenderedMessage {
  const t = i18n.getFixedT(locale);
  const excerpt = payload.excerpt.replace(/\s+/gu, ' ');
  const vars = {
    authorName: payload.authorName,
    caseNumber: payload.caseNumber,
    threadSubject: payload.threadSubject ?? '',
    excerpt: [...payload.excerpt].length >= 60 ? `${excerpt}…` : excerpt,
  };
  const body = t('staff.mentioned.body', { ...vars, context: payload.threadSubject ? 'topic' : undefined });
  return {
    templateKey: 'staff.mentioned',
    locale,
    subject: t('staff.mentioned.subject', vars),
    body,
    sms: t('sms', { text: body }),
  };
}
