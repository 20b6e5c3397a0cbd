/**
 * Shapes of the API answers the workbench reads (see docs/openapi.json). Where src/domain has the zod
 * schema (commands, applications, guides, roles) its types are used as they are; the rest mirror the
 * response schemas of the server routes (cases/routes.ts CaseViewSchema, custody/routes.ts
 * MaterialCustodySchema, identity/routes.ts Principal and Grant).
 */
import type { SubmitCaseInput } from '../../../domain/case-application.ts';
import type { CaseCommandInput, CaseCommandType, CaseStatus } from '../../../domain/case-state.ts';
import type { Guide } from '../../../domain/catalog.ts';
import type { Role } from '../../../domain/roles.ts';

export type { CaseCommandInput, CaseCommandType, CaseStatus, Guide, Role, SubmitCaseInput };
export type GuideMaterial = Guide['item']['materials'][number];
export type FormField = Guide['item']['formFields'][number];

export type Warning = 'none' | 'yellow' | 'red' | 'overdue';

export interface ClockDate {
  date: string;
  provisional: boolean;
  unknownYears: number[];
}

/** 办件 as GET /api/v1/cases/:ref answers (identifiers masked). */
export interface CaseView {
  id: string;
  number: string;
  status: CaseStatus;
  outcome: string | null;
  itemCode: string;
  implementationCode: string;
  itemName?: string;
  applicant: {
    kind?: string;
    name?: string;
    idNumber?: string;
    creditCode?: string;
    phone?: string;
  } & Record<string, unknown>;
  agent: Record<string, unknown> | null;
  channel: string;
  processingMode: string;
  intakeHallCode: string | null;
  competentDepartmentId: string | null;
  decidingDivisionCode: string;
  formData: Record<string, unknown>;
  limits: {
    legal: { value: number; unit: string } | null;
    promised: { value: number; unit: string } | null;
  };
  clocks: {
    today: string;
    clockStartedOn: string | null;
    deemedAcceptancePending: boolean;
    limit: { value: number; unit: string } | null;
    pausedWorkingDays: number;
    decidedWithinLimit: boolean | null;
    supplementDue: ClockDate | null;
    decisionDue: ClockDate | null;
    legalDecisionDue: ClockDate | null;
    certificateDue: ClockDate | null;
    workingDaysLeft: number | null;
    paused: boolean;
    warning: Warning;
    provisional: boolean;
    unknownYears: number[];
  };
  warning: string;
  delivery: Record<string, unknown> | null;
  visits: number;
  version: number;
  parts: Record<string, unknown>[];
  materials: { seq?: number; name?: string; required?: boolean }[] & Record<string, unknown>[];
  createdAt: string;
  updatedAt: string;
}

export interface CaseMutation {
  case: CaseView;
  pickupCode?: string;
}

export interface TimelineEntry {
  seq: number;
  type: string;
  from: string | null;
  to: string;
  at: string;
  actor: Record<string, unknown>;
  reason: string | null;
  data: Record<string, unknown>;
}

export type CustodyEventType =
  | 'received'
  | 'verified_against_original'
  | 'scanned'
  | 'forwarded_electronically'
  | 'shipped'
  | 'shipment_received'
  | 'returned';

/** 材料流转 of one material (GET /api/v1/cases/:ref/materials). */
export interface MaterialCustody {
  seq: number;
  name: string;
  required: boolean;
  received: { original: number; copy: number; electronic: number };
  original: 'not_received' | 'intake_hall' | 'in_transit' | 'competent_department' | 'returned';
  verification: { consistent: boolean; at: string } | null;
  shipment: {
    carrier: string;
    trackingNumber: string;
    shippedAt: string;
    receivedAt: string | null;
    condition: 'intact' | 'damaged' | null;
  } | null;
  files: {
    fileKey: string;
    sm3: string;
    bytes: number;
    contentType: string;
    filename: string | null;
    at: string;
    forwardedAt: string | null;
  }[];
  currentFileKey: string | null;
  returnedAt: string | null;
  allowedNext: CustodyEventType[];
  events: {
    seq: number;
    type: CustodyEventType;
    at: string;
    actor: Record<string, unknown>;
    data: Record<string, unknown>;
  }[];
}

/** A custody event as recorded (`scanned` comes from the upload). */
export type CustodyEventInput =
  | { type: 'received'; as: 'original' | 'copy' | 'electronic'; count?: number; note?: string }
  | { type: 'verified_against_original'; consistent?: boolean; note?: string }
  | { type: 'forwarded_electronically'; note?: string }
  | { type: 'shipped'; carrier: string; trackingNumber: string; note?: string }
  | { type: 'shipment_received'; trackingNumber?: string; condition?: 'intact' | 'damaged'; note?: string }
  | { type: 'returned'; to?: 'applicant' | 'agent'; note?: string };

export interface Grant {
  id: string;
  accountId: string;
  role: Role;
  scope: { kind: 'division' | 'hall' | 'department'; value: string; divisionCode: string };
  itemCodes: string[] | null;
  validFrom: string;
  validUntil: string;
  revokedAt: string | null;
}

export interface Principal {
  accountId: string;
  kind: 'resident' | 'legal_person_operator' | 'staff';
  via: 'session' | 'api_token' | 'dev_header';
  name?: string;
  departmentId?: string;
  hallCode?: string;
  isAdmin: boolean;
  mfa: boolean;
  restricted?: boolean;
}

export interface Account {
  id: string;
  kind: string;
  name: string;
  username: string | null;
  departmentId: string | null;
  hallCode: string | null;
  isAdmin: boolean;
  totpEnrolled: boolean;
}

export interface Session {
  csrfToken: string;
  expiresAt: string;
  principal: Principal;
}

export interface SearchResult {
  code: string;
  name: string;
  industry: string;
  score: number;
}

export interface Department {
  id: string;
  name: string;
  kind: string;
  divisionCode: string;
}

export interface Hall {
  code: string;
  name: string;
  divisionCode: string;
  address: string;
  level: string;
  status: string;
}

export interface Division {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
}

export interface AgentAuthorization {
  id: string;
  residentAccountId: string;
  itemCodes: string[] | null;
  validUntil: string;
  status: 'pending' | 'active' | 'revoked';
  inForce: boolean;
  createdAt: string;
}

// ---- 文书 (documents module: GET /api/v1/cases/:ref/documents)

export type DocumentKind =
  | 'receipt'
  | 'supplement_notice'
  | 'acceptance_notice'
  | 'non_acceptance_notice'
  | 'grant_decision'
  | 'denial_decision'
  | 'delivery_receipt';

/** A document (文书) of a case: its 文号, digest and where to GET the PDF. */
export interface CaseDocument {
  id: string;
  kind: DocumentKind;
  title: string;
  /** 文号, e.g. 威宁县民政局受字〔2026〕第000001号 */
  number: string;
  eventSeq: number;
  sm3: string;
  /** size of the PDF in bytes */
  bytes: number;
  issuedAt: string;
  createdAt: string;
  downloadUrl: string;
}

// ---- 办件沟通 (messaging module; see src/server/modules/messaging/README.md)

export interface CaseThread {
  id: string;
  caseId: string;
  caseNumber: string;
  kind: 'general' | 'topic';
  subject: string;
  messageCount: number;
  lastMessageAt: string | null;
  lastReadSeq: number;
  unread: number;
  mentionsUnread: number;
  consultedDepartments: { departmentId: string; addedByAccountId: string; reason: string; addedAt: string }[];
  createdAt: string | null;
}

export type MentionKind = 'staff' | 'department' | 'hall';
export interface Mention {
  kind: MentionKind;
  id: string;
}

export interface CaseMessage {
  id: string;
  threadId: string;
  caseId: string;
  seq: number;
  author: { accountId: string; name: string; departmentId: string | null; hallCode: string | null };
  text: string;
  mentions: Mention[];
  createdAt: string;
}

/** Whom one may @mention in a thread. */
export interface Mentionable {
  staff: { accountId: string; name: string; departmentId: string | null; hallCode: string | null }[];
  departments: { id: string; consulted: boolean }[];
  halls: { code: string }[];
}

export interface UnreadSummary {
  total: number;
  mentions: number;
  items: CaseThread[];
}

/** Server → client frames of the live socket. */
export type LiveFrame =
  | { type: 'subscribed'; caseId: string; caseNumber: string; threads: CaseThread[] }
  | { type: 'unsubscribed'; caseId: string }
  | {
      type: 'message';
      caseId: string;
      caseNumber: string;
      threadId: string;
      message: CaseMessage;
      thread: CaseThread;
    }
  | { type: 'thread'; caseId: string; caseNumber: string; thread: CaseThread }
  | { type: 'case'; caseId: string; caseNumber: string; status: string; version: number }
  | { type: 'error'; code: string; message: string; case?: string }
  | { type: 'pong' };
