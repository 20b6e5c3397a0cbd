import { describe, expect, it } from 'vitest';
import { WorkingDayCalendar } from './calendar.ts';
import { isOpenAt, type OpeningHours, shanghaiMinuteOfDay } from './opening-hours.ts';

const cal = new WorkingDayCalendar();
const hours: OpeningHours = { weekdays: ['09:00-12:00', '13:00-17:00'], saturday: ['09:00-12:00'] };
const at = (date: string, hhmm: string) => {
  const [h, m] = hhmm.split(':').map(Number);
  return isOpenAt(hours, cal.isWorkingDay(date), h! * 60 + m!);
};

describe('opening hours on the working-day calendar (Asia/Shanghai)', () => {
  it('is open inside weekday ranges and closed at lunch and after hours', () => {
    expect(at('2026-11-30', '09:00')).toBe(true); // Monday
    expect(at('2026-11-30', '12:30')).toBe(false);
    expect(at('2026-11-30', '17:00')).toBe(false);
  });
  it('uses Saturday hours on a plain Saturday, weekday hours on a make-up Saturday, and closes on holidays', () => {
    expect(at('2026-11-28', '10:00')).toBe(true); // Saturday morning service
    expect(at('2026-11-28', '14:00')).toBe(false);
    expect(at('2026-11-29', '10:00')).toBe(false); // Sunday
    expect(at('2026-02-14', '14:00')).toBe(true); // 调休 make-up Saturday before Spring Festival
    expect(at('2026-02-17', '10:00')).toBe(false); // Spring Festival
    expect(at('2026-10-01', '10:00')).toBe(false); // National Day
  });
  it('answers null (unknown) in a year whose holidays are not published', () => {
    expect(at('2027-03-01', '10:00')).toBeNull();
  });
  it('takes the minute of day in Shanghai time', () => {
    expect(shanghaiMinuteOfDay(new Date('2026-11-29T12:42:00Z'))).toBe(20 * 60 + 42);
    expect(shanghaiMinuteOfDay(new Date('2026-11-29T20:05:00Z'))).toBe(4 * 60 + 5);
  });
});
