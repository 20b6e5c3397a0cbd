import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import type { WorkingDayCalendar } from '../../../domain/calendar.ts';
import { todayInShanghai } from '../../../domain/calendar.ts';
import { type SubmitCase, SubmitCaseSchema } from '../../../domain/case-application.ts';
import {
  type ClockLimits,
  computeClocks,
  DEFAULT_WARNING_THRESHOLDS,
  JOINT_DECISION_WORKING_DAYS,
  sameClockInputs,
  type WarningLevel,
  type WarningThresholds,
  warningSchedule,
} from '../../../domain/case-clock.ts';
import { caseSequenceFrom, formatCaseNumber, isCaseNumber } from '../../../domain/case-number.ts';
import {
  applyCommand,
  CASE_STATUS_LABELS,
  type CaseActor,
  type CaseCommand,
  CaseCommandSchema,
  type CaseEvent,
  type CaseState,
  CaseStateSchema,
  type CaseStatus,
  initialCaseState,
  isOpenStatus,
  OPEN_STATUSES,
} from '../../../domain/case-state.ts';
import type { Guide, ServiceItem } from '../../../domain/catalog.ts';
import { countyCodeOf, toGb2260Code } from '../../../domain/division-code.ts';
import {
  AppError,
  conflict,
  type FieldIssue,
  invalid,
  invalidMany,
  notFound,
} from '../../../domain/errors.ts';
import { sensitiveFormKeys, validateFormData } from '../../../domain/form.ts';
import { maskIdentityNumber } from '../../../domain/identity-number.ts';
import { type CaseEventFacts, type CaseFacts, caseFactsOf } from '../../../domain/kpi.ts';
import {
  type Action,
  anyGrantAllows,
  grantInForce,
  type ScopeTarget,
  scopeCovers,
} from '../../../domain/roles.ts';
import { WriteBatch } from '../../db/batch.ts';
import type { Db, Tx } from '../../db/index.ts';
import type { AuditService } from '../audit/service.ts';
import type { IdempotencyService } from '../idempotency/service.ts';
import type { AgentAuthorizationsService } from '../identity/authorizations.ts';
import { type Principal, principalToCaseActor } from '../identity/principal.ts';
import type { IdentityService } from '../identity/service.ts';
import type { NewOutboxRow, OutboxService } from '../outbox/service.ts';
import { maskAddress, maskName, maskPhone, type PiiField, type PiiVault } from '../pii/service.ts';
import {
  AGENT_ROLES,
  APPLICANT_COMMANDS,
  applicantAccountOf,
  type CaseLocation,
  caseTarget,
  filesAsStaff,
  mayRevealApplicant,
  requireAgentGrantFor,
  requireCaseAction,
} from './policy.ts';
import {
  type CaseMaterialSummary,
  type CasePartSummary,
  type CaseRow,
  CasesRepository,
  type DelegationRow,
  type LockedCase,
} from './repository.ts';

/**
 * A timeline entry: a state-machine event, or one of the service's own entries that change no status —
 * `submit` (the application filed), `warning` (a clock timer fired), `decide_part` (多地联办),
 * `reissue_pickup_code` (a new pickup code sent to the applicant).
 */
type TimelineEvent = Omit<CaseEvent, 'type'> & {
  type: CaseEvent['type'] | 'submit' | 'warning' | 'decide_part' | 'reissue_pickup_code';
};

/** PostgreSQL channel on which committed case changes are announced (`{ id, number, status, version }`). */
export const CASE_CHANGES_CHANNEL = 'tongban_cases';

/** The parts of other modules the case engine uses (their services satisfy these). */
export interface CaseDeps {
  catalog: {
    getItem(code: string): Promise<ServiceItem>;
    getGuide(code: string, divisionCode: string): Promise<Guide>;
  };
  halls: {
    getHall(
      code: string,
    ): Promise<{ code: string; divisionCode: string; countyCode: string | null; name: string }>;
  };
  departments: { getDepartment(id: string): Promise<{ id: string; name: string; divisionCode: string }> };
  calendar: { calendar(): Promise<WorkingDayCalendar> };
  outbox: Pick<OutboxService, 'append' | 'appendLater'>;
  /** 审计日志: every transition, delegation and refused attempt is recorded (等保 2.0 安全审计). */
  audit: Pick<AuditService, 'append' | 'appendLater' | 'record'>;
  idempotency: Pick<IdempotencyService, 'run' | 'known'>;
  /** Seals and opens personal data (SM4 envelopes; the pii module's vault). */
  pii: Pick<PiiVault, 'encrypt' | 'unseal' | 'reseal' | 'currentKeyId' | 'staleKeyIds' | 'isEnvelope'>;
  /**
   * 帮办代办: checks `agent.authorizationRef` (the identity module's agent authorizations). Without it an
   * application with an agent is refused (no authorization can be shown).
   */
  agentAuthorizations?: Pick<AgentAuthorizationsService, 'verify' | 'verifyForCase'>;
  /**
   * 实名: whether an application's applicant is the signed-in applicant-side account itself (the identity
   * module's blind index of the account's ID number, or the legal person's credit code). Without it a
   * signed-in resident's or operator's own application is refused (it cannot be checked).
   */
  applicants?: Pick<IdentityService, 'applicantIsAccount'>;
  /** Failure counters shared by every API node (the identity module's lockouts): wrong tracking checks. */
  lockouts?: Pick<IdentityService, 'lockedSeconds' | 'countFailure'>;
}

/** An applicant's (and agent's) identifiers in full, as {@link CasesService.revealApplicant} returns them. */
export interface ApplicantReveal {
  caseNumber: string;
  applicant: Record<string, unknown>;
  agent: Record<string, unknown> | null;
  /** The fields revealed (and audited), e.g. `applicant.idNumber`. */
  revealed: string[];
}

/** Fields of a party (applicant or agent) stored only as SM4 envelopes. */
const SEALED_PARTY_FIELDS: Partial<Record<string, PiiField>> = {
  idNumber: 'idNumber',
  phone: 'phone',
  email: 'email',
};
/** Fields of the mail delivery preference stored only as SM4 envelopes. */
const SEALED_PREFERENCE_FIELDS: Partial<Record<string, PiiField>> = {
  recipient: 'name',
  phone: 'phone',
  address: 'address',
};

export interface CaseServiceOptions {
  /** Key of the keyed SM3 hash (HMAC-SM3) used to find an applicant's cases without storing a lookup in clear. */
  piiHashKey: string;
  /** Yellow/red thresholds in working days left (configurable per province). */
  thresholds?: WarningThresholds;
  /** The current instant (tests pass a fixed clock). */
  clock?: () => Date;
}

/** Who acts, and the client's retry key. */
export interface CommandContext {
  actor: CaseActor;
  /** Client-generated idempotency key: a replay returns the first result and changes nothing. */
  idempotencyKey: string;
  /** The version the client last saw: a stale one is a 409 (`case.version_conflict`). */
  expectedVersion?: number;
  /** The applicant came in person for this action (counted for the one-visit rate, 一次办成). */
  visit?: boolean;
  /**
   * The signed-in caller behind `actor`, when a route has one: 帮办代办 checks the agent's own grant (its
   * item list) against the item, besides the resident's authorization.
   */
  principal?: Principal;
}

/** A case as the API presents it; the applicant's identifiers are masked. */
export interface CaseView {
  id: string;
  number: string;
  status: CaseStatus;
  outcome: string | null;
  itemCode: string;
  /** The item's name when the case was filed (as on the application and the documents issued for it). */
  itemName: string;
  implementationCode: string;
  applicant: Record<string, unknown>;
  agent: Record<string, unknown> | null;
  channel: string;
  processingMode: string;
  intakeHallCode: string | null;
  competentDepartmentId: string | null;
  decidingDivisionCode: string;
  formData: Record<string, unknown>;
  limits: ClockLimits;
  clocks: ReturnType<typeof computeClocks>;
  warning: string;
  delivery: Record<string, unknown> | null;
  visits: number;
  version: number;
  parts: {
    seq: number;
    departmentId: string;
    divisionCode: string;
    itemCode: string;
    status: string;
    outcome: string | null;
  }[];
  materials: {
    seq: number;
    name: string;
    required: boolean;
  }[];
  createdAt: string;
  updatedAt: string;
}

/**
 * Result of a mutation: the case after it. A pickup code issued by a decision is never returned to the
 * staff: it goes only to the applicant, through the notification (SMS / inbox).
 */
export interface CaseMutation {
  case: CaseView;
  /**
   * Only when the applicant themself reissues their pickup code (POST …/pickup-code): the new 6-digit code,
   * to show as a QR code at the pickup desk. Never to staff or agents.
   */
  pickupCode?: string;
}

const MAX_PICKUP_ATTEMPTS = 5;
/** How often a pickup code may be reissued for one case (each reissue messages the applicant). */
const MAX_PICKUP_REISSUES = 3;

/**
 * The case engine's public face (办件, GB/T 39046-2020 tables 5–8; 行政许可法 arts. 32, 42, 44, 45, 82).
 * Every status change goes through `applyCommand` (src/domain/case-state.ts) inside ONE transaction that
 * also writes the timeline event, the outbox row, the clock timers, the idempotency record and a
 * `pg_notify` — so a crash leaves the case as before or after, never between.
 */
export class CasesService {
  private readonly repo: CasesRepository;
  private readonly deps: CaseDeps;
  private readonly options: Required<Omit<CaseServiceOptions, 'clock'>> & { clock: () => Date };

  constructor(db: Db, deps: CaseDeps, options: CaseServiceOptions) {
    this.repo = new CasesRepository(db);
    this.deps = deps;
    this.options = {
      piiHashKey: options.piiHashKey,
      thresholds: options.thresholds ?? DEFAULT_WARNING_THRESHOLDS,
      clock: options.clock ?? (() => new Date()),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Submission (申报) and routing

  /**
   * Files an application. Routing: the competent department is the implementation's department at the
   * division the item names as deciding (`decidingDivisionCode`, e.g. 户籍地), resolved with fallback to
   * the parent division. At a hall window (channel `hall_window` / `village_agent`) the case is received
   * at once (a visit). 多地联办 creates one part per deciding division.
   * 帮办代办 (行政许可法 art. 29 委托): an application carrying `agent` must name in `agent.authorizationRef`
   * the id of an ACTIVE agent authorization of the acting principal for the applicant (ID number matched
   * to the resident account's blind index), covering every item filed and in force now; the submission's
   * timeline and audit entries then name both people (actor = agent, `onBehalfOf` = resident account id).
   * Idempotent by `ctx.idempotencyKey` (scoped to the caller): a replay answers the first result before
   * any other check, even when the authorization it was filed under has ended since.
   * @throws AppError(validation) naming the field for bad input (nothing is created);
   *         AppError(conflict, `idempotency.key_reused`) for the key with another body;
   *         AppError(forbidden, `case.agent_not_authorized`, field `agent.authorizationRef`) otherwise for
   *         an agent (nothing is filed);
   *         AppError(conflict, `case.no_competent_department`) when no department implements the item there.
   */
  async submit(input: unknown, ctx: Omit<CommandContext, 'expectedVersion'>): Promise<CaseMutation> {
    const parsed = SubmitCaseSchema.safeParse(input);
    if (!parsed.success)
      throw zodError(
        'case.application_invalid',
        'The application is invalid; nothing was filed.',
        parsed.error.issues,
      );
    const app = parsed.data;
    const scope = `POST /api/v1/cases|${actorKey(ctx.actor)}`;
    // A replay of a key that already filed a case (the caller's own: the scope names them) answers that
    // case, before the checks below — an authorization revoked since must not turn the retry into a 403.
    if (await this.deps.idempotency.known(scope, ctx.idempotencyKey)) {
      const replay = await this.deps.idempotency.run(scope, ctx.idempotencyKey, app, async () => {
        throw conflict(
          'idempotency.in_progress',
          'The first request with this Idempotency-Key is still being processed: retry shortly.',
          'Idempotency-Key',
        );
      });
      return replay.value as CaseMutation;
    }
    // Reads of other modules happen before the transaction (the embedded database has one connection).
    const routed = await this.route(app);
    // Staff without an agent authorization file only under a non-agent grant covering every item (an
    // agent's or a clerk's grant may be limited to items); refusals are audited.
    const p = ctx.principal;
    const hall = hallTarget(app.intakeHallCode ?? '');
    if (!app.agent && p?.kind === 'staff' && !filesAsStaff(p, hall, itemsFiled(app), this.options.clock()))
      await this.auditRefusal(
        'new',
        'case.submit',
        ctx.actor,
        agentRefusalDetails(app),
      )(
        p.grants.some((g) => AGENT_ROLES.includes(g.role) && grantInForce(g, this.options.clock()))
          ? new AppError(
              'forbidden',
              'case.agent_not_authorized',
              'An agent (帮办员 / 村级代办员) files for a resident only under their authorization: record it (POST /api/v1/agent-authorizations) and give agent.authorizationRef; nothing was filed.',
              { field: 'agent.authorizationRef' },
            )
          : new AppError(
              'forbidden',
              'case.scope_missing',
              `Your grants in force at ${app.intakeHallCode ?? 'this hall'} do not give case.submit for every item filed (${itemsFiled(app).join(', ')}); nothing was filed.`,
              { field: 'itemCode' },
            ),
      );
    // 实名: a signed-in resident files only in her own name, an operator only for her legal person (an
    // agent's applicant is checked against the authorization instead; staff file for walk-ins).
    if (!app.agent && p && p.kind !== 'staff' && p.via !== 'dev_header' && ctx.actor.kind === 'applicant')
      await this.requireApplicantIsSelf(app, ctx.actor).catch(
        this.auditRefusal('new', 'case.submit', ctx.actor, { itemCodes: itemsFiled(app) }),
      );
    const actor = app.agent
      ? await this.agentActor(app, ctx).catch(
          this.auditRefusal('new', 'case.submit', ctx.actor, agentRefusalDetails(app)),
        )
      : ctx.actor;
    // The applicant-side account, from the server's knowledge only: the resident an authorization names,
    // or the signed-in resident / legal person filing themselves; a walk-in filed by staff has none.
    const applicantAccountId = actor.onBehalfOf ?? (ctx.actor.kind === 'applicant' ? ctx.actor.id : null);
    const calendar = await this.deps.calendar.calendar();
    const result = await this.deps.idempotency.run(scope, ctx.idempotencyKey, app, async (tx, batch) => {
      const now = this.options.clock();
      const sequence = await this.repo.nextCaseSequence(tx);
      const number = formatCaseNumber({
        divisionCode: routed.numberDivision,
        on: now,
        sequence: caseSequenceFrom(sequence),
      });
      let state = initialCaseState({
        processingMode: app.processingMode,
        competentDepartmentId: routed.guide.implementation!.departmentId!,
        intakeHallCode: app.intakeHallCode ?? null,
        submittedAt: now,
      });
      const events: TimelineEvent[] = [
        {
          type: 'submit',
          at: now.toISOString(),
          on: todayInShanghai(now),
          actor,
          from: 'submitted',
          to: 'submitted',
          data: {
            channel: app.channel,
            processingMode: app.processingMode,
            implementationCode: routed.guide.implementation!.code,
          },
        },
      ];
      const atWindow = app.channel === 'hall_window' || app.channel === 'village_agent';
      if (atWindow) {
        const t = applyCommand(
          state,
          { type: 'receive', hallCode: app.intakeHallCode },
          { at: now, actor, calendar },
        );
        state = t.state;
        events.push(t.event);
      }
      const plan = this.planClocks(null, state, routed.limits, calendar, now);
      const row = await this.repo.insertCase(tx, {
        ...plan.copies,
        number,
        itemCode: app.itemCode,
        itemName: routed.item.name,
        implementationCode: routed.guide.implementation!.code,
        ...this.sealedColumns({
          applicant: app.applicant as Record<string, unknown>,
          agent: (app.agent as Record<string, unknown> | undefined) ?? null,
          delivery: { preference: app.delivery } as Record<string, unknown>,
        }),
        applicantKey: this.applicantKey(app.applicant),
        trackingKeys: this.trackingKeys(number, app.applicant as Record<string, unknown>),
        applicantAccountId,
        channel: app.channel,
        processingMode: app.processingMode,
        intakeHallCode: app.intakeHallCode ?? null,
        intakeDivisionCode: routed.numberDivision,
        competentDepartmentId: routed.guide.implementation!.departmentId!,
        decidingDivisionCode: app.decidingDivisionCode,
        // Identifier fields of the item's form (id_number, phone) are sealed like the applicant's.
        formData: this.sealFormData(routed.formData, sensitiveFormKeys(routed.item.formFields)),
        status: state.status,
        state: state as unknown as Record<string, unknown>,
        limits: routed.limits as unknown as Record<string, unknown>,
        visits: atWindow && !app.agent ? 1 : 0,
        facts: caseFactsOf(
          app.applicant,
          routed.item.requiredVisits,
          todayInShanghai(now),
        ) as unknown as Record<string, unknown>,
        createdAt: now,
        updatedAt: now,
      });
      await this.repo.insertParts(
        tx,
        routed.parts.map((p, i) => ({
          caseId: row.id,
          seq: i + 1,
          departmentId: p.departmentId,
          divisionCode: p.divisionCode,
          itemCode: p.itemCode,
        })),
      );
      await this.repo.insertMaterials(
        tx,
        routed.item.materials.map((m, i) => ({
          caseId: row.id,
          seq: i + 1,
          name: m.name,
          required: m.requirement === 'required',
        })),
      );
      await this.writeTimers(tx, row.id, plan);
      let seq = 0;
      for (const e of events) await this.appendEvent(tx, row.id, ++seq, e);
      for (const e of events) this.record(batch, row, e);
      this.announce(batch, row);
      return {
        case: await this.view(row, calendar, tx, undefined, plan.clocks),
      } satisfies CaseMutation;
    });
    return result.value;
  }

  /**
   * 帮办代办: the acting agent on behalf of the resident an active authorization names (see {@link submit}).
   * A signed-in agent's own grant must also cover every item filed (a grant may carry an item list).
   * @throws 403 `case.agent_not_authorized` (field `itemCode` for the agent's grant, else
   *   `agent.authorizationRef`).
   */
  /**
   * The applicant of a signed-in applicant's own application must be that account: a resident's ID number
   * (a legal person operator's credit code, `actor.id` being the legal person). Read before the
   * transaction; nothing is filed when it fails.
   * @throws 403 `case.applicant_not_self` (field `applicant.idNumber` or `applicant.creditCode`).
   */
  private async requireApplicantIsSelf(app: SubmitCase, actor: CaseActor): Promise<void> {
    const applicant = app.applicant;
    const same = await this.deps.applicants?.applicantIsAccount(actor.id, applicant);
    if (same) return;
    const byCode = applicant.kind === 'legal_person';
    throw new AppError(
      'forbidden',
      'case.applicant_not_self',
      byCode
        ? 'You file online only for the legal person you act for: the applicant’s credit code must be its own. Someone else applies with their own account, or at a hall with an agent (帮办代办); nothing was filed.'
        : 'You file online only in your own name: the applicant’s ID number must be your account’s. Someone else applies with their own account, or through an agent with their authorization (帮办代办); nothing was filed.',
      { field: byCode ? 'applicant.creditCode' : 'applicant.idNumber' },
    );
  }

  private async agentActor(
    app: SubmitCase,
    ctx: Omit<CommandContext, 'expectedVersion'>,
  ): Promise<CaseActor> {
    const actor = ctx.actor;
    const items = itemsFiled(app);
    const p = ctx.principal;
    if (p?.kind === 'staff' && app.intakeHallCode)
      requireAgentGrantFor(p, hallTarget(app.intakeHallCode), items, this.options.clock());
    const ref = app.agent!.authorizationRef;
    const found = await this.deps.agentAuthorizations?.verify({
      ref,
      agentAccountId: actor.id,
      applicantIdNumber: app.applicant.kind === 'natural_person' ? app.applicant.idNumber : null,
      itemCodes: items,
      at: this.options.clock(),
    });
    if (!found)
      throw new AppError(
        'forbidden',
        'case.agent_not_authorized',
        `agent.authorizationRef "${ref}" is not an active authorization of yours for this applicant and item, in force now; nothing was filed.`,
        { field: 'agent.authorizationRef' },
      );
    return { ...actor, onBehalfOf: found.residentAccountId };
  }

  /**
   * 帮办代办 after filing: an agent's resubmission, withdrawal or rating needs, like the submission, an
   * active authorization of that agent for the case's resident (its applicant-side account) covering the
   * case's items, in force now — and a signed-in agent's own grant must cover them. Read before the
   * command's transaction. @returns the actor, now `onBehalfOf` the resident.
   * @throws 403 `case.agent_not_authorized`.
   */
  private async agentOnBehalf(caseRef: string, ctx: CommandContext): Promise<CaseActor> {
    const at = this.options.clock();
    const c = await this.repo.locationOf(caseReference(caseRef));
    if (!c) throw caseNotFound(caseRef);
    const items = [...new Set([c.itemCode, ...c.partItemCodes])];
    const p = ctx.principal;
    if (p?.kind === 'staff') requireAgentGrantFor(p, await this.targetOf(caseRef), items, at);
    const ref = (c.agent as { authorizationRef?: unknown } | null)?.authorizationRef;
    const found = c.applicantAccountId
      ? await this.deps.agentAuthorizations?.verifyForCase({
          agentAccountId: ctx.actor.id,
          residentAccountId: c.applicantAccountId,
          itemCodes: items,
          at,
          ...(typeof ref === 'string' ? { preferRef: ref } : {}),
        })
      : null;
    if (!found)
      throw new AppError(
        'forbidden',
        'case.agent_not_authorized',
        `You hold no active authorization of this case's applicant for item ${c.itemCode}, in force now; nothing changed.`,
      );
    return { ...ctx.actor, onBehalfOf: found.residentAccountId };
  }

  /**
   * Resolves the competent department(s) and the limits for an application, and checks its form data
   * against the item's form (formFields, src/domain/form.ts): bad values are listed as `formData.<key>`
   * with the other problems; the cleaned form data is returned for storing.
   */
  private async route(app: SubmitCase) {
    const item = await this.deps.catalog.getItem(app.itemCode);
    const issues: FieldIssue[] = [];
    if (!item.processingModes.includes(app.processingMode)) {
      issues.push({
        field: 'processingMode',
        message: `${item.name} supports ${item.processingModes.join(', ')}; not ${app.processingMode}.`,
      });
    }
    if (!item.deliveryOptions.includes(app.delivery.method)) {
      issues.push({
        field: 'delivery.method',
        message: `${item.name} can be delivered by ${item.deliveryOptions.join(', ')}.`,
      });
    }
    const needsHall =
      app.channel === 'hall_window' ||
      app.channel === 'village_agent' ||
      ['off_site_intake', 'any_hall'].includes(app.processingMode);
    if (needsHall && !app.intakeHallCode) {
      issues.push({
        field: 'intakeHallCode',
        message: 'Give the hall receiving the application (收件大厅), e.g. 520102-zwfw.',
      });
    }
    if (app.channel === 'village_agent' && !app.agent) {
      issues.push({
        field: 'agent',
        message: 'A village agent applies on someone’s behalf: record the agent and the consent reference.',
      });
    }
    if (app.processingMode === 'multi_site_joint' && (app.parts?.length ?? 0) < 1) {
      issues.push({
        field: 'parts',
        message: '多地联办 needs at least one more deciding division in parts.',
      });
    }
    if (app.processingMode !== 'multi_site_joint' && app.parts?.length) {
      issues.push({ field: 'parts', message: 'parts are only for 多地联办 (multi_site_joint).' });
    }
    // 申请表单: the form data is checked against the item's form definition (every bad field at once).
    const form = validateFormData(item.formFields, app.formData);
    if (!form.ok) issues.push(...form.issues);
    if (issues.length > 0)
      throw invalidMany(
        'case.application_invalid',
        issues.map((i) => `${i.field}: ${i.message}`).join(' '),
        issues,
      );

    const hall = app.intakeHallCode
      ? await this.deps.halls.getHall(app.intakeHallCode).catch(rename('intakeHallCode'))
      : null;
    if (app.delivery.method === 'pickup')
      await this.deps.halls.getHall(app.delivery.hallCode).catch(rename('delivery.hallCode'));
    const guide = await this.deps.catalog
      .getGuide(app.itemCode, app.decidingDivisionCode)
      .catch(rename('decidingDivisionCode'));
    if (!guide.implementation?.departmentId) {
      throw conflict(
        'case.no_competent_department',
        `No department implements ${item.name} for ${app.decidingDivisionCode} yet; check the implementation list (实施清单).`,
        'decidingDivisionCode',
      );
    }
    const parts: { departmentId: string; divisionCode: string; itemCode: string }[] = [];
    if (app.processingMode === 'multi_site_joint') {
      parts.push({
        departmentId: guide.implementation.departmentId,
        divisionCode: app.decidingDivisionCode,
        itemCode: app.itemCode,
      });
      for (const [i, p] of (app.parts ?? []).entries()) {
        const code = p.itemCode ?? app.itemCode;
        const g = await this.deps.catalog
          .getGuide(code, p.decidingDivisionCode)
          .catch(rename(`parts.${i}.decidingDivisionCode`));
        if (!g.implementation?.departmentId) {
          throw conflict(
            'case.no_competent_department',
            `No department implements ${code} for ${p.decidingDivisionCode}.`,
            `parts.${i}`,
          );
        }
        if (parts.some((q) => q.departmentId === g.implementation!.departmentId && q.itemCode === code)) {
          throw invalid(
            `parts.${i}`,
            'Each part must go to a different competent department.',
            'case.application_invalid',
          );
        }
        parts.push({
          departmentId: g.implementation.departmentId,
          divisionCode: p.decidingDivisionCode,
          itemCode: code,
        });
      }
    }
    const limits: ClockLimits =
      app.processingMode === 'multi_site_joint'
        ? {
            legal: { value: JOINT_DECISION_WORKING_DAYS, unit: 'working_days' },
            promised: guide.item.promisedTimeLimit ?? {
              value: JOINT_DECISION_WORKING_DAYS,
              unit: 'working_days',
            },
          }
        : { legal: guide.item.legalTimeLimit, promised: guide.item.promisedTimeLimit };
    const numberDivision = hall
      ? (hall.countyCode ?? toGb2260Code(hall.divisionCode))
      : countyCodeOf(app.decidingDivisionCode);
    return { item: guide.item, guide, parts, limits, numberDivision, formData: form.ok ? form.data : {} };
  }

  // ---------------------------------------------------------------------------------------------
  // Commands (transitions)

  /**
   * Applies one command (receive, forward, request_supplement, resubmit, accept, not_accept, start_review,
   * review_step, start/end_special_procedure, extend, decide, deliver, rate, withdraw, reassign) to a case.
   * @throws AppError(validation) for a bad command (field named); AppError(not_found, `case.not_found`);
   *   AppError(forbidden, `case.not_competent`) when the actor may not act on this case;
   *   AppError(conflict) `case.version_conflict` for a stale `expectedVersion`, `case.illegal_transition`
   *   ("cannot X a case that is Y; allowed from: …") and the state machine's other conflicts.
   */
  async command(caseRef: string, input: unknown, ctx: CommandContext): Promise<CaseMutation> {
    const parsed = CaseCommandSchema.safeParse(input);
    if (!parsed.success)
      throw zodError('case.command_invalid', 'The command is invalid; nothing changed.', parsed.error.issues);
    const command = parsed.data;
    if (command.type === 'deliver' && command.method === 'pickup') {
      throw invalid(
        'method',
        'Pickup is handed over at the desk with the pickup code: use the pickup endpoint.',
        'case.pickup_needs_code',
      );
    }
    const ref = caseReference(caseRef);
    const calendar = await this.deps.calendar.calendar();
    if (command.type === 'reassign') {
      await this.checkReassignTarget(await this.resolveId(caseRef), command.departmentId);
    }
    // The scope names the case by its number, however the client named it (number or id), so the same key
    // cannot run twice through the two URLs of one case.
    let number: string;
    if ('number' in ref) number = ref.number;
    else {
      const row = await this.repo.findById(ref.id);
      if (!row) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
      number = row.number;
    }
    const scope = `POST /api/v1/cases/${number}/commands|${actorKey(ctx.actor)}`;
    // 帮办代办: an agent's applicant-side command is taken under the resident's authorization.
    const acting =
      ctx.actor.kind === 'agent' && APPLICANT_COMMANDS.has(command.type)
        ? {
            ...ctx,
            actor: await this.agentOnBehalf(caseRef, ctx).catch(
              this.auditRefusal(caseRef, `case.${command.type}`, ctx.actor),
            ),
          }
        : ctx;
    const result = await this.deps.idempotency
      .run(scope, ctx.idempotencyKey, { command, v: ctx.expectedVersion }, async (tx, batch) => {
        const locked = await this.repo.lockForCommand(tx, { number });
        if (!locked) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
        return this.transition(tx, batch, locked, command, acting, calendar);
      })
      .catch(this.auditRefusal(caseRef, `case.${command.type}`, acting.actor));
    return result.value;
  }

  /**
   * Hands the result over at the pickup desk (就近取件): checks the 6-digit pickup code, records the visit
   * and delivers the case. Five wrong codes lock pickup for the case (the applicant asks for a new code).
   * @throws AppError(validation, `case.pickup_code_wrong`), AppError(conflict, `case.pickup_locked`), as {@link command}.
   */
  async handOver(caseRef: string, pickupCode: string, ctx: CommandContext): Promise<CaseMutation> {
    if (!/^\d{6}$/.test(pickupCode))
      throw invalid('pickupCode', 'The pickup code has 6 digits.', 'case.pickup_code_malformed');
    const id = await this.resolveId(caseRef);
    const calendar = await this.deps.calendar.calendar();
    const scope = `POST /api/v1/cases/${id}/pickup|${actorKey(ctx.actor)}`;
    const attempt = await this.deps.idempotency
      .run(
        scope,
        ctx.idempotencyKey,
        // The retry record keeps a keyed hash, never the code (a plain hash of 6 digits is guessable).
        { pickupCodeHash: this.codeHash(id, pickupCode), v: ctx.expectedVersion },
        async (tx, batch) => {
          const locked = await this.repo.lockForCommand(tx, { id });
          if (!locked) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
          const row = locked.row;
          const delivery = (row.delivery ?? {}) as Record<string, unknown>;
          const pickup = delivery.pickup as
            | { codeHash: string; attempts: number; hallCode: string }
            | undefined;
          if (!pickup)
            throw conflict(
              'case.no_pickup',
              'This case has no pickup code: it is not decided yet, or it is delivered otherwise.',
            );
          // Authorize before counting an attempt: only the desk of the chosen pickup hall hands over,
          // so nobody elsewhere can burn the applicant's attempts.
          if (ctx.actor.kind !== 'staff' || ctx.actor.hallCode !== pickup.hallCode) {
            throw new AppError(
              'forbidden',
              'case.wrong_pickup_hall',
              `The result waits at ${pickup.hallCode}: staff of that hall hand it over (X-Tongban-Actor …;hall=${pickup.hallCode}).`,
            );
          }
          if (row.status !== 'decided') {
            throw conflict(
              'case.illegal_transition',
              `cannot hand over a case that is ${row.status}; allowed from: decided`,
            );
          }
          if (pickup.attempts >= MAX_PICKUP_ATTEMPTS) {
            throw conflict(
              'case.pickup_locked',
              'Too many wrong pickup codes: the applicant must ask for a new code.',
            );
          }
          if (!this.codeMatches(pickup.codeHash, row.id, pickupCode)) {
            // Counting a wrong code is not a change of the case: no version bump, no timeline entry.
            await this.repo.setDelivery(tx, row.id, {
              ...delivery,
              pickup: { ...pickup, attempts: pickup.attempts + 1 },
            });
            return { wrong: true as const };
          }
          return {
            wrong: false as const,
            mutation: await this.transition(
              tx,
              batch,
              locked,
              { type: 'deliver', method: 'pickup', reference: pickup.hallCode },
              { ...ctx, visit: true },
              calendar,
            ),
          };
        },
      )
      .catch(this.auditRefusal(caseRef, 'case.deliver', ctx.actor));
    if (attempt.value.wrong) {
      throw invalid(
        'pickupCode',
        'The pickup code does not match. Check it with the applicant.',
        'case.pickup_code_wrong',
      );
    }
    return attempt.value.mutation;
  }

  /**
   * Issues a new 6-digit pickup code (就近取件) when the applicant lost theirs or five wrong codes locked
   * pickup: the new code replaces the old one (only its keyed hash is stored), the attempt count restarts,
   * and the code goes to the applicant alone through the notification (SMS / inbox) — never to the staff.
   * A timeline entry records who asked. At most {@link MAX_PICKUP_REISSUES} times per case (each sends a
   * message to the applicant). When the applicant themself asks (signed in, their own case), the new code
   * is also in the answer (`pickupCode`), for the citizen app to show as a QR code; a replay of the same
   * Idempotency-Key answers the same code.
   * Who: the applicant or agent whose account the case was filed under, staff of the pickup hall, or staff
   * of the competent department (a stranger could otherwise spend the reissues and flood the applicant).
   * @throws AppError(conflict, `case.no_pickup`) when the case has no pickup waiting;
   *   AppError(conflict, `case.pickup_reissue_limit`); AppError(forbidden, `case.not_competent`);
   *   as {@link command} for a stale version or an unknown case.
   */
  async reissuePickupCode(caseRef: string, ctx: CommandContext): Promise<CaseMutation> {
    const id = await this.resolveId(caseRef);
    const calendar = await this.deps.calendar.calendar();
    const scope = `POST /api/v1/cases/${id}/pickup-code|${actorKey(ctx.actor)}`;
    const result = await this.deps.idempotency
      .run(scope, ctx.idempotencyKey, { v: ctx.expectedVersion }, async (tx, batch) => {
        const locked = await this.repo.lockForCommand(tx, { id });
        if (!locked) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
        const row = locked.row;
        if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== row.version)
          throw versionConflict(row);
        const delivery = (row.delivery ?? {}) as Record<string, unknown>;
        const pickup = delivery.pickup as
          | { codeHash: string; attempts: number; hallCode: string; reissued?: number }
          | undefined;
        if (!pickup || row.status !== 'decided') {
          throw conflict(
            'case.no_pickup',
            `Case ${row.number} has no result waiting for pickup (it is ${row.status}); nothing to reissue.`,
          );
        }
        const a = ctx.actor;
        const state = CaseStateSchema.parse(row.state);
        // The applicant only for their own case: the applicant-side account the server recorded (filed by
        // them signed in, or for them by an agent); an agent under the resident's authorization (checked
        // before the transaction, which set onBehalfOf to the case's resident).
        const own =
          (a.kind === 'applicant' && !!row.applicantAccountId && row.applicantAccountId === a.id) ||
          (a.kind === 'agent' && !!a.onBehalfOf && a.onBehalfOf === row.applicantAccountId);
        const allowed =
          own ||
          (a.kind === 'staff' &&
            ((!!a.hallCode && a.hallCode === pickup.hallCode) ||
              (!!a.departmentId && a.departmentId === state.competentDepartmentId)));
        if (!allowed) {
          throw new AppError(
            'forbidden',
            'case.not_competent',
            `${a.kind} ${a.id} may not reissue the pickup code of case ${row.number}: the applicant, the pickup hall or the competent department does this.`,
          );
        }
        const reissued = (pickup.reissued ?? 0) + 1;
        if (reissued > MAX_PICKUP_REISSUES) {
          throw conflict(
            'case.pickup_reissue_limit',
            `The pickup code of case ${row.number} was reissued ${MAX_PICKUP_REISSUES} times already: hand the result over at the desk after checking the applicant's identity document, or deliver it by mail.`,
          );
        }
        const now = this.options.clock();
        const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
        const next = {
          ...delivery,
          pickup: { ...pickup, codeHash: this.codeHash(row.id, code), attempts: 0, reissued },
        };
        const bumped = await this.repo.updateCase(tx, id, row.version, { delivery: next });
        if (!bumped) throw versionConflict(row);
        const event: TimelineEvent = {
          type: 'reissue_pickup_code',
          at: now.toISOString(),
          on: todayInShanghai(now),
          actor: a,
          from: state.status,
          to: state.status,
          data: { reissued, hallCode: pickup.hallCode, lockedBefore: pickup.attempts >= MAX_PICKUP_ATTEMPTS },
        };
        batch.add(this.repo.appendEventSql(this.eventRow(id, event)));
        this.record(batch, bumped, event, code);
        this.announce(batch, bumped);
        return {
          case: await this.view(bumped, calendar, tx, locked),
          // the applicant asking for their own code gets it back too (sealed in the retry record, so a
          // replay shows the same code and the idempotency table holds no code in clear)
          ...(a.kind === 'applicant' ? { pickupCodeSealed: this.deps.pii.encrypt(code, 'pickupCode') } : {}),
        };
      })
      .catch(this.auditRefusal(caseRef, 'case.reissue_pickup_code', ctx.actor));
    const { pickupCodeSealed, ...mutation } = result.value as CaseMutation & { pickupCodeSealed?: string };
    return pickupCodeSealed ? { ...mutation, pickupCode: this.deps.pii.unseal(pickupCodeSealed) } : mutation;
  }

  /**
   * 多地联办: one competent department completes its part. When the last part is decided the case is
   * decided (granted when every part granted). The case must have been accepted.
   * @throws AppError(forbidden, `case.not_competent`) when the actor is not that part's department.
   */
  async decidePart(
    caseRef: string,
    seq: number,
    input: { outcome: 'granted' | 'denied'; reason?: string },
    ctx: CommandContext,
  ): Promise<CaseMutation> {
    if (input.outcome !== 'granted' && input.outcome !== 'denied') {
      throw invalid('outcome', 'outcome is granted or denied.', 'case.command_invalid');
    }
    if (input.outcome === 'denied' && !input.reason?.trim())
      throw invalid('reason', 'Give the reason for a denial.', 'case.command_invalid');
    const id = await this.resolveId(caseRef);
    const calendar = await this.deps.calendar.calendar();
    const scope = `POST /api/v1/cases/${id}/parts/${seq}|${actorKey(ctx.actor)}`;
    const result = await this.deps.idempotency
      .run(scope, ctx.idempotencyKey, { input, v: ctx.expectedVersion }, async (tx, batch) => {
        const locked = await this.repo.lockForCommand(tx, { id });
        if (!locked) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
        const row = locked.row;
        if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== row.version)
          throw versionConflict(row);
        const parts = locked.parts;
        const part = parts.find((p) => p.seq === seq);
        if (!part) throw notFound('case.part_not_found', `Case ${row.number} has no part ${seq}.`, 'seq');
        if (ctx.actor.kind !== 'staff' || ctx.actor.departmentId !== part.departmentId) {
          throw new AppError(
            'forbidden',
            'case.not_competent',
            `Part ${seq} is decided by department ${part.departmentId}.`,
          );
        }
        if (!['accepted', 'under_review'].includes(row.status)) {
          throw conflict(
            'case.illegal_transition',
            `cannot decide a part of a case that is ${row.status}; allowed from: accepted, under_review`,
          );
        }
        if (part.status === 'decided') throw conflict('case.part_decided', `Part ${seq} is already decided.`);
        const now = this.options.clock();
        await this.repo.updatePart(tx, id, seq, {
          status: 'decided',
          outcome: input.outcome,
          decidedAt: now,
          reason: input.reason ?? null,
        });
        const after = parts.map((p) =>
          p.seq === seq ? { ...p, status: 'decided', outcome: input.outcome } : p,
        );
        const partEvent: TimelineEvent = {
          type: 'decide_part',
          at: now.toISOString(),
          on: todayInShanghai(now),
          actor: ctx.actor,
          from: row.status as CaseStatus,
          to: row.status as CaseStatus,
          ...(input.reason ? { reason: input.reason } : {}),
          data: { part: seq, departmentId: part.departmentId, outcome: input.outcome },
        };
        // Written now (not batched): the deciding transition below numbers its event after this one.
        await this.appendEvent(tx, id, (await this.repo.lastEventSeq(tx, id)) + 1, partEvent);
        this.deps.audit.appendLater(batch, {
          at: now,
          actor: auditActor(ctx.actor),
          action: 'case.decide_part',
          target: { type: 'case', id },
          details: {
            caseNumber: row.number,
            part: seq,
            departmentId: part.departmentId,
            outcome: input.outcome,
          },
        });
        if (after.every((p) => p.status === 'decided')) {
          const outcome = after.every((p) => p.outcome === 'granted') ? 'granted' : 'denied';
          return this.transition(
            tx,
            batch,
            { ...locked, parts: after },
            {
              type: 'decide',
              outcome,
              ...(outcome === 'denied' ? { reason: 'one or more parts denied (多地联办)' } : {}),
            } as CaseCommand,
            { ...ctx, actor: { kind: 'system', id: 'joint-handling' }, expectedVersion: undefined },
            calendar,
          );
        }
        const bumped = await this.repo.updateCase(tx, id, row.version, {});
        this.announce(batch, bumped!);
        return {
          case: await this.view(bumped!, calendar, tx, { parts: after, materials: locked.materials }),
        } satisfies CaseMutation;
      })
      .catch(this.auditRefusal(caseRef, 'case.decide_part', ctx.actor));
    return result.value;
  }

  /**
   * A reassignment must name an existing department that implements the case's item for its own
   * division (read before the transaction). @throws AppError(validation/conflict) naming departmentId.
   */
  private async checkReassignTarget(caseId: string, departmentId: string): Promise<void> {
    const row = await this.repo.findById(caseId);
    const department = await this.deps.departments.getDepartment(departmentId).catch(rename('departmentId'));
    const guide = await this.deps.catalog
      .getGuide(row!.itemCode, department.divisionCode)
      .catch(rename('departmentId'));
    if (guide.implementation?.departmentId !== department.id) {
      throw conflict(
        'case.department_not_implementing',
        `${department.name} does not implement ${row!.itemName} (实施清单); reassign to a department that does.`,
        'departmentId',
      );
    }
  }

  /**
   * The transition itself, inside the caller's transaction, on a case the caller LOCKED
   * ({@link CasesRepository.lockForCommand}). The case update, timeline event, outbox row and
   * announcement are queued on `batch` (one statement when the caller flushes it); timers are rewritten
   * only when the command can have moved a clock.
   */
  private async transition(
    tx: Tx,
    batch: WriteBatch,
    locked: LockedCase,
    command: CaseCommand,
    ctx: CommandContext,
    calendar: WorkingDayCalendar,
  ): Promise<CaseMutation> {
    const row = locked.row;
    if (ctx.expectedVersion !== undefined && ctx.expectedVersion !== row.version) throw versionConflict(row);
    const state = CaseStateSchema.parse(row.state);
    await this.authorize(tx, row, state, command, ctx.actor);
    const now = this.options.clock();
    const preference = (row.delivery as { preference?: { method?: string } } | null)?.preference;
    if (command.type === 'deliver' && preference?.method && preference.method !== command.method) {
      throw conflict(
        'case.delivery_method_mismatch',
        `The applicant chose delivery by ${preference.method}; deliver it that way (a pickup needs the pickup code at the desk).`,
        'method',
      );
    }
    const { state: next, event } = applyCommand(state, command, { at: now, actor: ctx.actor, calendar });
    let delivery = (row.delivery ?? null) as Record<string, unknown> | null;
    let pickupCode: string | undefined;
    if (
      command.type === 'decide' &&
      (delivery?.preference as { method?: string } | undefined)?.method === 'pickup'
    ) {
      pickupCode = String(randomInt(0, 1_000_000)).padStart(6, '0');
      const hallCode = (delivery!.preference as { hallCode: string }).hallCode;
      delivery = {
        ...delivery,
        pickup: { codeHash: this.codeHash(row.id, pickupCode), attempts: 0, hallCode },
      };
    }
    if (command.type === 'deliver') {
      delivery = {
        ...(delivery ?? {}),
        delivered: { method: command.method, reference: command.reference ?? null, at: now.toISOString() },
      };
    }
    const plan = this.planClocks({ row, state }, next, row.limits as unknown as ClockLimits, calendar, now);
    // The row is locked and its version checked above: the update cannot miss.
    const written: CaseRow = {
      ...row,
      ...plan.copies,
      status: next.status,
      outcome: next.outcome,
      state: next as unknown as Record<string, unknown>,
      competentDepartmentId: next.competentDepartmentId,
      delivery,
      visits: row.visits + (ctx.visit ? 1 : 0),
      version: row.version + 1,
      updatedAt: now,
    };
    batch.add(
      this.repo.updateLockedSql(row.id, {
        ...plan.copies,
        status: written.status,
        outcome: written.outcome,
        state: written.state,
        competentDepartmentId: written.competentDepartmentId,
        delivery: written.delivery,
        visits: written.visits,
        version: written.version,
        updatedAt: written.updatedAt,
      }),
    );
    await this.writeTimers(tx, row.id, plan);
    batch.add(this.repo.appendEventSql(this.eventRow(row.id, event)));
    this.record(batch, written, event, pickupCode);
    this.announce(batch, written);
    return { case: await this.view(written, calendar, tx, locked, plan.clocks) };
  }

  /**
   * Who may do what (until the identity issue brings grants): the intake hall receives and forwards;
   * the competent department accepts, reviews and decides — or, under 无差别办理, the intake hall's staff
   * with a delegation in force for this item; the applicant (or agent) may withdraw and rate.
   */
  private async authorize(
    tx: Tx,
    row: CaseRow,
    state: CaseState,
    command: CaseCommand,
    actor: CaseActor,
  ): Promise<void> {
    if (actor.kind === 'system') return;
    const deny = (why: string): never => {
      throw new AppError(
        'forbidden',
        'case.not_competent',
        `${actor.kind} ${actor.id} may not ${command.type} case ${row.number}: ${why}`,
      );
    };
    const atIntake = !!actor.hallCode && actor.hallCode === row.intakeHallCode;
    const competent = !!actor.departmentId && actor.departmentId === state.competentDepartmentId;
    // Applicant-side actions: the applicant only on their own case; an agent only under the resident's
    // authorization (checked before the transaction, which set onBehalfOf to the case's resident).
    if (APPLICANT_COMMANDS.has(command.type)) {
      if (actor.kind === 'applicant' && actor.id !== row.applicantAccountId) deny('it is not your case.');
      if (actor.kind === 'agent' && (!actor.onBehalfOf || actor.onBehalfOf !== row.applicantAccountId))
        throw new AppError(
          'forbidden',
          'case.agent_not_authorized',
          `You hold no active authorization of the applicant of case ${row.number}; nothing changed.`,
        );
    }
    switch (command.type) {
      case 'rate':
        // 好差评 is the applicant's voice: staff never rate their own work.
        if (actor.kind !== 'applicant' && actor.kind !== 'agent')
          deny('only the applicant (or the agent) rates.');
        return;
      case 'withdraw':
      case 'resubmit':
        if (actor.kind === 'staff' && !atIntake && !competent)
          deny('only the applicant, the agent or the staff handling the case.');
        return;
      case 'receive':
      case 'forward':
        if (actor.kind !== 'staff' || (!atIntake && !(competent && !row.intakeHallCode)))
          deny('the intake hall does this.');
        return;
      case 'reassign':
        if (actor.kind !== 'staff' || (!atIntake && !competent))
          deny('the intake hall or the competent department does this.');
        // Once accepted, only the competent department itself may hand the case on.
        if (!competent && !['submitted', 'received'].includes(state.status)) {
          deny('after acceptance only the competent department may reassign.');
        }
        return;
      case 'deliver': {
        const pickupHall = (row.delivery as { pickup?: { hallCode?: string } } | null)?.pickup?.hallCode;
        const atPickupHall = command.method === 'pickup' && !!actor.hallCode && actor.hallCode === pickupHall;
        if (actor.kind !== 'staff' || (!competent && !atIntake && !atPickupHall))
          deny('the competent department, the intake hall or the pickup hall delivers.');
        return;
      }
      case 'decide':
        if (row.processingMode === 'multi_site_joint') {
          throw conflict(
            'case.decide_by_parts',
            `Case ${row.number} is handled jointly (多地联办): each department decides its part; the last part decides the case.`,
          );
        }
        return this.authorizeCompetent(tx, row, state, actor, deny, competent, atIntake);
      default:
        return this.authorizeCompetent(tx, row, state, actor, deny, competent, atIntake);
    }
  }

  /** Competent department staff, or — under 无差别办理 — intake hall staff with a delegation in force. */
  private async authorizeCompetent(
    tx: Tx,
    row: CaseRow,
    state: CaseState,
    actor: CaseActor,
    deny: (why: string) => never,
    competent: boolean,
    atIntake: boolean,
  ): Promise<void> {
    if (actor.kind !== 'staff') deny('staff of the competent department do this.');
    if (competent) return;
    if (row.processingMode === 'any_hall' && atIntake) {
      const delegations = await this.repo.activeDelegations(
        {
          itemCode: row.itemCode,
          departmentId: state.competentDepartmentId,
          hallCode: actor.hallCode!,
          at: this.options.clock(),
        },
        tx,
      );
      if (delegations.length > 0) return;
      deny('无差别办理 needs a delegation in force from the competent department for this item and hall.');
    }
    deny('the competent department does this.');
  }

  // ---------------------------------------------------------------------------------------------
  // Delegations (无差别办理)

  /**
   * Records a delegation: `departmentId` lets the staff of `hallCode` accept and decide `itemCode`
   * themselves from `validFrom` until `validUntil`. Checked on every action; revocable.
   * @throws AppError(validation) for an empty reason or an end before the start.
   */
  async grantDelegation(input: {
    itemCode: string;
    departmentId: string;
    hallCode: string;
    validFrom?: Date;
    validUntil: Date;
    reason: string;
    grantedBy: CaseActor;
  }): Promise<DelegationRow> {
    const validFrom = input.validFrom ?? this.options.clock();
    if (!input.reason?.trim())
      throw invalid('reason', 'Say why the delegation is granted.', 'delegation.invalid');
    if (!(input.validUntil > validFrom))
      throw invalid('validUntil', 'validUntil must be after validFrom.', 'delegation.invalid');
    const maxUntil = new Date(validFrom.getTime() + 3 * 366 * 86_400_000);
    if (input.validUntil > maxUntil) {
      throw invalid(
        'validUntil',
        'A delegation lasts at most 3 years; grant it again when it ends.',
        'delegation.invalid',
      );
    }
    const item = await this.deps.catalog.getItem(input.itemCode);
    await this.deps.halls.getHall(input.hallCode).catch(rename('hallCode'));
    const department = await this.deps.departments
      .getDepartment(input.departmentId)
      .catch(rename('departmentId'));
    const guide = await this.deps.catalog
      .getGuide(input.itemCode, department.divisionCode)
      .catch(rename('departmentId'));
    if (guide.implementation?.departmentId !== department.id) {
      throw conflict(
        'delegation.department_not_implementing',
        `${department.name} does not implement ${item.name}; only the implementing department can delegate it.`,
        'departmentId',
      );
    }
    return this.repo.db.transaction(async (tx) => {
      const row = await this.repo.insertDelegation(tx, {
        itemCode: input.itemCode,
        departmentId: input.departmentId,
        hallCode: input.hallCode,
        validFrom,
        validUntil: input.validUntil,
        reason: input.reason.trim(),
        grantedBy: input.grantedBy as unknown as Record<string, unknown>,
      });
      await this.deps.audit.append(tx, {
        actor: auditActor(input.grantedBy),
        action: 'delegation.grant',
        target: { type: 'delegation', id: row.id },
        details: {
          itemCode: row.itemCode,
          departmentId: row.departmentId,
          hallCode: row.hallCode,
          validFrom: row.validFrom.toISOString(),
          validUntil: row.validUntil.toISOString(),
        },
      });
      return row;
    });
  }

  /**
   * Revokes a delegation at once (staff of the granting department).
   * @throws AppError(forbidden, `delegation.not_grantor`); AppError(not_found, `delegation.not_found`) when
   *   unknown or already revoked.
   */
  async revokeDelegation(
    id: string,
    reason: string,
    actor: CaseActor,
    /** The policy (delegation.manage over the granting department); default: staff of that department. */
    mayManage: (departmentId: string) => Promise<boolean> = async (d) =>
      actor.kind === 'staff' && actor.departmentId === d,
  ): Promise<DelegationRow> {
    if (!reason?.trim()) throw invalid('reason', 'Say why the delegation is revoked.', 'delegation.invalid');
    const existing = await this.repo.findDelegation(id);
    if (existing && !(await mayManage(existing.departmentId))) {
      throw new AppError(
        'forbidden',
        'delegation.not_grantor',
        'Only staff of the granting department may revoke it.',
      );
    }
    return this.repo.db.transaction(async (tx) => {
      const row = await this.repo.revokeDelegation(tx, id, this.options.clock(), reason.trim());
      if (!row) throw notFound('delegation.not_found', `No delegation ${id} in force.`, 'id');
      await this.deps.audit.append(tx, {
        actor: auditActor(actor),
        action: 'delegation.revoke',
        target: { type: 'delegation', id: row.id },
        details: { itemCode: row.itemCode, departmentId: row.departmentId, hallCode: row.hallCode },
      });
      return row;
    });
  }

  delegationsOfHall(hallCode: string): Promise<DelegationRow[]> {
    return this.repo.delegationsOfHall(hallCode);
  }

  // ---------------------------------------------------------------------------------------------
  // Clocks and timers

  /**
   * The clocks of `state` today, the copies the case row keeps of them (decision/supplement/certificate
   * due dates as `YYYY-MM-DD`, provisional flag, warning level) and the warning timers to write — or
   * `timers: null` when they cannot have moved: the command changed no clock input
   * ({@link sameClockInputs}) and the copies are those already stored (the calendar did not move them).
   * @param before the locked row and its state before the command (null for a new case).
   */
  private planClocks(
    before: { row: CaseRow; state: CaseState } | null,
    state: CaseState,
    limits: ClockLimits,
    calendar: WorkingDayCalendar,
    now: Date,
  ): ClockPlan {
    const today = todayInShanghai(now);
    const clocks = computeClocks(state, limits, calendar, today, this.options.thresholds);
    const copies = {
      decisionDue: clocks.decisionDue?.date ?? null,
      supplementDue: clocks.supplementDue?.date ?? null,
      certificateDue: clocks.certificateDue?.date ?? null,
      dueProvisional: clocks.provisional,
      warning: clocks.warning,
    };
    if (before) {
      const r = before.row;
      const unchanged =
        sameClockInputs(before.state, state) &&
        r.decisionDue === copies.decisionDue &&
        r.supplementDue === copies.supplementDue &&
        r.certificateDue === copies.certificateDue &&
        r.dueProvisional === copies.dueProvisional &&
        r.warning === copies.warning;
      if (unchanged) return { clocks, copies, timers: null };
    }
    const timers: { kind: string; dueAt: Date }[] = [];
    if (isOpenStatus(state.status)) {
      const schedule = warningSchedule(state, limits, calendar, today, this.options.thresholds);
      for (const kind of ['yellow', 'red', 'overdue'] as const) {
        const day = schedule[kind];
        if (day) timers.push({ kind, dueAt: startOfShanghaiDay(day) });
      }
      if (state.status === 'received' && clocks.supplementDue) {
        // The day after the notice deadline the case counts as accepted (行政许可法 art. 32). When that
        // day has passed already (e.g. an off-site case forwarded late, whose first try was refused for
        // want of a forward), the acceptance is due now — never dropped.
        timers.push({
          kind: 'deemed_acceptance',
          dueAt: clocks.deemedAcceptancePending
            ? now
            : startOfShanghaiDay(nextDay(clocks.supplementDue.date)),
        });
      }
    }
    // Levels no longer reached (e.g. after an extension) may fire again later.
    const rank: Record<WarningLevel, number> = { none: 0, yellow: 1, red: 2, overdue: 3 };
    const reset = (['yellow', 'red', 'overdue'] as const).filter((k) => rank[k] > rank[clocks.warning]);
    return { clocks, copies, timers: { set: timers, reset } };
  }

  /** Writes the timers of a {@link planClocks} result (nothing when they are unchanged). */
  private async writeTimers(tx: Tx, caseId: string, plan: ClockPlan): Promise<void> {
    if (!plan.timers) return;
    await this.repo.resetFired(tx, caseId, plan.timers.reset);
    await this.repo.setTimers(tx, caseId, plan.timers.set);
  }

  /**
   * Fires due timers (warnings 红黄牌/超期, deemed acceptance) exactly once, even with several nodes: each
   * is claimed with FOR UPDATE SKIP LOCKED and marked fired in the same transaction as its event.
   * @returns how many timers fired.
   */
  async fireDueTimers(limit = 100): Promise<number> {
    const calendar = await this.deps.calendar.calendar();
    const now = this.options.clock();
    // Candidates are read without locks; each is then fired in its own transaction that locks the CASE
    // first and the timer second — the same order as commands, so the job and a command never deadlock.
    const candidates = await this.repo.dueTimers(now, limit);
    let fired = 0;
    for (const timer of candidates) {
      fired += await this.repo.db.transaction(async (tx) => {
        const row = await this.repo.lockByIdSkipLocked(tx, timer.caseId);
        if (!row) return 0; // a command holds the case: the next round fires it
        if (!(await this.repo.claimTimer(tx, timer.caseId, timer.kind))) return 0; // another node fired it
        if (!isOpenStatus(row.status as CaseStatus)) {
          await this.repo.markTimerFired(tx, timer.caseId, timer.kind, now);
          return 0;
        }
        const state = CaseStateSchema.parse(row.state);
        if (timer.kind === 'deemed_acceptance') {
          if (state.status !== 'received') {
            await this.repo.markTimerFired(tx, timer.caseId, timer.kind, now);
            return 0;
          }
          try {
            const batch = new WriteBatch();
            const locked = await this.repo.lockForCommand(tx, { id: row.id });
            await this.transition(
              tx,
              batch,
              locked!,
              { type: 'accept', reason: '视为受理（行政许可法第三十二条）' },
              { actor: { kind: 'system', id: 'clock' }, idempotencyKey: `timer-${row.id}` },
              calendar,
            );
            await batch.flush(tx);
            await this.repo.markTimerFired(tx, timer.caseId, timer.kind, now);
            return 1;
          } catch (e) {
            if (!(e instanceof AppError && e.kind === 'conflict')) throw e;
            // E.g. an off-site case not yet forwarded: try again tomorrow (the clocks already count it
            // as accepted on receipt), rather than dropping the acceptance for good.
            await this.repo.postponeTimer(
              tx,
              timer.caseId,
              timer.kind,
              startOfShanghaiDay(nextDay(todayInShanghai(now))),
            );
            return 0;
          }
        }
        await this.repo.markTimerFired(tx, timer.caseId, timer.kind, now);
        const clocks = computeClocks(
          state,
          row.limits as unknown as ClockLimits,
          calendar,
          todayInShanghai(now),
          this.options.thresholds,
        );
        const event: TimelineEvent = {
          type: 'warning',
          at: now.toISOString(),
          on: todayInShanghai(now),
          actor: { kind: 'system', id: 'clock' },
          from: state.status,
          to: state.status,
          data: {
            level: clocks.warning,
            timer: timer.kind,
            decisionDue: clocks.decisionDue?.date ?? null,
            workingDaysLeft: clocks.workingDaysLeft,
          },
        };
        await this.appendEvent(tx, row.id, (await this.repo.lastEventSeq(tx, row.id)) + 1, event);
        await this.repo.setClockCopies(tx, row.id, { warning: clocks.warning });
        const batch = new WriteBatch();
        this.record(batch, { ...row, warning: clocks.warning }, event);
        this.announce(batch, row);
        await batch.flush(tx);
        return 1;
      });
    }
    return fired;
  }

  /**
   * Recomputes the stored clock copies and timers of every open case — after the calendar changed (a
   * newly published year makes provisional due dates final; a correction moves them). Batches of 200,
   * one short transaction per case; a case a command holds right now is skipped (the command itself
   * writes fresh clocks). @returns how many cases were recomputed.
   */
  async recomputeOpenClocks(): Promise<number> {
    const calendar = await this.deps.calendar.calendar();
    let after = '00000000-0000-0000-0000-000000000000';
    let done = 0;
    for (;;) {
      const ids = await this.repo.openCaseIds(after, 200, [...OPEN_STATUSES]);
      if (ids.length === 0) return done;
      for (const id of ids) {
        done += await this.repo.db.transaction(async (tx) => {
          const row = await this.repo.lockByIdSkipLocked(tx, id);
          if (!row) return 0;
          const state = CaseStateSchema.parse(row.state);
          const plan = this.planClocks(
            null,
            state,
            row.limits as unknown as ClockLimits,
            calendar,
            this.options.clock(),
          );
          await this.writeTimers(tx, row.id, plan);
          await this.repo.setClockCopies(tx, row.id, plan.copies);
          return 1;
        });
      }
      after = ids.at(-1)!;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Queries

  /** A case by id or number. @throws AppError(not_found, `case.not_found`). */
  async get(caseRef: string): Promise<CaseView> {
    const row = isCaseNumber(caseRef)
      ? await this.repo.findByNumber(caseRef)
      : await this.findByUuid(caseRef);
    if (!row) throw caseNotFound(caseRef);
    return this.view(row, await this.deps.calendar.calendar());
  }

  /**
   * Where a case lies for the policies ({@link caseTarget}): intake and deciding division, intake and
   * pickup hall, competent, previously competent (改派 events) and part departments, item.
   * @throws AppError(not_found, `case.not_found`).
   */
  async targetOf(caseRef: string): Promise<CaseLocation> {
    return (await this.locate(caseRef)).target;
  }

  /**
   * A case's id, number, intake hall, competent department and policy target ({@link targetOf}) — one
   * indexed statement, for modules that attach things to a case (in-case messaging).
   * @throws AppError(not_found, `case.not_found`).
   */
  async locate(caseRef: string): Promise<{
    id: string;
    number: string;
    itemCode: string;
    intakeHallCode: string | null;
    competentDepartmentId: string | null;
    target: CaseLocation;
  }> {
    // One indexed statement (not the whole view and timeline): this runs before every case request.
    const c = await this.repo.locationOf(caseReference(caseRef));
    if (!c) throw caseNotFound(caseRef);
    const delivery = c.delivery as {
      pickup?: { hallCode?: string };
      preference?: { hallCode?: string };
    } | null;
    const target: CaseLocation = {
      ...caseTarget({
        ...c,
        pickupHallCode: delivery?.pickup?.hallCode ?? delivery?.preference?.hallCode ?? null,
      }),
      applicantAccountId: c.applicantAccountId,
    };
    return {
      id: c.id,
      number: c.number,
      itemCode: c.itemCode,
      intakeHallCode: c.intakeHallCode,
      competentDepartmentId: c.competentDepartmentId,
      target,
    };
  }

  /**
   * The caller may `action` (null: only see) on the case — 404 when they may not see it, 403 without the
   * role (see ./policy.ts for the rule). Reads before any transaction; the engine checks competence again
   * inside it. @throws AppError(not_found | forbidden).
   */
  async requireAccess(p: Principal, caseRef: string, action: Action | null): Promise<CaseLocation> {
    const target = await this.targetOf(caseRef);
    requireCaseAction(p, target, action, this.options.clock(), caseRef);
    return target;
  }

  /**
   * Who acts on the applicant's side of a case for an upload from the citizen app (photos of materials):
   * - a resident or a legal person's operator whose case it is → the applicant (others: 404, the 404 rule);
   * - staff who hold an agent role (帮办员 helper, 村级代办员 village_agent) in force over the case and no
   *   custody role there (`case.custody`) → the agent acting for the case's resident, which needs an active
   *   authorization of that resident covering the case's items, and the agent's own grant for them
   *   (403 `case.agent_not_authorized`, audited); the development header's `agent:x` likewise;
   * - other staff → null: they record scans at the desk (the custody roles decide).
   * Reads only; call before any transaction. @throws AppError(not_found, `case.not_found`) | (forbidden).
   */
  async applicantSideActor(p: Principal, caseRef: string): Promise<CaseActor | null> {
    const target = await this.requireAccess(p, caseRef, null);
    if (p.kind !== 'staff') return principalToCaseActor(p);
    const now = this.options.clock();
    const agentHere = p.devActor
      ? p.devActor.kind === 'agent'
      : !anyGrantAllows(p.grants, 'case.custody', target, now) &&
        p.grants.some(
          (g) => grantInForce(g, now) && AGENT_ROLES.includes(g.role) && scopeCovers(g.scope, target),
        );
    if (!agentHere) return null;
    const actor: CaseActor = { ...principalToCaseActor(p), kind: 'agent' };
    return this.agentOnBehalf(caseRef, { actor, principal: p, idempotencyKey: '' }).catch(
      this.auditRefusal(caseRef, 'custody.upload', actor),
    );
  }

  /** A department as a policy target (its id and division). @throws 404 `department.not_found`. */
  async departmentTarget(id: string): Promise<ScopeTarget> {
    const d = await this.deps.departments.getDepartment(id);
    return { departmentIds: [d.id], divisionCodes: [d.divisionCode] };
  }

  /** This engine's clock (policies compare grant validity with it). */
  now(): Date {
    return this.options.clock();
  }

  /** The timeline (办件过程), oldest first. */
  async timeline(caseRef: string) {
    const id = await this.resolveId(caseRef);
    return (await this.repo.timeline(id)).map((e) => ({
      seq: e.seq,
      type: e.type,
      from: e.fromStatus,
      to: e.toStatus,
      at: e.at.toISOString(),
      actor: e.actor,
      reason: e.reason,
      data: e.data,
    }));
  }

  /**
   * A department's inbox: open cases where it is competent (or decides a 多地联办 part), ordered by
   * decision due then id, paginated by an opaque cursor (`next`) — no COUNT(*) over the table.
   */
  async inbox(
    departmentId: string,
    options: { statuses?: CaseStatus[]; warning?: WarningLevel; limit?: number; cursor?: string } = {},
  ): Promise<{ items: CaseView[]; next: string | null }> {
    const limit = options.limit ?? 20;
    const after = options.cursor ? decodeCursor(options.cursor) : undefined;
    const rows = await this.repo.inbox({
      departmentIds: [departmentId],
      statuses: options.statuses ?? [...OPEN_STATUSES],
      ...(options.warning ? { warning: options.warning } : {}),
      limit,
      ...(after ? { after } : {}),
    });
    const last = rows.at(-1);
    const calendar = await this.deps.calendar.calendar();
    return {
      items: await this.viewMany(rows, calendar),
      next:
        rows.length === limit && last ? encodeCursor({ decisionDue: last.decisionDue, id: last.id }) : null,
    };
  }

  /** Cases received at a hall (收件列表), newest first. */
  async intake(hallCode: string, limit = 20): Promise<CaseView[]> {
    const calendar = await this.deps.calendar.calendar();
    return this.viewMany(await this.repo.intakeList(hallCode, limit), calendar);
  }

  /**
   * "My applications" (我的办件) for a resident, or a legal person's operator: the cases whose applicant-side
   * account is theirs — filed by them signed in, or for them by an agent under an authorization — newest
   * first, each with its status, clocks (due dates in working days) and what the applicant must do next
   * (`nextStep`: `resubmit` with the gaps listed once (一次性告知), `pickup` at a hall with the pickup code
   * sent to them, `rate` after delivery, or null while the authority acts). Staff: 403 (they use the
   * inbox and intake lists). @throws 403 `case.residents_only`.
   */
  async myCases(p: Principal, limit = 20): Promise<(CaseView & { nextStep: NextStep | null })[]> {
    const account = applicantAccountOf(p);
    if (!account)
      throw new AppError(
        'forbidden',
        'case.residents_only',
        'My applications are for residents and legal persons signed in; staff use the inbox and intake lists.',
      );
    const calendar = await this.deps.calendar.calendar();
    const rows = await this.repo.casesOfAccount(account, limit);
    const views = await this.viewMany(rows, calendar);
    return views.map((v, i) => ({ ...this.viewFor(p, v), nextStep: nextStepOf(rows[i]!) }));
  }

  /**
   * Public tracking (办件进度查询) for the QR code on every notice: the case with `number` when `check` is
   * the last 4 digits of the applicant's phone or the last 6 characters of their ID number (or credit
   * code) — compared as keyed blind indexes (cases.tracking_keys), so no personal data is opened; an
   * unknown number and a wrong check give the same 404, so numbers cannot be probed (the route also
   * limits lookups per IP). Every lookup is audited (`case.track`, outcome ok / denied, with the client
   * address). The answer carries no personal data ({@link TrackView}).
   * Number and check are read as typed on a phone: NFKC (full-width digits of a Chinese IME), trimmed, x
   * upper-cased. {@link TRACK_WRONG_CHECKS}: past `threshold` wrong checks on one number within `windowMs`,
   * the number answers 429 for `lockMs` (right check or not), on every API node (identity_lockouts).
   * @throws AppError(validation, `track.number_invalid` field `number` | `track.check_invalid` field
   *   `check`) for a malformed number or check (the same whatever the case); AppError(not_found,
   *   `track.not_found`); AppError(rate_limited, `track.locked`, field `number`).
   */
  async track(
    number: string,
    check: string | undefined,
    meta: { clientIp?: string } = {},
  ): Promise<TrackView> {
    // as typed on a phone: full-width digits and letters of a Chinese IME (NFKC), spaces, a lower-case x
    number = number.normalize('NFKC').trim();
    if (!isCaseNumber(number))
      throw invalid(
        'number',
        'A case number has 21 digits, as printed on the notice (收件凭证).',
        'track.number_invalid',
      );
    const c = (check ?? '').normalize('NFKC').trim().toUpperCase();
    const keys = /^\d{4}$/.test(c)
      ? [this.trackingKey(number, 'phone', c)]
      : /^[0-9A-Z]{6}$/.test(c)
        ? [this.trackingKey(number, 'id', c)]
        : null;
    if (!keys)
      throw invalid(
        'check',
        'Give the last 4 digits of the applicant’s mobile phone, or the last 6 characters of the applicant’s ID number (身份证号后六位).',
        'track.check_invalid',
      );
    const lockKey = `track:${number}`;
    const locked = await this.deps.lockouts?.lockedSeconds(lockKey);
    if (locked)
      throw new AppError(
        'rate_limited',
        'track.locked',
        `Too many wrong checks for this number: try again in ${Math.ceil(locked / 60)} minutes, or ask the hall (the number on the notice and your ID card).`,
        { field: 'number' },
      );
    const row = await this.repo.findTracked(number, keys);
    const audit = (outcome: 'ok' | 'denied', target: { type: string; id: string }) =>
      this.deps.audit
        .record({
          actor: { kind: 'public', id: 'track' },
          action: 'case.track',
          outcome,
          target,
          ...(meta.clientIp ? { clientIp: meta.clientIp } : {}),
          details: { check: c.length === 4 ? 'phone_last4' : 'id_last6' },
        })
        .catch(() => undefined); // the answer does not wait on a failed audit write
    if (!row) {
      await audit('denied', { type: 'case_number', id: number });
      // known or unknown number alike (numbers cannot be probed): wrong checks lock the number for all nodes
      await this.deps.lockouts?.countFailure(lockKey, TRACK_WRONG_CHECKS);
      throw notFound(
        'track.not_found',
        'No application with this number and check. Check the number on the notice and the digits you gave.',
        'number',
      );
    }
    await audit('ok', { type: 'case', id: row.id });
    const calendar = await this.deps.calendar.calendar();
    const state = CaseStateSchema.parse(row.state);
    const clocks = computeClocks(
      state,
      row.limits as unknown as ClockLimits,
      calendar,
      todayInShanghai(this.options.clock()),
      this.options.thresholds,
    );
    const delivery = row.delivery as {
      preference?: { method?: string; hallCode?: string };
      pickup?: { hallCode?: string };
    } | null;
    const hall = async (code: string | null | undefined) => {
      if (!code) return undefined;
      const h = await this.deps.halls.getHall(code).catch(() => null);
      return h ? { code: h.code, name: h.name } : undefined;
    };
    const pickupCode =
      delivery?.pickup?.hallCode ??
      (delivery?.preference?.method === 'pickup' ? delivery.preference.hallCode : undefined);
    const status = row.status as CaseStatus;
    const open = isOpenStatus(status);
    const intakeHall = await hall(row.intakeHallCode);
    const pickupHall = await hall(pickupCode);
    return {
      number: row.number,
      itemCode: row.itemCode,
      itemName: row.itemName,
      status,
      statusLabel: CASE_STATUS_LABELS[status],
      submittedOn: state.submittedOn,
      ...(state.receivedOn ? { receivedOn: state.receivedOn } : {}),
      ...(state.acceptedOn ? { acceptedOn: state.acceptedOn } : {}),
      ...(state.decidedOn ? { decidedOn: state.decidedOn } : {}),
      ...(open && clocks.decisionDue ? { deadline: clocks.decisionDue.date } : {}),
      ...(open && clocks.decisionDue?.provisional ? { deadlineProvisional: true } : {}),
      ...(open && clocks.workingDaysLeft !== null ? { workingDaysLeft: clocks.workingDaysLeft } : {}),
      ...(open && clocks.paused ? { paused: true } : {}),
      ...(intakeHall ? { intakeHall } : {}),
      ...(pickupHall ? { pickupHall } : {}),
      readyForPickup: status === 'decided' && !!delivery?.pickup,
    };
  }

  /** How many cases the database holds (every status): `tongban simulate` checks it before filing demo cases. */
  countCases(options: { outside?: readonly { from: Date; to: Date }[] } = {}): Promise<number> {
    return this.repo.countCases(options.outside ?? []);
  }

  /**
   * Cases filed with intake in a county (the first 6 digits of their number) during the last `windowDays`
   * calendar days, per item, most first — for "popular in my county" (no personal data).
   */
  filedPerItem(countyCode: string, windowDays: number): Promise<{ itemCode: string; cases: number }[]> {
    const since = new Date(this.options.clock().getTime() - windowDays * 86_400_000);
    return this.repo.filedPerItem(countyCode, since);
  }

  /**
   * A case view as `p` may see it: staff see it whole (identifiers masked); a resident or a legal person's
   * operator — the applicant side — sees who filed it for them (帮办代办: the agent's kind, name and the
   * authorization it was filed under) but never the agent's ID number or contact details.
   */
  viewFor<V extends CaseView>(p: Principal, view: V): V {
    if (p.kind === 'staff' || !view.agent) return view;
    const { kind, name, authorizationRef } = view.agent as Record<string, unknown>;
    return {
      ...view,
      agent: {
        kind,
        name,
        ...(typeof authorizationRef === 'string' ? { authorizationRef } : {}),
      },
    };
  }

  /** An applicant's cases, by resident identity number or credit code (looked up by keyed hash). */
  async applicantCases(identifier: string, limit = 20): Promise<CaseView[]> {
    const key = this.keyOf(identifier.trim().toUpperCase());
    const calendar = await this.deps.calendar.calendar();
    return this.viewMany(await this.repo.applicantCases(key, limit), calendar);
  }

  // ---------------------------------------------------------------------------------------------
  // Personal data

  /**
   * The applicant's (and agent's) identifiers in full — ID number, phone, email, as filed — for a stated
   * purpose (个人信息保护法 arts. 28, 51; GB/T 35273-2020 §7.1 使用限制). Allowed by {@link mayRevealApplicant}
   * (for now: staff of the competent department or of the intake hall). Every revealed field is recorded
   * in the audit log (`pii.read_full`) in the same transaction as the read, so there is no read without its
   * record. A read with a side effect: not idempotent, every call is audited again.
   * @param p.purpose why the full value is needed, 2–200 characters (e.g. `核验原件` — checking the original).
   * @throws AppError(validation, `pii.purpose_required`, field `purpose`); AppError(not_found,
   *   `case.not_found`); AppError(forbidden, `pii.reveal_forbidden`) — nothing is recorded then.
   */
  async revealApplicant(caseRef: string, p: { actor: CaseActor; purpose: string }): Promise<ApplicantReveal> {
    const purpose = typeof p.purpose === 'string' ? p.purpose.trim() : '';
    if (purpose.length < 2 || purpose.length > 200)
      throw invalid(
        'purpose',
        'State why the full ID number and phone are needed (2–200 characters, e.g. 核验原件); the read is audited.',
        'pii.purpose_required',
      );
    const id = await this.resolveId(caseRef);
    return this.repo.db.transaction(async (tx) => {
      const row = (await this.repo.findById(id, tx))!;
      if (!mayRevealApplicant(p.actor, row)) {
        throw new AppError(
          'forbidden',
          'pii.reveal_forbidden',
          `${p.actor.kind} ${p.actor.id} may not read the full identifiers of case ${row.number}: staff of its competent department or intake hall may, for a stated purpose.`,
        );
      }
      const revealed: string[] = [];
      const open = (party: Record<string, unknown>, prefix: string) => {
        const out = { ...party };
        for (const k of Object.keys(SEALED_PARTY_FIELDS)) {
          if (typeof out[k] !== 'string') continue;
          out[k] = this.deps.pii.unseal(out[k]);
          revealed.push(`${prefix}.${k}`);
        }
        return out;
      };
      const applicant = open(row.applicant, 'applicant');
      const agent = row.agent ? open(row.agent, 'agent') : null;
      // 个人信息保护法 art. 6 / 等保 2.0: one audit entry per full read, with its purpose and the fields.
      await this.deps.audit.append(tx, {
        actor: auditActor(p.actor),
        action: 'pii.read_full',
        target: { type: 'case', id: row.id },
        purpose,
        details: {
          caseNumber: row.number,
          fields: revealed,
          ...(p.actor.departmentId ? { actorDepartmentId: p.actor.departmentId } : {}),
          ...(p.actor.hallCode ? { actorHallCode: p.actor.hallCode } : {}),
        },
      });
      return { caseNumber: row.number, applicant, agent, revealed };
    });
  }

  /**
   * Key rotation and migration step for the case tables: seals up to `limit` cases still holding
   * plaintext (written before encryption) or envelopes under an older key, under the current key. Rows
   * are claimed with FOR UPDATE SKIP LOCKED (a case a command holds is left for the next round; several
   * nodes share the work). Not a change of the case: no version bump, no event.
   * @returns how many cases were rewritten (0 when all are under the current key).
   */
  async resealPii(limit = 200): Promise<number> {
    const stale = this.deps.pii.staleKeyIds();
    return this.repo.db.transaction(async (tx) => {
      const rows = await this.repo.lockPiiStale(tx, stale, limit);
      for (const r of rows) {
        // Form values that are envelopes (identifier fields) move to the current key too.
        const formData = { ...r.formData };
        for (const [k, v] of Object.entries(formData))
          if (typeof v === 'string' && this.deps.pii.isEnvelope(v))
            formData[k] = this.deps.pii.reseal(v, 'identifier');
        const applicant = { ...r.applicant };
        for (const k of ['idNumber', 'creditCode', 'phone'])
          if (typeof applicant[k] === 'string') applicant[k] = this.deps.pii.unseal(applicant[k] as string);
        await this.repo.setPii(tx, r.id, {
          ...this.sealedColumns(r),
          formData,
          trackingKeys: this.trackingKeys(r.number, applicant),
        });
      }
      return rows.length;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // helpers

  private async resolveId(caseRef: string): Promise<string> {
    if (isCaseNumber(caseRef)) {
      const row = await this.repo.findByNumber(caseRef);
      if (!row) throw notFound('case.not_found', `No case ${caseRef}.`, 'case');
      return row.id;
    }
    const row = await this.findByUuid(caseRef);
    if (!row)
      throw notFound(
        'case.not_found',
        `No case ${caseRef}. Give the 21-digit case number or the case id.`,
        'case',
      );
    return row.id;
  }

  private async findByUuid(ref: string): Promise<CaseRow | undefined> {
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)) return undefined;
    return this.repo.findById(ref);
  }

  private async appendEvent(tx: Tx, caseId: string, seq: number, e: TimelineEvent): Promise<void> {
    await this.repo.appendEvent(tx, { ...this.eventRow(caseId, e), seq });
  }

  /** A timeline event as a `case_events` row (without its number). */
  private eventRow(caseId: string, e: TimelineEvent) {
    return {
      caseId,
      type: e.type,
      fromStatus: e.from,
      toStatus: e.to,
      at: new Date(e.at),
      actor: e.actor as unknown as Record<string, unknown>,
      reason: e.reason ?? null,
      data: e.data,
    };
  }

  /**
   * A `.catch` handler for a case mutation: a refusal on grounds of competence (403) is recorded in the
   * audit log as `outcome: denied` (its own statement: the refused transaction left nothing), then the
   * error goes on to the caller unchanged. Other errors pass through untouched.
   */
  private auditRefusal(
    caseRef: string,
    action: string,
    actor: CaseActor,
    extra: Record<string, unknown> = {},
  ) {
    return async (e: unknown): Promise<never> => {
      if (e instanceof AppError && e.kind === 'forbidden') {
        await this.deps.audit
          .record({
            actor: auditActor(actor),
            action,
            outcome: 'denied',
            target: { type: 'case', id: caseRef.slice(0, 128) },
            details: {
              code: e.code,
              ...extra,
              ...(actor.departmentId ? { actorDepartmentId: actor.departmentId } : {}),
              ...(actor.hallCode ? { actorHallCode: actor.hallCode } : {}),
            },
          })
          .catch(() => undefined); // the refusal itself is the answer; a failed audit write must not hide it
      }
      throw e;
    };
  }

  /**
   * Queues what every timeline event of a case produces besides itself: the outbox row (notifications)
   * and the audit entry (`case.<event type>`: who, which case, from which status to which). The audit
   * details are structured facts only — no free text, which could carry personal data.
   */
  private record(batch: WriteBatch, row: CaseRow, e: TimelineEvent, pickupCode?: string): void {
    this.deps.outbox.appendLater(batch, [this.outboxRow(row, e, pickupCode)]);
    this.deps.audit.appendLater(batch, {
      at: new Date(e.at),
      actor: auditActor(e.actor),
      action: `case.${e.type}`,
      target: { type: 'case', id: row.id },
      details: {
        caseNumber: row.number,
        from: e.from ?? null,
        to: e.to,
        ...(row.competentDepartmentId ? { competentDepartmentId: row.competentDepartmentId } : {}),
        ...(e.actor.departmentId ? { actorDepartmentId: e.actor.departmentId } : {}),
        ...(e.actor.hallCode ? { actorHallCode: e.actor.hallCode } : {}),
        ...(typeof (e.data as { outcome?: unknown }).outcome === 'string'
          ? { outcome: (e.data as { outcome: string }).outcome }
          : {}),
      },
    });
  }

  private outboxRow(row: CaseRow, e: TimelineEvent, pickupCode?: string): NewOutboxRow {
    const applicant = row.applicant as { name?: string; phone?: string; email?: string };
    // the inbox is the account the server recorded (the signed-in applicant, or the resident an agent's
    // authorization names) — never an account id a request body claims
    const accountId = row.applicantAccountId;
    const pii = this.deps.pii;
    const pref = (row.delivery as { preference?: { method: string; hallCode?: string } } | null)?.preference;
    const data = e.data as Record<string, unknown>;
    return {
      topic: `case.${e.type}`,
      aggregateType: 'case',
      aggregateId: row.id,
      payload: {
        caseId: row.id,
        caseNumber: row.number,
        itemCode: row.itemCode,
        itemName: row.itemName,
        status: e.to,
        applicant: {
          name: applicant.name ?? '',
          // Sealed (SM4 envelopes): the notifications module opens them only to send.
          ...(applicant.phone ? { phoneSealed: pii.reseal(applicant.phone, 'phone') } : {}),
          ...(applicant.email ? { emailSealed: pii.reseal(applicant.email, 'email') } : {}),
          ...(accountId ? { accountId } : {}),
        },
        competentDepartmentId: row.competentDepartmentId,
        intakeHallCode: row.intakeHallCode,
        ...(e.reason ? { reason: e.reason } : {}),
        ...(data.gaps ? { gaps: data.gaps } : {}),
        ...(data.outcome ? { outcome: data.outcome } : {}),
        ...(pickupCode
          ? { pickupCodeSealed: pii.encrypt(pickupCode, 'pickupCode'), pickupHallCode: pref?.hallCode }
          : {}),
        ...(e.type === 'deliver' && data.reference ? { trackingNumber: data.reference } : {}),
        ...(row.decisionDue ? { deadline: row.decisionDue } : {}),
        ...(data.level ? { warning: data.level } : {}),
        facts: eventFacts(row, e),
      },
    };
  }

  /** Queues the announcement of the committed change on {@link CASE_CHANGES_CHANNEL}. */
  private announce(batch: WriteBatch, row: CaseRow): void {
    batch.notify(
      CASE_CHANGES_CHANNEL,
      JSON.stringify({ id: row.id, number: row.number, status: row.status, version: row.version }),
    );
  }

  /** Presents many rows with two queries for all their parts and materials (list views: no N+1). */
  private async viewMany(rows: CaseRow[], calendar: WorkingDayCalendar): Promise<CaseView[]> {
    const ids = rows.map((r) => r.id);
    const [parts, materials] = await Promise.all([
      this.repo.partsOfMany(ids),
      this.repo.materialsOfMany(ids),
    ]);
    return Promise.all(
      rows.map((r) =>
        this.view(r, calendar, undefined, {
          parts: parts.filter((p) => p.caseId === r.id),
          materials: materials.filter((m) => m.caseId === r.id),
        }),
      ),
    );
  }

  /** Presents a row; `calendar` is passed in so that no query leaves the caller's transaction. */
  private async view(
    row: CaseRow,
    calendar: WorkingDayCalendar,
    tx?: Tx,
    preloaded?: { parts: CasePartSummary[]; materials: CaseMaterialSummary[] },
    clocks?: ReturnType<typeof computeClocks>,
  ): Promise<CaseView> {
    const state = CaseStateSchema.parse(row.state);
    const limits = row.limits as unknown as ClockLimits;
    const [parts, materials] = preloaded
      ? [preloaded.parts, preloaded.materials]
      : await Promise.all([this.repo.parts(row.id, tx), this.repo.materials(row.id, tx)]);
    const delivery = row.delivery ? { ...(row.delivery as Record<string, unknown>) } : null;
    if (delivery?.preference) {
      // The mailing details are personal data: masked in every view (the dispatch desk gets them with
      // its role once the identity issue lands).
      const p = { ...(delivery.preference as Record<string, unknown>) };
      const open = (v: string) => this.deps.pii.unseal(v);
      if (typeof p.phone === 'string') p.phone = maskPhone(open(p.phone));
      if (typeof p.address === 'string') p.address = maskAddress(open(p.address));
      if (typeof p.recipient === 'string') p.recipient = maskName(open(p.recipient));
      delivery.preference = p;
    }
    if (delivery?.pickup) {
      const { codeHash: _hidden, ...rest } = delivery.pickup as Record<string, unknown>;
      delivery.pickup = rest;
    }
    return {
      id: row.id,
      number: row.number,
      status: row.status as CaseStatus,
      outcome: row.outcome,
      itemCode: row.itemCode,
      itemName: row.itemName,
      implementationCode: row.implementationCode,
      applicant: this.maskParty(row.applicant),
      agent: row.agent ? this.maskParty(row.agent) : null,
      channel: row.channel,
      processingMode: row.processingMode,
      intakeHallCode: row.intakeHallCode,
      competentDepartmentId: row.competentDepartmentId,
      decidingDivisionCode: row.decidingDivisionCode,
      formData: this.maskFormData(row.formData),
      limits,
      clocks:
        clocks ??
        computeClocks(
          state,
          limits,
          calendar,
          todayInShanghai(this.options.clock()),
          this.options.thresholds,
        ),
      warning: row.warning,
      delivery,
      visits: row.visits,
      version: row.version,
      parts: parts.map((p) => ({
        seq: p.seq,
        departmentId: p.departmentId,
        divisionCode: p.divisionCode,
        itemCode: p.itemCode,
        status: p.status,
        outcome: p.outcome,
      })),
      materials: materials.map((m) => ({
        seq: m.seq,
        name: m.name,
        required: m.required,
      })),
      createdAt: row.createdAt.toISOString(),
      updatedAt: row.updatedAt.toISOString(),
    };
  }

  /** Form data as stored: the values of `keys` (identifier fields) sealed under the current key. */
  private sealFormData(data: Record<string, unknown>, keys: string[]): Record<string, unknown> {
    const out = { ...data };
    for (const [k, v] of Object.entries(out)) {
      // Text shaped like a sealed envelope would later be taken for one: not something a person types.
      if (!keys.includes(k) && this.deps.pii.isEnvelope(v)) {
        throw invalid(
          `formData.${k}`,
          'This value looks like sealed data (sm4cbc-sm3:…); enter the plain text.',
          'case.application_invalid',
        );
      }
    }
    for (const k of keys) if (typeof out[k] === 'string') out[k] = this.deps.pii.reseal(out[k], 'identifier');
    return out;
  }

  /** Form data for a view: sealed values opened and masked (ID-number or phone shape; else hidden). */
  private maskFormData(data: Record<string, unknown>): Record<string, unknown> {
    const out = { ...data };
    for (const [k, v] of Object.entries(out)) {
      if (typeof v !== 'string' || !this.deps.pii.isEnvelope(v)) continue;
      const plain = this.deps.pii.unseal(v);
      out[k] = /^\d{17}[\dXx]$/.test(plain)
        ? maskIdentityNumber(plain)
        : /^1\d{10}$/.test(plain)
          ? maskPhone(plain)
          : /^\d{12,30}$/.test(plain)
            ? `****${plain.slice(-4)}` // a bank account: its last four digits, as banks show it
            : '******';
    }
    return out;
  }

  /** A party (applicant/agent) for a view: sealed identifiers opened and masked. */
  private maskParty(a: Record<string, unknown>): Record<string, unknown> {
    const out = { ...a };
    const open = (v: unknown) => (typeof v === 'string' ? this.deps.pii.unseal(v) : undefined);
    const idNumber = open(out.idNumber);
    if (idNumber !== undefined) out.idNumber = maskIdentityNumber(idNumber);
    const phone = open(out.phone);
    if (phone !== undefined) out.phone = maskPhone(phone);
    const email = open(out.email);
    if (email !== undefined) out.email = maskEmail(email);
    return out;
  }

  /**
   * The personal-data columns as stored: ID numbers, phones, emails and the mailing recipient/address as
   * SM4 envelopes under the current key (plaintext sealed, older envelopes re-sealed), with that key's id.
   */
  private sealedColumns(c: {
    applicant: Record<string, unknown>;
    agent: Record<string, unknown> | null;
    delivery: Record<string, unknown> | null;
  }): {
    applicant: Record<string, unknown>;
    agent: Record<string, unknown> | null;
    delivery: Record<string, unknown> | null;
    piiKeyId: string;
  } {
    const seal = (o: Record<string, unknown>, fields: Partial<Record<string, PiiField>>) => {
      const out = { ...o };
      for (const [k, field] of Object.entries(fields))
        if (typeof out[k] === 'string') out[k] = this.deps.pii.reseal(out[k], field!);
      return out;
    };
    const preference = c.delivery?.preference as Record<string, unknown> | undefined;
    return {
      applicant: seal(c.applicant, SEALED_PARTY_FIELDS),
      agent: c.agent ? seal(c.agent, SEALED_PARTY_FIELDS) : null,
      delivery: c.delivery
        ? {
            ...c.delivery,
            ...(preference ? { preference: seal(preference, SEALED_PREFERENCE_FIELDS) } : {}),
          }
        : null,
      piiKeyId: this.deps.pii.currentKeyId(),
    };
  }

  private applicantKey(applicant: SubmitCase['applicant']): string {
    return this.keyOf(
      applicant.kind === 'natural_person'
        ? applicant.idNumber.toUpperCase()
        : applicant.creditCode.toUpperCase(),
    );
  }

  /**
   * The tracking keys of a case (cases.tracking_keys): HMAC-SM3 (PII_HASH_KEY) of `track:<number>:phone:<last
   * 4 digits of the applicant's phone>` and `track:<number>:id:<last 6 characters of the ID number or credit
   * code, upper case>`, for the applicant fields present (plaintext `applicant`).
   */
  private trackingKeys(number: string, applicant: Record<string, unknown>): string[] {
    const keys: string[] = [];
    const phone = typeof applicant.phone === 'string' ? applicant.phone.replace(/\D/g, '') : '';
    if (phone.length >= 4) keys.push(this.trackingKey(number, 'phone', phone.slice(-4)));
    const id = [applicant.idNumber, applicant.creditCode].find((v) => typeof v === 'string') as
      | string
      | undefined;
    if (id && id.trim().length >= 6)
      keys.push(this.trackingKey(number, 'id', id.trim().toUpperCase().slice(-6)));
    return keys;
  }

  private trackingKey(number: string, kind: 'phone' | 'id', tail: string): string {
    return createHmac('sm3', this.options.piiHashKey).update(`track:${number}:${kind}:${tail}`).digest('hex');
  }

  /** Keyed SM3 hash (HMAC-SM3) of an identifier. */
  private keyOf(identifier: string): string {
    return createHmac('sm3', this.options.piiHashKey).update(identifier).digest('hex');
  }

  private codeHash(caseId: string, code: string): string {
    return createHmac('sm3', this.options.piiHashKey).update(`pickup:${caseId}:${code}`).digest('hex');
  }

  private codeMatches(hash: string, caseId: string, code: string): boolean {
    const a = Buffer.from(hash, 'hex');
    const b = Buffer.from(this.codeHash(caseId, code), 'hex');
    return a.length === b.length && timingSafeEqual(a, b);
  }
}

/** What {@link CasesService.planClocks} decides for a case's clocks. */
interface ClockPlan {
  clocks: ReturnType<typeof computeClocks>;
  copies: {
    decisionDue: string | null;
    supplementDue: string | null;
    certificateDue: string | null;
    dueProvisional: boolean;
    warning: WarningLevel;
  };
  /** null: the stored timers stand. */
  timers: { set: { kind: string; dueAt: Date }[]; reset: string[] } | null;
}

/** The 404 for a case reference that names no case, with what to check. */
function caseNotFound(caseRef: string): AppError {
  return notFound(
    'case.not_found',
    isCaseNumber(caseRef)
      ? `No case ${caseRef}. Check the number on the receipt (收件凭证).`
      : `No case ${caseRef}. Give the 21-digit case number or the case id.`,
    'case',
  );
}

/** A case reference from a URL: the 21-digit number, or the case id (a UUID, lower-cased). */
function caseReference(ref: string): { number: string } | { id: string } {
  if (isCaseNumber(ref)) return { number: ref };
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref))
    return { id: ref.toLowerCase() };
  throw notFound('case.not_found', `No case ${ref}. Give the 21-digit case number or the case id.`, 'case');
}

/** The audit log's actor for a case actor (its department or hall go into the details). */
function auditActor(actor: CaseActor): { kind: string; id: string; onBehalfOf?: string } {
  return { kind: actor.kind, id: actor.id, ...(actor.onBehalfOf ? { onBehalfOf: actor.onBehalfOf } : {}) };
}

function actorKey(actor: CaseActor): string {
  return `${actor.kind}:${actor.id}`;
}

function versionConflict(row: CaseRow): AppError {
  return conflict(
    'case.version_conflict',
    `Case ${row.number} was changed by someone else (now version ${row.version}). Reload it and try again.`,
    'expectedVersion',
  );
}

function zodError(
  code: string,
  message: string,
  issues: { path: PropertyKey[]; message: string }[],
): AppError {
  const list = issues.map((i) => ({ field: i.path.map(String).join('.') || 'body', message: i.message }));
  return invalidMany(code, `${message} ${list.map((i) => `${i.field}: ${i.message}`).join('; ')}`, list);
}

/** Re-labels a validation/not-found error from another module with the request field it came from. */
function rename(field: string) {
  return (e: unknown): never => {
    if (e instanceof AppError && (e.kind === 'validation' || e.kind === 'not_found')) {
      throw new AppError(e.kind, e.code, e.message, {
        field,
        issues: [{ field, message: e.message }],
        cause: e,
      });
    }
    throw e;
  };
}

/** Keys of case event payloads written in clear before encryption (see {@link sealLegacyCasePayload}). */
export const LEGACY_PAYLOAD_KEYS = ['phone', 'email', 'pickupCode'];

/**
 * A case event payload written before encryption, sealed: `applicant.phone`/`email` and `pickupCode`
 * become `phoneSealed`/`emailSealed`/`pickupCodeSealed` envelopes (the notifications module reads both).
 */
export function sealLegacyCasePayload(
  pii: Pick<PiiVault, 'reseal'>,
  payload: Record<string, unknown>,
): Record<string, unknown> {
  const { pickupCode, ...rest } = payload;
  const out: Record<string, unknown> = { ...rest };
  if (typeof pickupCode === 'string') out.pickupCodeSealed = pii.reseal(pickupCode, 'pickupCode');
  if (out.applicant && typeof out.applicant === 'object') {
    const { phone, email, ...a } = out.applicant as Record<string, unknown>;
    out.applicant = {
      ...a,
      ...(typeof phone === 'string' ? { phoneSealed: pii.reseal(phone, 'phone') } : {}),
      ...(typeof email === 'string' ? { emailSealed: pii.reseal(email, 'email') } : {}),
    };
  }
  return out;
}

function maskEmail(email: string): string {
  const at = email.indexOf('@');
  return at > 0 ? `${email[0]}***${email.slice(at)}` : '***';
}

function startOfShanghaiDay(day: string): Date {
  return new Date(`${day}T00:00:00+08:00`);
}

function nextDay(day: string): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function encodeCursor(c: { decisionDue: string | null; id: string }): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(cursor: string): { decisionDue: string | null; id: string } {
  try {
    const c = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      decisionDue: unknown;
      id: unknown;
    };
    if (
      (c.decisionDue === null ||
        (typeof c.decisionDue === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(c.decisionDue))) &&
      typeof c.id === 'string' &&
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(c.id)
    ) {
      return { decisionDue: c.decisionDue, id: c.id };
    }
  } catch {
    // fall through
  }
  throw invalid(
    'cursor',
    'The cursor is not one this API returned; start again without it.',
    'case.cursor_invalid',
  );
}

/** Every item an application files: the main item and those of its 多地联办 parts. */
function itemsFiled(app: SubmitCase): string[] {
  return [...new Set([app.itemCode, ...(app.parts ?? []).flatMap((p) => (p.itemCode ? [p.itemCode] : []))])];
}

/** A hall as a policy target: its code and county (the code's prefix, e.g. 522601-zwfw → 522601). */
export function hallTarget(code: string): ScopeTarget {
  return { hallCodes: [code], divisionCodes: [code.split('-')[0]!] };
}

/**
 * What the audit entry of a refused agent submission records: structured facts only — the items, the
 * intake hall, the authorization id when it is one (a uuid; a free-text reference could carry personal
 * data) — never the applicant's name or identifiers.
 */
function agentRefusalDetails(app: SubmitCase): Record<string, unknown> {
  const ref = app.agent?.authorizationRef ?? '';
  return {
    itemCodes: itemsFiled(app),
    ...(app.intakeHallCode ? { intakeHallCode: app.intakeHallCode } : {}),
    authorizationRef: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)
      ? ref.toLowerCase()
      : 'not_a_uuid',
  };
}

/**
 * A case as public tracking shows it (GET /api/v1/track/:number): no personal data at all — item, status,
 * dates (Asia/Shanghai days), the decision deadline with working days left, the intake and pickup halls,
 * whether the result waits for pickup. Absent fields are left out.
 */
export interface TrackView {
  number: string;
  itemCode: string;
  itemName: string;
  status: CaseStatus;
  /** 中文 label of the status, e.g. 受理. */
  statusLabel: string;
  submittedOn: string;
  receivedOn?: string;
  acceptedOn?: string;
  decidedOn?: string;
  /** 承诺办结日 (YYYY-MM-DD) while the authority works on it. */
  deadline?: string;
  /** The deadline lies in a year whose holidays are not published yet. */
  deadlineProvisional?: boolean;
  /** Working days until the deadline (negative: overdue); absent when no clock runs. */
  workingDaysLeft?: number;
  /** The decision clock is paused (补正, 特别程序). */
  paused?: boolean;
  intakeHall?: { code: string; name: string };
  pickupHall?: { code: string; name: string };
  /** Decided, and the result waits at the pickup hall (bring the pickup code). */
  readyForPickup: boolean;
}

/** Public tracking lookups allowed per client IP and minute (GET /api/v1/track/:number). */
export const TRACK_LOOKUPS_PER_MINUTE = 10;

/**
 * Wrong checks tolerated per case number (from any address) in public tracking: `threshold` within
 * `windowMs` (ms) lock the number for `lockMs` (ms) — 20 of the 10 000 phone tails an hour.
 */
export const TRACK_WRONG_CHECKS = { threshold: 20, windowMs: 3_600_000, lockMs: 3_600_000 } as const;

/** What the applicant must do next on their case (see {@link CasesService.myCases}). */
export type NextStep =
  | { action: 'resubmit'; gaps: { material: string; reason: string }[]; requestedOn: string }
  | { action: 'pickup'; hallCode: string }
  | { action: 'rate' };

function nextStepOf(row: CaseRow): NextStep | null {
  const state = row.state as {
    supplement?: { requestedOn: string; gaps: { material: string; reason: string }[] } | null;
  };
  switch (row.status) {
    case 'supplement_requested':
      return state.supplement
        ? {
            action: 'resubmit',
            gaps: state.supplement.gaps.map((g) => ({ material: g.material, reason: g.reason })),
            requestedOn: state.supplement.requestedOn,
          }
        : null;
    case 'decided': {
      const pickup = (row.delivery as { pickup?: { hallCode?: string } } | null)?.pickup;
      return pickup?.hallCode ? { action: 'pickup', hallCode: pickup.hallCode } : null;
    }
    case 'delivered':
      return { action: 'rate' };
    default:
      return null;
  }
}

/**
 * The KPI facts of a case event ({@link CaseEventFacts}, outbox `payload.facts`): the row after the event
 * plus the event itself. No personal data: the kpi module keeps rollups from these alone.
 */
function eventFacts(row: CaseRow, e: TimelineEvent): CaseEventFacts {
  const facts = (row.facts as CaseFacts | null) ?? {
    applicantCountyCode: null,
    applicantAgeBand: 'not_applicable',
    traditionalVisits: 0,
  };
  const state = row.state as unknown as CaseState;
  const limits = row.limits as unknown as ClockLimits;
  return {
    ...facts,
    at: e.at,
    on: e.on,
    type: e.type,
    from: e.from ?? null,
    to: e.to,
    itemCode: row.itemCode,
    channel: row.channel,
    processingMode: row.processingMode,
    intakeHallCode: row.intakeHallCode,
    intakeCountyCode: sixDigitCode(row.intakeDivisionCode),
    decidingCountyCode: sixDigitCode(row.decidingDivisionCode),
    competentDepartmentId: row.competentDepartmentId,
    agent: row.agent != null,
    visits: row.visits,
    submittedOn: state.submittedOn,
    forwardedAt: state.forwardedAt ?? null,
    acceptedOn: state.acceptedOn ?? null,
    decidedOn: state.decidedOn ?? null,
    supplementNotices: state.supplementNotices ?? 0,
    legalWorkingDays: limits.legal?.unit === 'working_days' ? limits.legal.value : null,
    decidedWithinLimit: state.decidedOn && row.decisionDue ? state.decidedOn <= row.decisionDue : null,
    warning: row.warning,
    outcome: row.outcome ?? null,
  };
}

/** A division code as 6 GB/T 2260 digits: a county's own, or a province / prefecture padded (`52` → `520000`). */
function sixDigitCode(code: string): string {
  return code.length >= 6 ? code.slice(0, 6) : toGb2260Code(code);
}
