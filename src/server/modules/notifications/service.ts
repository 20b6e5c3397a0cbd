import { z } from 'zod';
import { invalid } from '../../../domain/errors.ts';
import type { Db, Tx } from '../../db/index.ts';
import { MENTION_TOPIC } from '../messaging/service.ts';
import type { OutboxHandler, OutboxRow } from '../outbox/service.ts';
import { PiiVault } from '../pii/service.ts';
import {
  type Channel,
  ChannelError,
  type ChannelName,
  DevSmsChannel,
  DisabledChannel,
  HttpSmsChannel,
  InboxChannel,
  maskAddress,
  type OutgoingMessage,
  SmtpEmailChannel,
  WebPushChannel,
} from './channels.ts';
import { loadNotificationsConfig, type NotificationsConfig } from './config.ts';
import {
  type MessageRow,
  type NewMessageRow,
  NotificationsRepository,
  type PushSubscriptionRow,
  type RecipientKind,
} from './repository.ts';
import { RECIPIENT_KINDS } from './schema.ts';
import {
  type CaseEventPayload,
  CaseEventPayloadSchema,
  caseEventOf,
  MentionPayloadSchema,
  normalizeLocale,
  renderCaseMessage,
  renderMentionMessage,
} from './templates.ts';

/** Where log lines go (pino and Fastify's `app.log` fit). */
export interface NotificationsLog {
  info(message: string): void;
  warn(message: string): void;
}

/** Default retry delays after failed attempts 1, 2, 3, 4 (ms): 1 min, 5 min, 30 min, 2 h; attempt 5 is the last. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [60_000, 300_000, 1_800_000, 7_200_000];
/** Default lease of a claimed message (ms): a `sending` message older than this is claimed again. */
export const DEFAULT_LEASE_MS = 10 * 60_000;

export interface NotificationsServiceOptions {
  /** Channel configuration; default {@link loadNotificationsConfig}(process.env). */
  config?: NotificationsConfig;
  /** Adapters to use instead of those built from `config` (e.g. a test's own SMTP URL). */
  channels?: Partial<Record<ChannelName, Channel>>;
  /** Delay before retry n+1 after failed attempt n, ms; its length + 1 is the number of attempts. */
  retryDelaysMs?: readonly number[];
  /** How long a claimed (`sending`) message is leased before another sender may take it, ms. */
  leaseMs?: number;
  log?: NotificationsLog;
  /**
   * Seals phone numbers, email addresses and texts carrying a pickup code at rest, and opens them to send
   * (the installation's PII vault). Default: a vault with a random in-memory key (tests only — sealed
   * messages cannot be sent after a restart).
   */
  vault?: NotificationsVault;
  /** The time source (default `() => new Date()`). */
  clock?: () => Date;
  /**
   * 好差评: the rating link of a case (no sign-in needed: it carries the case's rating token), put in the
   * applicant's `delivered` message. Absent: the message only invites a rating.
   */
  ratingLink?: (caseNumber: string) => string;
}

/** The parts of the PII vault the notifications module uses. */
export type NotificationsVault = Pick<
  PiiVault,
  'encrypt' | 'unseal' | 'reseal' | 'blindIndex' | 'currentKeyId' | 'staleKeyIds'
>;

/** What replaces a pickup code in stored (redacted) texts. */
const REDACTED_CODE = '******';

/** Replaces pickup codes in a text rendered before encryption existed. */
function redactCodes(text: string): string {
  return text.replace(/(取件码|pickup code)(\s*)\d{6}/giu, `$1$2${REDACTED_CODE}`);
}

/** A recipient: `applicant:<account id or case:<case id>>`, `staff:<staff id>`, `department:<department id>`. */
export interface Recipient {
  kind: RecipientKind;
  id: string;
}

/** One inbox message as shown to its recipient. Times are ISO 8601. */
export interface InboxMessage {
  id: string;
  topic: string;
  caseId: string | null;
  caseNumber: string | null;
  locale: string;
  subject: string;
  body: string;
  createdAt: string;
  readAt: string | null;
}

/** A page of an inbox, newest first. `next`: cursor for the following (older) page, null at the end. */
export interface InboxPage {
  items: InboxMessage[];
  unread: number;
  next: string | null;
}

/** A message with its delivery state (for the case timeline and operations); address masked. */
export interface MessageView {
  id: string;
  topic: string;
  recipient: string;
  channel: ChannelName;
  address: string;
  locale: string;
  templateKey: string;
  subject: string;
  body: string;
  status: MessageRow['status'];
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  readAt: string | null;
}

/** What one {@link NotificationsService.sendDue} run did. */
export interface SendReport {
  /** messages claimed in this run */
  claimed: number;
  delivered: number;
  /** failed now, another attempt scheduled */
  retrying: number;
  /** failed for good (permanent error or last attempt) */
  failed: number;
  /** `sending` messages whose lease ran out after their last attempt (sender crashed), now failed */
  lost: number;
}

/** A W3C `PushSubscription` as `subscription.toJSON()` gives it in the browser. */
export const PushSubscriptionSchema = z
  .object({
    endpoint: z.string().describe('push service URL (https; http only on the loopback, for development)'),
    expirationTime: z.number().nullable().optional(),
    keys: z.object({
      p256dh: z.string().describe('base64url P-256 public key (65 bytes)'),
      auth: z.string().describe('base64url authentication secret (16 bytes)'),
    }),
  })
  .meta({ id: 'PushSubscription' });
export type PushSubscriptionInput = z.infer<typeof PushSubscriptionSchema>;

/** A stored push subscription (keys omitted). */
export interface PushSubscriptionView {
  id: string;
  accountId: string;
  endpoint: string;
  createdAt: string;
}

/**
 * Parses `kind:id` (e.g. `applicant:acc-1`, `department:dep-9`, `applicant:case:<caseId>`).
 * @throws AppError(validation, `notification.bad_recipient`) naming `recipient`.
 */
export function parseRecipient(recipient: string): Recipient {
  const i = recipient.indexOf(':');
  const kind = recipient.slice(0, i);
  const id = recipient.slice(i + 1);
  if (i <= 0 || !RECIPIENT_KINDS.includes(kind as never) || id.length === 0 || id.length > 200)
    throw invalid(
      'recipient',
      `recipient must be "<kind>:<id>" with kind ${RECIPIENT_KINDS.join(', ')}, e.g. applicant:acc-1; got "${recipient}".`,
      'notification.bad_recipient',
    );
  return { kind: kind as RecipientKind, id };
}

/** `{ kind, id }` → `kind:id`. */
export function formatRecipient(r: Recipient): string {
  return `${r.kind}:${r.id}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * The notifications module's public face. It turns case events from the outbox into messages to the
 * applicant and to staff — rendered per language (templates.ts) — and delivers them over channels:
 *
 * - `inbox` — the in-app inbox; the message row is the delivery (status `delivered` at once);
 * - `web_push` — one message per push subscription of the applicant's account (RFC 8030/8291/8292);
 * - `sms` — when the applicant has a phone number; HTTP gateway, or a recording development adapter;
 * - `email` — when the applicant has an email address; SMTP, or failed with a reason when unconfigured.
 *
 * Messages are made by {@link handler} inside the outbox dispatch transaction (idempotent: one row per
 * event, recipient, channel and address) and sent by {@link sendDue}, which any number of nodes may run:
 * claim (FOR UPDATE SKIP LOCKED) → `sending` with a lease → send outside the claim transaction → record
 * `delivered` or `failed` with the reason, retrying with backoff ({@link DEFAULT_RETRY_DELAYS_MS}).
 *
 * Delivery over external channels is AT LEAST ONCE: if a sender crashes after the transport accepted a
 * message and before recording it, the lease runs out and the message is sent again. It is never sent by
 * two senders at the same time, and never lost.
 */
export class NotificationsService {
  private readonly vault: NotificationsVault;
  private readonly repo: NotificationsRepository;
  private readonly channels: Partial<Record<ChannelName, Channel>>;
  private readonly retryDelaysMs: readonly number[];
  private readonly leaseMs: number;
  private readonly log: NotificationsLog;
  private readonly clock: () => Date;
  private readonly ratingLink: ((caseNumber: string) => string) | undefined;
  /** The VAPID public key browsers pass as `applicationServerKey` to `pushManager.subscribe` (base64url). */
  readonly vapidPublicKey: string;

  constructor(db: Db, options: NotificationsServiceOptions = {}) {
    this.repo = new NotificationsRepository(db);
    this.vault = options.vault ?? PiiVault.ephemeral();
    this.retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.log = options.log ?? { info: () => {}, warn: () => {} };
    this.clock = options.clock ?? (() => new Date());
    this.ratingLink = options.ratingLink;
    const config = options.config ?? loadNotificationsConfig();
    this.vapidPublicKey = config.webPush.publicKey;
    const given = options.channels ?? {};
    this.channels = {
      inbox: given.inbox ?? new InboxChannel(),
      web_push:
        given.web_push ??
        new WebPushChannel({
          vapid: config.webPush,
          subscriptions: {
            find: async (endpoint) => {
              const s = await this.repo.findSubscription(endpoint);
              return s && { endpoint: s.endpoint, keys: { p256dh: s.p256dh, auth: s.auth } };
            },
            remove: async (endpoint) => {
              await this.repo.deleteSubscription(endpoint);
              this.log.info(`Web Push: removed an expired subscription (${maskAddress(endpoint)}).`);
            },
          },
        }),
      sms:
        given.sms ??
        (config.smsGatewayUrl
          ? new HttpSmsChannel({ url: config.smsGatewayUrl, token: config.smsGatewayToken })
          : new DevSmsChannel({ log: (line) => this.log.info(line) })),
      email:
        given.email ??
        (config.smtpUrl
          ? new SmtpEmailChannel({ url: config.smtpUrl, from: config.smtpFrom })
          : new DisabledChannel(
              'email',
              'Email is not configured (SMTP_URL is unset), so this email was not sent. Set SMTP_URL to send email.',
            )),
    };
    if (!given.web_push && config.webPush.generated)
      this.log.warn(
        `Web Push: WEB_PUSH_VAPID_PUBLIC_KEY / WEB_PUSH_VAPID_PRIVATE_KEY are unset; generated development keys (public ${config.webPush.publicKey}). Browser subscriptions end with this process; set both variables in production.`,
      );
    if (!given.sms && !config.smsGatewayUrl)
      this.log.info(
        'SMS: SMS_GATEWAY_URL is unset; SMS messages are recorded by the development adapter, not sent.',
      );
    if (!given.email && !config.smtpUrl)
      this.log.warn(
        'Email: SMTP_URL is unset; email messages are marked failed ("email is not configured").',
      );
  }

  /** The adapter in use for a channel (e.g. to read `DevSmsChannel.sent` in development). */
  channel(name: ChannelName): Channel | undefined {
    return this.channels[name];
  }

  /**
   * Outbox handler: subscribe it with `outbox.subscribe(notifications.handler)`. For a `case.<type>` event
   * it writes, with `tx` (inside the dispatch transaction):
   * - applicant-facing types (submitted, received, forwarded, supplement_requested, accepted,
   *   not_accepted, decided, delivered, withdrawn), in `payload.locale` (default zh-CN): an inbox message
   *   to `applicant:<accountId>` (or `applicant:case:<caseId>` without an account); an SMS when
   *   `applicant.phone`; an email when `applicant.email`; a Web Push message per subscription of
   *   `applicant.accountId`;
   * - staff-facing (`case.forwarded`, `case.warning`), in zh-CN: an inbox message to
   *   `department:<competentDepartmentId>` when that id is given.
   * Other topics are ignored; a payload without `caseId`/`caseNumber`/`itemName` is logged and skipped
   * (it must not block the outbox). Handing it the same event again creates nothing new.
   */
  readonly handler: OutboxHandler = async (tx: Tx, event: OutboxRow): Promise<void> => {
    if (event.topic === MENTION_TOPIC) return this.mentioned(tx, event);
    const type = caseEventOf(event.topic);
    if (type === undefined) return;
    const parsed = CaseEventPayloadSchema.safeParse(event.payload);
    if (!parsed.success) {
      this.log.warn(
        `Notifications: outbox event ${event.id} (${event.topic}) has an unusable payload (${parsed.error.issues
          .map((i) => i.path.join('.'))
          .join(', ')}); no message made.`,
      );
      return;
    }
    const rows = await this.planMessages(tx, event, type, parsed.data);
    await this.repo.insertMessages(tx, rows);
  };

  /**
   * 办件沟通 @提及: an inbox message (zh-CN) to each mentioned staff account (`staff:<id>`) and department
   * (`department:<id>`). A payload that does not parse is logged and skipped.
   */
  private async mentioned(tx: Tx, event: OutboxRow): Promise<void> {
    const parsed = MentionPayloadSchema.safeParse(event.payload);
    if (!parsed.success) {
      this.log.warn(`Notifications: mention event ${event.id} has an unusable payload; no message made.`);
      return;
    }
    const p = parsed.data;
    const now = this.clock();
    const text = renderMentionMessage(p, 'zh-CN');
    await this.repo.insertMessages(
      tx,
      p.recipients.map((r) => ({
        outboxId: event.id,
        topic: event.topic,
        caseId: p.caseId,
        caseNumber: p.caseNumber,
        recipientKind: r.kind,
        recipientId: r.id,
        channel: 'inbox' as const,
        locale: text.locale,
        templateKey: text.templateKey,
        subject: text.subject,
        body: text.body,
        piiKeyId: 'none',
        status: 'delivered' as const,
        deliveredAt: now,
        createdAt: now,
        updatedAt: now,
      })),
    );
  }

  private async planMessages(
    tx: Tx,
    event: OutboxRow,
    type: string,
    p: CaseEventPayload,
  ): Promise<NewMessageRow[]> {
    const now = this.clock();
    const rows: NewMessageRow[] = [];
    const base = {
      outboxId: event.id,
      topic: event.topic,
      caseId: p.caseId,
      caseNumber: p.caseNumber,
      createdAt: now,
      updatedAt: now,
    };
    const pending = { status: 'created' as const, nextAttemptAt: now };
    const a = p.applicant ?? {};
    // Sealed values are opened in memory only: what is stored is sealed again (or a blind index).
    const code = this.openSafely(p.pickupCodeSealed ?? p.pickupCode, event, 'pickup code');
    const locale = normalizeLocale(p.locale ?? undefined);
    if (type === 'delivered' && this.ratingLink) p = { ...p, rateUrl: this.ratingLink(p.caseNumber) };
    const noCode = { ...p, pickupCode: undefined, pickupCodeSealed: undefined };
    const applicantMessage = renderCaseMessage(
      'applicant',
      type,
      code ? { ...p, pickupCode: code } : noCode,
      locale,
    );
    const redacted = code
      ? renderCaseMessage('applicant', type, { ...p, pickupCode: REDACTED_CODE }, locale)
      : applicantMessage;
    const keyId = this.vault.currentKeyId();
    if (applicantMessage && redacted) {
      const recipient = {
        recipientKind: 'applicant' as const,
        recipientId: a.accountId ?? `case:${p.caseId}`,
      };
      const sealBody = (full: string) => (code ? this.vault.encrypt(full, 'messageBody') : null);
      const text = {
        locale: applicantMessage.locale,
        templateKey: applicantMessage.templateKey,
        subject: applicantMessage.subject,
        body: redacted.body,
        bodySealed: sealBody(applicantMessage.body),
        piiKeyId: code ? keyId : 'none',
      };
      rows.push({ ...base, ...recipient, ...text, channel: 'inbox', status: 'delivered', deliveredAt: now });
      const phone = this.openSafely(a.phoneSealed ?? a.phone, event, 'phone');
      if (phone)
        rows.push({
          ...base,
          ...recipient,
          ...text,
          ...pending,
          channel: 'sms',
          address: `bi:${this.vault.blindIndex(phone, 'phone')}`,
          addressSealed: this.vault.encrypt(phone, 'phone'),
          body: redacted.sms,
          bodySealed: sealBody(applicantMessage.sms),
          piiKeyId: keyId,
        });
      const email = this.openSafely(a.emailSealed ?? a.email, event, 'email');
      if (email)
        rows.push({
          ...base,
          ...recipient,
          ...text,
          ...pending,
          channel: 'email',
          address: `bi:${this.vault.blindIndex(email, 'email')}`,
          addressSealed: this.vault.encrypt(email, 'email'),
          piiKeyId: keyId,
        });
      if (a.accountId)
        for (const s of await this.repo.subscriptionsOf(tx, a.accountId))
          rows.push({ ...base, ...recipient, ...text, ...pending, channel: 'web_push', address: s.endpoint });
    }
    const staffMessage = p.competentDepartmentId
      ? renderCaseMessage('staff', type, noCode, 'zh-CN')
      : undefined;
    if (staffMessage && p.competentDepartmentId)
      rows.push({
        ...base,
        piiKeyId: 'none',
        recipientKind: 'department',
        recipientId: p.competentDepartmentId,
        channel: 'inbox',
        locale: staffMessage.locale,
        templateKey: staffMessage.templateKey,
        subject: staffMessage.subject,
        body: staffMessage.body,
        status: 'delivered',
        deliveredAt: now,
      });
    return rows;
  }

  /**
   * Sends due messages once: first marks `sending` messages whose lease ran out after their last allowed
   * attempt as failed ("lost"); then claims up to `limit` due messages (`created`, retryable `failed`, or
   * `sending` past its lease) with FOR UPDATE SKIP LOCKED, marking them `sending` with a lease of
   * `leaseMs`; sends them concurrently outside that transaction; records `delivered`, or `failed` with
   * the reason and — unless the error is permanent or it was the last attempt — the next attempt time
   * (`now` + the delay for that attempt). Call it from a loop every few seconds on every node.
   * @param p.limit at most this many messages (default 20).
   * @param p.now the time to judge due-ness and to schedule retries by (default: the clock).
   */
  async sendDue(p: { limit?: number; now?: Date } = {}): Promise<SendReport> {
    const now = p.now ?? this.clock();
    const at = () => p.now ?? this.clock();
    const maxAttempts = this.retryDelaysMs.length + 1;
    const lost = await this.repo.expireLost(
      now,
      maxAttempts,
      `The sender stopped while sending attempt ${maxAttempts} of ${maxAttempts} (crash or restart); gave up, the message may or may not have arrived.`,
    );
    const claimed = await this.repo.claimDue({
      now,
      limit: p.limit ?? 20,
      leaseUntil: new Date(now.getTime() + this.leaseMs),
      maxAttempts,
    });
    const report: SendReport = { claimed: claimed.length, delivered: 0, retrying: 0, failed: 0, lost };
    await Promise.all(
      claimed.map(async (m) => {
        const outcome = await this.sendOne(m, now, at, maxAttempts);
        report[outcome]++;
      }),
    );
    return report;
  }

  private async sendOne(
    m: MessageRow,
    now: Date,
    at: () => Date,
    maxAttempts: number,
  ): Promise<'delivered' | 'retrying' | 'failed'> {
    const channel = this.channels[m.channel];
    try {
      if (!channel) throw new ChannelError(`No adapter for channel ${m.channel}.`, { permanent: true });
      await channel.send(this.toOutgoing(m));
      await this.repo.recordOutcome(m.id, m.attempts, { status: 'delivered', at: at() });
      return 'delivered';
    } catch (e) {
      const permanent = e instanceof ChannelError && e.permanent;
      const last = m.attempts >= maxAttempts;
      const delay = this.retryDelaysMs[m.attempts - 1];
      const retry = !permanent && !last && delay !== undefined;
      const reason = (e instanceof Error ? e.message : String(e)).slice(0, 1000);
      const error = retry
        ? `${reason} (attempt ${m.attempts} of ${maxAttempts}; will retry)`
        : permanent
          ? reason
          : `${reason} (attempt ${m.attempts} of ${maxAttempts}; gave up)`;
      await this.repo.recordOutcome(m.id, m.attempts, {
        status: 'failed',
        at: at(),
        error,
        nextAttemptAt: retry ? new Date(now.getTime() + delay) : null,
      });
      this.log.warn(
        `Notifications: ${m.channel} message ${m.id} to ${this.maskedAddress(m)} failed: ${error}`,
      );
      return retry ? 'retrying' : 'failed';
    }
  }

  /**
   * A recipient's inbox, newest first, with the number of unread messages.
   * @param recipient `kind:id` (see {@link parseRecipient}) or `{ kind, id }`.
   * @param options.limit page size 1–100 (default 20); options.before: the `next` cursor of the previous page.
   * @throws AppError(validation) `notification.bad_recipient` (field `recipient`), `notification.bad_cursor` (`before`).
   */
  async inboxOf(
    recipient: string | Recipient,
    options: { limit?: number; before?: string | undefined } = {},
  ): Promise<InboxPage> {
    const r = typeof recipient === 'string' ? parseRecipient(recipient) : recipient;
    const limit = options.limit ?? 20;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100)
      throw invalid('limit', `limit must be an integer from 1 to 100; got ${limit}.`);
    const before = options.before === undefined ? undefined : decodeCursor(options.before);
    const [rows, unread] = await Promise.all([
      this.repo.inbox({ kind: r.kind, id: r.id, limit, before }),
      this.repo.unreadCount(r.kind, r.id),
    ]);
    const last = rows.at(-1);
    return {
      items: rows.map((m) => toInboxMessage(m, this.fullBody(m))),
      unread,
      next: rows.length === limit && last ? encodeCursor(last) : null,
    };
  }

  /**
   * Marks inbox messages of `recipient` as read (ids of other recipients, or already read, are ignored).
   * @returns how many changed and the unread count after.
   * @throws AppError(validation) for a malformed recipient or an id that is not a UUID (field `ids`).
   */
  async markRead(recipient: string | Recipient, ids: string[]): Promise<{ updated: number; unread: number }> {
    const r = typeof recipient === 'string' ? parseRecipient(recipient) : recipient;
    const bad = ids.find((id) => !UUID.test(id));
    if (bad !== undefined)
      throw invalid('ids', `ids must be message ids (UUIDs); got "${bad}".`, 'notification.bad_message_id');
    const updated = await this.repo.markRead(r.kind, r.id, ids, this.clock());
    return { updated, unread: await this.repo.unreadCount(r.kind, r.id) };
  }

  /**
   * Stores a browser's push subscription for `accountId` (the same endpoint again replaces the keys or
   * moves it to this account). Later case events for that account also go out as Web Push.
   * @throws AppError(validation) `notification.bad_subscription` naming the field: endpoint not https
   * (http allowed only on 127.0.0.1/localhost/[::1]), p256dh not a 65-byte uncompressed P-256 point,
   * auth not 16 bytes; `notification.bad_account` for an empty or over-long account id.
   */
  async subscribePush(accountId: string, subscription: PushSubscriptionInput): Promise<PushSubscriptionView> {
    if (accountId.trim().length === 0 || accountId.length > 200)
      throw invalid('accountId', 'accountId must be 1–200 characters.', 'notification.bad_account');
    const s = PushSubscriptionSchema.safeParse(subscription);
    if (!s.success) {
      const issue = s.error.issues[0]!;
      const field = ['subscription', ...issue.path.map(String)].join('.');
      throw invalid(field, `${field}: ${issue.message}`, 'notification.bad_subscription');
    }
    const { endpoint, keys } = s.data;
    let url: URL | undefined;
    try {
      url = new URL(endpoint);
    } catch {}
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname))))
      throw invalid(
        'subscription.endpoint',
        `subscription.endpoint must be the https:// URL the browser's PushSubscription gives; got "${endpoint.slice(0, 100)}".`,
        'notification.bad_subscription',
      );
    const p256dh = base64urlBytes(keys.p256dh);
    if (p256dh?.length !== 65 || p256dh[0] !== 4)
      throw invalid(
        'subscription.keys.p256dh',
        'subscription.keys.p256dh must be the base64url 65-byte uncompressed P-256 public key from PushSubscription.toJSON().',
        'notification.bad_subscription',
      );
    if (base64urlBytes(keys.auth)?.length !== 16)
      throw invalid(
        'subscription.keys.auth',
        'subscription.keys.auth must be the base64url 16-byte secret from PushSubscription.toJSON().',
        'notification.bad_subscription',
      );
    const row = await this.repo.upsertSubscription({
      accountId,
      endpoint,
      p256dh: keys.p256dh,
      auth: keys.auth,
    });
    return toSubscriptionView(row);
  }

  /** Removes a push subscription (of `accountId` only, when given). @returns whether one was removed. */
  async unsubscribePush(endpoint: string, accountId?: string): Promise<boolean> {
    return (await this.repo.deleteSubscription(endpoint, accountId)) > 0;
  }

  /** The push subscriptions of an account, oldest first. */
  async subscriptionsOf(accountId: string): Promise<PushSubscriptionView[]> {
    return (await this.repo.subscriptionsOf(this.repo.db, accountId)).map(toSubscriptionView);
  }

  /** Every message made from a case's events with its delivery state (addresses masked), oldest first. */
  async messagesOfCase(caseId: string): Promise<MessageView[]> {
    return (await this.repo.messagesOfCase(caseId)).map((m) => toMessageView(m, this.maskedAddress(m)));
  }

  /** Message counts by status, e.g. `{ delivered: 120, created: 3, failed: 1 }` (for `/health`). */
  countByStatus(): Promise<Record<string, number>> {
    return this.repo.countByStatus();
  }

  /**
   * Key rotation and migration step for messages: seals up to `limit` messages written before encryption
   * (phone / email address → blind index + envelope; a text with a pickup code → redacted + envelope) or
   * sealed under an older key (re-sealed under the current one). Rows are claimed with FOR UPDATE SKIP
   * LOCKED, so several nodes share the work. @returns how many messages were rewritten.
   */
  async resealPii(limit = 200): Promise<number> {
    const stale = this.vault.staleKeyIds();
    const current = this.vault.currentKeyId();
    return this.repo.db.transaction(async (tx) => {
      const rows = await this.repo.lockPiiStale(tx, stale, limit);
      for (const m of rows) {
        let { address, addressSealed, body, bodySealed } = m;
        const field = m.channel === 'sms' ? 'phone' : 'email';
        if ((m.channel === 'sms' || m.channel === 'email') && !addressSealed && address) {
          addressSealed = this.vault.encrypt(address, field);
          address = `bi:${this.vault.blindIndex(address, field)}`;
        } else if (addressSealed) addressSealed = this.vault.reseal(addressSealed, field);
        if (bodySealed) bodySealed = this.vault.reseal(bodySealed, 'messageBody');
        else if (m.piiKeyId === null && redactCodes(body) !== body) {
          bodySealed = this.vault.encrypt(body, 'messageBody');
          body = redactCodes(body);
        }
        const piiKeyId = addressSealed || bodySealed ? current : 'none';
        await this.repo.setPii(tx, m.id, { address, addressSealed, body, bodySealed, piiKeyId });
      }
      return rows.length;
    });
  }

  /** Opens a sealed (or legacy clear) value of an event; undefined, with a warning, when it cannot be opened. */
  private openSafely(value: string | null | undefined, event: OutboxRow, what: string): string | undefined {
    if (!value) return undefined;
    try {
      return this.vault.unseal(value);
    } catch (e) {
      this.log.warn(
        `Notifications: outbox event ${event.id} carries a ${what} that cannot be opened (${(e as Error).message}); left out.`,
      );
      return undefined;
    }
  }

  /** The address to send to: the opened envelope for sms/email, else the stored address. */
  private addressOf(m: MessageRow): string {
    return m.addressSealed ? this.vault.unseal(m.addressSealed) : m.address;
  }

  /** The address masked for views and logs (`138****5678`, `w***@example.cn`). */
  private maskedAddress(m: MessageRow): string {
    try {
      return maskAddress(this.addressOf(m));
    } catch {
      return '(sealed)';
    }
  }

  /** The full text (with the pickup code) for the recipient and the channel. */
  private fullBody(m: MessageRow): string {
    return m.bodySealed ? this.vault.unseal(m.bodySealed) : m.body;
  }

  private toOutgoing(m: MessageRow): OutgoingMessage {
    return {
      id: m.id,
      channel: m.channel,
      address: this.addressOf(m),
      locale: m.locale,
      topic: m.topic,
      templateKey: m.templateKey,
      caseId: m.caseId,
      caseNumber: m.caseNumber,
      subject: m.subject,
      body: this.fullBody(m),
    };
  }

  /** Closes transports that hold connections (SMTP pools). */
  close(): void {
    const email = this.channels.email;
    if (email instanceof SmtpEmailChannel) email.close();
  }
}

function base64urlBytes(s: string): Buffer | undefined {
  return /^[A-Za-z0-9_-]+={0,2}$/.test(s) ? Buffer.from(s, 'base64url') : undefined;
}

function encodeCursor(m: MessageRow): string {
  return Buffer.from(`${m.createdAt.toISOString()}|${m.id}`).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || !UUID.test(id) || Number.isNaN(createdAt.getTime()))
    throw invalid('before', 'before must be the `next` value of a previous page.', 'notification.bad_cursor');
  return { createdAt, id };
}

function toInboxMessage(m: MessageRow, body: string): InboxMessage {
  return {
    id: m.id,
    topic: m.topic,
    caseId: m.caseId,
    caseNumber: m.caseNumber,
    locale: m.locale,
    subject: m.subject,
    body,
    createdAt: m.createdAt.toISOString(),
    readAt: m.readAt?.toISOString() ?? null,
  };
}

/** A message for operations: address masked, the body as stored (a pickup code redacted). */
function toMessageView(m: MessageRow, maskedAddress: string): MessageView {
  return {
    id: m.id,
    topic: m.topic,
    recipient: formatRecipient({ kind: m.recipientKind, id: m.recipientId }),
    channel: m.channel,
    address: maskedAddress,
    locale: m.locale,
    templateKey: m.templateKey,
    subject: m.subject,
    body: m.body,
    status: m.status,
    attempts: m.attempts,
    nextAttemptAt: m.nextAttemptAt?.toISOString() ?? null,
    lastError: m.lastError,
    createdAt: m.createdAt.toISOString(),
    deliveredAt: m.deliveredAt?.toISOString() ?? null,
    readAt: m.readAt?.toISOString() ?? null,
  };
}

function toSubscriptionView(s: PushSubscriptionRow): PushSubscriptionView {
  return { id: s.id, accountId: s.accountId, endpoint: s.endpoint, createdAt: s.createdAt.toISOString() };
}
