import type { SeatQuantity } from '../src/seat-availability/index.js';
import { checkoutVisitors, type CheckoutPlan } from './checkout/visitors.js';
import type { Ledger } from './ledger.js';
import { seededRandom } from './random.js';
import type { RequestKind } from './recorder.js';
import { loadReservationId } from './reservation-ids.js';

/** One request a workload wants sent, and what to remember about it. */
export type PlannedRequest = {
  kind: RequestKind;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  body?: string;
  conferenceId?: string;
  reservationId?: string;
  seats?: SeatQuantity[];
};

/** A visitor's next request, to be sent `thinkMs` after the answer that prompted it. */
export type FollowUp = { request: PlannedRequest; thinkMs: number };

/**
 * Produces the next request of a load; called once per request (per arrival, in the open model).
 * A workload of visitors also says what each does after an answer: a follow-up, or nothing.
 */
export type Workload = (() => PlannedRequest) & {
  followUp?: (planned: PlannedRequest, status: number) => FollowUp | undefined;
};

/** Seat types every load-test conference has. */
export const SEAT_TYPES = ['standard', 'vip'] as const;

/** Single- and multi-seat bookings: 70% one seat, 20% two to four, 10% one of each type. */
const bookingSeats = (random: () => number): SeatQuantity[] => {
  const roll = random();
  if (roll < 0.7) return [{ seatType: 'standard', quantity: 1 }];
  if (roll < 0.9) return [{ seatType: 'standard', quantity: 2 + Math.floor(random() * 3) }];
  return [
    { seatType: 'standard', quantity: 1 },
    { seatType: 'vip', quantity: 1 },
  ];
};

/**
 * An attendee for a reservation, of the length of real ones (a name of 14 characters, an address
 * of 26, as most are), told apart by the reservation id's last characters (its counter).
 */
const attendeeOf = (reservationId: string) => {
  const n = reservationId.slice(-6);
  return { name: `Visitor ${n}`, email: `visitor.${n}@example.org` };
};

const reserve = (
  prefix: string,
  conferenceId: string,
  reservationId: string,
  seats: SeatQuantity[],
  namesAttendee = false,
): PlannedRequest => ({
  kind: 'reserve',
  method: 'POST',
  path: `${prefix}/${conferenceId}/reservations`,
  body: JSON.stringify({ reservationId, seats, ...(namesAttendee ? { attendee: attendeeOf(reservationId) } : {}) }),
  conferenceId,
  reservationId,
  seats,
});

/** Reservations with unique ids spread at random over the given conferences, each naming its attendee if asked. */
export const bookingWorkload = (
  prefix: string,
  conferenceIds: string[],
  idPrefix: string,
  random: () => number,
  seats: (random: () => number) => SeatQuantity[] = bookingSeats,
  namesAttendee = false,
): Workload => {
  let counter = 0;
  return () => {
    const conferenceId = conferenceIds[Math.floor(random() * conferenceIds.length)] ?? conferenceIds[0] ?? '';
    return reserve(prefix, conferenceId, loadReservationId(idPrefix, counter++), seats(random), namesAttendee);
  };
};

/**
 * An on-sale day: `hotShare` of the reservations go to one hot conference, the rest are spread
 * at random over the quiet ones.
 */
export const hotspotWorkload = (
  prefix: string,
  hotId: string,
  quietIds: string[],
  idPrefix: string,
  random: () => number,
  namesAttendee = false,
  hotShare = 0.5,
): Workload => {
  const hot = bookingWorkload(prefix, [hotId], `${idPrefix}-hot`, random, bookingSeats, namesAttendee);
  const quiet = bookingWorkload(prefix, quietIds, `${idPrefix}-quiet`, random, bookingSeats, namesAttendee);
  return () => (random() < hotShare ? hot() : quiet());
};

/** The sell-out phase: single seats, so exactly the capacity can be sold. */
export const oneSeat = (): SeatQuantity[] => [{ seatType: 'standard', quantity: 1 }];

/** 70% reservations, 10% cancels of reservations this run made, 20% availability reads. */
export const mixedWorkload = (
  prefix: string,
  conferenceId: string,
  idPrefix: string,
  random: () => number,
  ledger: Ledger,
): Workload => {
  const book = bookingWorkload(prefix, [conferenceId], idPrefix, random);
  const cancellable: string[] = [];
  let seen = 0;
  return () => {
    // Reservations confirmed since last time become candidates for cancelling, each at most once.
    const accepted = [...ledger.accepted(conferenceId).keys()];
    for (; seen < accepted.length; seen++) cancellable.push(accepted[seen] ?? '');
    const roll = random();
    if (roll < 0.2) return { kind: 'read', method: 'GET', path: `${prefix}/${conferenceId}/availability` };
    if (roll < 0.3 && cancellable.length > 0) {
      const reservationId = cancellable.splice(Math.floor(random() * cancellable.length), 1)[0] ?? '';
      return {
        kind: 'cancel',
        method: 'DELETE',
        path: `${prefix}/${conferenceId}/reservations/${reservationId}`,
        conferenceId,
        reservationId,
      };
    }
    return book();
  };
};

/** The HTTP layer's ceiling: the same body as a reservation, one `select 1`, nothing else. */
export const ceilingWorkload = (): Workload => {
  const body = JSON.stringify({ seats: [{ seatType: 'standard', quantity: 1 }] });
  return () => ({ kind: 'ceiling', method: 'POST', path: '/loadtest/ceiling', body });
};

/**
 * A workload told as data, so a load generator in another process can build it (functions do not
 * cross a process boundary). `seed` seeds its random choices.
 */
export type WorkloadPlan =
  | { kind: 'booking'; prefix: string; conferenceIds: string[]; idPrefix: string; seed: number }
  | { kind: 'hotspot'; prefix: string; hotId: string; quietIds: string[]; idPrefix: string; seed: number }
  | { kind: 'mixed'; prefix: string; conferenceId: string; idPrefix: string; seed: number }
  | { kind: 'checkout'; visitors: CheckoutPlan }
  | { kind: 'ceiling' };

/** The workload a plan tells; `ledger` is what the mixed workload picks its cancels from. */
export const workloadOf = (plan: WorkloadPlan, ledger: Ledger): Workload => {
  switch (plan.kind) {
    case 'booking':
      return bookingWorkload(plan.prefix, plan.conferenceIds, plan.idPrefix, seededRandom(plan.seed));
    case 'hotspot':
      return hotspotWorkload(plan.prefix, plan.hotId, plan.quietIds, plan.idPrefix, seededRandom(plan.seed));
    case 'mixed':
      return mixedWorkload(plan.prefix, plan.conferenceId, plan.idPrefix, seededRandom(plan.seed), ledger);
    case 'checkout': {
      const visitors = checkoutVisitors(plan.visitors);
      return Object.assign(() => visitors.arrive(), {
        followUp: (planned: PlannedRequest, status: number) => visitors.answered(planned, status),
      });
    }
    case 'ceiling':
      return ceilingWorkload();
    default: {
      const unknown: never = plan;
      throw new Error(`unknown workload ${JSON.stringify(unknown)}`);
    }
  }
};
