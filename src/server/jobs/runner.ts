import type { Services } from '../services.ts';

export interface JobRunner {
  /** Runs one round now (tests and the CLI use it); resolves when the round is done. */
  runOnce(): Promise<JobRound>;
  stop(): Promise<void>;
}

/** What one round did. */
export interface JobRound {
  timersFired: number;
  eventsDispatched: number;
  messages: { claimed: number; delivered: number };
  /** Audit entries given their chain position and SM3 hash (0 when another node is chaining). */
  auditChained: number;
  /** Documents (文书) issued for cases queued by their events. */
  documentsIssued: number;
  /** Rows re-sealed under the current PII key (rotation / encryption of older rows), per store. */
  piiResealed: number;
  /** Alerts raised or updated by the periodic warning rules (预警). */
  alertsRaised: number;
}

/**
 * Background work of one node, on the database so any number of nodes share it: fire due clock timers
 * (warnings, deemed acceptance), dispatch outbox events to their handlers (notifications), send due
 * messages, issue case documents (PDF 文书, rendered outside any transaction), chain pending audit entries (one node at a time: the chain head is locked FOR UPDATE SKIP
 * LOCKED; the others skip), re-seal a batch of personal data still in plaintext or under an older key (key rotation
 * without downtime: reads keep working under old keys meanwhile). Each step claims its rows with FOR
 * UPDATE SKIP LOCKED. Rounds never overlap on a node; a
 * failing round is logged and the next one retries.
 * @param intervalMs time between rounds (0: no timer, only `runOnce`).
 */
export function startJobs(
  services: Pick<Services, 'cases' | 'outbox' | 'notifications' | 'audit'> & {
    pii?: Pick<Services['pii'], 'rotate'>;
    documents?: Pick<Services['documents'], 'runPending'>;
    warnings?: Pick<Services['warnings'], 'evaluate'>;
    /** 整改: flags rectifications newly past a due date (`rectification.overdue`, dispatched this round). */
    evaluations?: Pick<Services['evaluations'], 'flagOverdue'>;
  },
  options: { intervalMs: number; log?: (message: string, error: unknown) => void },
): JobRunner {
  let running: Promise<JobRound> | null = null;
  let stopped = false;
  const round = async (): Promise<JobRound> => {
    const timersFired = await services.cases.fireDueTimers(200);
    if (services.evaluations) await services.evaluations.flagOverdue(200);
    let eventsDispatched = 0;
    for (let n = await services.outbox.dispatch(200); n > 0; n = await services.outbox.dispatch(200)) {
      eventsDispatched += n;
      if (eventsDispatched >= 2000) break;
    }
    const sent = await services.notifications.sendDue({ limit: 50 });
    let auditChained = 0;
    for (let n = await services.audit.chain(1000); n > 0; n = await services.audit.chain(1000)) {
      auditChained += n;
      if (auditChained >= 20_000) break;
    }
    const documentsIssued = services.documents ? await services.documents.runPending(20) : 0;
    const resealed = services.pii ? await services.pii.rotate(200) : {};
    const alertsRaised = services.warnings ? await services.warnings.evaluate() : 0;
    return {
      timersFired,
      eventsDispatched,
      messages: { claimed: sent.claimed, delivered: sent.delivered },
      auditChained,
      documentsIssued,
      piiResealed: Object.values(resealed).reduce((a, b) => a + b, 0),
      alertsRaised,
    };
  };
  const runOnce = (): Promise<JobRound> => {
    if (!running) {
      running = round().finally(() => {
        running = null;
      });
    }
    return running;
  };
  const timer =
    options.intervalMs > 0
      ? setInterval(() => {
          if (stopped || running) return;
          runOnce().catch((e) => options.log?.('background jobs failed; retrying next round', e));
        }, options.intervalMs)
      : null;
  timer?.unref();
  return {
    runOnce,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
