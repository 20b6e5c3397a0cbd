import fs from 'node:fs';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import webpush from 'web-push';
import type { CHANNEL_NAMES } from './schema.ts';

/**
 * Channel adapters: each takes one rendered message and hands it to one transport. A channel either
 * resolves (the transport accepted the message) or throws; a {@link ChannelError} with
 * `permanent: true` means "retrying will not help" (e.g. a 5xx SMTP reply, a push subscription that is
 * gone), anything else is treated as transient and retried with backoff by the sender.
 *
 * Delivery to external channels is AT LEAST ONCE: a sender that crashes after the transport accepted a
 * message but before recording it will send it again after the lease expires. Adapters pass the message
 * id along (SMS `Idempotency-Key` header and `reference`, email `Message-ID`, push payload `messageId`)
 * so receivers can drop the duplicate.
 */

export type ChannelName = (typeof CHANNEL_NAMES)[number];

/** What a channel gets to send (a row of `notification_messages`, minus bookkeeping). */
export interface OutgoingMessage {
  id: string;
  channel: ChannelName;
  /** phone (sms), email address (email), push endpoint (web_push); '' for the inbox. */
  address: string;
  locale: string;
  topic: string;
  templateKey: string;
  caseId: string | null;
  caseNumber: string | null;
  subject: string;
  /** Plain text. For SMS it already carries the signature (签名). */
  body: string;
}

/** One transport. `send` resolves when the transport accepted the message; throws otherwise. */
export interface Channel {
  readonly name: ChannelName;
  send(message: OutgoingMessage): Promise<void>;
}

/** A send failure. `permanent`: do not retry (the message is marked failed for good). */
export class ChannelError extends Error {
  readonly permanent: boolean;
  constructor(message: string, options: { permanent: boolean; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChannelError';
    this.permanent = options.permanent;
  }
}

/** `13812345678` → `138****5678`; `zhang.san@example.cn` → `z***@example.cn`; for logs. */
export function maskAddress(address: string): string {
  const at = address.indexOf('@');
  if (at > 0) return `${address[0]}***${address.slice(at)}`;
  if (/^\+?\d{7,}$/.test(address)) return `${address.slice(0, 3)}****${address.slice(-4)}`;
  return address.length > 24 ? `${address.slice(0, 24)}…` : address;
}

/** The in-app inbox: the message row itself is the delivery, so sending is immediate. */
export class InboxChannel implements Channel {
  readonly name = 'inbox' as const;
  async send(): Promise<void> {}
}

/** A channel that is switched off: every message fails permanently with `reason` (e.g. "SMTP_URL is unset"). */
export class DisabledChannel implements Channel {
  readonly name: ChannelName;
  readonly reason: string;
  constructor(name: ChannelName, reason: string) {
    this.name = name;
    this.reason = reason;
  }
  async send(): Promise<void> {
    throw new ChannelError(this.reason, { permanent: true });
  }
}

// ---------------------------------------------------------------------------------------------- Web Push

/** VAPID (RFC 8292) application server keys, base64url: public = 65-byte P-256 point, private = 32 bytes. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  /** `mailto:` or `https:` contact for push services. */
  subject: string;
}

/** A stored W3C PushSubscription. */
export interface StoredPushSubscription {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

/** Where the Web Push channel finds subscriptions and removes dead ones (backed by `push_subscriptions`). */
export interface PushSubscriptionStore {
  find(endpoint: string): Promise<StoredPushSubscription | undefined>;
  remove(endpoint: string): Promise<void>;
}

/**
 * Web Push (RFC 8030) with the payload encrypted as RFC 8291 `aes128gcm` and VAPID (RFC 8292)
 * authorization, both produced by the `web-push` package; the request is sent with `fetch` (so a
 * plain-http endpoint on the loopback works in development and tests).
 *
 * Outcomes: 2xx delivered · 404/410 the subscription is gone → removed from the store, permanent
 * failure · 429/5xx/network transient · other 4xx permanent. The push payload is JSON:
 * `{ messageId, title, body, topic, caseId, caseNumber, locale }`.
 */
export class WebPushChannel implements Channel {
  readonly name = 'web_push' as const;
  private readonly vapid: VapidKeys;
  private readonly store: PushSubscriptionStore;
  private readonly ttlSeconds: number;
  private readonly timeoutMs: number;

  /**
   * @param options.ttlSeconds how long the push service keeps an undelivered message (default 86,400 s).
   * @param options.timeoutMs request timeout in ms (default 10,000).
   */
  constructor(options: {
    vapid: VapidKeys;
    subscriptions: PushSubscriptionStore;
    ttlSeconds?: number;
    timeoutMs?: number;
  }) {
    this.vapid = options.vapid;
    this.store = options.subscriptions;
    this.ttlSeconds = options.ttlSeconds ?? 86_400;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async send(message: OutgoingMessage): Promise<void> {
    const subscription = await this.store.find(message.address);
    if (!subscription)
      throw new ChannelError('The push subscription no longer exists (unsubscribed or expired).', {
        permanent: true,
      });
    const payload = JSON.stringify({
      messageId: message.id,
      title: message.subject,
      body: message.body,
      topic: message.topic,
      caseId: message.caseId,
      caseNumber: message.caseNumber,
      locale: message.locale,
    });
    let details: ReturnType<typeof webpush.generateRequestDetails>;
    try {
      details = webpush.generateRequestDetails(subscription, payload, {
        vapidDetails: this.vapid,
        TTL: this.ttlSeconds,
        contentEncoding: 'aes128gcm',
      });
    } catch (cause) {
      // bad subscription keys: the browser gave us something unusable
      throw new ChannelError(`Cannot encrypt for this subscription: ${(cause as Error).message}`, {
        permanent: true,
        cause,
      });
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(details.headers)) {
      if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
    }
    let response: Response;
    try {
      response = await fetch(details.endpoint, {
        method: 'POST',
        headers,
        body: details.body ? new Uint8Array(details.body) : null,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new ChannelError(`Push service unreachable: ${(cause as Error).message}`, {
        permanent: false,
        cause,
      });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return;
    const status = response.status;
    if (status === 404 || status === 410) {
      await this.store.remove(subscription.endpoint);
      throw new ChannelError(
        `The push service answered ${status}: the subscription has expired and was removed.`,
        { permanent: true },
      );
    }
    throw new ChannelError(`The push service answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, {
      permanent: !(status === 429 || status >= 500),
    });
  }
}

/** Fresh VAPID keys (P-256), base64url. */
export function generateVapidKeys(): { publicKey: string; privateKey: string } {
  return webpush.generateVAPIDKeys();
}

// -------------------------------------------------------------------------------------------------- SMS

/**
 * SMS through an HTTP gateway (the operator's or a provincial SMS platform's adapter): `POST url` with
 * JSON `{ to, text, reference }`, headers `Idempotency-Key: <message id>` and, when a token is set,
 * `Authorization: Bearer <token>`. 2xx accepted · 429/5xx/network transient · other 4xx permanent.
 */
export class HttpSmsChannel implements Channel {
  readonly name = 'sms' as const;
  private readonly url: string;
  private readonly token: string | undefined;
  private readonly timeoutMs: number;

  /** @param options.timeoutMs request timeout in ms (default 10,000). */
  constructor(options: { url: string; token?: string | undefined; timeoutMs?: number }) {
    this.url = options.url;
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  async send(message: OutgoingMessage): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'idempotency-key': message.id,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: JSON.stringify({ to: message.address, text: message.body, reference: message.id }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      throw new ChannelError(`SMS gateway unreachable: ${(cause as Error).message}`, {
        permanent: false,
        cause,
      });
    }
    const text = await response.text().catch(() => '');
    if (response.ok) return;
    const status = response.status;
    throw new ChannelError(`The SMS gateway answered ${status}${text ? `: ${text.slice(0, 200)}` : ''}`, {
      permanent: !(status === 429 || status >= 500),
    });
  }
}

/** One SMS the development adapter accepted. */
export interface RecordedSms {
  messageId: string;
  to: string;
  text: string;
  /** when it was accepted */
  at: Date;
}

/**
 * Development SMS adapter (used when `SMS_GATEWAY_URL` is unset): accepts every message, keeps the last
 * `capacity` (default 1,000) in memory in {@link DevSmsChannel.sent} and logs it with the number masked.
 */
export class DevSmsChannel implements Channel {
  readonly name = 'sms' as const;
  readonly sent: RecordedSms[] = [];
  private readonly capacity: number;
  private readonly log: ((line: string) => void) | undefined;
  private readonly file: string | undefined;

  /**
   * @param options.capacity messages kept in memory (`sent`), newest last (default 1,000).
   * @param options.log receives one line per message: masked number, template and length — never the text.
   * @param options.file development only: a JSON-lines file that receives every message in full
   *   (`{"at","to","text"}`), so a developer can read a sign-in code (like a mail catcher). Never set in
   *   production: it holds codes in clear.
   */
  constructor(options: { capacity?: number; log?: (line: string) => void; file?: string } = {}) {
    this.capacity = options.capacity ?? 1000;
    this.log = options.log;
    this.file = options.file;
  }

  async send(message: OutgoingMessage): Promise<void> {
    const at = new Date();
    this.sent.push({ messageId: message.id, to: message.address, text: message.body, at });
    if (this.sent.length > this.capacity) this.sent.splice(0, this.sent.length - this.capacity);
    if (this.file) {
      await fs.promises.mkdir(path.dirname(this.file), { recursive: true });
      await fs.promises.appendFile(
        this.file,
        `${JSON.stringify({ at: at.toISOString(), to: message.address, text: message.body })}\n`,
        { mode: 0o600 },
      );
    }
    // The text may carry a pickup code: logs get only its template and length (the text is in `sent`).
    this.log?.(
      `SMS (development adapter, not sent) to ${maskAddress(message.address)}: ${message.templateKey}, ${[...message.body].length} characters`,
    );
  }
}

// ------------------------------------------------------------------------------------------------ Email

/**
 * Email over SMTP with nodemailer (`smtp://host:port`, `smtps://…`, credentials in the URL). Text-only
 * UTF-8 mail; `Message-ID: <message id@tongban>`. SMTP reply 5xx → permanent; 4xx, connection and
 * timeout errors → transient.
 */
export class SmtpEmailChannel implements Channel {
  readonly name = 'email' as const;
  private readonly transport: Transporter;
  private readonly from: string;

  /**
   * @param options.url e.g. `smtp://127.0.0.1:2525` (nodemailer connection URL).
   * @param options.from e.g. `贵州通办 <noreply@tongban.example>`.
   * @param options.timeoutMs connection/greeting/socket timeouts in ms (default 10,000).
   */
  constructor(options: { url: string; from: string; timeoutMs?: number }) {
    const timeout = options.timeoutMs ?? 10_000;
    this.transport = nodemailer.createTransport({
      url: options.url,
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
    });
    this.from = options.from;
  }

  async send(message: OutgoingMessage): Promise<void> {
    try {
      await this.transport.sendMail({
        from: this.from,
        to: message.address,
        subject: message.subject,
        text: message.body,
        messageId: `<${message.id}@tongban>`,
        headers: { 'X-Tongban-Topic': message.topic },
      });
    } catch (cause) {
      const e = cause as { responseCode?: number; response?: string; message?: string };
      const code = e.responseCode;
      throw new ChannelError(`SMTP: ${e.response ?? e.message ?? String(cause)}`, {
        permanent: typeof code === 'number' && code >= 500 && code < 600,
        cause,
      });
    }
  }

  /** Closes pooled connections (none unless the URL asks for `?pool=true`). */
  close(): void {
    this.transport.close();
  }
}
