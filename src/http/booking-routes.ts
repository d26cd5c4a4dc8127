import { randomUUID } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import type { Bookings } from '../bookings.js';
import { requestMetadata, type AppEnv } from './app-env.js';
import { Problem, rejectionProblem } from './problem.js';
import { validBody, validOptionalBody, valid } from './request.js';
import type { PersonalData } from '../attendees/index.js';
import {
  availabilityQuerySchema,
  conferenceIdSchema,
  confirmSchema,
  createConferenceSchema,
  holdSeatsSchema,
  reservationIdSchema,
  reservationsQuerySchema,
  reserveSeatsSchema,
} from './schemas.js';

/**
 * The booking routes of SPEC section 4, for any booking design: mounted at /conferences for the
 * event-sourced path and at /crud/conferences and /crud-atomic/conferences for the baselines.
 * Creating a conference and listing its reservations are the operator's (`operatorOnly`): each
 * id listed is its holder's only proof. The routes of one reservation are for whoever knows its id.
 */
export const bookingRoutes = (
  bookings: Bookings,
  { holds, operatorOnly, newReservationId = randomUUID }: BookingRoutesOptions,
) => {
  const holdSchema = holdSeatsSchema(holds);
  return new Hono<AppEnv>()
    .post('/', operatorOnly, async (c) => {
      const body = await validBody(c, createConferenceSchema);
      const result = await bookings.createConference(
        { conferenceId: body.id, name: body.name, seatTypes: body.seatTypes },
        requestMetadata(c),
      );
      if (result.kind === 'rejected') throw rejectionProblem(result.rejection);
      c.header('Location', `${c.req.path.replace(/\/$/, '')}/${body.id}/availability`);
      return c.json(result.value, 201);
    })

    .get('/', async (c) => c.json({ conferences: await bookings.conferences() }))

    .get('/:id/availability', async (c) => {
      const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
      const { consistency = 'eventual', asOf } = valid(availabilityQuerySchema, c.req.query(), 'query');
      let availability;
      if (asOf) {
        if (!bookings.availabilityAsOf) {
          throw new Problem(400, 'invalid_request', 'This design keeps no history, so it cannot answer asOf.');
        }
        availability = await bookings.availabilityAsOf(conferenceId, asOf);
      } else {
        availability = await bookings.availability(conferenceId, consistency);
      }
      if (!availability) throw rejectionProblem({ kind: 'conference_not_found', conferenceId });
      return c.json(availability);
    })

    .get('/:id/reservations', operatorOnly, async (c) => {
      const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
      const { after, limit } = valid(reservationsQuerySchema, c.req.query(), 'query');
      const reservations = await bookings.reservations(conferenceId, { after, limit });
      if (!reservations) throw rejectionProblem({ kind: 'conference_not_found', conferenceId });
      const last = reservations.at(-1);
      return c.json({
        conferenceId,
        reservations,
        // Where the next page starts; absent when this page was not full.
        ...(last && reservations.length === limit
          ? { next: `?after=${encodeURIComponent(last.reservationId)}&limit=${limit}` }
          : {}),
      });
    })

    .get('/:id/reservations/:reservationId', async (c) => {
      const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
      const reservationId = valid(reservationIdSchema, c.req.param('reservationId'), 'reservation id');
      const reservation = await bookings.reservation(conferenceId, reservationId);
      if (!reservation) throw rejectionProblem({ kind: 'reservation_not_found', reservationId });
      return c.json(reservation);
    })

    .post('/:id/reservations', async (c) => {
      const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
      const body = await validBody(c, reserveSeatsSchema);
      const reservationId = body.reservationId ?? newReservationId();
      const result = await bookings.reserveSeats(
        { conferenceId, reservationId, seats: body.seats, attendee: namedAttendee(bookings, body.attendee) },
        requestMetadata(c),
      );
      if (result.kind === 'rejected') throw rejectionProblem(result.rejection);
      c.header('Location', `${c.req.path}/${reservationId}`);
      return c.json(result.value, result.created ? 201 : 200);
    })

    .delete('/:id/reservations/:reservationId', async (c) => {
      const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
      const reservationId = valid(reservationIdSchema, c.req.param('reservationId'), 'reservation id');
      const result = await bookings.cancelReservation({ conferenceId, reservationId }, requestMetadata(c));
      if (result.kind === 'rejected') throw rejectionProblem(result.rejection);
      return c.json(result.value, 200);
    })

    .post('/:id/holds', async (c) => {
      const conferenceId = valid(conferenceIdSchema, c.req.param('id'), 'conference id');
      const body = await validBody(c, holdSchema);
      const reservationId = body.reservationId ?? newReservationId();
      const result = await bookings.holdSeats(
        { conferenceId, reservationId, seats: body.seats, holdSeconds: body.holdSeconds },
        requestMetadata(c),
      );
      if (result.kind === 'rejected') throw rejectionProblem(result.rejection);
      // The hold is a reservation in the making: it is read, and cancelled once confirmed, there.
      c.header('Location', `${c.req.path.replace(/\/holds$/, '/reservations')}/${reservationId}`);
      return c.json(result.value, result.created ? 201 : 200);
    })

    .post('/:id/holds/:reservationId/confirm', async (c) => {
      const key = reservationKey(c.req.param('id'), c.req.param('reservationId'));
      const { attendee } = await validOptionalBody(c, confirmSchema);
      const result = await bookings.confirmReservation(
        { ...key, attendee: namedAttendee(bookings, attendee) },
        requestMetadata(c),
      );
      if (result.kind === 'rejected') throw rejectionProblem(result.rejection);
      return c.json(result.value, 200);
    })

    .delete('/:id/holds/:reservationId', async (c) => {
      const key = reservationKey(c.req.param('id'), c.req.param('reservationId'));
      const result = await bookings.releaseHold(key, requestMetadata(c));
      if (result.kind === 'rejected') throw rejectionProblem(result.rejection);
      return c.json(result.value, 200);
    });
};

export type BookingRoutesOptions = {
  /** How long a hold lasts when the request does not say, and the longest it may ask for. */
  holds: { defaultSeconds: number; maxSeconds: number };
  /** Refuses a request without the operator's token (operator-token.ts). */
  operatorOnly: MiddlewareHandler<AppEnv>;
  /** The id of a reservation or hold whose request names none. */
  newReservationId?: () => string;
};

/** The attendee a request names, where the design records attendees; a 400 where it does not. */
const namedAttendee = (bookings: Bookings, attendee: PersonalData | undefined) => {
  if (attendee && !bookings.namesAttendees) {
    throw new Problem(400, 'invalid_request', 'This design does not record attendees: leave attendee out.');
  }
  return attendee;
};

/** A conference id and a reservation id from the path, validated. */
const reservationKey = (conferenceId: string, reservationId: string) => ({
  conferenceId: valid(conferenceIdSchema, conferenceId, 'conference id'),
  reservationId: valid(reservationIdSchema, reservationId, 'reservation id'),
});

/** A problem for a route that does not exist. */
export const routeNotFound = (method: string, path: string) =>
  new Problem(404, 'not_found', `There is no route ${method} ${path}.`);
