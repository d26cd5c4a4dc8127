import type { SeatQuantity } from '../src/seat-availability/index.js';
import type { PlannedRequest } from './workloads.js';

/** A ledger as plain data, for a load generator in another process to send back. */
export type LedgerRecord = {
  accepted: [conferenceId: string, reservationId: string, seats: SeatQuantity[]][];
  cancelled: [conferenceId: string, reservationId: string][];
  unanswered: PlannedRequest[];
};

/**
 * What the load generator was told, per conference: every reservation answered 201 and every
 * one of those it cancelled (answered 200). The integrity audit compares the store with this.
 */
export class Ledger {
  readonly #accepted = new Map<string, Map<string, SeatQuantity[]>>();
  readonly #cancelled = new Map<string, Set<string>>();
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
      unanswered: [...this.#unanswered],
    };
  }

  /** Adds what another ledger recorded (a load generator in another process, a later step of a load). */
  absorb(record: LedgerRecord): void {
    for (const [conferenceId, reservationId, seats] of record.accepted) this.accept(conferenceId, reservationId, seats);
    for (const [conferenceId, reservationId] of record.cancelled) this.cancel(conferenceId, reservationId);
    for (const request of record.unanswered) this.sent(request);
  }
}

/** Notes an answer in the ledger: the request is answered, and a 201 reservation or a 200 cancel is what the service promised. */
export const noteAnswer = (ledger: Ledger, planned: PlannedRequest, status: number): void => {
  ledger.answered(planned);
  if (planned.kind === 'reserve' && status === 201 && planned.conferenceId && planned.reservationId) {
    ledger.accept(planned.conferenceId, planned.reservationId, planned.seats ?? []);
  }
  if (planned.kind === 'cancel' && status === 200 && planned.conferenceId && planned.reservationId) {
    ledger.cancel(planned.conferenceId, planned.reservationId);
  }
};
