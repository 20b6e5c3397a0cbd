import fs from 'node:fs';
import path from 'node:path';
import { Stream } from 'node:stream';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import {
  type FastifyPluginAsyncZod,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { invalid } from '../../domain/errors.ts';
import { installCaching } from './caching.ts';
import { installErrorHandling } from './errors.ts';
import { installRoutePolicies, type RoutePolicy } from './route-policies.ts';

export interface HttpAppOptions {
  /** pino level, or false for no logging (tests). */
  logLevel?: string | false;
  /** Requests per minute per client IP on /api/ (429 past it). */
  rateLimitMax?: number;
  /** Module route plugins, registered in order, rate-limited. */
  routes: FastifyPluginAsyncZod[];
  /** Routes outside the rate limit (health checks). */
  systemRoutes?: FastifyPluginAsyncZod[];
  /** Trust X-Forwarded-For from a reverse proxy (true, a hop count, or addresses/CIDRs). */
  trustProxy?: boolean | string;
  /** Folder of the built web client, served at `/` when present. */
  webRoot?: string | undefined;
  version?: string;
  /**
   * Installs authentication on the root instance before any route is registered, so its hook runs for
   * every route (the identity module's `installAuthentication`, which sets `request.principal`).
   */
  authenticate?: (app: FastifyInstance) => Promise<void>;
  /**
   * The access policy of every route (./route-policies.ts): when given, a route without an entry stops
   * the app from starting, and API tokens are held to their scopes on every route.
   */
  routePolicies?: Readonly<Record<string, RoutePolicy>>;
  /** Where log lines go (default stdout); tests capture them to scan for personal data. */
  logStream?: { write(line: string): void };
}

/**
 * Log fields pino replaces with `[redacted]` wherever they appear (GB/T 35273-2020 §6.3, 等保 2.0 安全审计:
 * logs carry no credentials or personal data): credentials in headers, and any object field named like
 * a secret or an identifier that a log call might pass.
 */
export const LOG_REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-csrf-token"]',
  'req.headers["idempotency-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'headers["x-csrf-token"]',
  '*.password',
  '*.token',
  '*.pickupCode',
  '*.idNumber',
  '*.phone',
  '*.identifier',
];

export type HttpApp = FastifyInstance;

/**
 * Builds the Fastify application: zod validation and serialization, OpenAPI at `/docs/json` and
 * Swagger UI at `/docs`, rate limiting on `/api/`, the one error model (./errors.ts), pino logs,
 * the module routes, and the web client at `/`.
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    logger:
      options.logLevel === false
        ? false
        : {
            level: options.logLevel ?? 'info',
            ...(options.logStream ? { stream: options.logStream } : {}),
            serializers: { req: requestForLog },
            redact: { paths: LOG_REDACT_PATHS, censor: '[redacted]' },
          },
    logController: new LogController({
      disableRequestLogging: options.logLevel !== 'debug' && options.logLevel !== 'trace',
    }),
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true },
    trustProxy: options.trustProxy ?? false,
    // A malformed URL (bad % escape, raw bytes) gets the same error body as everything else.
    frameworkErrors: (error, _req, reply) => {
      void (reply as unknown as { code(n: number): { send(b: unknown): unknown } }).code(400).send({
        error: {
          code: 'http.bad_request',
          message: `The request could not be read: ${error.message}. Percent-encode the URL.`,
        },
      });
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);
  installCaching(app);
  rejectNulCharacters(app);
  // WebSocket routes (`wsHandler`): the upgrade request goes through the same hooks — authentication,
  // route policy, rate limit — before it is accepted. Frames larger than 16 KiB close the socket.
  await app.register(websocket, { options: { maxPayload: 16 * 1024 } });
  if (options.authenticate) await options.authenticate(app);
  if (options.routePolicies) installRoutePolicies(app, options.routePolicies);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'tongban API',
        description:
          '通办 — province-wide unified government services. Errors: `{ error: { code, message, field } }` with a stable `code`.',
        version: options.version ?? '0.1.0',
      },
      tags: [
        { name: 'system', description: 'health and metadata' },
        { name: 'regions', description: '行政区划 administrative divisions (GB/T 2260)' },
        { name: 'halls', description: '政务服务中心/便民服务中心/服务站 service halls' },
        { name: 'departments', description: '部门 competent departments' },
        {
          name: 'auth',
          description: '账户与登录 accounts, sign-in, sessions, API tokens (等保 2.0 level 3 身份鉴别)',
        },
        {
          name: 'catalog',
          description: '政务服务事项 service catalog, 实施清单, 办事指南 (GB/T 39046-2020)',
        },
        {
          name: 'messaging',
          description:
            '办件沟通 in-case messaging between the intake hall, the competent and consulted departments; live over WebSocket',
        },
        {
          name: 'audit',
          description:
            '审计日志 tamper-evident audit log, SM3 hash-chained (GB/T 39786-2021, 网络安全法 art. 21)',
        },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // System routes (/health) are not rate-limited; every module route is, in its own encapsulated
  // context, so the limit applies to the route as matched (a percent-encoded path cannot dodge it).
  for (const plugin of options.systemRoutes ?? []) await app.register(plugin);
  await app.register(async (api) => {
    await api.register(rateLimit, {
      max: options.rateLimitMax ?? 600,
      timeWindow: '1 minute',
    });
    for (const plugin of options.routes) await api.register(plugin);
  });

  if (options.webRoot && fs.existsSync(options.webRoot)) {
    // wildcard: files are looked up per request, so a rebuilt client is served without a restart.
    // index.html must be revalidated (it names the current hashed bundles); hashed assets never change.
    // preCompressed: the build writes .br and .gz beside each script, stylesheet and page (vite.config.ts),
    // sent to browsers that accept them (Vary: Accept-Encoding) — on 2G the bytes are the load time.
    // The citizen app's service worker (sw.js) and web manifest are revalidated on every load too, so
    // a new version is found at once (the browser also caps a worker's HTTP caching at 24 h).
    await app.register(fastifyStatic, {
      root: options.webRoot,
      prefix: '/',
      wildcard: true,
      preCompressed: true,
      setHeaders: (res, served) => {
        const filePath = served.replace(/\.(br|gz)$/, '');
        const name = path.basename(filePath);
        if (filePath.endsWith('.html') || name === 'sw.js') res.header('Cache-Control', 'no-cache');
        else if (name === 'manifest.webmanifest') {
          res.header('Cache-Control', 'no-cache');
          res.header('Content-Type', 'application/manifest+json; charset=utf-8');
        } else if (/[/\\]assets[/\\]/.test(filePath))
          res.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
    });
    // The staff workbench (src/web/staff) routes on the client under /staff/ (HTML5 history): every
    // /staff/… path that is not a file answers with its index.html, so a reload or a shared link works.
    const staffIndex = 'staff/index.html';
    if (fs.existsSync(path.join(options.webRoot, staffIndex))) {
      const serveStaff = (
        _req: unknown,
        reply: { header(k: string, v: string): unknown; sendFile(f: string): unknown },
      ) => {
        reply.header('Cache-Control', 'no-cache');
        return reply.sendFile(staffIndex);
      };
      // not API endpoints: kept out of the OpenAPI description
      app.get('/staff', { schema: { hide: true } }, serveStaff as never);
      app.get('/staff/*', { schema: { hide: true } }, serveStaff as never);
    }
    // The public tracking link printed as a QR code on every notice (documents module:
    // PUBLIC_BASE_URL/track/<case number>) opens the resident page, whose client reads the number from
    // the path and asks for the check characters (GET /api/v1/track/:number).
    if (fs.existsSync(path.join(options.webRoot, 'index.html'))) {
      app.get('/track/*', { schema: { hide: true } }, ((
        _req: unknown,
        reply: { header(k: string, v: string): unknown; sendFile(f: string): unknown },
      ) => {
        reply.header('Cache-Control', 'no-cache');
        return reply.sendFile('index.html');
      }) as never);
    }
  }
  return app;
}

/**
 * The request as logged (debug/trace request logs): method, path and client — the query string of
 * `/api/v1/auth/` requests is left out (an OpenID Connect callback carries the authorization code).
 */
function requestForLog(req: { method: string; url: string; ip?: string }): Record<string, unknown> {
  const url = req.url.startsWith('/api/v1/auth/') ? req.url.split('?')[0] : req.url;
  return { method: req.method, url, remoteAddress: req.ip };
}

/**
 * Refuses NUL characters anywhere in the path, query or JSON body (PostgreSQL cannot store them in
 * text): 400 `http.nul_character` naming the field, instead of a database error.
 */
/** Deepest nesting of a request body (and params/query) accepted; the deepest real body is ~6 levels. */
const MAX_BODY_DEPTH = 32;

function rejectNulCharacters(app: FastifyInstance): void {
  // NUL, and UTF-16 surrogates without their pair (JSON allows "\ud800"; PostgreSQL text and jsonb do not).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly the character refused here.
  const bad = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  // Iterative (an explicit stack), so a body nested 50,000 levels deep cannot overflow the call stack.
  const find = (root: unknown, rootPath: string): string | null => {
    const stack: { value: unknown; path: string; depth: number }[] = [
      { value: root, path: rootPath, depth: 0 },
    ];
    for (let item = stack.pop(); item; item = stack.pop()) {
      const { value, path, depth } = item;
      if (typeof value === 'string') {
        if (bad.test(value)) return path;
        continue;
      }
      if (!value || typeof value !== 'object') continue;
      // an upload's Buffer or stream is bytes, not fields — walking it would visit every byte, or a stream's socket
      if (ArrayBuffer.isView(value) || value instanceof Stream) continue;
      if (depth >= MAX_BODY_DEPTH) {
        throw invalid(
          path || 'body',
          `The request is nested more than ${MAX_BODY_DEPTH} levels deep; no endpoint takes that.`,
          'http.too_deep',
        );
      }
      const entries = Array.isArray(value)
        ? value.map((v, i) => [String(i), v] as const)
        : Object.entries(value as Record<string, unknown>);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        if (!Array.isArray(value) && bad.test(k))
          return path ? `${path}.${k.replace(bad, '?')}` : k.replace(bad, '?');
        stack.push({ value: v, path: path ? `${path}.${k}` : k, depth: depth + 1 });
      }
    }
    return null;
  };
  app.addHook('preValidation', async (req) => {
    const field = find(req.params, '') ?? find(req.query, '') ?? find(req.body, '');
    if (field !== null) {
      throw invalid(
        field || 'url',
        'Remove the NUL character (\\0) or the unpaired UTF-16 surrogate from this value.',
        'http.nul_character',
      );
    }
  });
}
