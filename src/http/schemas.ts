import { z } from 'zod';
import {
  MAX_CAPACITY,
  MAX_CONFERENCE_NAME_LENGTH,
  MAX_QUANTITY,
  MAX_SEAT_TYPES,
  MIN_QUANTITY,
  NAME_PATTERN,
  RESERVATION_ID_PATTERN,
} from '../seat-availability/index.js';

/** Request shapes of SPEC section 4. Objects are strict: an unknown field is a 400. */

export const conferenceIdSchema = z.string().regex(NAME_PATTERN, {
  message: 'must be 1-64 lowercase letters, digits or dashes, starting with a letter or digit',
});

export const reservationIdSchema = z.string().regex(RESERVATION_ID_PATTERN, {
  message: 'must be 1-64 letters, digits, dashes or underscores, starting with a letter or digit',
});

export const createConferenceSchema = z.strictObject({
  id: conferenceIdSchema,
  name: z.string().trim().min(1).max(MAX_CONFERENCE_NAME_LENGTH),
  seatTypes: z
    .array(
      z.strictObject({
        type: conferenceIdSchema,
        capacity: z.number().int().min(0).max(MAX_CAPACITY),
      }),
    )
    .min(1)
    .max(MAX_SEAT_TYPES)
    .refine(
      unique((s: { type: string }) => s.type),
      { message: 'a seat type may appear only once' },
    ),
});

export const reserveSeatsSchema = z.strictObject({
  reservationId: reservationIdSchema.optional(),
  seats: z
    .array(
      z.strictObject({
        seatType: conferenceIdSchema,
        quantity: z.number().int().min(MIN_QUANTITY).max(MAX_QUANTITY),
      }),
    )
    .min(1)
    .max(MAX_SEAT_TYPES)
    .refine(
      unique((s: { seatType: string }) => s.seatType),
      { message: 'a seat type may appear only once' },
    ),
});

/** An ISO-8601 date or date-time; time zone offsets allowed. */
const isoTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/, {
    message: 'must be an ISO-8601 time such as 2026-11-21T10:00:00Z',
  })
  .transform((text) => new Date(text))
  .refine((date) => !Number.isNaN(date.getTime()), { message: 'is not a valid time' });

export const availabilityQuerySchema = z
  .strictObject({
    consistency: z.enum(['eventual', 'strong']).optional(),
    asOf: isoTime.optional(),
  })
  .refine((query) => !(query.asOf && query.consistency), {
    message: 'asOf already reads the aggregate; do not combine it with consistency',
  });

export const reservationsQuerySchema = z.strictObject({
  after: z.string().max(64).default(''),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

export const eventsQuerySchema = z.strictObject({
  after: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** The load tests' ceiling probe sends the same shape as a reservation. */
export const ceilingSchema = reserveSeatsSchema;

function unique<T>(key: (item: T) => string) {
  return (items: T[]) => new Set(items.map(key)).size === items.length;
}
