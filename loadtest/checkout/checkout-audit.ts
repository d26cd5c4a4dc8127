import type { SeatQuantity } from '../../src/seat-availability/index.js';
import type { AuditCheck, AuditResult, Listed } from '../audit.js';
import type { HoldRecord, Ledger } from '../ledger.js';
import type { PlannedRequest } from '../workloads.js';
import type { CheckoutStore } from './checkout-store.js';
import { foldStream, type SeatCounts } from './stream-fold.js';

/** What the visitors of one conference were told, as the checkout audit needs it. */
export type CheckoutTold = {
  /** Holds answered 201, and what each visitor was told since. */
  holds: Map<string, HoldRecord>;
  /** Reservations answered 201 (the last buyer's, who takes what is left once the load is over). */
  reserved: Map<string, SeatQuantity[]>;
  /** Requests whose answer never came: their outcome is taken from the store. */
  unanswered: PlannedRequest[];
  /** Seat types of which a hold was refused for want of seats: there demand exceeded capacity. */
  refused: Set<string>;
};

export const toldOf = (ledger: Ledger, conferenceId: string): CheckoutTold => ({
  holds: ledger.holds(conferenceId),
  reserved: ledger.accepted(conferenceId),
  unanswered: ledger.unanswered(conferenceId),
  refused: ledger.refused(conferenceId),
});

/** Seats per seat type of the stored reservations: sold (reserved and confirmed) and held. */
const sumsOf = (reservations: Listed[]) => {
  const sold: SeatCounts = new Map();
  const held: SeatCounts = new Map();
  for (const { status, seats } of reservations) {
    const counts = status === 'reserved' || status === 'confirmed' ? sold : status === 'held' ? held : undefined;
    for (const { seatType, quantity } of counts ? seats : [])
      counts?.set(seatType, (counts.get(seatType) ?? 0) + quantity);
  }
  return { sold, held };
};

/**
 * The statuses a reservation may end at, by what its visitor was told: a confirm or release
 * answered 200 is final; a hold whose visitor heard nothing more (it abandoned, or left unsent
 * when the load stopped) must have expired; one whose follow-up got no answer may have been
 * carried out or not.
 */
const expectedEnds = (told: CheckoutTold): Map<string, string[]> => {
  const ends = new Map<string, string[]>();
  for (const [id, hold] of told.holds) ends.set(id, [hold.told === 'held' ? 'expired' : hold.told]);
  for (const id of told.reserved.keys()) ends.set(id, ['reserved']);
  for (const { kind, reservationId: id } of told.unanswered) {
    if (!id) continue;
    if (kind === 'hold') ends.set(id, ['expired', 'none']);
    if (kind === 'reserve') ends.set(id, ['reserved', 'none']);
    if ((kind === 'confirm' || kind === 'release') && ends.get(id)?.[0] === 'expired') {
      ends.set(id, ['expired', kind === 'confirm' ? 'confirmed' : 'released']);
    }
  }
  return ends;
};

const check = (name: string, problems: string[], summary: string): AuditCheck[] => [
  { check: name, passed: problems.length === 0, detail: summary },
  ...problems.slice(0, 5).map((detail) => ({ check: name, passed: false, detail })),
];

/** The counts of every seat type against its capacity, the reservations' sums and the read side. */
const seatChecks = (store: CheckoutStore, told: CheckoutTold) => {
  const { sold, held } = sumsOf(store.reservations);
  const [oversold, mismatched, heldAtEnd, unsold]: [string[], string[], string[], string[]] = [[], [], [], []];
  for (const seat of store.strong.seatTypes) {
    const { type, capacity, reserved, remaining } = seat;
    const [seatHeld, storedSold, storedHeld] = [seat.held ?? 0, sold.get(type) ?? 0, held.get(type) ?? 0];
    if (storedSold > capacity || reserved + seatHeld > capacity || reserved < 0 || seatHeld < 0)
      oversold.push(
        `${type}: reserved ${reserved} + held ${seatHeld}, reservations sold ${storedSold}, capacity ${capacity}`,
      );
    if (reserved !== storedSold || seatHeld !== storedHeld || remaining !== capacity - reserved - seatHeld)
      mismatched.push(
        `${type}: counts reserved ${reserved} held ${seatHeld} remaining ${remaining}; reservations sold ${storedSold} held ${storedHeld}`,
      );
    const view = store.view?.seatTypes.find((s) => s.type === type);
    if (view?.reserved !== reserved || (view.held ?? 0) !== seatHeld)
      mismatched.push(
        `${type}: view reserved ${view?.reserved} held ${view?.held}, authoritative ${reserved} / ${seatHeld}`,
      );
    if (seatHeld !== 0 || storedHeld !== 0)
      heldAtEnd.push(`${type}: ${seatHeld} held, reservations hold ${storedHeld}`);
    if (told.refused.has(type) && storedSold !== capacity) unsold.push(`${type}: sold ${storedSold} of ${capacity}`);
  }
  const checks = [
    ...check('sold <= capacity', oversold, `${oversold.length} seat types over capacity`),
    ...check('counts == sums', mismatched, `${mismatched.length} differences between the counts and the reservations`),
    ...check('held = 0 at the end', heldAtEnd, `${heldAtEnd.length} seat types still held`),
    ...check(
      'sold = capacity where demand exceeded it',
      unsold,
      told.refused.size === 0
        ? 'no hold was refused for want of seats: not applicable'
        : `${unsold.length} of ${told.refused.size} seat types not sold out`,
    ),
  ];
  return { checks, oversold: oversold.length };
};

/** Every reservation against what its visitor was told, and none stored that nobody was answered for. */
const reservationChecks = (store: CheckoutStore, told: CheckoutTold) => {
  const stored = new Map(store.reservations.map((r) => [r.reservationId, r.status]));
  const ends = expectedEnds(told);
  const unansweredIds = new Set(told.unanswered.map((r) => r.reservationId));
  const confirmed = [...told.holds].filter(([, hold]) => hold.told === 'confirmed').map(([id]) => id);
  const notConfirmed = confirmed.filter((id) => stored.get(id) !== 'confirmed');
  const notAsTold: string[] = [];
  let adopted = 0;
  for (const [id, allowed] of ends) {
    const status = stored.get(id) ?? 'none';
    if (!allowed.includes(status)) notAsTold.push(`${id}: ${status}, expected ${allowed.join(' or ')}`);
    else if (unansweredIds.has(id) && status !== 'none') adopted++;
  }
  const unexpected = [...stored].filter(([id]) => !ends.has(id)).map(([id, status]) => `${id}: ${status}`);
  const checks = [
    ...check(
      'every 200 confirm stored',
      notConfirmed.map((id) => `${id}: ${stored.get(id) ?? 'nothing'}`),
      `${confirmed.length - notConfirmed.length} of ${confirmed.length} found confirmed`,
    ),
    ...check('every hold ended as told', notAsTold, `${ends.size - notAsTold.length} of ${ends.size} as told`),
    ...check(
      'no unacknowledged reservation',
      unexpected,
      `${unexpected.length} stored reservations nobody was answered for`,
    ),
  ];
  return { checks, adopted, missing: notConfirmed.length + notAsTold.length, unexpected: unexpected.length };
};

/**
 * The checkout's integrity audit, over what was read of the store once the load was over and
 * every hold was due (see readCheckoutStore) and what the visitors were told. Pure, so a test can
 * feed it a store or expectations that must fail. It checks: no seat sold twice; the counts equal
 * the sums of the reservations by status; every 200 confirm stored as confirmed; every hold ended
 * as its visitor was told (a released or expired hold's seats returned: nothing held at the end);
 * where demand exceeded capacity, every seat sold once the last buyer took what was left; no
 * stored reservation nobody was answered for; and for an event-sourced design, the seat invariant
 * at every version of the stream.
 */
export const checkoutAudit = (store: CheckoutStore, told: CheckoutTold): AuditResult => {
  const seats = seatChecks(store, told);
  const reservations = reservationChecks(store, told);
  const checks = [...seats.checks, ...reservations.checks, ...(store.events ? streamCheck(store) : [])];
  return {
    passed: checks.every((c) => c.passed),
    conferences: 1,
    unanswered: told.unanswered.length,
    adopted: reservations.adopted,
    counts: { oversold: seats.oversold, missing: reservations.missing, unexpected: reservations.unexpected },
    checks,
  };
};

/** The event-sourced designs: confirmed + held within capacity at every version, and the fold's end equal to the counts. */
const streamCheck = (store: CheckoutStore): AuditCheck[] => {
  const fold = foldStream(store.events ?? []);
  const problems = [...fold.violations];
  for (const seat of store.strong.seatTypes) {
    const [reserved, held] = [fold.reserved.get(seat.type) ?? 0, fold.held.get(seat.type) ?? 0];
    if (reserved !== seat.reserved || held !== (seat.held ?? 0))
      problems.push(
        `${seat.type}: the stream folds to reserved ${reserved} held ${held}, the counts say ${seat.reserved} / ${seat.held ?? 0}`,
      );
  }
  return check(
    'confirmed + held <= capacity at every version',
    problems,
    `${fold.versions} versions folded, ${fold.violations.length} broke it`,
  );
};
