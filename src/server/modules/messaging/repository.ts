import { type SQL, sql } from 'drizzle-orm';
import type { Db, Tx } from '../../db/index.ts';
import { rowsOf, toInt } from '../../db/sql.ts';
import type { StoredMention } from './schema.ts';

/** A thread as stored, with the reader's cursor and counts (see {@link MessagingRepository.threads}). */
export interface ThreadRow {
  id: string;
  caseId: string;
  caseNumber: string;
  kind: 'general' | 'topic';
  subject: string;
  createdByAccountId: string;
  createdAt: Date;
  lastSeq: number;
  lastMessageAt: Date | null;
  lastReadSeq: number;
  mentionsUnread: number;
  departments: { departmentId: string; addedByAccountId: string; reason: string; addedAt: string }[];
}

export interface MessageRow {
  id: string;
  threadId: string;
  caseId: string;
  seq: number;
  authorAccountId: string;
  authorName: string;
  authorDepartmentId: string | null;
  authorHallCode: string | null;
  body: string;
  mentions: StoredMention[];
  createdAt: Date;
}

/** The places a reader is mentioned as: their account, their department, their hall. */
export interface Reader {
  accountId: string;
  departmentId: string | null;
  hallCode: string | null;
}

const json = <T>(v: unknown): T => (typeof v === 'string' ? (JSON.parse(v) as T) : (v as T));
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(String(v)));

/** Mentions of `r` among messages of thread `t` after its cursor `f`. */
function mineAfterCursor(r: Reader): SQL {
  return sql`((m.kind = 'staff' and m.target_id = ${r.accountId})
    or (m.kind = 'department' and m.target_id = ${r.departmentId ?? ''})
    or (m.kind = 'hall' and m.target_id = ${r.hallCode ?? ''}))`;
}

/** The only place with SQL for in-case messaging. */
export class MessagingRepository {
  readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  /**
   * Threads (of one case, or by id) with the reader's read cursor, unread mentions and consulted
   * departments — one statement.
   */
  async threads(
    where: { caseId: string } | { ids: string[] },
    r: Reader,
    q: Db | Tx = this.db,
  ): Promise<ThreadRow[]> {
    if ('ids' in where && where.ids.length === 0) return [];
    const filter =
      'caseId' in where
        ? sql`t.case_id = ${where.caseId}`
        : sql`t.id in (${sql.join(
            where.ids.map((id) => sql`${id}::uuid`),
            sql`, `,
          )})`;
    const rows = rowsOf<Record<string, unknown>>(
      await q.execute(sql`
        select t.id, t.case_id, t.case_number, t.kind, t.subject, t.created_by_account_id, t.created_at,
          t.last_seq, t.last_message_at, coalesce(f.last_read_seq, 0) as last_read_seq,
          (select count(distinct m.seq)::int from case_message_mentions m
             where m.thread_id = t.id and m.seq > coalesce(f.last_read_seq, 0) and ${mineAfterCursor(r)}
          ) as mentions_unread,
          coalesce((select json_agg(json_build_object('departmentId', d.department_id,
              'addedByAccountId', d.added_by_account_id, 'reason', d.reason, 'addedAt', d.added_at)
              order by d.added_at)
            from case_thread_departments d where d.thread_id = t.id), '[]'::json) as departments
        from case_threads t
        left join case_thread_followers f
          on f.thread_id = t.id and f.follower_kind = 'staff' and f.follower_id = ${r.accountId}
        where ${filter}
        order by (t.kind = 'general') desc, t.created_at, t.id`),
    );
    return rows.map((row) => ({
      id: String(row.id),
      caseId: String(row.case_id),
      caseNumber: String(row.case_number),
      kind: row.kind as ThreadRow['kind'],
      subject: String(row.subject),
      createdByAccountId: String(row.created_by_account_id),
      createdAt: date(row.created_at),
      lastSeq: toInt(row.last_seq),
      lastMessageAt: row.last_message_at ? date(row.last_message_at) : null,
      lastReadSeq: toInt(row.last_read_seq),
      mentionsUnread: toInt(row.mentions_unread),
      departments: json<ThreadRow['departments']>(row.departments).map((d) => ({
        ...d,
        addedAt: date(d.addedAt).toISOString(),
      })),
    }));
  }

  /** Consulted departments of every thread of a case (thread id → department ids). */
  async consultedByThread(caseId: string): Promise<Map<string, string[]>> {
    const rows = rowsOf<{ thread_id: string; department_id: string }>(
      await this.db.execute(
        sql`select thread_id, department_id from case_thread_departments where case_id = ${caseId}`,
      ),
    );
    const map = new Map<string, string[]>();
    for (const r of rows)
      map.set(String(r.thread_id), [...(map.get(String(r.thread_id)) ?? []), r.department_id]);
    return map;
  }

  /** Creates the thread row unless it exists (the general thread is created on first use). */
  ensureThreadSql(t: {
    id: string;
    caseId: string;
    caseNumber: string;
    kind: 'general' | 'topic';
    subject: string;
    createdByAccountId: string;
    at: Date;
  }): SQL {
    return sql`insert into case_threads (id, case_id, case_number, kind, subject, created_by_account_id, created_at)
      values (${t.id}, ${t.caseId}, ${t.caseNumber}, ${t.kind}, ${t.subject}, ${t.createdByAccountId}, ${t.at})
      on conflict (id) do nothing`;
  }

  async ensureThread(tx: Tx, t: Parameters<MessagingRepository['ensureThreadSql']>[0]): Promise<void> {
    await tx.execute(this.ensureThreadSql(t));
  }

  /**
   * Takes the next message number of a thread (locks the thread row until commit, so numbers are dense
   * and ordered). @returns the new seq, or undefined when the thread does not exist.
   */
  async nextSeq(tx: Tx, threadId: string, at: Date): Promise<number | undefined> {
    const [row] = rowsOf<{ last_seq: unknown }>(
      await tx.execute(sql`update case_threads set last_seq = last_seq + 1, last_message_at = ${at}
        where id = ${threadId} returning last_seq`),
    );
    return row ? toInt(row.last_seq) : undefined;
  }

  insertMessageSql(m: Omit<MessageRow, 'createdAt'> & { createdAt: Date }): SQL {
    return sql`insert into case_messages (id, thread_id, case_id, seq, author_account_id, author_name,
        author_department_id, author_hall_code, body, mentions, created_at)
      values (${m.id}, ${m.threadId}, ${m.caseId}, ${m.seq}, ${m.authorAccountId}, ${m.authorName},
        ${m.authorDepartmentId}, ${m.authorHallCode}, ${m.body}, ${JSON.stringify(m.mentions)}::jsonb, ${m.createdAt})`;
  }

  insertMentionsSql(messageId: string, threadId: string, seq: number, mentions: StoredMention[]): SQL | null {
    if (mentions.length === 0) return null;
    return sql`insert into case_message_mentions (message_id, thread_id, seq, kind, target_id) values ${sql.join(
      mentions.map((m) => sql`(${messageId}, ${threadId}, ${seq}, ${m.kind}, ${m.id})`),
      sql`, `,
    )}`;
  }

  /**
   * Followers to add (existing ones are kept as they are): `lastReadSeq` is where a NEW follower's cursor
   * starts (a mentioned colleague: just before the mention).
   */
  addFollowersSql(
    threadId: string,
    caseId: string,
    followers: { kind: StoredMention['kind']; id: string; lastReadSeq: number }[],
    at: Date,
  ): SQL | null {
    if (followers.length === 0) return null;
    return sql`insert into case_thread_followers (thread_id, follower_kind, follower_id, case_id, last_read_seq, updated_at)
      values ${sql.join(
        followers.map((f) => sql`(${threadId}, ${f.kind}, ${f.id}, ${caseId}, ${f.lastReadSeq}, ${at})`),
        sql`, `,
      )}
      on conflict (thread_id, follower_kind, follower_id) do nothing`;
  }

  /** Moves a staff reader's cursor forward to `seq` (never back); creates it when absent. */
  readUpToSql(threadId: string, caseId: string, accountId: string, seq: number, at: Date): SQL {
    return sql`insert into case_thread_followers (thread_id, follower_kind, follower_id, case_id, last_read_seq, updated_at)
      values (${threadId}, 'staff', ${accountId}, ${caseId}, ${seq}, ${at})
      on conflict (thread_id, follower_kind, follower_id) do update
        set last_read_seq = greatest(case_thread_followers.last_read_seq, excluded.last_read_seq),
            updated_at = excluded.updated_at`;
  }

  async addConsultedDepartment(
    tx: Tx,
    d: {
      threadId: string;
      caseId: string;
      departmentId: string;
      addedByAccountId: string;
      reason: string;
      at: Date;
    },
  ): Promise<boolean> {
    const rows = rowsOf(
      await tx.execute(sql`insert into case_thread_departments (thread_id, department_id, case_id, added_by_account_id, reason, added_at)
        values (${d.threadId}, ${d.departmentId}, ${d.caseId}, ${d.addedByAccountId}, ${d.reason}, ${d.at})
        on conflict (thread_id, department_id) do nothing returning thread_id`),
    );
    return rows.length > 0;
  }

  /**
   * Messages of a thread in ascending `seq`: the `limit` newest (no bound), those just before `before`,
   * or those right after `after`.
   */
  async messages(
    threadId: string,
    page: { before?: number; after?: number; limit: number },
  ): Promise<MessageRow[]> {
    const cols = sql`id, thread_id, case_id, seq, author_account_id, author_name, author_department_id,
      author_hall_code, body, mentions, created_at`;
    const q =
      page.after !== undefined
        ? sql`select ${cols} from case_messages where thread_id = ${threadId} and seq > ${page.after}
            order by seq limit ${page.limit}`
        : sql`select * from (select ${cols} from case_messages where thread_id = ${threadId}
            ${page.before !== undefined ? sql`and seq < ${page.before}` : sql``}
            order by seq desc limit ${page.limit}) newest order by seq`;
    return rowsOf<Record<string, unknown>>(await this.db.execute(q)).map(messageOf);
  }

  async messageById(id: string): Promise<MessageRow | undefined> {
    const [row] = rowsOf<Record<string, unknown>>(
      await this.db.execute(sql`select id, thread_id, case_id, seq, author_account_id, author_name,
        author_department_id, author_hall_code, body, mentions, created_at from case_messages where id = ${id}`),
    );
    return row ? messageOf(row) : undefined;
  }

  /**
   * Threads a reader follows (as themself, their department or their hall) with unread messages, most
   * recent first, at most `limit`.
   */
  async unreadFollowed(r: Reader, limit: number): Promise<ThreadRow[]> {
    const ids = rowsOf<{ id: string }>(
      await this.db.execute(sql`
        select t.id from case_threads t
        where t.id in (select thread_id from case_thread_followers
            where (follower_kind = 'staff' and follower_id = ${r.accountId})
               or (follower_kind = 'department' and follower_id = ${r.departmentId ?? ''})
               or (follower_kind = 'hall' and follower_id = ${r.hallCode ?? ''}))
          and t.last_seq > coalesce((select last_read_seq from case_thread_followers f
            where f.thread_id = t.id and f.follower_kind = 'staff' and f.follower_id = ${r.accountId}), 0)
        order by t.last_message_at desc nulls last, t.id
        limit ${limit}`),
    ).map((x) => String(x.id));
    const rows = await this.threads({ ids }, r);
    const order = new Map(ids.map((id, i) => [id, i]));
    return rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
  }
}

function messageOf(row: Record<string, unknown>): MessageRow {
  return {
    id: String(row.id),
    threadId: String(row.thread_id),
    caseId: String(row.case_id),
    seq: toInt(row.seq),
    authorAccountId: String(row.author_account_id),
    authorName: String(row.author_name),
    authorDepartmentId: (row.author_department_id as string | null) ?? null,
    authorHallCode: (row.author_hall_code as string | null) ?? null,
    body: String(row.body),
    mentions: json<StoredMention[]>(row.mentions),
    createdAt: date(row.created_at),
  };
}
