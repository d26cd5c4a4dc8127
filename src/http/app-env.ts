import type { Context } from 'hono';
import type { RequestIdVariables } from 'hono/request-id';
import type { RequestMetadata } from '../bookings.js';

/** What every route can read from its context. */
export type AppEnv = { Variables: RequestIdVariables };

/** Metadata stored with the events a request appends. */
export const requestMetadata = (c: Context<AppEnv>): RequestMetadata => ({ requestId: c.get('requestId') });
