import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { RESERVATION_STATUSES } from '../seat-availability/index.js';
import { xid8 } from '../event-store/schema.js';

/**
 * The read models (CQRS views), maintained by the projector from the events alone. Each row
 * remembers the position of the last event applied to it, which makes re-applying an event a
 * no-op and gives readers the view's position.
 */

/** One row per conference. */
export const conferenceList = pgTable('conference_list', {
  conferenceId: text('conference_id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull(),
  lastPosition: bigint('last_position', { mode: 'number' }).notNull(),
});

/** Remaining seats per conference and seat type: capacity - reserved - held. */
export const seatAvailabilityView = pgTable(
  'seat_availability_view',
  {
    conferenceId: text('conference_id').notNull(),
    seatType: text('seat_type').notNull(),
    /** Order of the seat type in the conference as created. */
    ordinal: integer('ordinal').notNull(),
    capacity: integer('capacity').notNull(),
    reserved: integer('reserved').notNull(),
    /** Seats in a checkout: held until confirmed, released or expired. */
    held: integer('held').notNull().default(0),
    remaining: integer('remaining')
      .notNull()
      .generatedAlwaysAs(sql`capacity - reserved - held`),
    lastPosition: bigint('last_position', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.conferenceId, table.seatType] })],
);

/**
 * Every reservation and hold, its status and when it changed. `reserved_at` is when its seats
 * were taken (reserved, or held); `expires_at` a hold's due time. Pending holds by due time are
 * what the hold expirer reads.
 */
export const reservationsView = pgTable(
  'reservations_view',
  {
    conferenceId: text('conference_id').notNull(),
    reservationId: text('reservation_id').notNull(),
    seats: jsonb('seats').notNull(),
    status: text('status', { enum: RESERVATION_STATUSES }).notNull(),
    reservedAt: timestamp('reserved_at', { withTimezone: true, mode: 'date' }).notNull(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, mode: 'date' }),
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true, mode: 'date' }),
    releasedAt: timestamp('released_at', { withTimezone: true, mode: 'date' }),
    expiredAt: timestamp('expired_at', { withTimezone: true, mode: 'date' }),
    /** The attendee the reservation names, if any: the id only; their personal fields stay sealed in the events. */
    attendeeId: text('attendee_id'),
    lastPosition: bigint('last_position', { mode: 'number' }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.conferenceId, table.reservationId] }),
    index('reservations_view_pending_holds')
      .on(table.expiresAt)
      .where(sql`status = 'held'`),
  ],
);

/**
 * How far each projection has read, as the (transaction id, position) of the last event
 * applied: the order in which the projector reads (see settledBatch in the event store).
 */
export const projectionCheckpoints = pgTable('projection_checkpoints', {
  name: text('name').primaryKey(),
  transactionId: xid8('transaction_id').notNull(),
  position: bigint('position', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
