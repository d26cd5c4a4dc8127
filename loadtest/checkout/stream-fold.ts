import type { StreamEvent } from './checkout-store.js';

/** Seats per seat type. */
export type SeatCounts = Map<string, number>;

/** What folding a stream found: its last counts, and every version at which a bound was broken. */
export type StreamFold = {
  versions: number;
  capacity: SeatCounts;
  reserved: SeatCounts;
  held: SeatCounts;
  /** `v12 standard: reserved 9 + held 2 > capacity 10`, or an event the fold cannot read. */
  violations: string[];
};

/** How each event moves a seat type's reserved and held counts (by its `seats`). */
const MOVES: Record<string, { reserved: number; held: number }> = {
  SeatsReserved: { reserved: 1, held: 0 },
  ReservationCancelled: { reserved: -1, held: 0 },
  SeatsHeld: { reserved: 0, held: 1 },
  HoldConfirmed: { reserved: 1, held: -1 },
  HoldReleased: { reserved: 0, held: -1 },
  HoldExpired: { reserved: 0, held: -1 },
};

const add = (counts: SeatCounts, type: string, n: number) => counts.set(type, (counts.get(type) ?? 0) + n);

/**
 * Folds a conference's stream version by version, as the aggregate does, and checks after every
 * event that each seat type it moved has reserved (confirmed included) + held within capacity and
 * neither below zero: the seat invariant at every version, not only at the end. An event type
 * the fold does not know is a violation too, so a new seat-moving event cannot slip past it.
 */
export const foldStream = (events: StreamEvent[]): StreamFold => {
  const fold: StreamFold = { versions: 0, capacity: new Map(), reserved: new Map(), held: new Map(), violations: [] };
  const ordered = [...events].sort((a, b) => a.version - b.version);
  for (const [index, event] of ordered.entries()) {
    fold.versions++;
    if (event.version !== index + 1) fold.violations.push(`v${event.version}: expected version ${index + 1}`);
    if (event.type === 'ConferenceCreated') {
      for (const { type, capacity } of event.data.seatTypes ?? []) fold.capacity.set(type, capacity);
      continue;
    }
    const move = MOVES[event.type];
    if (!move) {
      fold.violations.push(`v${event.version}: unknown event type ${event.type}`);
      continue;
    }
    for (const { seatType, quantity } of event.data.seats ?? []) {
      add(fold.reserved, seatType, move.reserved * quantity);
      add(fold.held, seatType, move.held * quantity);
      const reserved = fold.reserved.get(seatType) ?? 0;
      const held = fold.held.get(seatType) ?? 0;
      const capacity = fold.capacity.get(seatType) ?? 0;
      if (reserved + held > capacity || reserved < 0 || held < 0) {
        fold.violations.push(
          `v${event.version} ${seatType}: reserved ${reserved} + held ${held} against capacity ${capacity}`,
        );
      }
    }
  }
  return fold;
};
