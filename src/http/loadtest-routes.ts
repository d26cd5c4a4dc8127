import { Hono } from 'hono';
import type { Sql } from '../database/connect.js';
import type { AppEnv } from './app-env.js';
import { validBody } from './request.js';
import { ceilingSchema } from './schemas.js';

/**
 * The ceiling of the HTTP layer, for the load tests (POST /loadtest/ceiling): the same
 * middleware, a validated JSON body and one database round trip, and nothing else.
 */
export const loadtestRoutes = (sql: Sql) =>
  new Hono<AppEnv>().post('/ceiling', async (c) => {
    await validBody(c, ceilingSchema);
    await sql`select 1`;
    return c.json({ ok: true });
  });
