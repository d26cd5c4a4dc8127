import { Hono } from 'hono';
import type { Sql } from '../database/connect.js';
import { probeDatabase, type DatabaseHealth } from '../database/database-health.js';
import type { Metrics } from '../metrics.js';
import type { ProjectionLags } from '../projections/index.js';
import type { AppEnv } from './app-env.js';
import { Problem } from './problem.js';

/** A health check that waits longer than this for the database reports it down. */
const HEALTH_TIMEOUT_MS = 2000;
/** What a client is told to wait before retrying while the database is unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 1;

export type HealthDeps = {
  sql: Sql;
  /** Told when the check finds the database gone, so the gate closes at once. */
  health: DatabaseHealth;
  metrics: Metrics;
  /** Each projection's lag, for the details of GET /healthz. */
  projectionLag: () => Promise<ProjectionLags>;
};

/** What an operator's monitoring reads: GET /healthz (up or 503) and GET /metrics (Prometheus). */
export const healthRoutes = ({ sql, health, metrics, projectionLag }: HealthDeps) =>
  new Hono<AppEnv>()
    .get('/healthz', async (c) => {
      const reachable =
        health.reachable &&
        (await probeDatabase(sql, HEALTH_TIMEOUT_MS).then(
          () => true,
          () => false,
        ));
      if (!reachable) {
        health.suspect();
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
        projectionLag().catch(() => undefined),
        new Promise<undefined>((done) => setTimeout(done, HEALTH_TIMEOUT_MS, undefined).unref()),
      ]);
      return c.json({ status: 'ok', database: 'up', ...(projections ? { projections } : {}) });
    })
    .get('/metrics', async (c) =>
      c.text(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }),
    );
