import type { SeatQuantity } from '../../src/seat-availability/index.js';
import { seededRandom } from '../random.js';
import type { FollowUp, PlannedRequest } from '../workloads.js';
import { loadReservationId } from '../reservation-ids.js';

/** A checkout's visitors, told as data (so a load generator in another process can build them). */
export type CheckoutPlan = {
  prefix: string;
  conferenceId: string;
  /** Keeps reservation ids unique per load. */
  idPrefix: string;
  seed: number;
  /** How long each hold lasts (`holdSeconds` of the hold request). */
  holdSeconds: number;
};

/** What a visitor means to do once it holds seats. */
export type Intent = 'confirm' | 'abandon' | 'release';

/** Of the visitors whose hold is granted: 60% confirm, 30% abandon (their hold expires), 10% release. */
export const INTENT_SHARES: Record<Intent, number> = { confirm: 0.6, abandon: 0.3, release: 0.1 };

/**
 * How long a visitor thinks between its hold and its confirm or release: uniform over this
 * range, and at most half the hold, so a visitor who means to confirm is in time.
 */
export const THINK_MS = { min: 200, max: 1500 };

const holdRequest = (plan: CheckoutPlan, reservationId: string, seats: SeatQuantity[]): PlannedRequest => ({
  kind: 'hold',
  method: 'POST',
  path: `${plan.prefix}/${plan.conferenceId}/holds`,
  body: JSON.stringify({ reservationId, seats, holdSeconds: plan.holdSeconds }),
  conferenceId: plan.conferenceId,
  reservationId,
  seats,
});

const followUpRequest = (plan: CheckoutPlan, intent: 'confirm' | 'release', reservationId: string): PlannedRequest => {
  const hold = `${plan.prefix}/${plan.conferenceId}/holds/${reservationId}`;
  return intent === 'confirm'
    ? { kind: 'confirm', method: 'POST', path: `${hold}/confirm`, conferenceId: plan.conferenceId, reservationId }
    : { kind: 'release', method: 'DELETE', path: hold, conferenceId: plan.conferenceId, reservationId };
};

/**
 * A checkout's visitors. Each arrives with a hold of one or two `standard` seats; every choice
 * (seats, intent, think time) is drawn from the plan's seed as it arrives, so the n-th visitor
 * is the same in every run whatever the service answers. `answered` says what a visitor does
 * next: after a granted hold, its confirm or release once it has thought; after anything else
 * (refused, busy, failed) it leaves, as does a visitor who abandons.
 */
export const checkoutVisitors = (plan: CheckoutPlan) => {
  const random = seededRandom(plan.seed);
  const thinkMax = Math.max(THINK_MS.min, Math.min(THINK_MS.max, (plan.holdSeconds * 1000) / 2));
  const waiting = new Map<string, { intent: Intent; thinkMs: number }>();
  let counter = 0;
  return {
    /** A new visitor's hold. */
    arrive(): PlannedRequest {
      const seats = [{ seatType: 'standard', quantity: random() < 0.5 ? 1 : 2 }];
      const roll = random();
      const intent: Intent =
        roll < INTENT_SHARES.confirm ? 'confirm' : roll < 1 - INTENT_SHARES.release ? 'abandon' : 'release';
      const thinkMs = THINK_MS.min + random() * (thinkMax - THINK_MS.min);
      const reservationId = loadReservationId(plan.idPrefix, counter++);
      waiting.set(reservationId, { intent, thinkMs });
      return holdRequest(plan, reservationId, seats);
    },
    /** What the visitor behind `planned` does after this answer: a follow-up, or nothing (it leaves). */
    answered(planned: PlannedRequest, status: number): FollowUp | undefined {
      if (planned.kind !== 'hold' || !planned.reservationId) return undefined;
      const visitor = waiting.get(planned.reservationId);
      waiting.delete(planned.reservationId);
      if (!visitor || status !== 201 || visitor.intent === 'abandon') return undefined;
      return { request: followUpRequest(plan, visitor.intent, planned.reservationId), thinkMs: visitor.thinkMs };
    },
  };
};

export type CheckoutVisitors = ReturnType<typeof checkoutVisitors>;
