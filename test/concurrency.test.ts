import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bookings } from '../src/bookings.js';
import { BusyError, toSeatAvailabilityEvent } from '../src/command-handlers/index.js';
import { evolveAll, streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService } from './support/service.js';

let db: TestDatabase;
let service: ReturnType<typeof createTestService>;

beforeAll(async () => {
  db = await createTestDatabase();
  service = createTestService(db.sql);
});
afterAll(() => db?.drop());

/** Many concurrent commands at ONE conference; afterwards the invariant must hold in the answers and the store. */
describe.each([{ design: 'event-sourced', bookings: () => service.bookings }])(
  '$design under concurrency',
  ({ bookings }) => {
    const outcomeOf = async (command: Promise<unknown>) => {
      try {
        const result = (await command) as Awaited<ReturnType<Bookings['reserveSeats']>>;
        return result.kind === 'ok' ? (result.created ? 'created' : 'repeated') : result.rejection.kind;
      } catch (error) {
        if (error instanceof BusyError) return 'busy';
        throw error;
      }
    };

    it('sells exactly the capacity when 300 single-seat reservations race for 100 seats', async () => {
      const conferenceId = 'race-100';
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

      const strong = await bookings().availability(conferenceId, 'strong');
      expect(strong?.seatTypes).toEqual([{ type: 'standard', capacity: 100, reserved: 100, remaining: 0 }]);

      // The stream itself: one creation plus exactly 100 reservations, each a distinct winner.
      const events = await service.eventStore.readStream(streamIdOf(conferenceId));
      const reservations = events.filter((e) => e.type === 'SeatsReserved');
      expect(reservations).toHaveLength(100);
      expect(new Set(reservations.map((e) => (e.data as { reservationId: string }).reservationId)).size).toBe(100);
      expect(events.map((e) => e.streamVersion)).toEqual(events.map((_, i) => i + 1));
      const replayed = evolveAll(events.map(toSeatAvailabilityEvent));
      expect(replayed.status === 'open' && replayed.seatTypes.get('standard')).toEqual({
        capacity: 100,
        reserved: 100,
      });
    });

    it('returns the seats of a reservation once when 20 cancels of it race', async () => {
      const conferenceId = 'cancel-race';
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

      const strong = await bookings().availability(conferenceId, 'strong');
      expect(strong?.seatTypes).toEqual([{ type: 'vip', capacity: 10, reserved: 3, remaining: 7 }]);
      const events = await service.eventStore.readStream(streamIdOf(conferenceId));
      expect(events.filter((e) => e.type === 'ReservationCancelled')).toHaveLength(1);
    });

    it('keeps the invariant under a mix of concurrent multi-seat reserves, repeats and cancels', async () => {
      const conferenceId = 'mixed-race';
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
      const seatsFor = (i: number) =>
        i % 3 === 0
          ? [
              { seatType: 'standard', quantity: 2 },
              { seatType: 'vip', quantity: 1 },
            ]
          : [{ seatType: 'standard', quantity: 1 + (i % 4) }];
      const commands = Array.from({ length: 200 }, (_, i) => {
        const id = `m-${i % 120}`; // ids 0..79 are sent twice: repeats race with their originals
        if (i % 7 === 6)
          return outcomeOf(bookings().cancelReservation({ conferenceId, reservationId: `m-${i - 6}` }, {}));
        return outcomeOf(bookings().reserveSeats({ conferenceId, reservationId: id, seats: seatsFor(i % 120) }, {}));
      });
      const outcomes = await Promise.all(commands);
      expect(
        outcomes.filter(
          (o) =>
            ![
              'created',
              'repeated',
              'insufficient_seats',
              'reservation_conflict',
              'reservation_not_found',
              'busy',
            ].includes(o),
        ),
      ).toEqual([]);

      const events = await service.eventStore.readStream(streamIdOf(conferenceId));
      const replayed = evolveAll(events.map(toSeatAvailabilityEvent));
      if (replayed.status !== 'open') throw new Error('conference missing');
      for (const [, { capacity, reserved }] of replayed.seatTypes) {
        expect(reserved).toBeGreaterThanOrEqual(0);
        expect(reserved).toBeLessThanOrEqual(capacity);
      }
      // Reserved counts equal the sum of the reservations still live in the stream.
      const live = new Map<string, { seatType: string; quantity: number }[]>();
      for (const e of events) {
        const data = e.data as { reservationId?: string; seats?: { seatType: string; quantity: number }[] };
        if (e.type === 'SeatsReserved' && data.reservationId && data.seats) live.set(data.reservationId, data.seats);
        if (e.type === 'ReservationCancelled' && data.reservationId) live.delete(data.reservationId);
      }
      for (const [type, { reserved }] of replayed.seatTypes) {
        const sum = [...live.values()]
          .flat()
          .filter((s) => s.seatType === type)
          .reduce((n, s) => n + s.quantity, 0);
        expect(reserved).toBe(sum);
      }
      const strong = await bookings().availability(conferenceId, 'strong');
      expect(strong?.seatTypes.map((s) => s.reserved)).toEqual([...replayed.seatTypes.values()].map((s) => s.reserved));
    });
  },
);
