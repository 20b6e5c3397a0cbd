import fs from 'node:fs';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import {
  type FastifyPluginAsyncZod,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { installErrorHandling } from './errors.ts';

export interface HttpAppOptions {
  /** pino level, or false for no logging (tests). */
  logLevel?: string | false;
  /** Requests per minute per client IP on /api/ (429 past it). */
  rateLimitMax?: number;
  /** Module route plugins, registered in order. */
  routes: FastifyPluginAsyncZod[];
  /** Folder of the built web client, served at `/` when present. */
  webRoot?: string | undefined;
  version?: string;
}

export type HttpApp = FastifyInstance;

/**
 * Builds the Fastify application: zod validation and serialization, OpenAPI at `/docs/json` and
 * Swagger UI at `/docs`, rate limiting on `/api/`, the one error model (./errors.ts), pino logs,
 * the module routes, and the web client at `/`.
 */
export async function buildHttpApp(options: HttpAppOptions): Promise<HttpApp> {
  const app = Fastify({
    logger: options.logLevel === false ? false : { level: options.logLevel ?? 'info' },
    logController: new LogController({
      disableRequestLogging: options.logLevel !== 'debug' && options.logLevel !== 'trace',
    }),
    routerOptions: { ignoreTrailingSlash: true },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandling(app);

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
          name: 'catalog',
          description: '政务服务事项 service catalog, 实施清单, 办事指南 (GB/T 39046-2020)',
        },
      ],
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(rateLimit, {
    global: false,
  });
  const limiter = app.rateLimit({ max: options.rateLimitMax ?? 600, timeWindow: '1 minute' });
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/api/')) await limiter.call(app, req, reply);
  });

  for (const plugin of options.routes) await app.register(plugin);

  if (options.webRoot && fs.existsSync(options.webRoot)) {
    // wildcard: files are looked up per request, so a rebuilt client is served without a restart.
    // index.html must be revalidated (it names the current hashed bundles); hashed assets never change.
    await app.register(fastifyStatic, {
      root: options.webRoot,
      prefix: '/',
      wildcard: true,
      setHeaders: (res, filePath) => {
        if (filePath.endsWith('.html')) res.header('Cache-Control', 'no-cache');
        else if (/[/\\]assets[/\\]/.test(filePath))
          res.header('Cache-Control', 'public, max-age=31536000, immutable');
      },
    });
  }
  return app;
}
