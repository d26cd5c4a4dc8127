import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bookings } from '../src/bookings.js';
import { BusyError, toSeatAvailabilityEvent } from '../src/command-handlers/index.js';
import { crudAtomicBookings } from '../src/crud-baseline/crud-atomic-bookings.js';
import { crudBookings } from '../src/crud-baseline/crud-bookings.js';
import { eventSourcedBookings } from '../src/event-sourced-bookings.js';
import {
  evolveAll,
  reservationsOf,
  streamIdOf,
  type KnownReservation,
  type SeatQuantity,
} from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService } from './support/service.js';

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql);
});
afterAll(() => db?.drop());

const slug = (design: string) => design.replace(/[^a-z]+/g, '-');

type StoredReservation = { seats: SeatQuantity[]; status: KnownReservation['status'] };

/** Each design's authoritative store, read directly: what was really recorded. */
const eventSourced = (design: string, bookings: () => Bookings) => ({
  design,
  bookings,
  stored: async (conferenceId: string) => {
    const events = await service.eventStore.readStream(streamIdOf(conferenceId));
    expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
    const facts = events.map(toSeatAvailabilityEvent);
    const state = evolveAll(facts);
    if (state.status !== 'open') throw new Error('conference missing from the stream');
    // The state holds counts only; each reservation is what its own events say.
    const reservations = new Map<string, StoredReservation>();
    for (const [id, reservation] of reservationsOf(facts)) {
      if (reservation.status !== 'absent') reservations.set(id, reservation);
    }
    return { counters: state.seatTypes, reservations };
  },
});

const designs = [
  eventSourced('event-sourced, batched', () => service.bookings),
  eventSourced('event-sourced, direct', () =>
    eventSourcedBookings(service.directHandlers, service, service.readModel, service.attendees),
  ),
  ...[
    { design: 'crud', bookings: (): Bookings => crudBookings(db.sql) },
    { design: 'crud-atomic', bookings: (): Bookings => crudAtomicBookings(db.sql) },
  ].map(({ design, bookings }) => ({
    design,
    bookings,
    stored: async (conferenceId: string) => {
      const counters = await db.sql<{ seat_type: string; capacity: number; reserved: number; held: number }[]>`
        select seat_type, capacity, reserved, held from crud_seat_counters where conference_id = ${conferenceId} order by ordinal`;
      const rows = await db.sql<(StoredReservation & { reservation_id: string })[]>`
        select reservation_id, seats, status from crud_reservations where conference_id = ${conferenceId}`;
      return {
        counters: new Map(
          counters.map((c) => [c.seat_type, { capacity: c.capacity, reserved: c.reserved, held: c.held }]),
        ),
        reservations: new Map(rows.map((r) => [r.reservation_id, { seats: r.seats, status: r.status }])),
      };
    },
  })),
];

/** Many concurrent commands at ONE conference; afterwards the invariant must hold in the answers and the store. */
describe.each(designs)('$design under concurrency', ({ design, bookings, stored }) => {
  const outcomeOf = async (command: Promise<unknown>) => {
    try {
      const result = (await command) as Awaited<ReturnType<Bookings['reserveSeats']>>;
      return result.kind === 'ok' ? (result.created ? 'created' : 'repeated') : result.rejection.kind;
    } catch (error) {
      if (error instanceof BusyError) return 'busy';
      throw error;
    }
  };

  /** Counters within capacity and equal to the seats of the live reservations in the store. */
  const expectConsistentStore = async (conferenceId: string) => {
    const { counters, reservations } = await stored(conferenceId);
    for (const [type, { capacity, reserved }] of counters) {
      expect(reserved).toBeGreaterThanOrEqual(0);
      expect(reserved).toBeLessThanOrEqual(capacity);
      const live = [...reservations.values()].filter((r) => r.status === 'reserved');
      const sum = live
        .flatMap((r) => r.seats)
        .filter((s) => s.seatType === type)
        .reduce((n, s) => n + s.quantity, 0);
      expect(reserved).toBe(sum);
    }
    const strong = await bookings().availability(conferenceId, 'strong');
    expect(strong?.seatTypes.map((s) => [s.type, s.reserved])).toEqual(
      [...counters].map(([type, c]) => [type, c.reserved]),
    );
    return { counters, reservations };
  };

  it('sells exactly the capacity when 300 single-seat reservations race for 100 seats', async () => {
    const conferenceId = `race-100-${slug(design)}`;
    await bookings().createConference(
      { conferenceId, name: 'Race', seatTypes: [{ type: 'standard', capacity: 100 }] },
      {},
    );
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        outcomeOf(
          bookings().reserveSeats(
            { conferenceId, reservationId: `r-${i}`, seats: [{ seatType: 'standard', quantity: 1 }] },
            {},
          ),
        ),
      ),
    );
    const count = (kind: string) => outcomes.filter((o) => o === kind).length;
    expect(count('created')).toBe(100);
    expect(count('insufficient_seats') + count('busy')).toBe(200);

    const { reservations } = await expectConsistentStore(conferenceId);
    expect(reservations.size).toBe(100);
    const winners = outcomes.flatMap((o, i) => (o === 'created' ? [`r-${i}`] : []));
    expect([...reservations.keys()].sort()).toEqual(winners.sort());
  });

  it('returns the seats of a reservation once when 20 cancels of it race', async () => {
    const conferenceId = `cancel-race-${slug(design)}`;
    await bookings().createConference(
      { conferenceId, name: 'Cancel race', seatTypes: [{ type: 'vip', capacity: 10 }] },
      {},
    );
    await bookings().reserveSeats(
      { conferenceId, reservationId: 'r-1', seats: [{ seatType: 'vip', quantity: 4 }] },
      {},
    );
    await bookings().reserveSeats(
      { conferenceId, reservationId: 'r-2', seats: [{ seatType: 'vip', quantity: 3 }] },
      {},
    );

    const results = await Promise.all(
      Array.from({ length: 20 }, () => bookings().cancelReservation({ conferenceId, reservationId: 'r-1' }, {})),
    );
    expect(results.every((r) => r.kind === 'ok' && r.value.status === 'cancelled')).toBe(true);
    expect(results.filter((r) => r.kind === 'ok' && r.created)).toHaveLength(1);
    const { counters } = await expectConsistentStore(conferenceId);
    expect(counters.get('vip')).toEqual({ capacity: 10, reserved: 3, held: 0 });
  });

  it('keeps the invariant under a mix of concurrent multi-seat reserves, repeats and cancels', async () => {
    const conferenceId = `mixed-race-${slug(design)}`;
    await bookings().createConference(
      {
        conferenceId,
        name: 'Mixed',
        seatTypes: [
          { type: 'standard', capacity: 50 },
          { type: 'vip', capacity: 8 },
        ],
      },
      {},
    );
    // Multi-type requests name their types in both orders: a design that locks rows in request
    // order would deadlock here.
    const both = [
      { seatType: 'standard', quantity: 2 },
      { seatType: 'vip', quantity: 1 },
    ];
    const seatsFor = (i: number) =>
      i % 3 === 0 ? (i % 2 === 0 ? both : [...both].reverse()) : [{ seatType: 'standard', quantity: 1 + (i % 4) }];
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => {
        if (i % 7 === 6)
          return outcomeOf(bookings().cancelReservation({ conferenceId, reservationId: `m-${i - 6}` }, {}));
        // ids 0..79 are sent twice: repeats race with their originals
        return outcomeOf(
          bookings().reserveSeats({ conferenceId, reservationId: `m-${i % 120}`, seats: seatsFor(i % 120) }, {}),
        );
      }),
    );
    const expected = [
      'created',
      'repeated',
      'insufficient_seats',
      'reservation_conflict',
      'reservation_not_found',
      'busy',
    ];
    expect(outcomes.filter((o) => !expected.includes(o))).toEqual([]);
    await expectConsistentStore(conferenceId);
  });
});
