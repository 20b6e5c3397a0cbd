import { z } from 'zod';
import { invalid } from '../../../domain/errors.ts';
import { parseEnv } from '../../config.ts';
import { generateVapidKeys, type VapidKeys } from './channels.ts';

/**
 * Notifications configuration, from environment variables (none required on a laptop):
 *
 * | variable                    | meaning                                                   | when unset |
 * |-----------------------------|-----------------------------------------------------------|------------|
 * | WEB_PUSH_VAPID_PUBLIC_KEY   | VAPID public key, base64url (65-byte P-256 point)          | dev keys generated at start (logged); browsers must re-subscribe after each restart |
 * | WEB_PUSH_VAPID_PRIVATE_KEY  | VAPID private key, base64url (32 bytes); set both or none | ″ |
 * | WEB_PUSH_SUBJECT            | contact for push services: `mailto:` or `https:`           | mailto:noreply@tongban.localhost |
 * | SMS_GATEWAY_URL             | HTTP SMS gateway: POST JSON `{to, text, reference}`        | development adapter: records in memory, logs, sends nothing |
 * | SMS_GATEWAY_TOKEN           | bearer token for the SMS gateway                          | none |
 * | SMTP_URL                    | nodemailer URL, e.g. smtp://user:pass@mail.example:587     | email disabled: email messages fail at once with reason "email is not configured" |
 * | SMTP_FROM                   | sender, e.g. `贵州通办 <noreply@tongban.example>`          | 贵州通办 <noreply@tongban.localhost> |
 */
export interface NotificationsConfig {
  webPush: VapidKeys & {
    /** true when the keys were generated at start (no env keys): log it. */
    generated: boolean;
  };
  smsGatewayUrl: string | undefined;
  smsGatewayToken: string | undefined;
  smtpUrl: string | undefined;
  smtpFrom: string;
}

const optional = (s: z.ZodString) => s.optional().or(z.literal('').transform(() => undefined));
const base64url = (bytes: number) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be base64url (A–Z a–z 0–9 - _, no padding)')
    .refine((s) => Buffer.from(s, 'base64url').length === bytes, `must decode to ${bytes} bytes`);

const EnvSchema = z.object({
  WEB_PUSH_VAPID_PUBLIC_KEY: base64url(65)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  WEB_PUSH_VAPID_PRIVATE_KEY: base64url(32)
    .optional()
    .or(z.literal('').transform(() => undefined)),
  WEB_PUSH_SUBJECT: z
    .string()
    .regex(/^(mailto:|https:\/\/)/, 'must be a mailto: address or an https: URL')
    .default('mailto:noreply@tongban.localhost'),
  SMS_GATEWAY_URL: optional(z.string().regex(/^https?:\/\//, 'must be an http:// or https:// URL')),
  SMS_GATEWAY_TOKEN: optional(z.string()),
  SMTP_URL: optional(z.string().regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://')),
  SMTP_FROM: z.string().min(3).default('贵州通办 <noreply@tongban.localhost>'),
});

/**
 * Reads the notifications configuration from `env` (default `process.env`). Generates VAPID keys when
 * neither key is set (`webPush.generated: true`).
 * @throws AppError(validation) naming the variable: a malformed value, or only one of the two VAPID keys.
 */
export function loadNotificationsConfig(env: NodeJS.ProcessEnv = process.env): NotificationsConfig {
  const e = parseEnv(EnvSchema, env);
  const pub = e.WEB_PUSH_VAPID_PUBLIC_KEY;
  const priv = e.WEB_PUSH_VAPID_PRIVATE_KEY;
  if ((pub === undefined) !== (priv === undefined)) {
    const missing = pub === undefined ? 'WEB_PUSH_VAPID_PUBLIC_KEY' : 'WEB_PUSH_VAPID_PRIVATE_KEY';
    throw invalid(
      missing,
      `Set both WEB_PUSH_VAPID_PUBLIC_KEY and WEB_PUSH_VAPID_PRIVATE_KEY (generate a pair with \`npx web-push generate-vapid-keys\`), or neither for development keys; ${missing} is missing.`,
      'config.invalid',
    );
  }
  const keys = pub && priv ? { publicKey: pub, privateKey: priv } : generateVapidKeys();
  return {
    webPush: { ...keys, subject: e.WEB_PUSH_SUBJECT, generated: !(pub && priv) },
    smsGatewayUrl: e.SMS_GATEWAY_URL,
    smsGatewayToken: e.SMS_GATEWAY_TOKEN,
    smtpUrl: e.SMTP_URL,
    smtpFrom: e.SMTP_FROM,
  };
}
