/**
 * The typed API client of the staff workbench: one function per endpoint it uses. Mutations take the
 * Idempotency-Key of the user's action (so a retried dialog does the thing once) and, for cases, the
 * version last seen (If-Match). Errors are {@link ApiError}s.
 */
import { request } from './http.ts';
import type {
  Account,
  AgentAuthorization,
  CaseCommandInput,
  CaseDocument,
  CaseMessage,
  CaseMutation,
  CaseThread,
  CaseView,
  CustodyEventInput,
  Department,
  Division,
  Grant,
  Guide,
  Hall,
  MaterialCustody,
  Mention,
  Mentionable,
  Principal,
  SearchResult,
  Session,
  SubmitCaseInput,
  TimelineEntry,
  Warning,
} from './types.ts';

const enc = encodeURIComponent;

export const api = {
  // ---- session
  signIn: (body: { username: string; password: string; totp?: string }) =>
    request<Session>('POST', '/api/v1/auth/login/password', { body, quiet401: true }),
  signOut: () => request<void>('POST', '/api/v1/auth/logout', { quiet401: true }),
  me: () => request<{ account: Account; principal: Principal }>('GET', '/api/v1/auth/me', { quiet401: true }),
  csrfToken: () => request<{ csrfToken: string }>('GET', '/api/v1/auth/csrf-token', { quiet401: true }),
  grantsOf: (accountId: string) =>
    request<{ items: Grant[] }>('GET', `/api/v1/accounts/${enc(accountId)}/grants`),

  // ---- lists
  inbox: (
    departmentId: string,
    query: { status?: string; warning?: Warning; limit?: number; cursor?: string },
  ) =>
    request<{ items: CaseView[]; next: string | null }>(
      'GET',
      `/api/v1/departments/${enc(departmentId)}/inbox`,
      {
        query: { limit: 100, ...query },
      },
    ),
  intake: (hallCode: string, limit = 100) =>
    request<{ items: CaseView[] }>('GET', `/api/v1/halls/${enc(hallCode)}/intake`, { query: { limit } }),
  /** An applicant's cases that the caller may see, by ID number or credit code (sent in the body). */
  applicantCases: (identifier: string) =>
    request<{ items: CaseView[] }>('POST', '/api/v1/applicant-cases', { body: { identifier, limit: 50 } }),

  // ---- one case
  case: (ref: string) => request<CaseView>('GET', `/api/v1/cases/${enc(ref)}`),
  timeline: (ref: string) => request<{ items: TimelineEntry[] }>('GET', `/api/v1/cases/${enc(ref)}/timeline`),
  command: (ref: string, command: CaseCommandInput, idempotencyKey: string, version?: number) =>
    request<CaseMutation>('POST', `/api/v1/cases/${enc(ref)}/commands`, {
      body: command,
      idempotencyKey,
      ...(version !== undefined ? { ifMatch: version } : {}),
    }),
  submit: (body: SubmitCaseInput, idempotencyKey: string) =>
    request<CaseMutation>('POST', '/api/v1/cases', { body, idempotencyKey }),
  pickup: (ref: string, pickupCode: string, idempotencyKey: string, version?: number) =>
    request<CaseMutation>('POST', `/api/v1/cases/${enc(ref)}/pickup`, {
      body: { pickupCode },
      idempotencyKey,
      ...(version !== undefined ? { ifMatch: version } : {}),
    }),
  reissuePickupCode: (ref: string, idempotencyKey: string) =>
    request<CaseMutation>('POST', `/api/v1/cases/${enc(ref)}/pickup-code`, { idempotencyKey }),

  // ---- custody
  materials: (ref: string) =>
    request<{ caseId: string; caseNumber: string; materials: MaterialCustody[] }>(
      'GET',
      `/api/v1/cases/${enc(ref)}/materials`,
    ),
  custody: (ref: string, seq: number, event: CustodyEventInput, idempotencyKey: string) =>
    request<{ material: MaterialCustody }>('POST', `/api/v1/cases/${enc(ref)}/materials/${seq}/custody`, {
      body: event,
      idempotencyKey,
    }),
  uploadScan: (ref: string, seq: number, file: File, idempotencyKey: string) =>
    request<{ material: MaterialCustody }>('PUT', `/api/v1/cases/${enc(ref)}/materials/${seq}/file`, {
      body: file,
      query: { filename: file.name.slice(0, 200) },
      idempotencyKey,
    }),
  /** The URL of a scan (same-origin, the session cookie authorizes it). */
  scanUrl: (ref: string, seq: number, key: string) =>
    `/api/v1/cases/${enc(ref)}/materials/${seq}/files/${enc(key)}`,

  // ---- 文书
  documents: (ref: string) =>
    request<{ items: CaseDocument[] }>('GET', `/api/v1/cases/${enc(ref)}/documents`),

  // ---- 办件沟通
  threads: (ref: string) =>
    request<{ caseId: string; caseNumber: string; items: CaseThread[] }>(
      'GET',
      `/api/v1/cases/${enc(ref)}/threads`,
    ),
  createThread: (ref: string, subject: string, idempotencyKey: string) =>
    request<CaseThread>('POST', `/api/v1/cases/${enc(ref)}/threads`, { body: { subject }, idempotencyKey }),
  messages: (
    ref: string,
    threadId: string,
    query: { before?: number; after?: number; limit?: number } = {},
  ) =>
    request<{ thread: CaseThread; items: CaseMessage[]; olderBefore: number | null }>(
      'GET',
      `/api/v1/cases/${enc(ref)}/threads/${enc(threadId)}/messages`,
      { query: { limit: 50, ...query } },
    ),
  postMessage: (
    ref: string,
    threadId: string,
    body: { text: string; mentions: Mention[] },
    idempotencyKey: string,
  ) =>
    request<{ message: CaseMessage; thread: CaseThread }>(
      'POST',
      `/api/v1/cases/${enc(ref)}/threads/${enc(threadId)}/messages`,
      { body, idempotencyKey },
    ),
  markRead: (ref: string, threadId: string, seq: number) =>
    request<CaseThread>('POST', `/api/v1/cases/${enc(ref)}/threads/${enc(threadId)}/read`, {
      body: { seq },
    }),
  consult: (
    ref: string,
    threadId: string,
    body: { departmentId: string; reason: string },
    idempotencyKey: string,
  ) =>
    request<CaseThread>('POST', `/api/v1/cases/${enc(ref)}/threads/${enc(threadId)}/departments`, {
      body,
      idempotencyKey,
    }),
  mentionable: (ref: string, threadId: string) =>
    request<Mentionable>('GET', `/api/v1/cases/${enc(ref)}/threads/${enc(threadId)}/mentionable`),

  // ---- reference data
  search: (q: string, signal?: AbortSignal) =>
    request<{ results: SearchResult[] }>('GET', '/api/v1/catalog/search', {
      query: { q, limit: 20 },
      ...(signal ? { signal } : {}),
    }),
  guide: (code: string, division: string) =>
    request<Guide>('GET', `/api/v1/catalog/items/${enc(code)}/guide`, { query: { division } }),
  departments: (division: string) =>
    request<{ items: Department[] }>('GET', '/api/v1/departments', { query: { division } }),
  department: (id: string) => request<Department>('GET', `/api/v1/departments/${enc(id)}`),
  hall: (code: string) => request<Hall>('GET', `/api/v1/halls/${enc(code)}`),
  divisions: (parent: string) =>
    request<{ items: Division[] }>('GET', '/api/v1/divisions', { query: { parent, limit: 200 } }),
  division: (code: string) => request<Division>('GET', `/api/v1/divisions/${enc(code)}`),

  // ---- 帮办代办
  agentAuthorizations: () => request<{ items: AgentAuthorization[] }>('GET', '/api/v1/agent-authorizations'),
  recordAgentAuthorization: (body: {
    resident: { idNumber: string };
    itemCodes: string[] | null;
    validUntil: string;
    evidence: { kind: 'in_app' } | { kind: 'signed_form'; sm3: string; reference?: string };
  }) => request<AgentAuthorization>('POST', '/api/v1/agent-authorizations', { body }),
  /** Uploads the scan of the signed form (raw bytes; their SM3 must be the one recorded): it comes into force. */
  uploadSignedForm: (id: string, file: File) =>
    request<AgentAuthorization>('PUT', `/api/v1/agent-authorizations/${enc(id)}/signed-form`, { body: file }),
  /** An item as the catalog has it (its form fields, for labels). */
  item: (code: string) => request<Guide['item']>('GET', `/api/v1/catalog/items/${enc(code)}`),
};
