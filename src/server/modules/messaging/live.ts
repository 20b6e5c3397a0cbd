import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { Database } from '../../db/index.ts';
import type { Principal } from '../identity/principal.ts';
import {
  CASE_MESSAGES_CHANNEL,
  type CaseAccess,
  type CasePlace,
  type LiveNote,
  type MessagingService,
} from './service.ts';

/**
 * Live push of in-case messaging over WebSocket, across any number of server nodes.
 *
 * Each node LISTENs ONCE per channel (PostgreSQL: one dedicated connection per channel, see
 * `Database.listen`; embedded PGlite: in-process) and fans out to its own sockets:
 * - {@link CASE_MESSAGES_CHANNEL} — `pg_notify` by the transaction that posted a message, moved a read
 *   cursor, opened a thread or consulted a department (ids only; heard only when it commits);
 * - the case module's `tongban_cases` — every committed case transition (`{ id, number, status, version }`),
 *   pushed as `case` so the inbox can refresh.
 *
 * What a socket receives is judged per socket when the note arrives, with the socket's principal
 * (re-read from the session every `reauthMs`: a revoked grant or an ended session takes effect then,
 * the socket closes with 4401 when the session is gone). Notes are handled one at a time per node, so a
 * socket gets a thread's messages in `seq` order.
 *
 * Protocol (JSON text frames):
 * client → server
 *   `{ "type": "subscribe", "case": "<case number or id>" }`
 *   `{ "type": "unsubscribe", "caseId": "<id>" }`
 *   `{ "type": "ping" }`
 * server → client
 *   `{ "type": "subscribed", "caseId", "caseNumber", "threads": ThreadView[] }`
 *   `{ "type": "unsubscribed", "caseId" }`
 *   `{ "type": "message", "caseId", "caseNumber", "threadId", "message": MessageView, "thread": ThreadView }`
 *   `{ "type": "thread", "caseId", "caseNumber", "thread": ThreadView }` (read cursor moved — in another tab
 *     of the same account —, thread opened, department consulted)
 *   `{ "type": "case", "caseId", "caseNumber", "status", "version" }` (case readers only)
 *   `{ "type": "error", "code", "message", "case"? }` (e.g. `case.not_found` for a case one may not read)
 *   `{ "type": "pong" }`
 */

/** Most cases one socket may follow at once. */
export const MAX_SUBSCRIPTIONS = 200;
/**
 * Most client frames waiting on one socket (frames are handled one at a time, in order: each subscribe
 * reads the database). A client sending faster than that is closed with 1008 (policy violation).
 */
export const MAX_PENDING_FRAMES = 32;

const ClientFrame = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subscribe'), case: z.string().min(1).max(64) }),
  z.object({ type: z.literal('unsubscribe'), caseId: z.string().min(1).max(64) }),
  z.object({ type: z.literal('ping') }),
]);

interface Connection {
  socket: WebSocket;
  principal: Principal;
  /** caseId → what this socket may read of it (judged at subscribe time and again per note) */
  cases: Map<string, CaseAccess>;
  reauth: (() => Promise<Principal | null>) | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Frames of this socket are handled one after the other (the subscription limit holds). */
  frames: Promise<void>;
  pending: number;
}

export interface LiveHubOptions {
  messaging: MessagingService;
  listen: Database['listen'];
  /** The case module's change channel (CASE_CHANGES_CHANNEL). */
  caseChannel: string;
  /** How often a socket's principal is re-read (ms, default 60,000). */
  reauthMs?: number;
  log?: (message: string, error?: unknown) => void;
}

/** One per node: the LISTEN side and the node's sockets. */
export class LiveHub {
  private readonly connections = new Set<Connection>();
  private readonly options: LiveHubOptions;
  private stops: (() => Promise<void>)[] = [];
  private queue: Promise<void> = Promise.resolve();

  constructor(options: LiveHubOptions) {
    this.options = options;
  }

  /** Number of open sockets on this node. */
  get size(): number {
    return this.connections.size;
  }

  /** Starts listening (once per channel on this node). */
  async start(): Promise<void> {
    this.stops.push(
      await this.options.listen(CASE_MESSAGES_CHANNEL, (payload) => this.enqueue(() => this.onNote(payload))),
      await this.options.listen(this.options.caseChannel, (payload) =>
        this.enqueue(() => this.onCase(payload)),
      ),
    );
  }

  /** Stops listening and closes every socket (1001 going away). */
  async stop(): Promise<void> {
    for (const stop of this.stops.splice(0)) await stop();
    for (const c of this.connections) {
      clearInterval(c.timer);
      c.socket.close(1001, 'server shutting down');
    }
    this.connections.clear();
    await this.queue;
  }

  /**
   * Takes over an accepted socket of `principal` (authenticated and origin-checked by the route).
   * `reauth` re-reads the principal (session or token); undefined: never (development header).
   */
  attach(socket: WebSocket, principal: Principal, reauth?: () => Promise<Principal | null>): void {
    const conn: Connection = {
      socket,
      principal,
      cases: new Map(),
      reauth,
      timer: undefined,
      frames: Promise.resolve(),
      pending: 0,
    };
    this.connections.add(conn);
    if (reauth)
      conn.timer = setInterval(() => void this.refresh(conn), this.options.reauthMs ?? 60_000).unref();
    socket.on('message', (data, isBinary) => {
      if (isBinary)
        return this.send(conn, { type: 'error', code: 'live.bad_frame', message: 'Send JSON text frames.' });
      if (conn.pending >= MAX_PENDING_FRAMES) {
        this.send(conn, {
          type: 'error',
          code: 'live.too_many_frames',
          message: `At most ${MAX_PENDING_FRAMES} frames may wait for an answer; wait for the answers before sending more.`,
        });
        conn.socket.close(1008, 'too many frames');
        return;
      }
      conn.pending++;
      const text = data.toString();
      conn.frames = conn.frames
        .then(() => (conn.socket.readyState === conn.socket.OPEN ? this.onFrame(conn, text) : undefined))
        .catch((e) => this.options.log?.('live: frame failed', e))
        .finally(() => {
          conn.pending--;
        });
    });
    socket.on('close', () => {
      clearInterval(conn.timer);
      this.connections.delete(conn);
    });
  }

  private async refresh(conn: Connection): Promise<void> {
    try {
      const p = await conn.reauth?.();
      if (!p) {
        conn.socket.close(4401, 'session ended: sign in again');
        return;
      }
      conn.principal = p;
    } catch (e) {
      this.options.log?.('live: re-authentication failed', e);
    }
  }

  private async onFrame(conn: Connection, text: string): Promise<void> {
    let frame: z.infer<typeof ClientFrame>;
    try {
      frame = ClientFrame.parse(JSON.parse(text));
    } catch {
      this.send(conn, {
        type: 'error',
        code: 'live.bad_frame',
        message:
          'Send {"type":"subscribe","case":"<case number or id>"}, {"type":"unsubscribe","caseId":"…"} or {"type":"ping"}.',
      });
      return;
    }
    if (frame.type === 'ping') return this.send(conn, { type: 'pong' });
    if (frame.type === 'unsubscribe') {
      conn.cases.delete(frame.caseId.toLowerCase());
      return this.send(conn, { type: 'unsubscribed', caseId: frame.caseId.toLowerCase() });
    }
    if (conn.cases.size >= MAX_SUBSCRIPTIONS)
      return this.send(conn, {
        type: 'error',
        code: 'live.too_many_subscriptions',
        message: `A connection follows at most ${MAX_SUBSCRIPTIONS} cases; unsubscribe from some first.`,
        case: frame.case,
      });
    try {
      const { messaging } = this.options;
      const access = await messaging.access(conn.principal, frame.case);
      conn.cases.set(access.c.id, access);
      const threads = await messaging.threads(conn.principal, access.c.id);
      this.send(conn, {
        type: 'subscribed',
        caseId: access.c.id,
        caseNumber: access.c.number,
        threads: threads.items,
      });
    } catch (e) {
      const err = e as { code?: string; message?: string; kind?: string };
      if (err.kind === undefined) throw e;
      this.send(conn, { type: 'error', code: err.code, message: err.message, case: frame.case });
    }
  }

  private enqueue(task: () => Promise<void>): void {
    this.queue = this.queue.then(task).catch((e) => this.options.log?.('live: note failed', e));
  }

  private subscribersOf(caseId: string): Connection[] {
    return [...this.connections].filter((c) => c.cases.has(caseId) && c.socket.readyState === c.socket.OPEN);
  }

  /** Re-judges a subscriber's access with the current principal; drops the subscription when gone. */
  private rejudge(conn: Connection, place: CasePlace): CaseAccess | null {
    const access = this.options.messaging.accessAt(conn.principal, place);
    if (access) conn.cases.set(place.c.id, access);
    else {
      conn.cases.delete(place.c.id);
      this.send(conn, { type: 'unsubscribed', caseId: place.c.id });
    }
    return access;
  }

  private async onNote(payload: string): Promise<void> {
    const note = JSON.parse(payload) as LiveNote;
    const subscribers = this.subscribersOf(note.caseId);
    if (subscribers.length === 0) return;
    const { messaging } = this.options;
    const place = await messaging.place(note.caseId);
    const message = note.k === 'message' ? await messaging.messageById(note.messageId) : undefined;
    for (const conn of subscribers) {
      if (note.k === 'read' && conn.principal.accountId !== note.accountId) continue;
      const access = this.rejudge(conn, place);
      if (!access || (access.threadIds !== 'all' && !access.threadIds.has(note.threadId))) continue;
      const [thread] = await messaging.threadsById(conn.principal, [note.threadId]);
      if (!thread) continue;
      const base = { caseId: place.c.id, caseNumber: place.c.number };
      if (note.k === 'message' && message)
        this.send(conn, { type: 'message', ...base, threadId: note.threadId, message, thread });
      else this.send(conn, { type: 'thread', ...base, thread });
    }
  }

  private async onCase(payload: string): Promise<void> {
    const note = JSON.parse(payload) as { id: string; number: string; status: string; version: number };
    const subscribers = this.subscribersOf(note.id);
    if (subscribers.length === 0) return;
    const place = await this.options.messaging.place(note.id);
    for (const conn of subscribers) {
      const access = this.rejudge(conn, place);
      if (access?.readsCase)
        this.send(conn, {
          type: 'case',
          caseId: note.id,
          caseNumber: note.number,
          status: note.status,
          version: note.version,
        });
    }
  }

  private send(conn: Connection, frame: Record<string, unknown>): void {
    if (conn.socket.readyState === conn.socket.OPEN) conn.socket.send(JSON.stringify(frame));
  }
}
