import { z } from 'zod';
import {
  CLIENT_RESERVATION_ID_PATTERN,
  MAX_CAPACITY,
  MAX_CONFERENCE_NAME_LENGTH,
  MAX_QUANTITY,
  MAX_SEAT_TYPES,
  MIN_QUANTITY,
  NAME_PATTERN,
  RESERVATION_ID_PATTERN,
} from '../seat-availability/index.js';

/** Request shapes of SPEC section 4. Objects are strict: an unknown field is a 400. */

/** The longest attendee name taken; longer is a 400. */
const MAX_ATTENDEE_NAME_LENGTH = 200;

/** The longest email address an SMTP path can carry (RFC 5321 with its errata). */
const MAX_EMAIL_LENGTH = 254;

export const conferenceIdSchema = z.string().regex(NAME_PATTERN, {
  message: 'must be 1-64 lowercase letters, digits or dashes, starting with a letter or digit',
});

/** A reservation id in a path: any id ever stored, the short ones of before issue 29 included. */
export const reservationIdSchema = z.string().regex(RESERVATION_ID_PATTERN, {
  message: 'must be 1-64 letters, digits, dashes or underscores, starting with a letter or digit',
});

/**
 * A reservation id a client chooses, in a body: the only proof of holding the reservation, so
 * hard to guess (a UUID, or 16 or more random characters). A generated id is a random UUID.
 */
export const clientReservationIdSchema = z.string().regex(CLIENT_RESERVATION_ID_PATTERN, {
  message:
    'must be 16-64 letters, digits, dashes or underscores, starting with a letter or digit: it is the only proof of holding the reservation, so make it hard to guess (a UUID)',
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

/**
 * Whom a reservation is for: personal fields, stored only encrypted (src/attendees). Bounded, as
 * everything a request carries; an email address as browsers' forms check one.
 */
export const attendeeSchema = z.strictObject({
  name: z.string().trim().min(1).max(MAX_ATTENDEE_NAME_LENGTH),
  email: z.email().max(MAX_EMAIL_LENGTH),
});

/** What a reservation and a hold both ask for: an id (optional) and the seats. */
const takeSeatsSchema = z.strictObject({
  reservationId: clientReservationIdSchema.optional(),
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

/** A reservation: the seats, and whom they are for if the caller says. */
export const reserveSeatsSchema = takeSeatsSchema.extend({ attendee: attendeeSchema.optional() });

/**
 * A hold: the seats and how long to hold them, from 1 s to the configured maximum. Its attendee
 * is named when it is confirmed (the end of the checkout).
 */
export const holdSeatsSchema = ({ defaultSeconds, maxSeconds }: { defaultSeconds: number; maxSeconds: number }) =>
  takeSeatsSchema.extend({
    holdSeconds: z.number().int().min(1).max(maxSeconds).default(defaultSeconds),
  });

/** A hold's confirm: no body, or whom the seats are for. */
export const confirmSchema = z.strictObject({ attendee: attendeeSchema.optional() });

/** An attendee id, as the service gives them (a UUID). */
export const attendeeIdSchema = z.uuid({ message: 'must be an attendee id as a reservation answered it (a UUID)' });

/**
 * An ISO-8601 date or date-time, offset optional: 2026-11-21, 2026-11-21T10:00, 2026-11-21 10:00:00.5Z,
 * 2026-11-21T10:00:00+01:00 (or +0100). Captures year, month, day, hour, minute, second, offset hours
 * and offset minutes.
 */
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/;

/** The furthest a real time zone is from UTC (Kiribati, +14:00); anything beyond is a typo. */
const MAX_OFFSET_MINUTES = 14 * 60;

/**
 * The instants asOf may name: nothing is recorded before 1970, and PostgreSQL cannot read the
 * times JavaScript writes outside four-digit years (it has no year 0000 and no +010000-01-01), so
 * within these bounds the client, the Date and the database all read a time the same way.
 */
const EARLIEST_TIME = Date.UTC(1970, 0, 1);
const LATEST_TIME = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const isLeapYear = (year: number) => year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);

const daysInMonth = (year: number, month: number) =>
  month === 2 ? (isLeapYear(year) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;

/**
 * True when every part of an ISO time is on the calendar and the clock: JavaScript's Date would
 * otherwise read 2026-02-30 as 2 March and T24:00 as the next day, and accept any offset.
 */
const isCalendarTime = (text: string): boolean => {
  const parts = ISO_TIME.exec(text);
  if (!parts) return false;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHours = 0, offsetMinutes = 0] = parts
    .slice(1)
    .map((part) => Number(part ?? 0));
  return (
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetMinutes <= 59 &&
    offsetHours * 60 + offsetMinutes <= MAX_OFFSET_MINUTES
  );
};

/** An ISO-8601 date or date-time on the calendar, between 1970 and 9999 in UTC; without an offset, the server's local time. */
const isoTime = z
  .string()
  .regex(ISO_TIME, { message: 'must be an ISO-8601 time such as 2026-11-21T10:00:00Z', abort: true })
  .refine(isCalendarTime, {
    message:
      'is not a date and time on the calendar (month 1-12, a day that month has, hour 0-23, minute and second 0-59, offset within ±14:00)',
    abort: true,
  })
  .transform((text) => new Date(text))
  .refine((date) => date.getTime() >= EARLIEST_TIME && date.getTime() <= LATEST_TIME, {
    message: 'must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z once its offset is applied',
  });

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
