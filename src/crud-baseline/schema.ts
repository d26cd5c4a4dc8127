import { sql } from 'drizzle-orm';
import { check, integer, jsonb, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

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
  },
  (table) => [
    primaryKey({ columns: [table.conferenceId, table.seatType] }),
    // Defence in depth, as a careful engineer would add: the database refuses an oversold counter.
    check('crud_seat_counters_within_capacity', sql`${table.reserved} >= 0 and ${table.reserved} <= ${table.capacity}`),
  ],
);

export const crudReservations = pgTable(
  'crud_reservations',
  {
    conferenceId: text('conference_id').notNull(),
    reservationId: text('reservation_id').notNull(),
    seats: jsonb('seats').notNull(),
    status: text('status', { enum: ['reserved', 'cancelled'] }).notNull(),
    reservedAt: timestamp('reserved_at', { withTimezone: true, mode: 'date' }).notNull(),
    cancelledAt: timestamp('cancelled_at', { withTimezone: true, mode: 'date' }),
  },
  (table) => [primaryKey({ columns: [table.conferenceId, table.reservationId] })],
);
