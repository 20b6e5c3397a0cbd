import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DevSmsChannel } from './channels.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tongban-dev-sms-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the development SMS adapter', () => {
  it('keeps the full text out of its log line, and in the developer file when one is given', async () => {
    const lines: string[] = [];
    const file = path.join(tmp, 'var', 'dev-sms.jsonl');
    const sms = new DevSmsChannel({ log: (l) => lines.push(l), file });
    const message = {
      id: 'm1',
      address: '13800138000',
      body: '【贵州通办】验证码 042917，5 分钟内有效',
      subject: '验证码',
      templateKey: 'auth.otp',
    };
    await sms.send(message as Parameters<DevSmsChannel['send']>[0]);
    await sms.send({ ...message, id: 'm2' } as Parameters<DevSmsChannel['send']>[0]);
    expect(lines.join('\n')).not.toContain('042917');
    expect(lines.join('\n')).not.toContain('13800138000');
    const recorded = fs
      .readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(recorded).toHaveLength(2);
    expect(recorded[0]).toMatchObject({ to: '13800138000', text: message.body });
    expect(fs.statSync(file).mode & 0o077).toBe(0);
    // Without a file nothing is written anywhere but memory.
    const quiet = new DevSmsChannel();
    await quiet.send(message as Parameters<DevSmsChannel['send']>[0]);
    expect(quiet.sent.map((m) => m.text)).toEqual([message.body]);
  });
});
