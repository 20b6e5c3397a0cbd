import { describe, expect, it } from 'vitest';
import {
  APPLICANT_EVENTS,
  type CaseEventPayload,
  LOCALES,
  normalizeLocale,
  renderCaseMessage,
  STAFF_EVENTS,
} from './templates.ts';

const minimal: CaseEventPayload = {
  caseId: 'c-1',
  caseNumber: '520102-20260302-0007',
  itemName: '居民身份证换领',
};
const full: CaseEventPayload = {
  ...minimal,
  deadline: '2026-03-20',
  reason: '照片不符合规格。',
  gaps: [
    { material: '户口簿', reason: '复印件不清晰' },
    { material: '近期免冠照片', reason: '缺少' },
  ],
  outcome: 'granted',
  pickupCode: '384615',
  trackingNumber: 'SF1234567890',
  warning: 'yellow',
};

describe('notification templates (i18next, zh-CN and en)', () => {
  it('renders the accepted notice in Chinese and in English with the promised date', () => {
    const zh = renderCaseMessage('applicant', 'accepted', full, 'zh-CN')!;
    expect(zh).toMatchObject({ templateKey: 'case.accepted', locale: 'zh-CN', subject: '办件已受理' });
    expect(zh.body).toBe(
      '您的办件 520102-20260302-0007（居民身份证换领）已受理，承诺办结日期为 2026-03-20。',
    );
    expect(zh.sms).toBe(`【贵州通办】${zh.body}`);
    const en = renderCaseMessage('applicant', 'accepted', full, 'en')!;
    expect(en.subject).toBe('Application accepted');
    expect(en.body).toBe(
      'Your application 520102-20260302-0007 (居民身份证换领) has been accepted. The promised decision date is 2026-03-20.',
    );
  });

  it('lists every gap of a supplement notice once (一次性告知), with the reason', () => {
    const zh = renderCaseMessage('applicant', 'supplement_requested', full, 'zh-CN')!;
    expect(zh.body).toContain('户口簿（复印件不清晰）；近期免冠照片（缺少）');
    expect(zh.body).toContain('请于 2026-03-20 前');
    expect(zh.body).toMatch(/说明：照片不符合规格。$/);
    const en = renderCaseMessage('applicant', 'supplement_requested', full, 'en')!;
    expect(en.body).toContain('户口簿 (复印件不清晰); 近期免冠照片 (缺少)');
    expect(en.body).toMatch(/Note: 照片不符合规格\.$/);
  });

  it('chooses variants by outcome, warning level and delivery way', () => {
    expect(renderCaseMessage('applicant', 'decided', full, 'zh-CN')!.body).toContain('结果为准予');
    expect(renderCaseMessage('applicant', 'decided', full, 'zh-CN')!.body).toContain('取件码 384615');
    const denied = renderCaseMessage('applicant', 'decided', { ...full, outcome: 'denied' }, 'en')!;
    expect(denied.body).toContain('not granted');
    // The denial notice is collected at the desk too, so the code goes with it.
    expect(denied.body).toContain('pickup code 384615');
    expect(renderCaseMessage('applicant', 'delivered', full, 'zh-CN')!.body).toContain('运单号 SF1234567890');
    // 好差评: the rating link goes with the delivery message when the service adds one, and only then
    const rateUrl = 'http://127.0.0.1:3000/#/rate/520102-20260302-0007?t=abc';
    expect(renderCaseMessage('applicant', 'delivered', { ...full, rateUrl }, 'zh-CN')!.body).toMatch(
      /欢迎评价本次服务。评价请点 http:\/\/127\.0\.0\.1:3000\/#\/rate\/520102-20260302-0007\?t=abc$/,
    );
    expect(renderCaseMessage('applicant', 'delivered', { ...full, rateUrl }, 'en')!.body).toContain(
      `Rate it here: ${rateUrl}`,
    );
    expect(renderCaseMessage('applicant', 'delivered', full, 'zh-CN')!.body).not.toContain('评价请点');
    expect(renderCaseMessage('staff', 'warning', full, 'zh-CN')!.subject).toBe(
      '黄牌预警：520102-20260302-0007',
    );
    expect(renderCaseMessage('staff', 'warning', { ...full, warning: 'overdue' }, 'en')!.subject).toBe(
      'Overdue: 520102-20260302-0007',
    );
    expect(renderCaseMessage('staff', 'warning', full, 'zh-CN')!.body).toMatch(
      /临近办理时限.*时限：2026-03-20。$/,
    );
    expect(renderCaseMessage('staff', 'forwarded', full, 'zh-CN')!.body).toContain('已转入本部门');
  });

  it('has a complete template for every event in both languages, also with only the required fields', () => {
    for (const locale of LOCALES)
      for (const payload of [minimal, full]) {
        const all = [
          ...APPLICANT_EVENTS.map((e) => renderCaseMessage('applicant', e, payload, locale)),
          ...STAFF_EVENTS.map((e) => renderCaseMessage('staff', e, payload, locale)),
        ];
        for (const m of all) {
          expect(m).toBeDefined();
          // no raw key, no unfilled placeholder, no "undefined"
          for (const text of [m!.subject, m!.body]) {
            expect(text).not.toMatch(/\{\{|undefined|^case\.|^staff\.|（）|\(\)|：。|: \./);
            expect(text.length).toBeGreaterThan(4);
          }
          expect(m!.body).toContain(payload.caseNumber);
          // the language really differs: Chinese texts contain CJK punctuation, English ones none
          if (locale === 'en') expect(m!.body).not.toMatch(/[，。：]/);
          else expect(m!.body).toMatch(/[，。]/);
        }
      }
  });

  it('has no template for unknown events or for the wrong audience', () => {
    expect(renderCaseMessage('applicant', 'warning', full, 'zh-CN')).toBeUndefined();
    expect(renderCaseMessage('staff', 'accepted', full, 'zh-CN')).toBeUndefined();
    expect(renderCaseMessage('applicant', 'exploded', full, 'en')).toBeUndefined();
  });

  it('normalises locales, defaulting to zh-CN', () => {
    expect(normalizeLocale(undefined)).toBe('zh-CN');
    expect(normalizeLocale('en-GB')).toBe('en');
    expect(normalizeLocale('EN')).toBe('en');
    expect(normalizeLocale('ug')).toBe('zh-CN');
    expect(normalizeLocale('zh-Hans-CN')).toBe('zh-CN');
  });
});
