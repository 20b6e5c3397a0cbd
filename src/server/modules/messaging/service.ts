import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { AppError, invalid, isAppError, notFound } from '../../../domain/errors.ts';
import type { Grant, ScopeTarget } from '../../../domain/roles.ts';
import { WriteBatch } from '../../db/batch.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import type { Principal } from '../identity/principal.ts';
import type { OutboxService } from '../outbox/service.ts';
import { maskIdNumber, maskPhone } from '../pii/mask.ts';
import { mayConsult, mayReadThread } from './policy.ts';
import { type MessageRow, MessagingRepository, type Reader, type ThreadRow } from './repository.ts';
import { MENTION_KINDS, type StoredMention } from './schema.ts';

/** PostgreSQL channel of live messaging notes ({@link LiveNote}); heard by every node on commit. */
export const CASE_MESSAGES_CHANNEL = 'tongban_case_messages';

/** Outbox topic of a message that mentions someone (the notifications module tells them). */
export const MENTION_TOPIC = 'case_message.mentioned';

/** Longest message text, in characters (Unicode code points) after trimming. */
export const MAX_TEXT_CHARS = 2000;
/** Most mentions in one message. */
export const MAX_MENTIONS = 20;

/**
 * What a node hears on {@link CASE_MESSAGES_CHANNEL} (ids only: a NOTIFY payload must stay under 8,000
 * bytes, and what a socket may see depends on its reader — the socket handler reads the rest):
 * - `message`: a message was posted;
 * - `read`: an account's read cursor moved (its other tabs update their badges);
 * - `thread`: a thread was created or a department consulted on it.
 */
export type LiveNote =
  | { k: 'message'; caseId: string; threadId: string; messageId: string; seq: number }
  | { k: 'read'; caseId: string; threadId: string; accountId: string; seq: number }
  | { k: 'thread'; caseId: string; threadId: string };

/** A thread as the API shows it to one reader. */
export interface ThreadView {
  id: string;
  caseId: string;
  caseNumber: string;
  /** `general`: the case's one general thread (its id is the case id); `topic`: a 专题 thread. */
  kind: 'general' | 'topic';
  subject: string;
  /** Messages so far (their `seq` runs 1…messageCount). */
  messageCount: number;
  lastMessageAt: string | null;
  /** This reader has read up to this seq (0: nothing). */
  lastReadSeq: number;
  /** Messages after `lastReadSeq`. */
  unread: number;
  /** Of those, messages mentioning this reader, their department or their hall. */
  mentionsUnread: number;
  /** 会商部门 consulted on this thread. */
  consultedDepartments: { departmentId: string; addedByAccountId: string; reason: string; addedAt: string }[];
  createdAt: string | null;
}

/** A message as the API shows it. */
export interface MessageView {
  id: string;
  threadId: string;
  caseId: string;
  seq: number;
  author: { accountId: string; name: string; departmentId: string | null; hallCode: string | null };
  text: string;
  mentions: StoredMention[];
  createdAt: string;
}

/** The body of a new message. */
export const PostMessageSchema = z.strictObject({
  text: z.string().max(8000).describe(`1–${MAX_TEXT_CHARS} characters after trimming`),
  mentions: z
    .array(
      z.strictObject({
        kind: z.enum(MENTION_KINDS),
        id: z.string().min(1).max(64).describe('staff account id, department id, or hall code'),
      }),
    )
    .max(MAX_MENTIONS)
    .default([]),
});
export type PostMessageInput = z.input<typeof PostMessageSchema>;

/** Where the messaging module looks cases up (the cases module's CasesService). */
export interface CaseLocator {
  locate(caseRef: string): Promise<{
    id: string;
    number: string;
    itemCode: string;
    intakeHallCode: string | null;
    competentDepartmentId: string | null;
    target: ScopeTarget;
  }>;
  now(): Date;
}

export interface MessagingDeps {
  cases: CaseLocator;
  /** The identity module: staff accounts (for mentions). */
  staff: {
    staffMembers(
      ids: readonly string[],
    ): Promise<
      { id: string; name: string; departmentId: string | null; hallCode: string | null; grants: Grant[] }[]
    >;
    /** Staff bound to these halls / departments (candidates for the @mention picker). */
    staffAt(
      places: { hallCodes: readonly string[]; departmentIds: readonly string[] },
      limit?: number,
    ): Promise<
      { id: string; name: string; departmentId: string | null; hallCode: string | null; grants: Grant[] }[]
    >;
  };
  /** The departments module. @throws 404 `department.not_found`. */
  departments: { getDepartment(id: string): Promise<{ id: string }> };
  idempotency: IdempotencyService;
  outbox: OutboxService;
}

type Located = Awaited<ReturnType<CaseLocator['locate']>>;

/** A case's location and its consulted departments per thread (thread id → department ids). */
export interface CasePlace {
  c: Located;
  consulted: Map<string, string[]>;
}

/** What a reader may read of a case: every thread (`readsCase`), or only the threads consulted with them. */
export interface CaseAccess {
  c: Located;
  readsCase: boolean;
  threadIds: Set<string> | 'all';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Digit sequences shaped like a resident ID number (GB 11643) or a mainland mobile number.
const ID_LIKE = /(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])/g;
const MOBILE_LIKE = /(?<![0-9])1[3-9][0-9]{9}(?![0-9])/g;
// A run of digits (ASCII or full-width), single spaces or hyphens between them, an optional +86 / 86
// country prefix and a final check character X: `+86 138-1234-5678`, `520102 19900307 1234`, `５２０１…`.
const DIGIT_RUN =
  /(?<![0-9０-９])(?:[+＋]?(?:86|８６)[ \-－]?)?[0-9０-９](?:[ \-－]?[0-9０-９])*(?:[ \-－]?[XxＸｘ])?(?![0-9０-９])/g;

/** Full-width digits and X folded to ASCII, separators and the plus sign dropped. */
function digitsOf(run: string): string {
  return run
    .replace(/[０-９Ｘｘ]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0))
    .replace(/[ \-－+＋]/g, '');
}

/**
 * Masks what looks like a resident ID number or a mainland mobile number, also when written with
 * full-width digits, spaces or hyphens, or a +86 prefix (a masked run is written in ASCII digits).
 */
export function maskIdentifiers(text: string): string {
  const one = (run: string): string | null => {
    const d = digitsOf(run);
    if (/^[0-9]{17}[0-9Xx]$/.test(d)) return maskIdNumber(d);
    if (/^(?:86)?1[3-9][0-9]{9}$/.test(d)) return maskPhone(d.slice(-11));
    return null;
  };
  return text.replace(
    DIGIT_RUN,
    // not one identifier as a whole: each part between separators may still be one
    (run) => one(run) ?? run.replace(/[^ \-－]+/g, (part) => one(part) ?? part),
  );
}

/**
 * Cleans a message text: trimmed, not empty, at most {@link MAX_TEXT_CHARS} characters; full ID numbers
 * and mobile numbers are masked (`5201**********1234`, `138****5678`) — a message is no place for them
 * (the applicant's identifiers are read through the audited reveal route; 个人信息保护法 art. 51).
 * @throws AppError(validation) `case_message.text_empty` / `case_message.text_too_long` naming `text`.
 */
export function cleanMessageText(text: string): string {
  const t = text.normalize('NFC').trim();
  if (t.length === 0)
    throw invalid(
      'text',
      'Write something: a message cannot be empty or only spaces.',
      'case_message.text_empty',
    );
  const length = [...t].length;
  if (length > MAX_TEXT_CHARS)
    throw invalid(
      'text',
      `A message has at most ${MAX_TEXT_CHARS} characters (this one has ${length}); split it or attach a material to the case.`,
      'case_message.text_too_long',
    );
  return maskIdentifiers(t)
    .replace(ID_LIKE, (m) => maskIdNumber(m))
    .replace(MOBILE_LIKE, (m) => maskPhone(m));
}

function readerOf(p: Principal): Reader {
  return { accountId: p.accountId, departmentId: p.departmentId ?? null, hallCode: p.hallCode ?? null };
}

function threadView(t: ThreadRow): ThreadView {
  return {
    id: t.id,
    caseId: t.caseId,
    caseNumber: t.caseNumber,
    kind: t.kind,
    subject: t.subject,
    messageCount: t.lastSeq,
    lastMessageAt: t.lastMessageAt?.toISOString() ?? null,
    lastReadSeq: Math.min(t.lastReadSeq, t.lastSeq),
    unread: Math.max(0, t.lastSeq - t.lastReadSeq),
    mentionsUnread: t.mentionsUnread,
    consultedDepartments: t.departments,
    createdAt: t.createdAt.toISOString(),
  };
}

/** The general thread before its first message: listed, with nothing in it. */
function emptyGeneral(c: Located): ThreadView {
  return {
    id: c.id,
    caseId: c.id,
    caseNumber: c.number,
    kind: 'general',
    subject: '',
    messageCount: 0,
    lastMessageAt: null,
    lastReadSeq: 0,
    unread: 0,
    mentionsUnread: 0,
    consultedDepartments: [],
    createdAt: null,
  };
}

export function messageView(m: MessageRow): MessageView {
  return {
    id: m.id,
    threadId: m.threadId,
    caseId: m.caseId,
    seq: m.seq,
    author: {
      accountId: m.authorAccountId,
      name: m.authorName,
      departmentId: m.authorDepartmentId,
      hallCode: m.authorHallCode,
    },
    text: m.body,
    mentions: m.mentions,
    createdAt: m.createdAt.toISOString(),
  };
}

function caseHidden(caseRef: string): AppError {
  return notFound('case.not_found', `No case ${caseRef}.`, 'case');
}
function threadHidden(threadId: string): AppError {
  return notFound(
    'case_thread.not_found',
    `No thread ${threadId} in this case that you may read. List the case's threads first.`,
    'thread',
  );
}

/**
 * The in-case messaging module's public face (办件沟通): threads per case, append-only messages with
 * structured mentions, consulted departments, per-reader read cursors and unread counts, and the live
 * notes ({@link LiveNote}) the posting transaction announces with `pg_notify`.
 *
 * Every read of another module (the case's location, staff accounts, departments) happens BEFORE a
 * transaction opens (embedded PGlite has one connection). Writes are one transaction each, with the
 * idempotency record (retries return the first answer), the outbox row for mentions and the notification.
 * Access rules: ./policy.ts.
 */
export class MessagingService {
  private readonly repo: MessagingRepository;
  private readonly deps: MessagingDeps;

  constructor(db: Db, deps: MessagingDeps) {
    this.repo = new MessagingRepository(db);
    this.deps = deps;
  }

  now(): Date {
    return this.deps.cases.now();
  }

  /**
   * Where a case lies and which of its threads `p` may read. @throws 404 `case.not_found` when `p` may
   * read none (also for a resident, and for a case that does not exist).
   */
  async access(p: Principal, caseRef: string): Promise<CaseAccess> {
    if (p.kind !== 'staff') throw caseHidden(caseRef);
    const access = this.accessAt(p, await this.place(caseRef));
    if (!access) throw caseHidden(caseRef);
    return access;
  }

  /**
   * Where a case lies and who is consulted on its threads — what {@link accessAt} judges, read once and
   * judged for many readers (the live hub). @throws 404 `case.not_found`.
   */
  async place(caseRef: string): Promise<CasePlace> {
    const c = await this.deps.cases.locate(caseRef).catch((e) => {
      throw isAppError(e) && e.kind === 'not_found' ? caseHidden(caseRef) : e;
    });
    return { c, consulted: await this.repo.consultedByThread(c.id) };
  }

  /** What `p` may read of a case at `place` (./policy.ts), or null when nothing. Pure. */
  accessAt(p: Principal, place: CasePlace): CaseAccess | null {
    if (p.kind !== 'staff') return null;
    const now = this.now();
    if (mayReadThread(p, place.c.target, [], now)) return { c: place.c, readsCase: true, threadIds: 'all' };
    const ids = new Set<string>();
    for (const [threadId, departments] of place.consulted)
      if (mayReadThread(p, place.c.target, departments, now)) ids.add(threadId);
    return ids.size === 0 ? null : { c: place.c, readsCase: false, threadIds: ids };
  }

  /**
   * The threads of a case `p` may read, general first, each with `p`'s unread counts.
   * @throws 404 `case.not_found`.
   */
  async threads(
    p: Principal,
    caseRef: string,
  ): Promise<{ caseId: string; caseNumber: string; items: ThreadView[] }> {
    const a = await this.access(p, caseRef);
    const rows = await this.repo.threads({ caseId: a.c.id }, readerOf(p));
    const items = rows.filter((t) => a.threadIds === 'all' || a.threadIds.has(t.id)).map(threadView);
    if (a.readsCase && !items.some((t) => t.kind === 'general')) items.unshift(emptyGeneral(a.c));
    return { caseId: a.c.id, caseNumber: a.c.number, items };
  }

  /** One thread for `p`. @throws 404 `case.not_found` / `case_thread.not_found`. */
  async thread(p: Principal, caseRef: string, threadId: string): Promise<ThreadView> {
    const a = await this.access(p, caseRef);
    return this.threadFor(p, a, threadId);
  }

  private async threadFor(p: Principal, a: CaseAccess, threadId: string): Promise<ThreadView> {
    if (!UUID.test(threadId)) throw threadHidden(threadId);
    const id = threadId.toLowerCase();
    if (a.threadIds !== 'all' && !a.threadIds.has(id)) throw threadHidden(threadId);
    const [row] = await this.repo.threads({ ids: [id] }, readerOf(p));
    if (row && row.caseId === a.c.id) return threadView(row);
    if (!row && id === a.c.id && a.readsCase) return emptyGeneral(a.c);
    throw threadHidden(threadId);
  }

  /**
   * Whom `p` may @mention in a thread (the compose box's picker): staff accounts bound to the case's halls,
   * its departments or the thread's consulted departments who may read the thread (./policy.ts
   * `mayReadThread`, as {@link post} checks), `p` left out, by name; the departments (case's and consulted)
   * and halls of the case. Staff names are public in the hall; nothing else about them is shown.
   * @throws 404 `case.not_found` / `case_thread.not_found`.
   */
  async mentionable(
    p: Principal,
    caseRef: string,
    threadId: string,
  ): Promise<{
    staff: { accountId: string; name: string; departmentId: string | null; hallCode: string | null }[];
    departments: { id: string; consulted: boolean }[];
    halls: { code: string }[];
  }> {
    const a = await this.access(p, caseRef);
    const thread = await this.threadFor(p, a, threadId);
    const consulted = thread.consultedDepartments.map((d) => d.departmentId);
    const caseDepartments = [...(a.c.target.departmentIds ?? [])];
    const halls = [...(a.c.target.hallCodes ?? [])];
    const departmentIds = [...new Set([...caseDepartments, ...consulted])];
    const now = this.now();
    const staff = (await this.deps.staff.staffAt({ hallCodes: halls, departmentIds }, 200))
      .filter(
        (s) =>
          s.id !== p.accountId &&
          mayReadThread({ kind: 'staff', grants: s.grants }, a.c.target, consulted, now),
      )
      .map((s) => ({ accountId: s.id, name: s.name, departmentId: s.departmentId, hallCode: s.hallCode }));
    return {
      staff,
      departments: departmentIds.map((id) => ({ id, consulted: !caseDepartments.includes(id) })),
      halls: [...new Set(halls)].map((code) => ({ code })),
    };
  }

  /**
   * Opens a topic thread (专题) on a case: any staff who may read the case. Idempotent by key.
   * @throws 400 `case_thread.subject_invalid` (1–100 characters after trimming); 404 `case.not_found`.
   */
  async createThread(
    p: Principal,
    caseRef: string,
    input: { subject: string },
    idempotencyKey: string,
  ): Promise<ThreadView> {
    const a = await this.access(p, caseRef);
    if (!a.readsCase) throw caseHidden(caseRef);
    const trimmed = input.subject.normalize('NFC').trim();
    if (trimmed.length === 0 || [...trimmed].length > 100)
      throw invalid('subject', 'A thread subject has 1–100 characters.', 'case_thread.subject_invalid');
    const subject = maskIdentifiers(trimmed);
    const at = this.now();
    const result = await this.deps.idempotency.run(
      `POST /api/v1/cases/${a.c.id}/threads|staff:${p.accountId}`,
      idempotencyKey,
      { subject },
      async (tx, batch) => {
        const id = randomUUID();
        await this.repo.ensureThread(tx, {
          id,
          caseId: a.c.id,
          caseNumber: a.c.number,
          kind: 'topic',
          subject,
          createdByAccountId: p.accountId,
          at,
        });
        const follow = this.repo.addFollowersSql(
          id,
          a.c.id,
          [{ kind: 'staff', id: p.accountId, lastReadSeq: 0 }],
          at,
        );
        if (follow) batch.add(follow);
        this.announce(batch, { k: 'thread', caseId: a.c.id, threadId: id });
        return { id };
      },
    );
    return this.threadFor(p, { ...a, threadIds: 'all' }, result.value.id);
  }

  /**
   * Consults a department on a thread (会商): its staff may then read and post in that thread. Only the
   * intake hall's or the competent department's operational staff (./policy.ts). Adding a department
   * already consulted changes nothing. Idempotent by key.
   * @throws 403 `case_thread.consult_forbidden`; 404 `department.not_found`, `case.not_found`,
   *   `case_thread.not_found`; 400 `case_thread.reason_required` (1–500 characters).
   */
  async consult(
    p: Principal,
    caseRef: string,
    threadId: string,
    input: { departmentId: string; reason: string },
    idempotencyKey: string,
  ): Promise<ThreadView> {
    const a = await this.access(p, caseRef);
    const thread = await this.threadFor(p, a, threadId);
    if (!mayConsult(p, a.c, this.now()))
      throw new AppError(
        'forbidden',
        'case_thread.consult_forbidden',
        'Only staff handling the case at its intake hall or its competent department may consult another department.',
      );
    const reason = maskIdentifiers(input.reason.normalize('NFC').trim());
    if (reason.length === 0 || [...reason].length > 500)
      throw invalid(
        'reason',
        'Say why the department is consulted (1–500 characters).',
        'case_thread.reason_required',
      );
    const department = await this.deps.departments.getDepartment(input.departmentId);
    const at = this.now();
    await this.deps.idempotency.run(
      `POST /api/v1/cases/${a.c.id}/threads/${thread.id}/departments|staff:${p.accountId}`,
      idempotencyKey,
      { departmentId: department.id, reason },
      async (tx, batch) => {
        await this.ensureThreadRow(tx, a.c, thread, p, at);
        const added = await this.repo.addConsultedDepartment(tx, {
          threadId: thread.id,
          caseId: a.c.id,
          departmentId: department.id,
          addedByAccountId: p.accountId,
          reason,
          at,
        });
        if (added) {
          const follow = this.repo.addFollowersSql(
            thread.id,
            a.c.id,
            [{ kind: 'department', id: department.id, lastReadSeq: 0 }],
            at,
          );
          if (follow) batch.add(follow);
          this.announce(batch, { k: 'thread', caseId: a.c.id, threadId: thread.id });
        }
        return { added };
      },
    );
    return this.threadFor(p, { ...a, threadIds: 'all' }, thread.id);
  }

  /**
   * Messages of a thread, ascending by `seq` (keyset pagination): without bounds the `limit` newest; with
   * `before` the `limit` just before that seq (older pages); with `after` those right after it (catching
   * up). `olderBefore` is the `before` of the next older page, or null at the start of the thread.
   * @throws 404 `case.not_found` / `case_thread.not_found`.
   */
  async messages(
    p: Principal,
    caseRef: string,
    threadId: string,
    page: { before?: number; after?: number; limit?: number },
  ): Promise<{ thread: ThreadView; items: MessageView[]; olderBefore: number | null }> {
    const a = await this.access(p, caseRef);
    const thread = await this.threadFor(p, a, threadId);
    const limit = page.limit ?? 50;
    const rows = await this.repo.messages(thread.id, {
      limit,
      ...(page.after !== undefined ? { after: page.after } : {}),
      ...(page.before !== undefined && page.after === undefined ? { before: page.before } : {}),
    });
    const first = rows[0];
    return {
      thread,
      items: rows.map(messageView),
      olderBefore: page.after === undefined && first && first.seq > 1 ? first.seq : null,
    };
  }

  /**
   * Posts a message (append-only). In ONE transaction: the thread's next seq, the message, its mentions,
   * followers (the author — who has read up to their own message —, the case's intake hall and competent
   * department, whoever is mentioned), an outbox event {@link MENTION_TOPIC} when someone is mentioned,
   * the idempotency record, and `pg_notify` on {@link CASE_MESSAGES_CHANNEL}. A retry with the same key
   * and body returns the first answer and posts nothing.
   *
   * Mentions must name someone who can read the thread: a staff account that may read it, a department of
   * the case (competent, previous, part) or consulted on the thread, or a hall of the case (intake,
   * pickup). Consult a third department first, then mention it.
   * @throws 400 `case_message.text_empty` | `case_message.text_too_long` (field `text`),
   *   `case_message.mention_invalid` (field `mentions[i]`); 404 `case.not_found` / `case_thread.not_found`;
   *   409 `idempotency.key_reused`.
   */
  async post(
    p: Principal,
    caseRef: string,
    threadId: string,
    input: PostMessageInput,
    idempotencyKey: string,
  ): Promise<{ message: MessageView; thread: ThreadView }> {
    const body = PostMessageSchema.parse(input);
    const a = await this.access(p, caseRef);
    const thread = await this.threadFor(p, a, threadId);
    const text = cleanMessageText(body.text);
    const mentions = await this.checkMentions(a.c, thread, body.mentions);
    const at = this.now();
    const author = {
      accountId: p.accountId,
      name: p.name ?? p.accountId,
      departmentId: p.departmentId ?? null,
      hallCode: p.hallCode ?? null,
    };
    const result = await this.deps.idempotency.run(
      `POST /api/v1/cases/${a.c.id}/threads/${thread.id}/messages|staff:${p.accountId}`,
      idempotencyKey,
      { text: body.text, mentions: body.mentions },
      async (tx, batch) => {
        await this.ensureThreadRow(tx, a.c, thread, p, at);
        const seq = await this.repo.nextSeq(tx, thread.id, at);
        if (seq === undefined) throw threadHidden(thread.id);
        const id = randomUUID();
        batch.add(
          this.repo.insertMessageSql({
            id,
            threadId: thread.id,
            caseId: a.c.id,
            seq,
            authorAccountId: author.accountId,
            authorName: author.name,
            authorDepartmentId: author.departmentId,
            authorHallCode: author.hallCode,
            body: text,
            mentions,
            createdAt: at,
          }),
        );
        const mentionRows = this.repo.insertMentionsSql(id, thread.id, seq, mentions);
        if (mentionRows) batch.add(mentionRows);
        batch.add(this.repo.readUpToSql(thread.id, a.c.id, author.accountId, seq, at));
        const followers = new Map<string, { kind: StoredMention['kind']; id: string; lastReadSeq: number }>();
        const follow = (kind: StoredMention['kind'], fid: string | null, lastReadSeq = 0) => {
          if (!fid || (kind === 'staff' && fid === author.accountId)) return;
          if (!followers.has(`${kind}:${fid}`))
            followers.set(`${kind}:${fid}`, { kind, id: fid, lastReadSeq });
        };
        for (const m of mentions) follow(m.kind, m.id, seq - 1);
        follow('department', author.departmentId);
        follow('hall', author.hallCode);
        follow('department', a.c.competentDepartmentId);
        follow('hall', a.c.intakeHallCode);
        const places = this.repo.addFollowersSql(thread.id, a.c.id, [...followers.values()], at);
        if (places) batch.add(places);
        const recipients = mentions.filter(
          (m) => m.kind !== 'hall' && !(m.kind === 'staff' && m.id === author.accountId),
        );
        if (recipients.length > 0)
          this.deps.outbox.appendLater(batch, [
            {
              topic: MENTION_TOPIC,
              aggregateType: 'case',
              aggregateId: a.c.id,
              payload: {
                caseId: a.c.id,
                caseNumber: a.c.number,
                threadId: thread.id,
                threadSubject: thread.subject,
                messageId: id,
                seq,
                authorName: author.name,
                excerpt: [...text].slice(0, 60).join(''),
                recipients: recipients.map((m) => ({ kind: m.kind, id: m.id })),
              },
            },
          ]);
        this.announce(batch, { k: 'message', caseId: a.c.id, threadId: thread.id, messageId: id, seq });
        return { id };
      },
    );
    const message = await this.repo.messageById(result.value.id);
    if (!message) throw threadHidden(thread.id);
    return {
      message: messageView(message),
      thread: await this.threadFor(p, { ...a, threadIds: 'all' }, thread.id),
    };
  }

  /**
   * Marks a thread read up to `seq` (the cursor only moves forward; a seq past the last message counts as
   * the last). Announces the new counts to the reader's other connections. @returns the thread for `p`.
   * @throws 404 `case.not_found` / `case_thread.not_found`.
   */
  async markRead(p: Principal, caseRef: string, threadId: string, seq: number): Promise<ThreadView> {
    const a = await this.access(p, caseRef);
    const thread = await this.threadFor(p, a, threadId);
    if (thread.createdAt === null) return thread; // the general thread before its first message
    const upTo = Math.min(seq, thread.messageCount);
    const at = this.now();
    await this.repo.db.transaction(async (tx) => {
      const batch = new WriteBatch();
      batch.add(this.repo.readUpToSql(thread.id, a.c.id, p.accountId, upTo, at));
      this.announce(batch, {
        k: 'read',
        caseId: a.c.id,
        threadId: thread.id,
        accountId: p.accountId,
        seq: upTo,
      });
      await batch.flush(tx);
    });
    return this.threadFor(p, a, thread.id);
  }

  /**
   * The reader's unread messages across cases (the workbench badge): threads they follow — they posted,
   * read or were mentioned there, or their department or hall is a party to or consulted on it — that
   * have unread messages and that they may still read, most recent first (at most `limit`, default 50).
   * `total` and `mentions` add up the listed threads.
   */
  async unreadSummary(
    p: Principal,
    limit = 50,
  ): Promise<{ total: number; mentions: number; items: ThreadView[] }> {
    if (p.kind !== 'staff') return { total: 0, mentions: 0, items: [] };
    const rows = await this.repo.unreadFollowed(readerOf(p), limit);
    const items: ThreadView[] = [];
    const byCase = new Map<string, CaseAccess | null>();
    for (const t of rows) {
      if (!byCase.has(t.caseId))
        byCase.set(
          t.caseId,
          await this.access(p, t.caseId).catch((e) => {
            if (isAppError(e) && e.kind === 'not_found') return null;
            throw e;
          }),
        );
      const a = byCase.get(t.caseId);
      if (a && (a.threadIds === 'all' || a.threadIds.has(t.id))) items.push(threadView(t));
    }
    return {
      total: items.reduce((n, t) => n + t.unread, 0),
      mentions: items.reduce((n, t) => n + t.mentionsUnread, 0),
      items,
    };
  }

  /** A message by id (the live hub reads what a note names). */
  async messageById(id: string): Promise<MessageView | undefined> {
    const m = await this.repo.messageById(id);
    return m && messageView(m);
  }

  /** Threads by id for one reader (the live hub's counts). */
  async threadsById(p: Principal, ids: string[]): Promise<ThreadView[]> {
    return (await this.repo.threads({ ids }, readerOf(p))).map(threadView);
  }

  private async ensureThreadRow(
    tx: Tx,
    c: Located,
    thread: ThreadView,
    p: Principal,
    at: Date,
  ): Promise<void> {
    if (thread.createdAt !== null) return;
    await this.repo.ensureThread(tx, {
      id: thread.id,
      caseId: c.id,
      caseNumber: c.number,
      kind: 'general',
      subject: '',
      createdByAccountId: p.accountId,
      at,
    });
  }

  private announce(batch: { notify(channel: string, payload: string): void }, note: LiveNote): void {
    batch.notify(CASE_MESSAGES_CHANNEL, JSON.stringify(note));
  }

  /** Checks each mention can read the thread (see {@link post}); de-duplicates. */
  private async checkMentions(
    c: Located,
    thread: ThreadView,
    mentions: StoredMention[],
  ): Promise<StoredMention[]> {
    const now = this.now();
    const consulted = thread.consultedDepartments.map((d) => d.departmentId);
    const staffIds = mentions.filter((m) => m.kind === 'staff').map((m) => m.id);
    const members = new Map((await this.deps.staff.staffMembers(staffIds)).map((s) => [s.id, s]));
    const seen = new Set<string>();
    const out: StoredMention[] = [];
    mentions.forEach((m, i) => {
      const id = m.kind === 'staff' ? m.id.toLowerCase() : m.id;
      const key = `${m.kind}:${id}`;
      if (seen.has(key)) return;
      seen.add(key);
      let ok = false;
      if (m.kind === 'staff') {
        const s = members.get(id) ?? members.get(m.id);
        ok = !!s && mayReadThread({ kind: 'staff', grants: s.grants }, c.target, consulted, now);
      } else if (m.kind === 'department') {
        ok = (c.target.departmentIds ?? []).includes(id) || consulted.includes(id);
      } else {
        ok = (c.target.hallCodes ?? []).includes(id);
      }
      if (!ok)
        throw invalid(
          `mentions[${i}]`,
          m.kind === 'staff'
            ? 'This staff account does not exist or may not read this thread; mention someone handling the case, or consult their department first.'
            : m.kind === 'department'
              ? 'This department is not a party to the case nor consulted on this thread; consult it first, then mention it.'
              : 'This hall is not the intake or pickup hall of the case.',
          'case_message.mention_invalid',
        );
      out.push({ kind: m.kind, id });
    });
    return out;
  }
}
