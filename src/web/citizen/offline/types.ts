/**
 * The contract between the offline core (offline/*.ts: IndexedDB store, catalog sync, drafts, outbox)
 * and the views that use it (apply, agent mode, outbox page). Shapes only; no I/O here.
 *
 * An outbox entry is one application the user submitted — possibly while offline. Its `id` is generated
 * on the device (crypto.randomUUID) and sent as the `Idempotency-Key` of `POST /api/v1/cases`, so a
 * replay after a lost response never creates a second case. Files (photos compressed on the device)
 * are uploaded after the case exists, each with its own key derived from the entry id.
 */
import type { SubmitCaseInput } from '../../../domain/case-application.ts';

/** What the user sees of an entry (保存在本机 / 等待网络 / 正在发送 / 已提交 / 需要处理). */
export type OutboxState = 'saved' | 'waiting' | 'sending' | 'sent' | 'attention';

/** A photo or scan of one material, compressed on the device (image/jpeg, or the original PDF). */
export interface OutboxFile {
  /** the material's position in the guide's list (1-based), as `PUT /cases/:ref/materials/:seq/file` wants */
  materialSeq: number;
  name: string;
  type: string;
  blob: Blob;
  /** bytes after compression */
  size: number;
  /**
   * Idempotency-Key of its upload; absent: `<entry id>:file:<index>`. Set by `resend` for a file that
   * replaces one (so a new file never reuses the key of one the server already has).
   */
  idempotencyKey?: string;
}

/**
 * 帮办代办 offline: the authorization to record first (`POST /api/v1/agent-authorizations`, then its
 * signed-form scan or on-screen signature upload); the case is filed under the id it gets. Entries of
 * the same resident and item reuse one authorization (`clientRef`).
 */
export interface OutboxAuthorization {
  /** device-generated key of this authorization (Idempotency-Key of its POST) */
  clientRef: string;
  /** the body of POST /api/v1/agent-authorizations (evidence.sm3 already computed in the browser) */
  body: Record<string, unknown>;
  /** the signed form photo, or the resident's on-screen signature rendered as PNG */
  scan?: { name: string; type: string; blob: Blob };
  /** set once recorded on the server */
  serverId?: string;
  /** true once the scan was uploaded (a resend does not upload it again) */
  scanUploaded?: boolean;
}

export interface OutboxError {
  /** the server's stable error code (e.g. `case.form_invalid`), or `network` */
  code: string;
  /** plain-language message in the user's language */
  message: string;
  /** the field the server named, e.g. `applicant.idNumber`; `files.<index>` / `authorization…` for those steps */
  field?: string;
  /** HTTP status of the answer; 0 when there was none (network) */
  status?: number;
}

export interface OutboxEntry {
  id: string;
  /** ISO timestamp, device clock */
  createdAt: string;
  /** shown in lists: item name · applicant name */
  label: string;
  itemCode: string;
  /** the body of POST /api/v1/cases */
  body: SubmitCaseInput;
  files: OutboxFile[];
  /** set when a village agent files for a resident (shown as 代办 on the entry and the case) */
  authorization?: OutboxAuthorization;
  state: OutboxState;
  attempts: number;
  /** epoch ms of the next automatic try (backoff), when waiting */
  nextAttemptAt?: number;
  /** once the server accepted the case */
  caseNumber?: string;
  /** index of files already uploaded (a resend continues from here) */
  uploaded: number[];
  error?: OutboxError;
  /** consecutive failed tries that will be retried (the backoff grows with it; reset by a resend) */
  failures?: number;
  /** the case's id, once the server accepted it */
  caseId?: string;
  /** ISO timestamp (device clock) of the last change */
  updatedAt?: string;
  /** ISO timestamp (device clock) when the last file was uploaded and the entry became `sent` */
  sentAt?: string;
}

/** What `resend` may replace after the user fixed the entry (the body only while no case exists). */
export type OutboxPatch = Partial<Pick<OutboxEntry, 'body' | 'files' | 'authorization' | 'label'>>;

/** What `enqueue` takes: the rest is filled in by the outbox. */
export type NewOutboxEntry = Pick<OutboxEntry, 'label' | 'itemCode' | 'body' | 'files' | 'authorization'> & {
  id?: string;
};
