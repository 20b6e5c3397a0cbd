import { afterAll } from 'vitest';
import { computeIdentityCheckCharacter } from '../domain/identity-number.ts';
import { ID_NUMBER_PATTERN, PHONE_PATTERN } from './pii-flow.ts';

/**
 * Suite-wide log scan (vitest `setupFiles`, runs in every test file): everything written to stdout,
 * stderr or the console while the file runs is scanned for a GB 11643 resident identity number (valid
 * check character) or an 11-digit mainland mobile number; the file fails in afterAll when one appeared
 * (个人信息保护法 art. 51; logs never carry full identifiers). Pickup codes and tokens cannot be recognised
 * by shape: src/server/pii-leak.test.ts checks those for a representative flow.
 */
const hits: string[] = [];

function scan(text: string): void {
  for (const m of text.matchAll(ID_NUMBER_PATTERN)) {
    const v = m[0].toUpperCase();
    if (computeIdentityCheckCharacter(v.slice(0, 17)) === v[17]) hits.push(`ID number ${v.slice(0, 4)}…`);
  }
  for (const m of text.matchAll(PHONE_PATTERN)) hits.push(`phone ${m[0].slice(0, 3)}…`);
}

function toText(chunk: unknown): string {
  if (typeof chunk === 'string') return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk).toString('utf8');
  try {
    return typeof chunk === 'object' ? JSON.stringify(chunk) : String(chunk);
  } catch {
    return String(chunk);
  }
}

for (const stream of [process.stdout, process.stderr]) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    scan(toText(chunk));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  const original = console[level].bind(console);
  console[level] = (...args: unknown[]) => {
    scan(args.map(toText).join(' '));
    original(...args);
  };
}

afterAll(() => {
  if (hits.length > 0)
    throw new Error(
      `Personal data appeared in this file's logs (${hits.length}×: ${[...new Set(hits)].slice(0, 5).join(', ')}). Mask it (pii/mask.ts) or keep it out of the log line.`,
    );
});
