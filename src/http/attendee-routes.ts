import { Hono, type MiddlewareHandler } from 'hono';
import type { Attendees } from '../attendees/index.js';
import type { AppEnv } from './app-env.js';
import { Problem } from './problem.js';
import { valid } from './request.js';
import { attendeeIdSchema } from './schemas.js';

/**
 * An attendee's right to be forgotten: deleting their key makes their personal fields unreadable
 * wherever the events keep them (crypto-shredding); the events themselves are never rewritten,
 * and no seat count changes. Repeating it changes nothing and answers the same. An operator
 * route (`operatorOnly`): the operator acts on the person's request.
 */
export const attendeeRoutes = (attendees: Attendees, operatorOnly: MiddlewareHandler<AppEnv>) =>
  new Hono<AppEnv>().delete('/:attendeeId/personal-data', operatorOnly, async (c) => {
    const attendeeId = valid(attendeeIdSchema, c.req.param('attendeeId'), 'attendee id');
    const forgottenAt = await attendees.forget(attendeeId);
    if (!forgottenAt) throw new Problem(404, 'attendee_not_found', `No attendee ${attendeeId} is known here.`);
    return c.json({ attendeeId, forgotten: true, forgottenAt: forgottenAt.toISOString() });
  });
