import { z } from 'zod';
import { RESERVATION_STATUSES, STORED_EVENT_NAMES, type SeatAvailabilityEvent } from '../seat-availability/index.js';
import { PROBLEM_CODES } from './problem.js';

/**
 * The shapes of the answers, for the OpenAPI document. The routes do not parse their own answers;
 * `test/openapi.test.ts` does, for every documented operation, so these cannot drift from what
 * the routes send (the objects are strict: an undocumented field fails that test).
 */

const seatQuantity = z.strictObject({ seatType: z.string(), quantity: z.number().int() });

export const availabilityAnswer = z.strictObject({
  conferenceId: z.string(),
  name: z.string(),
  seatTypes: z.array(
    z.strictObject({
      type: z.string(),
      capacity: z.number().int(),
      reserved: z.number().int(),
      held: z.number().int().meta({ description: 'Seats in a checkout: held until confirmed, released or expired' }),
      remaining: z.number().int().meta({ description: 'capacity - reserved - held' }),
    }),
  ),
  position: z.number().int().meta({
    description: 'Global position of the last event the answer reflects (0 for the CRUD baseline)',
  }),
  version: z
    .number()
    .int()
    .optional()
    .meta({ description: 'The stream version, when read from the aggregate (strong or asOf)' }),
});

export const conferenceListAnswer = z.strictObject({
  conferences: z.array(
    z.strictObject({
      conferenceId: z.string(),
      name: z.string(),
      createdAt: z.string().meta({ format: 'date-time' }),
      position: z.number().int(),
    }),
  ),
});

export const reservationAnswer = z.strictObject({
  reservationId: z.string(),
  conferenceId: z.string(),
  seats: z.array(seatQuantity),
  status: z.enum(RESERVATION_STATUSES).meta({
    description:
      '`reserved` (one step), or a hold: `held` until `confirmed`, `released` or `expired`; `cancelled`: a reserved or confirmed one given up',
  }),
  expiresAt: z.string().optional().meta({ format: 'date-time', description: "A hold's due time" }),
  reservedAt: z
    .string()
    .optional()
    .meta({ format: 'date-time', description: 'When the seats were taken (reserved or held)' }),
  confirmedAt: z.string().optional().meta({ format: 'date-time' }),
  cancelledAt: z.string().optional().meta({ format: 'date-time' }),
  releasedAt: z.string().optional().meta({ format: 'date-time' }),
  expiredAt: z.string().optional().meta({ format: 'date-time' }),
  attendee: z
    .union([
      z.strictObject({ id: z.string() }),
      z.strictObject({ id: z.string(), name: z.string(), email: z.string() }),
      z.strictObject({ id: z.string(), forgotten: z.literal(true) }),
    ])
    .optional()
    .meta({
      description:
        'Whom it is for, if it names anyone: the id in answers to commands and in the listing; with `name` and `email`, or `forgotten: true` once they were forgotten, where one reservation is read by its id',
    }),
});

export const reservationPageAnswer = z.strictObject({
  conferenceId: z.string(),
  reservations: z.array(reservationAnswer),
  next: z.string().optional().meta({ description: 'Query string of the next page; absent on the last page' }),
});

export const eventPageAnswer = z.strictObject({
  conferenceId: z.string(),
  events: z.array(
    z.strictObject({
      position: z.number().int(),
      version: z.number().int(),
      type: z.enum(Object.keys(STORED_EVENT_NAMES.eventType) as [SeatAvailabilityEvent['type']]),
      data: z.record(z.string(), z.unknown()),
      metadata: z.record(z.string(), z.unknown()).meta({ description: 'Includes the requestId that appended it' }),
      recordedAt: z.string().meta({ format: 'date-time' }),
    }),
  ),
  next: z.string().optional().meta({ description: 'Query string of the next page; absent on the last page' }),
});

export const forgottenAnswer = z.strictObject({
  attendeeId: z.string(),
  forgotten: z.literal(true),
  forgottenAt: z.string().meta({ format: 'date-time', description: 'When they were first forgotten' }),
});

const projectionLagAnswer = z.strictObject({
  events: z.number().int().meta({ description: 'Committed events the projection has not applied yet' }),
  milliseconds: z.number().int().meta({ description: 'Age of the oldest of them (0 when up to date)' }),
});

export const healthAnswer = z.strictObject({
  status: z.literal('ok'),
  database: z.literal('up'),
  projections: z
    .strictObject({ remaining_seats: projectionLagAnswer, reservations: projectionLagAnswer })
    .optional()
    .meta({
      description:
        'Lag of each projection (each has its own checkpoint); left out when it cannot be read within the health timeout',
    }),
});

export const ceilingAnswer = z.strictObject({ ok: z.literal(true) });

/** RFC 9457 Problem Details plus our `error` code and `message`; details vary by code. */
export const problemAnswer = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    error: z.enum(PROBLEM_CODES),
    message: z.string(),
  })
  .catchall(z.unknown());
