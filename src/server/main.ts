import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AppError } from '../domain/errors.ts';
import type { Config } from './config.ts';
import { type Database, openDatabase } from './db/index.ts';
import { buildHttpApp, type HttpApp } from './http/app.ts';
import { ROUTE_POLICIES } from './http/route-policies.ts';
import { systemRoutes } from './http/system-routes.ts';
import { jobLog } from './jobs/log.ts';
import { type JobRunner, startJobs } from './jobs/runner.ts';
import { auditRoutes } from './modules/audit/routes.ts';
import { calendarRoutes } from './modules/calendar/routes.ts';
import { CALENDAR_CHANGES_CHANNEL } from './modules/calendar/service.ts';
import { casesRoutes } from './modules/cases/routes.ts';
import { CASE_CHANGES_CHANNEL } from './modules/cases/service.ts';
import { catalogAdminRoutes } from './modules/catalog/admin-routes.ts';
import { catalogRoutes } from './modules/catalog/routes.ts';
import { CATALOG_CHANGES_CHANNEL } from './modules/catalog/service.ts';
import { custodyRoutes } from './modules/custody/routes.ts';
import { departmentsRoutes } from './modules/departments/routes.ts';
import { documentsRoutes } from './modules/documents/routes.ts';
import { evaluationsRoutes } from './modules/evaluations/routes.ts';
import { feedbackRoutes } from './modules/feedback/routes.ts';
import { hallsRoutes } from './modules/halls/routes.ts';
import { installAuthentication } from './modules/identity/plugin.ts';
import { identityRoutes } from './modules/identity/routes.ts';
import { staffRoutes } from './modules/identity/staff-routes.ts';
import { kpiRoutes } from './modules/kpi/routes.ts';
import { LiveHub } from './modules/messaging/live.ts';
import { messagingRoutes } from './modules/messaging/routes.ts';
import { notificationsRoutes } from './modules/notifications/routes.ts';
import { regionsRoutes } from './modules/regions/routes.ts';
import { warningsRoutes } from './modules/warnings/routes.ts';
import {
  createServices,
  type LoadSummary,
  type Services,
  seedCatalog,
  seedReferenceData,
  summarize,
} from './services.ts';

/** The built web client (vite build output). */
export const WEB_ROOT = fileURLToPath(new URL('../../dist/web', import.meta.url));

export interface RunningServer {
  app: HttpApp;
  database: Database;
  services: Services;
  summary: LoadSummary;
  /** This node's background jobs (timers, outbox, notifications). */
  jobs: JobRunner;
  /** This node's live WebSocket connections (in-case messaging). */
  live: LiveHub;
  /** e.g. http://127.0.0.1:3000 */
  url: string;
  close(): Promise<void>;
}

/**
 * Composition root: config → database (migrated) → seed when empty → modules → HTTP.
 * `listen: false` builds everything without opening a port (tests use `app.inject`).
 */
export async function startServer(
  config: Config,
  options: {
    listen?: boolean;
    database?: Database;
    jobs?: boolean;
    /** Where the HTTP server's and the jobs' log lines go (default stdout/stderr); tests capture them. */
    logStream?: { write(line: string): void };
    /** The current instant of the case engine and the identity module (tests move it); default now. */
    clock?: () => Date;
  } = {},
): Promise<RunningServer> {
  const database =
    options.database ?? (await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir }));
  try {
    const services = await createServices(database, {
      piiHashKey: config.piiHashKey,
      piiEncryptionKeys: config.piiEncryptionKeys,
      dataDir: config.dataDir,
      log: jobLog(config, options.logStream),
      ...(options.clock ? { clock: options.clock } : {}),
    });
    let summary = await summarize(services);
    if (summary.divisions.province === 0) await seedReferenceData(database, services);
    const c = summary.catalog;
    // Also mends an import whose binding step was cut off (items without a provincial implementation).
    if (c.items === 0 || c.itemsWithoutStandard > 0 || c.boundImplementations < c.implementations) {
      await seedCatalog(services);
    }
    summary = await summarize(services);
    await services.search.rebuild();
    // Another node or the CLI imported a catalog: rebuild this node's search index (coalesced).
    let rebuilding: Promise<unknown> | null = null;
    let again = false;
    const rebuild = (): void => {
      if (rebuilding) {
        again = true;
        return;
      }
      rebuilding = services.search
        .rebuild()
        .catch((e) => console.error('search index rebuild failed:', e))
        .finally(() => {
          rebuilding = null;
          if (again) {
            again = false;
            rebuild();
          }
        });
    };
    const stopCatalog = await database.listen(CATALOG_CHANGES_CHANNEL, rebuild);
    const stopCalendar = await database.listen(CALENDAR_CHANGES_CHANNEL, () =>
      services.calendar.invalidate(),
    );
    // In-case messaging: this node LISTENs once and fans out to its WebSocket connections.
    const live = new LiveHub({
      messaging: services.messaging,
      listen: (channel, onPayload) => database.listen(channel, onPayload),
      caseChannel: CASE_CHANGES_CHANNEL,
      log: (message, error) =>
        options.logStream
          ? options.logStream.write(`${message}: ${(error as Error)?.message ?? String(error)}\n`)
          : console.error(message, error),
    });
    await live.start();
    const stopListening = async () => {
      await stopCatalog();
      await stopCalendar();
      await live.stop();
    };
    const jobs = startJobs(services, {
      intervalMs: options.jobs === false ? 0 : config.jobsIntervalMs,
      log: (message, error) =>
        options.logStream
          ? options.logStream.write(`${message}: ${(error as Error)?.message ?? String(error)}\n`)
          : console.error(message, error),
    });
    const app = await buildHttpApp({
      logLevel: config.logLevel === 'silent' ? false : config.logLevel,
      rateLimitMax: config.rateLimitMax,
      webRoot: fs.existsSync(WEB_ROOT) ? WEB_ROOT : undefined,
      trustProxy: config.trustProxy,
      ...(options.logStream ? { logStream: options.logStream } : {}),
      systemRoutes: [systemRoutes({ database, services })],
      routePolicies: ROUTE_POLICIES,
      authenticate: (root) =>
        installAuthentication(root, { identity: services.identity, config: services.authConfig }),
      routes: [
        regionsRoutes(services),
        departmentsRoutes(services),
        hallsRoutes(services),
        calendarRoutes(services),
        catalogRoutes(services),
        casesRoutes(services),
        notificationsRoutes({ notifications: services.notifications, places: services.cases }),
        messagingRoutes({
          messaging: services.messaging,
          live,
          identity: services.identity,
          allowedOrigins: services.authConfig.allowedOrigins,
        }),
        custodyRoutes(services),
        documentsRoutes(services),
        auditRoutes(services),
        identityRoutes({
          identity: services.identity,
          oidc: services.oidc,
          authConfig: services.authConfig,
          maxUploadBytes: services.files.maxBytes,
        }),
        staffRoutes({ identity: services.identity }),
        catalogAdminRoutes({ catalog: services.catalog, departments: services.departments }),
        warningsRoutes({ warnings: services.warnings }),
        feedbackRoutes({ feedback: services.feedback }),
        evaluationsRoutes({ evaluations: services.evaluations }),
        kpiRoutes(services),
      ],
    });
    let url = '';
    if (options.listen !== false) {
      try {
        await app.listen({ port: config.port, host: config.host });
      } catch (e) {
        await app.close();
        if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new AppError(
            'unavailable',
            'http.port_in_use',
            `Port ${config.port} on ${config.host} is already in use. Stop the other process or set PORT to a free port.`,
            { field: 'PORT', cause: e },
          );
        }
        throw e;
      }
      const addr = app.server.address();
      const port = typeof addr === 'object' && addr ? addr.port : config.port;
      url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
    }
    return {
      app,
      database,
      services,
      summary,
      url,
      jobs,
      live,
      close: async () => {
        await jobs.stop();
        await services.notifications.close();
        await services.files.close();
        await stopListening();
        await app.close();
        if (!options.database) await database.close();
      },
    };
  } catch (e) {
    if (!options.database) await database.close();
    throw e;
  }
}
