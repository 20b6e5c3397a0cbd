import { syntheticIdNumber } from './pii-flow.ts';

/**
 * The walk-in application most tests file: 最低生活保障申请 received at the 凯里 hall (522601-zwfw) for a
 * resident of 威宁 (520526, where it is decided: 异地代收代办), result picked up at 凯里. The ID number is
 * synthetic (valid GB 11643 check character) from `idSeq` (3 digits).
 */
export function kailiToWeiningApplication(idSeq = '002') {
  return {
    itemCode: '050004001000',
    applicant: {
      kind: 'natural_person',
      name: '王小芳',
      idNumber: syntheticIdNumber('520526', '19850312', idSeq),
    },
    channel: 'hall_window',
    intakeHallCode: '522601-zwfw',
    processingMode: 'off_site_intake',
    decidingDivisionCode: '520526',
    delivery: { method: 'pickup', hallCode: '522601-zwfw' },
    formData: { familySize: 3, monthlyIncome: 1200 },
  };
}
