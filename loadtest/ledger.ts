import type { SeatQuantity } from '../src/seat-availability/index.js';
import type { PlannedRequest } from './workloads.js';

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
}
