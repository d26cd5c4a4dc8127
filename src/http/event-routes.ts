import { Hono, type MiddlewareHandler } from 'hono';
import type { Attendees } from '../attendees/index.js';
import type { EventStore } from '../event-store/event-store.js';
import { streamIdOf, toSeatAvailabilityEvent } from '../seat-availability/index.js';
import type { AppEnv } from './app-env.js';
import { rejectionProblem } from './problem.js';
import { valid } from './request.js';
import { conferenceIdSchema, eventsQuerySchema } from './schemas.js';

/**
 * The audit trail of a conference: its stream's events, oldest first, a page at a time, each in
 * the current shape of its type, and the attendee it names revealed (or shown forgotten). An
 * operator route (`operatorOnly`): the events carry every reservation's id, its holder's proof,
 * and the attendees' personal fields.
 */
export const eventRoutes = (eventStore: EventStore, attendees: Attendees, operatorOnly: MiddlewareHandler<AppEnv>) =>
  new Hono<AppEnv>().get('/:id/events', operatorOnly, async (c) => {
    const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
    const { after, limit } = valid(eventsQuerySchema, c.req.query(), 'query');
    const streamId = streamIdOf(conferenceId);
    const events = await eventStore.readStreamPage(streamId, after, limit);
    if (events.length === 0 && (await eventStore.streamVersion(streamId)) === 0) {
      throw rejectionProblem({ kind: 'conference_not_found', conferenceId });
    }
    const last = events.at(-1);
    const current = events.map(toSeatAvailabilityEvent);
    const revealed = await attendees.reveal(current);
    return c.json({
      conferenceId,
      events: events.map(({ position, streamVersion, metadata, recordedAt }, i) => ({
        position,
        version: streamVersion,
        type: current[i]!.type,
        data: revealed[i] ? { ...current[i]!.data, attendee: revealed[i] } : current[i]!.data,
        metadata,
        recordedAt: recordedAt.toISOString(),
      })),
      // Where the next page starts; absent when this page was not full.
      ...(last && events.length === limit ? { next: `?after=${last.position}&limit=${limit}` } : {}),
    });
  });
