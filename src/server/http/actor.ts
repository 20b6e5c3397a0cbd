import type { CaseActor } from '../../domain/case-state.ts';
import { invalid } from '../../domain/errors.ts';

/**
 * Until the identity issue authenticates callers, the acting user is declared in a header:
 * `X-Tongban-Actor: <kind>:<id>[;department=<uuid>][;hall=<hall code>]`, e.g.
 * `staff:zhang;department=0b6c…;hall=520102-zwfw`. Development stand-in only: it is replaced by the
 * session's user and grants, and must not be exposed publicly before that.
 */
export function parseActorHeader(value: string | undefined): CaseActor {
  const m = value
    ? /^(applicant|agent|staff|system):([A-Za-z0-9._@-]{1,64})((;[a-z]+=[A-Za-z0-9._-]{1,64})*)$/.exec(
        value.trim(),
      )
    : null;
  if (!m) {
    throw invalid(
      'X-Tongban-Actor',
      'Send X-Tongban-Actor: <applicant|agent|staff>:<id>[;department=<uuid>][;hall=<hall code>] (development stand-in until sign-in exists).',
      'case.actor_missing',
    );
  }
  const actor: CaseActor = { kind: m[1] as CaseActor['kind'], id: m[2]! };
  for (const part of (m[3] ?? '').split(';').filter(Boolean)) {
    const [k, v] = part.split('=') as [string, string];
    if (k === 'department') actor.departmentId = v;
    else if (k === 'hall') actor.hallCode = v;
    else
      throw invalid(
        'X-Tongban-Actor',
        `Unknown actor attribute "${k}": use department= or hall=.`,
        'case.actor_missing',
      );
  }
  if (actor.kind === 'system')
    throw invalid('X-Tongban-Actor', 'system is reserved for the server’s own jobs.', 'case.actor_missing');
  return actor;
}

/**
 * The context of a retryable mutation from its headers: the actor (`X-Tongban-Actor`), the client's
 * `Idempotency-Key`, and the version it last saw (`If-Match: "3"`) for optimistic concurrency.
 */
export function mutationContext(
  headers: Record<string, string | string[] | undefined>,
  /** The signed-in caller's actor (from `request.principal`); without it the header is parsed. */
  signedIn?: CaseActor,
): {
  actor: CaseActor;
  idempotencyKey: string;
  expectedVersion?: number;
} {
  const ifMatch = typeof headers['if-match'] === 'string' ? headers['if-match'] : undefined;
  if (ifMatch !== undefined && !/^"?\d+"?$/.test(ifMatch)) {
    throw invalid(
      'If-Match',
      'If-Match is the case version you last saw, e.g. "3".',
      'http.if_match_invalid',
    );
  }
  return {
    actor:
      signedIn ??
      parseActorHeader(
        typeof headers['x-tongban-actor'] === 'string' ? headers['x-tongban-actor'] : undefined,
      ),
    idempotencyKey: String(headers['idempotency-key'] ?? ''),
    ...(ifMatch === undefined ? {} : { expectedVersion: Number(ifMatch.replaceAll('"', '')) }),
  };
}
