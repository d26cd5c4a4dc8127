import type { SeatQuantity } from '../src/seat-availability/index.js';
import type { PlannedRequest } from './workloads.js';

/** A ledger as plain data, for a load generator in another process to send back. */
export type LedgerRecord = {
  accepted: [conferenceId: string, reservationId: string, seats: SeatQuantity[]][];
  cancelled: [conferenceId: string, reservationId: string][];
  holds: [conferenceId: string, reservationId: string, seats: SeatQuantity[], told: HoldTold][];
  refused: [conferenceId: string, seatType: string][];
  unanswered: PlannedRequest[];
};

/**
 * What a visitor was last told of its hold: `held` (201), then `confirmed` or `released` (200),
 * or `expired` (a 409 to its confirm or release: the hold was due).
 */
export type HoldTold = 'held' | 'confirmed' | 'released' | 'expired';

/** A hold answered 201, and what its visitor was told of it since. */
export type HoldRecord = { seats: SeatQuantity[]; told: HoldTold };

/**
 * What the load generator was told, per conference: every reservation answered 201 and every
 * one of those it cancelled (answered 200); every hold answered 201 and what became of it, and
 * the seat types of which a hold was refused for want of seats. The integrity audits compare
 * the store with this.
 */
export class Ledger {
  readonly #accepted = new Map<string, Map<string, SeatQuantity[]>>();
  readonly #cancelled = new Map<string, Set<string>>();
  readonly #holds = new Map<string, Map<string, HoldRecord>>();
  readonly #refused = new Map<string, Set<string>>();
  /** Requests sent whose answer never came (in flight when a load stopped, or timed out). */
  readonly #unanswered = new Set<PlannedRequest>();

  sent(request: PlannedRequest): void {
    this.#unanswered.add(request);
  }

  answered(request: PlannedRequest): void {
    this.#unanswered.delete(request);
  }

  /** Reserve and cancel requests of a conference whose outcome the load generator never heard. */
  unanswered(conferenceId: string): PlannedRequest[] {
    return [...this.#unanswered].filter((r) => r.conferenceId === conferenceId && r.kind !== 'read');
  }

  accept(conferenceId: string, reservationId: string, seats: SeatQuantity[]): void {
    const accepted = this.#accepted.get(conferenceId) ?? new Map<string, SeatQuantity[]>();
    accepted.set(reservationId, seats);
    this.#accepted.set(conferenceId, accepted);
  }

  cancel(conferenceId: string, reservationId: string): void {
    const cancelled = this.#cancelled.get(conferenceId) ?? new Set<string>();
    cancelled.add(reservationId);
    this.#cancelled.set(conferenceId, cancelled);
  }

  accepted(conferenceId: string): Map<string, SeatQuantity[]> {
    return this.#accepted.get(conferenceId) ?? new Map<string, SeatQuantity[]>();
  }

  cancelled(conferenceId: string): Set<string> {
    return this.#cancelled.get(conferenceId) ?? new Set();
  }

  /** Reservations accepted and not cancelled. */
  live(conferenceId: string): Map<string, SeatQuantity[]> {
    const cancelled = this.cancelled(conferenceId);
    return new Map([...this.accepted(conferenceId)].filter(([id]) => !cancelled.has(id)));
  }

  /** Seats per type held by live reservations. */
  seatsHeld(conferenceId: string): Map<string, number> {
    const held = new Map<string, number>();
    for (const seats of this.live(conferenceId).values()) {
      for (const { seatType, quantity } of seats) held.set(seatType, (held.get(seatType) ?? 0) + quantity);
    }
    return held;
  }

  hold(conferenceId: string, reservationId: string, seats: SeatQuantity[], told: HoldTold = 'held'): void {
    const holds = this.#holds.get(conferenceId) ?? new Map<string, HoldRecord>();
    holds.set(reservationId, { seats, told });
    this.#holds.set(conferenceId, holds);
  }

  /** What the visitor was told of its hold since the 201 (a hold it was never told of is left alone). */
  settleHold(conferenceId: string, reservationId: string, told: Exclude<HoldTold, 'held'>): void {
    const hold = this.#holds.get(conferenceId)?.get(reservationId);
    if (hold) hold.told = told;
  }

  holds(conferenceId: string): Map<string, HoldRecord> {
    return this.#holds.get(conferenceId) ?? new Map<string, HoldRecord>();
  }

  /** A hold of these seats was refused for want of seats: demand exceeded capacity for their types. */
  refuse(conferenceId: string, seatTypes: string[]): void {
    const refused = this.#refused.get(conferenceId) ?? new Set<string>();
    for (const seatType of seatTypes) refused.add(seatType);
    this.#refused.set(conferenceId, refused);
  }

  /** The seat types of which a hold was refused for want of seats. */
  refused(conferenceId: string): Set<string> {
    return this.#refused.get(conferenceId) ?? new Set();
  }

  acceptedCount(conferenceIds: string[]): number {
    return conferenceIds.reduce((n, id) => n + this.accepted(id).size, 0);
  }

  /** What this ledger holds, as plain data. */
  toRecord(): LedgerRecord {
    return {
      accepted: [...this.#accepted].flatMap(([conferenceId, reservations]) =>
        [...reservations].map(([id, seats]): LedgerRecord['accepted'][number] => [conferenceId, id, seats]),
      ),
      cancelled: [...this.#cancelled].flatMap(([conferenceId, ids]) =>
        [...ids].map((id): LedgerRecord['cancelled'][number] => [conferenceId, id]),
      ),
      holds: [...this.#holds].flatMap(([conferenceId, holds]) =>
        [...holds].map(([id, { seats, told }]): LedgerRecord['holds'][number] => [conferenceId, id, seats, told]),
      ),
      refused: [...this.#refused].flatMap(([conferenceId, types]) =>
        [...types].map((seatType): LedgerRecord['refused'][number] => [conferenceId, seatType]),
      ),
      unanswered: [...this.#unanswered],
    };
  }

  /** Adds what another ledger recorded (a load generator in another process, a later step of a load). */
  absorb(record: LedgerRecord): void {
    for (const [conferenceId, reservationId, seats] of record.accepted) this.accept(conferenceId, reservationId, seats);
    for (const [conferenceId, reservationId] of record.cancelled) this.cancel(conferenceId, reservationId);
    for (const [conferenceId, id, seats, told] of record.holds) this.hold(conferenceId, id, seats, told);
    for (const [conferenceId, seatType] of record.refused) this.refuse(conferenceId, [seatType]);
    for (const request of record.unanswered) this.sent(request);
  }
}

/**
 * Notes an answer in the ledger: the request is answered, and a 201 reservation or hold, a 200
 * cancel, confirm or release is what the service promised. A 409 to a confirm or a release
 * says the hold was due; a 409 to a hold (a fresh id) says its seats ran short.
 */
export const noteAnswer = (ledger: Ledger, planned: PlannedRequest, status: number): void => {
  ledger.answered(planned);
  const { kind, conferenceId, reservationId, seats = [] } = planned;
  if (!conferenceId || !reservationId) return;
  if (kind === 'reserve' && status === 201) ledger.accept(conferenceId, reservationId, seats);
  if (kind === 'cancel' && status === 200) ledger.cancel(conferenceId, reservationId);
  if (kind === 'hold' && status === 201) ledger.hold(conferenceId, reservationId, seats);
  if (kind === 'hold' && status === 409)
    ledger.refuse(
      conferenceId,
      seats.map((s) => s.seatType),
    );
  if (kind === 'confirm' || kind === 'release') {
    if (status === 200) ledger.settleHold(conferenceId, reservationId, kind === 'confirm' ? 'confirmed' : 'released');
    if (status === 409) ledger.settleHold(conferenceId, reservationId, 'expired');
  }
};
