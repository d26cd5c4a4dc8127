import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import type { Bookings } from './bookings.js';
import { BusyError } from './command-handlers/index.js';
import type { Sql } from './database/connect.js';
import { DatabaseUnavailableError, isDatabaseUnavailable, type DatabaseHealth } from './database/database-health.js';
import type { EventStore } from './event-store/event-store.js';
import type { AppEnv } from './http/app-env.js';
import { bookingRoutes, routeNotFound } from './http/booking-routes.js';
import { isClientAbort } from './http/client-errors.js';
import { docsRoutes } from './http/docs-routes.js';
import { eventRoutes } from './http/event-routes.js';
import { liveRoutes, type LiveDeps } from './http/live-routes.js';
import { pageRoutes } from './http/page-routes.js';
import { Problem } from './http/problem.js';
import { requestLog } from './http/request-log.js';
import { validBody } from './http/request.js';
import { ceilingSchema } from './http/schemas.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { ProjectionLags } from './projections/index.js';

/** A health check that waits longer than this for the database reports it down. */
const HEALTH_TIMEOUT_MS = 2000;
/** What a client is told to wait before retrying while the database is unreachable. */
const DATABASE_RETRY_AFTER_SECONDS = 1;

export type AppDeps = {
  /**
   * The booking designs by mount path: the event-sourced one at /conferences (its configured
   * write path), each write path under its own prefix, the naive CRUD baseline at
   * /crud/conferences and the one-round-trip CRUD at /crud-atomic/conferences.
   */
  designs: Record<string, Bookings>;
  eventStore: EventStore;
  /** What GET /conferences/:id/stream reads and waits on. */
  live: Omit<LiveDeps, 'eventStore' | 'log'>;
  sql: Sql;
  /** Whether the database can be reached; told of every failure that looks like an outage. */
  health: DatabaseHealth;
  metrics: Metrics;
  /** Each projection's lag, for the details of GET /healthz. */
  projectionLag: () => Promise<ProjectionLags>;
  log: Logger;
  bodyLimitBytes: number;
  newReservationId?: () => string;
};

/** The HTTP app, built from its dependencies; it never listens (main.ts does, tests call `app.request()`). */
export const createApp = (deps: AppDeps) => {
  // The RegExpRouter matches a request with one regular expression. Hono's default tries it and
  // silently falls back to its TrieRouter, slower by a few µs per request, as soon as one route is
  // more than the RegExpRouter takes; named, such a route fails every test instead.
  const app = new Hono<AppEnv>({ router: new RegExpRouter() });
  app.use(requestId());
  // Error answers are built as new Responses; every answer carries the id, also those.
  app.use(async (c, next) => {
    await next();
    c.res.headers.set('X-Request-Id', c.get('requestId'));
  });
  app.use(requestLog(deps.log));
  app.use(async (_, next) => {
    deps.metrics.requestsInFlight.inc();
    try {
      await next();
    } finally {
      deps.metrics.requestsInFlight.dec();
    }
  });
  const tooLarge = () =>
    new Problem(413, 'payload_too_large', `Request bodies are limited to ${deps.bodyLimitBytes} bytes.`).toResponse();
  const limitStreamedBody = bodyLimit({ maxSize: deps.bodyLimitBytes, onError: tooLarge });
  app.use(async (c, next) => {
    // A declared length is judged from the header alone. Hono's bodyLimit first reads
    // `c.req.raw.body`, which makes @hono/node-server build a full web Request (stream, abort
    // signal) for every request and loses its direct read of the body; that measured about a
    // tenth of the server's CPU under load. Node's HTTP parser holds a body to its declared length.
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      return Number(declared) > deps.bodyLimitBytes ? tooLarge() : next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    return limitStreamedBody(c, next);
  });

  // While the database is known to be down, what needs it is answered at once: requests would
  // otherwise queue on a pool that cannot connect, and pile up for as long as the outage lasts.
  const needsDatabase: MiddlewareHandler<AppEnv> = async (_, next) => {
    if (!deps.health.reachable) throw new DatabaseUnavailableError(DATABASE_RETRY_AFTER_SECONDS);
    await next();
  };
  for (const path of [...Object.keys(deps.designs), '/loadtest']) {
    app.use(path, needsDatabase);
    app.use(`${path}/*`, needsDatabase);
  }

  for (const [path, bookings] of Object.entries(deps.designs)) {
    app.route(path, bookingRoutes(bookings, deps.newReservationId));
  }
  app.route('/conferences', eventRoutes(deps.eventStore));
  app.route('/conferences', liveRoutes({ ...deps.live, eventStore: deps.eventStore, log: deps.log }));

  // The ceiling of the HTTP layer, for the load tests: the same middleware, a validated JSON
  // body and one database round trip, and nothing else.
  app.post('/loadtest/ceiling', async (c) => {
    await validBody(c, ceilingSchema);
    await deps.sql`select 1`;
    return c.json({ ok: true });
  });

  app.get('/healthz', async (c) => {
    const reachable =
      deps.health.reachable &&
      (await Promise.race([
        deps.sql`select 1`.then(
          () => true,
          () => false,
        ),
        new Promise<boolean>((done) => setTimeout(done, HEALTH_TIMEOUT_MS, false).unref()),
      ]));
    if (!reachable) {
      deps.health.suspect();
      throw new Problem(
        503,
        'database_unavailable',
        'The database cannot be reached.',
        { database: 'down' },
        { 'Retry-After': String(DATABASE_RETRY_AFTER_SECONDS) },
      );
    }
    // A detail, not a condition of health: a lag query that fails or is slow leaves it out.
    const projections = await Promise.race([
      deps.projectionLag().catch(() => undefined),
      new Promise<undefined>((done) => setTimeout(done, HEALTH_TIMEOUT_MS, undefined).unref()),
    ]);
    return c.json({ status: 'ok', database: 'up', ...(projections ? { projections } : {}) });
  });

  app.get('/metrics', async (c) =>
    c.text(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );

  app.route('/', docsRoutes());
  app.route('/', pageRoutes());

  app.notFound((c) => routeNotFound(c.req.method, c.req.path).toResponse());
  app.onError((error, c) => toProblem(error, deps, c.get('requestId'), nodeRequest(c.env)).toResponse());
  return app;
};

/** Node's request under @hono/node-server; absent when the app is called directly (`app.request()` in tests). */
const nodeRequest = (env: unknown): IncomingMessage | undefined => (env as Partial<HttpBindings> | undefined)?.incoming;

/** The one place where errors become answers. Unknown errors are logged; the client sees no details. */
const toProblem = (
  error: Error,
  { log, health }: Pick<AppDeps, 'log' | 'health'>,
  requestId: string,
  incoming?: IncomingMessage,
): Problem => {
  if (error instanceof Problem) return error;
  if (isClientAbort(error, incoming)) {
    // Not a server error, and nobody reads the answer: a short line for whoever traces the request.
    log.debug({ requestId }, 'client closed the connection mid-request');
    return new Problem(400, 'invalid_request', 'The client closed the connection before the request was complete.');
  }
  if (isDatabaseUnavailable(error)) {
    // The gate's own refusal says nothing new; anything else may be the first sign of an outage.
    if (!(error instanceof DatabaseUnavailableError)) health.suspect();
    // A write may have committed just before the connection was lost: a retry with the same
    // reservationId answers it without booking twice.
    return new Problem(
      503,
      'database_unavailable',
      'The database cannot be reached right now; retry shortly (with the same reservationId).',
      {},
      {
        'Retry-After': String(
          error instanceof DatabaseUnavailableError ? error.retryAfterSeconds : DATABASE_RETRY_AFTER_SECONDS,
        ),
      },
    );
  }
  if (error instanceof BusyError) {
    return new Problem(
      503,
      'busy',
      'This conference is busy right now; retry shortly.',
      {},
      {
        'Retry-After': String(error.retryAfterSeconds),
      },
    );
  }
  if (error instanceof HTTPException && error.status < 500) {
    return new Problem(error.status, 'invalid_request', 'The request could not be read.');
  }
  log.error({ err: error, requestId }, 'request failed');
  return new Problem(500, 'internal_error', `Something went wrong; it was logged with request id ${requestId}.`);
};
