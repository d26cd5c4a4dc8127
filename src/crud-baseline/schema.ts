import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';
import { RESERVATION_STATUSES } from '../seat-availability/index.js';

/**
 * The CRUD baseline's tables: the counter-update design. One counter row per conference and
 * seat type, updated by every booking, plus a reservations table.
 */
export const crudConferences = pgTable('crud_conferences', {
  conferenceId: text('conference_id').primaryKey(),
  name: text('name').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

export const crudSeatCounters = pgTable(
  'crud_seat_counters',
  {
    conferenceId: text('conference_id')
      .notNull()
      .references(() => crudConferences.conferenceId),
    seatType: text('seat_type').notNull(),
    ordinal: integer('ordinal').notNull(),
    capacity: integer('capacity').notNull(),
    reserved: integer('reserved').notNull().default(0),
    /** Seats in a checkout: held until confirmed, released or expired. */
    held: integer('held').notNull().default(0),
  },
  (table) => [
    primaryKey({ columns: [table.conferenceId, table.seatType] }),
    // Defence in depth, as a careful engineer would add: the database refuses an oversold counter.
    check(
      'crud_seat_counters_within_capacity',
      sql`${table.reserved} >= 0 and ${table.held} >= 0 and ${table.reserved} + ${table.held} <= ${table.capacity}`,
    ),
  ],
);

export const crudReservations = pgTable(
  'crud_reservations',
  {
    conferenceId: text('conference_id').notNull(),
    reservationId: text('reservation_id').notNull(),
    seats: jsonb('seats').notNull(),
    status: text('status', { enum: RESERVATION_STATUSES }).notNull(),
    reservedAt: timestamp('reserved_at', { withTimezone: true, mode: 'date' }).notNull(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, mode: 'date' }),
    /** A hold's due time; the sweep returns the seats of pending holds past it. */
    expiresAt: timestamp('expires_at', { withTimezone: true, mode: 'date' }),
    confirmedAt: timestamp('confirmed_at', { withTimezone: true, mode: 'date' }),
    releasedAt: timestamp('released_at', { withTimezone: true, mode: 'date' }),
    expiredAt: timestamp('expired_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [
    primaryKey({ columns: [table.conferenceId, table.reservationId] }),
    index('crud_reservations_pending_holds')
      .on(table.expiresAt)
      .where(sql`status = 'held'`),
  ],
);
