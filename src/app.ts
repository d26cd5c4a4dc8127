import { Hono, type MiddlewareHandler } from 'hono';
import { requestId } from 'hono/request-id';
import { RegExpRouter } from 'hono/router/reg-exp-router';
import type { Attendees } from './attendees/index.js';
import type { Bookings } from './bookings.js';
import type { Sql } from './database/connect.js';
import { DatabaseUnavailableError } from './database/database-health.js';
import type { EventStore } from './event-store/event-store.js';
import type { AppEnv } from './http/app-env.js';
import { limitBody } from './http/body-limit.js';
import { attendeeRoutes } from './http/attendee-routes.js';
import { bookingRoutes, routeNotFound, type BookingRoutesOptions } from './http/booking-routes.js';
import { docsRoutes } from './http/docs-routes.js';
import { nodeRequest, toProblem } from './http/error-problem.js';
import { eventRoutes } from './http/event-routes.js';
import { DATABASE_RETRY_AFTER_SECONDS, healthRoutes, type HealthDeps } from './http/health-routes.js';
import { liveRoutes, type LiveDeps } from './http/live-routes.js';
import { loadtestRoutes } from './http/loadtest-routes.js';
import { operatorOnly } from './http/operator-token.js';
import { pageRoutes } from './http/page-routes.js';
import { requestLog } from './http/request-log.js';
import type { Logger } from './logger.js';

export type AppDeps = HealthDeps & {
  /**
   * The booking designs by mount path: the event-sourced one at /conferences (its configured
   * write path), each write path under its own prefix, the naive CRUD baseline at
   * /crud/conferences and the one-round-trip CRUD at /crud-atomic/conferences.
   */
  designs: Record<string, Bookings>;
  eventStore: EventStore;
  /** The event-sourced design's personal data: revealed in the events listing, forgotten on request. */
  attendees: Attendees;
  /** What GET /conferences/:id/stream reads and waits on. */
  live: Omit<LiveDeps, 'eventStore' | 'log'>;
  sql: Sql;
  log: Logger;
  bodyLimitBytes: number;
  holds: BookingRoutesOptions['holds'];
  newReservationId?: () => string;
  operator: OperatorAccess;
};

/** The operator's token, and whether the demo page may be given it (see page-routes.ts). */
export type OperatorAccess = { token: string; onDemoPage: boolean };

/** The HTTP app, built from its dependencies; it never listens (main.ts does, tests call `app.request()`). */
export const createApp = (deps: AppDeps) => {
  const { designs, eventStore, log, health, metrics } = deps;
  // The RegExpRouter matches a request with one regular expression. Hono's default tries it and
  // silently falls back to its TrieRouter, slower by a few µs per request, as soon as one route is
  // more than the RegExpRouter takes; named, such a route fails every test instead.
  const app = new Hono<AppEnv>({ router: new RegExpRouter() });
  // Every layer of middleware is an async step per request (Hono's dispatch, a promise, a
  // closure): the in-flight gauge and the id on the answer share one, and the layers with
  // nothing to do after `next()` return its promise rather than await it.
  app.use(requestId());
  app.use(async (c, next) => {
    metrics.requestsInFlight.inc();
    try {
      await next();
    } finally {
      metrics.requestsInFlight.dec();
    }
    // Error answers are built as new Responses; every answer carries the id, also those.
    c.res.headers.set('X-Request-Id', c.get('requestId'));
  });
  app.use(requestLog(log));
  app.use(limitBody(deps.bodyLimitBytes));

  // While the database is known to be down, what needs it is answered at once: requests would
  // otherwise queue on a pool that cannot connect, and pile up for as long as the outage lasts.
  const needsDatabase: MiddlewareHandler<AppEnv> = (_, next) => {
    if (!health.reachable) throw new DatabaseUnavailableError(DATABASE_RETRY_AFTER_SECONDS);
    return next();
  };
  for (const path of [...Object.keys(designs), '/loadtest', '/attendees']) {
    app.use(path, needsDatabase);
    app.use(`${path}/*`, needsDatabase);
  }

  // One check for every operator route; routes added later take it from here too.
  const operator = operatorOnly(deps.operator.token);
  const routesOptions = {
    holds: deps.holds,
    operatorOnly: operator,
    ...(deps.newReservationId ? { newReservationId: deps.newReservationId } : {}),
  };
  for (const [path, bookings] of Object.entries(designs)) app.route(path, bookingRoutes(bookings, routesOptions));
  app.route('/conferences', eventRoutes(eventStore, deps.attendees, operator));
  app.route('/attendees', attendeeRoutes(deps.attendees, operator));
  app.route('/conferences', liveRoutes({ ...deps.live, eventStore, log }));
  app.route('/loadtest', loadtestRoutes(deps.sql));
  app.route('/', healthRoutes(deps));
  app.route('/', docsRoutes());
  app.route('/', pageRoutes(deps.operator.onDemoPage ? deps.operator.token : undefined));

  app.notFound((c) => routeNotFound(c.req.method, c.req.path).toResponse());
  app.onError((error, c) => toProblem(error, deps, c.get('requestId'), nodeRequest(c.env)).toResponse());
  return app;
};
