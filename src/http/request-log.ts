import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../logger.js';
import type { AppEnv } from './app-env.js';

/**
 * One log line per request, written when the answer is ready: method, path, status, duration and
 * the request id (the one the client sent in X-Request-Id, or the one generated for it), the same
 * id that is echoed in the answer and stored with the events the request appended.
 */
export const requestLog = (log: Logger): MiddlewareHandler<AppEnv> => {
  const logged: MiddlewareHandler<AppEnv> = async (c, next) => {
    const started = performance.now();
    await next();
    log.info(
      {
        requestId: c.get('requestId'),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        durationMs: Math.round((performance.now() - started) * 100) / 100,
      },
      'request',
    );
  };
  // Below info (the load tests' warn) a request costs no timing and no async step of its own.
  return (c, next) => (log.isLevelEnabled('info') ? logged(c, next) : next());
};
