import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCALES_DIR, main } from './i18n-status.ts';

let tmp: string | undefined;
afterEach(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  tmp = undefined;
});

/** A locales folder with the given files (path → JSON value). */
function locales(files: Record<string, unknown>): string {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-i18n-'));
  for (const [rel, value] of Object.entries(files)) {
    const file = path.join(tmp, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  }
  return tmp;
}

function run(dir: string, argv: string[] = []) {
  const lines: string[] = [];
  const code = main(argv, dir, (s) => lines.push(s));
  return { code, text: lines.join('\n') };
}

describe('npm run i18n:status', () => {
  it('passes on the shipped locale files and prints one row per language', () => {
    const { code, text } = run(LOCALES_DIR);
    expect(code).toBe(0);
    expect(text).toMatch(/^zh-CN\s+(\d+)\s+\1\s+—\s+0$/m);
    expect(text).toMatch(/^en\s+(\d+)\s+\1\s+—\s+0$/m);
    expect(text).toMatch(/^bo\s+\d+\s+\d+\s+\d+\s+\d+$/m);
    expect(text).toMatch(/^ug\s+\d+\s+\d+\s+\d+\s+\d+$/m);
  });

  it('fails when en lacks a key of a feature folder, naming the file and the key', () => {
    const dir = locales({
      'zh-CN.json': { app: { name: '通办' } },
      'en.json': { app: { name: 'Tongban' } },
      'offline/zh-CN.json': { offline: { waiting: '等待网络', sent: '已发送' } },
      'offline/en.json': { offline: { waiting: 'Waiting for network' } },
    });
    const { code, text } = run(dir);
    expect(code).toBe(1);
    expect(text).toMatch(/MISSING in \S*offline\/en\.json/);
    expect(text).toContain('offline.sent');
  });

  it('lets bo miss keys (they show in Chinese) and reports its review state', () => {
    const dir = locales({
      'zh-CN.json': { app: { name: '通办', tagline: '政务服务' } },
      'en.json': { app: { name: 'Tongban', tagline: 'Government services' } },
      'bo.json': { app: { name: 'ཐུང་པན།' } },
      'review/bo.json': {
        'app.name': { status: 'reviewed', text: 'ཐུང་པན།' },
        'app.gone': { status: 'machine' },
      },
    });
    const { code, text } = run(dir);
    expect(code).toBe(0);
    expect(text).toMatch(/^bo\s+2\s+1\s+1\s+1$/m);
    expect(text).toContain('app.tagline');
    expect(text).toContain('app.gone');
  });

  it('fails on two files defining the same top-level key, and on broken JSON', () => {
    const dir = locales({
      'zh-CN.json': { app: { name: '通办' } },
      'en.json': { app: { name: 'Tongban' } },
      'nav/zh-CN.json': { app: { name: '覆盖' } },
      'nav/en.json': { app: { name: 'Override' } },
    });
    expect(run(dir).text).toMatch(/COLLISION: top-level key "app"/);
    expect(run(dir).code).toBe(1);
    const broken = locales({ 'zh-CN.json': '{ "app": ', 'en.json': {} });
    const r = run(broken);
    expect([r.code, r.text]).toEqual([1, expect.stringMatching(/zh-CN\.json is not valid JSON/)]);
  });

  it('--mark adds machine entries for new strings, drops removed ones and records reviewed wording', () => {
    const dir = locales({
      'zh-CN.json': { app: { name: '通办', tagline: '政务服务' } },
      'en.json': { app: { name: 'Tongban', tagline: 'Government services' } },
      'ug.json': { app: { name: 'تۇڭبەن', tagline: 'ھۆكۈمەت مۇلازىمىتى' } },
      'review/ug.json': { 'app.name': { status: 'reviewed' }, 'app.old': { status: 'machine' } },
    });
    expect(run(dir, ['--mark']).code).toBe(0);
    const review = JSON.parse(fs.readFileSync(path.join(dir, 'review/ug.json'), 'utf8'));
    expect(review).toEqual({
      'app.name': { status: 'reviewed', text: 'تۇڭبەن' },
      'app.tagline': { status: 'machine' },
    });
    // a second run changes nothing
    const before = fs.readFileSync(path.join(dir, 'review/ug.json'), 'utf8');
    expect(run(dir, ['--mark']).text).not.toContain('updated');
    expect(fs.readFileSync(path.join(dir, 'review/ug.json'), 'utf8')).toBe(before);
  });
});
