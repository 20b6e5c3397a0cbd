import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, ERROR_KINDS, type FieldIssue, isAppError } from '../../domain/errors.ts';

/**
 * The error body every endpoint returns on failure (and documents in OpenAPI):
 * `{ error: { code, message, field?, issues? } }` — `code` is stable (e.g. `division.not_found`),
 * `message` says what was wrong and what to do, `field` names the offending input.
 */
export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().describe('stable machine-readable error id, e.g. division.not_found'),
      message: z.string().describe('what was wrong and what to do'),
      field: z.string().optional().describe('the offending input field, when there is one'),
      issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    }),
  })
  .meta({ id: 'Error' });

export type ErrorBody = z.infer<typeof ErrorBodySchema>;

/** Standard error responses for a route's OpenAPI `response` map. */
export const errorResponses = {
  400: ErrorBodySchema,
  404: ErrorBodySchema,
  429: ErrorBodySchema,
  500: ErrorBodySchema,
} as const;

function bodyOf(e: AppError): ErrorBody {
  return {
    error: {
      code: e.code,
      message: e.message,
      ...(e.field === undefined ? {} : { field: e.field }),
      ...(e.issues === undefined ? {} : { issues: e.issues }),
    },
  };
}

/** What to send when a commonly needed header or query parameter is missing. */
const MISSING_HINTS: Readonly<Record<string, string>> = {
  'idempotency-key':
    'send Idempotency-Key with a key the client generates once per request (e.g. a UUID) and repeats on every retry',
  'x-tongban-actor':
    'sign in (session cookie or Authorization: Bearer <API token>), or in development send X-Tongban-Actor: <applicant|agent|staff>:<id>[;department=<uuid>][;hall=<hall code>]',
  division: 'add ?division=<6-, 9- or 12-digit division code> (the place whose implementation list applies)',
  recipient: 'add ?recipient=<kind>:<id>, e.g. applicant:<account id> or department:<department id>',
};

/**
 * Converts anything thrown in a request into an {@link AppError}. This is the one place where error
 * kinds meet HTTP statuses (through `ERROR_KINDS`).
 */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  if (hasZodFastifySchemaValidationErrors(err)) {
    const where = (err as { validationContext?: string }).validationContext ?? 'request';
    const issues: FieldIssue[] = err.validation.map((v) => {
      const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      const field = path || String((v.params as { missingProperty?: string })?.missingProperty ?? where);
      // A missing value: say what to send rather than the validator's "expected string, received undefined".
      if (/received undefined$/.test(v.message ?? '')) {
        return { field, message: `${field} is missing: ${MISSING_HINTS[field] ?? 'it is required'}.` };
      }
      return { field, message: `${field}: ${v.message ?? 'is invalid'}` };
    });
    const first = issues[0] ?? { field: where, message: 'is invalid' };
    return new AppError(
      'validation',
      'validation.invalid_field',
      `Invalid ${where} parameter ${first.message}`,
      {
        field: first.field,
        issues,
      },
    );
  }
  if (isResponseSerializationError(err)) {
    return new AppError(
      'internal',
      'internal.response_shape',
      'The server produced a response that does not match its schema.',
      {
        cause: err,
      },
    );
  }
  const fe = err as FastifyError;
  if (fe && typeof fe.statusCode === 'number') {
    if (fe.statusCode === 429) {
      return new AppError(
        'rate_limited',
        'http.rate_limited',
        'Too many requests. Wait a minute and try again.',
      );
    }
    if (fe.statusCode === 415) {
      return new AppError(
        'unsupported_media_type',
        'http.unsupported_media_type',
        'Send the body as JSON with the header Content-Type: application/json (file uploads: the media type the endpoint documents).',
      );
    }
    if (fe.statusCode === 413) {
      return new AppError('payload_too_large', 'http.payload_too_large', 'The request body is too large.');
    }
    if (fe.statusCode >= 400 && fe.statusCode < 500) {
      const kind = (Object.entries(ERROR_KINDS).find(([, s]) => s === fe.statusCode)?.[0] ??
        'validation') as keyof typeof ERROR_KINDS;
      return new AppError(kind, `http.${fe.code ?? 'bad_request'}`.toLowerCase(), fe.message);
    }
  }
  return new AppError(
    'internal',
    'internal.unexpected',
    'Something went wrong on the server. It has been logged; try again later.',
    {
      cause: err,
    },
  );
}

/** Installs the error and not-found handlers on a Fastify instance. */
export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err, req, reply) => {
    const e = toAppError(err);
    if (e.kind === 'internal' || e.kind === 'unavailable') req.log.error({ err: loggable(err) }, e.message);
    else req.log.info({ code: e.code, field: e.field }, e.message);
    return reply.status(e.status).send(bodyOf(e));
  });
  app.setNotFoundHandler((req, reply) => {
    const e = new AppError(
      'not_found',
      'http.route_not_found',
      `No such endpoint: ${req.method} ${req.url.split('?')[0]}. See /docs for the API.`,
    );
    return reply.status(404).send(bodyOf(e));
  });
}

/**
 * What of an unexpected error goes to the log: never the SQL parameters (they carry identity numbers and
 * phone numbers), only the error's kind, code, the statement text and the stack.
 */
export function loggable(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const e = err as Error & { query?: unknown; params?: unknown; code?: unknown; cause?: unknown };
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  const hasParams = e.params !== undefined;
  return {
    type: e.name,
    message: hasParams ? e.message.split('\nparams:')[0] : e.message,
    ...(e.code !== undefined ? { code: e.code } : {}),
    ...(typeof e.query === 'string' ? { query: e.query } : {}),
    ...(cause?.code !== undefined ? { causeCode: cause.code } : {}),
    ...(typeof cause?.message === 'string' ? { cause: cause.message } : {}),
    stack: e.stack?.split('\n').slice(1, 6).join('\n'),
  };
}
