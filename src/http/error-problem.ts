import type { IncomingMessage } from 'node:http';
import type { HttpBindings } from '@hono/node-server';
import { HTTPException } from 'hono/http-exception';
import { BusyError } from '../command-handlers/index.js';
import { DatabaseUnavailableError, isDatabaseUnavailable, type DatabaseHealth } from '../database/database-health.js';
import type { Logger } from '../logger.js';
import { isClientAbort } from './client-errors.js';
import { DATABASE_RETRY_AFTER_SECONDS } from './health-routes.js';
import { Problem } from './problem.js';

/** Node's request under @hono/node-server; absent when the app is called directly (`app.request()` in tests). */
export const nodeRequest = (env: unknown): IncomingMessage | undefined =>
  (env as Partial<HttpBindings> | undefined)?.incoming;

/** The one place where errors become answers. Unknown errors are logged; the client sees no details. */
export const toProblem = (
  error: Error,
  { log, health }: { log: Logger; health: DatabaseHealth },
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
    const retryAfter =
      error instanceof DatabaseUnavailableError ? error.retryAfterSeconds : DATABASE_RETRY_AFTER_SECONDS;
    return new Problem(
      503,
      'database_unavailable',
      'The database cannot be reached right now; retry shortly (with the same reservationId).',
      {},
      { 'Retry-After': String(retryAfter) },
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
