import { sql } from 'drizzle-orm';
import { bigint, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
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

/** Remaining seats per conference and seat type. */
export const seatAvailabilityView = pgTable(
  'seat_availability_view',
  {
    conferenceId: text('conference_id').notNull(),
    seatType: text('seat_type').notNull(),
    /** Order of the seat type in the conference as created. */
    ordinal: integer('ordinal').notNull(),
    capacity: integer('capacity').notNull(),
    reserved: integer('reserved').notNull(),
    remaining: integer('remaining')
      .notNull()
      .generatedAlwaysAs(sql`capacity - reserved`),
    lastPosition: bigint('last_position', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.conferenceId, table.seatType] })],
);

/** Every reservation and its status. */
export const reservationsView = pgTable(
  'reservations_view',
  {
    conferenceId: text('conference_id').notNull(),
    reservationId: text('reservation_id').notNull(),
    seats: jsonb('seats').notNull(),
    status: text('status', { enum: ['reserved', 'cancelled'] }).notNull(),
    reservedAt: timestamp('reserved_at', { withTimezone: true, mode: 'date' }).notNull(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, mode: 'date' }),
    lastPosition: bigint('last_position', { mode: 'number' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.conferenceId, table.reservationId] })],
);

/**
 * How far each projection has read, as the (transaction id, position) of the last event
 * applied: the order in which the projector reads (see readSettled in the event store).
 */
export const projectionCheckpoints = pgTable('projection_checkpoints', {
  name: text('name').primaryKey(),
  transactionId: xid8('transaction_id').notNull(),
  position: bigint('position', { mode: 'number' }).notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});
