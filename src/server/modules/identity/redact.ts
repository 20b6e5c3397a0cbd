/**
 * Removes one-time sign-in codes from a log line (e.g. the development SMS adapter's "SMS … to 138****5678:
 * 【贵州通办】验证码 123456 …"): `验证码 123456` → `验证码 ******`. Codes must never reach a log
 * (等保 2.0 level 3: authentication data kept confidential).
 */
export function redactOneTimeCodes(line: string): string {
  return line.replace(
    /(验证码|code)(\s*[:：]?\s*)\d{4,8}/gi,
    (_m, word: string, sep: string) => `${word}${sep}******`,
  );
}
