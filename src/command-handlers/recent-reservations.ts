import type { KnownReservation } from '../seat-availability/index.js';

/**
 * The reservations a conference's writer decided or looked up most recently, at most `capacity`
 * of them, least recently used dropped first. A bounded stand-in for "every reservation ever
 * made": memory is set by configuration, not by the conference's history; a reservation not
 * here is looked up by its id in the store.
 */
export class RecentReservations {
  /** A Map keeps insertion order: the first key is the least recently used. */
  readonly #entries = new Map<string, KnownReservation>();

  constructor(readonly capacity: number) {}

  get(reservationId: string): KnownReservation | undefined {
    const reservation = this.#entries.get(reservationId);
    if (reservation) {
      this.#entries.delete(reservationId);
      this.#entries.set(reservationId, reservation);
    }
    return reservation;
  }

  has(reservationId: string): boolean {
    return this.#entries.has(reservationId);
  }

  set(reservationId: string, reservation: KnownReservation): void {
    this.#entries.delete(reservationId);
    this.#entries.set(reservationId, reservation);
    if (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}
