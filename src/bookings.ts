import type { Rejection, SeatQuantity, SeatTypeAvailability, SeatTypeCapacity } from './seat-availability/index.js';

/**
 * What the HTTP routes need of a booking design. The event-sourced path implements it, and so
 * does the CRUD baseline, so both share one set of routes, validation and error answers.
 */
export type Bookings = {
  createConference: (input: NewConference, metadata: RequestMetadata) => Promise<BookingResult<Availability>>;
  reserveSeats: (input: ReservationRequest, metadata: RequestMetadata) => Promise<BookingResult<Reservation>>;
  cancelReservation: (
    input: { conferenceId: string; reservationId: string },
    metadata: RequestMetadata,
  ) => Promise<BookingResult<Reservation>>;
  /** `strong` reads the authoritative state; `eventual` may answer from a read model. */
  availability: (conferenceId: string, consistency: Consistency) => Promise<Availability | undefined>;
  /** The availability as it was at a past time; only designs that keep their history offer it. */
  availabilityAsOf?: (conferenceId: string, asOf: Date) => Promise<Availability | undefined>;
  conferences: () => Promise<ConferenceSummary[]>;
  reservation: (conferenceId: string, reservationId: string) => Promise<Reservation | undefined>;
  /** A page of a conference's reservations ordered by id, after `after` (for audits); undefined for an unknown conference. */
  reservations: (conferenceId: string, page: { after: string; limit: number }) => Promise<Reservation[] | undefined>;
};

export type ConferenceSummary = { conferenceId: string; name: string; createdAt: string; position: number };

export type Consistency = 'eventual' | 'strong';

export type NewConference = { conferenceId: string; name: string; seatTypes: SeatTypeCapacity[] };

export type ReservationRequest = { conferenceId: string; reservationId: string; seats: SeatQuantity[] };

export type RequestMetadata = { requestId?: string };

/** `created` is false when the command repeated one already applied (idempotency by id). */
export type BookingResult<T> = { kind: 'ok'; created: boolean; value: T } | { kind: 'rejected'; rejection: Rejection };

export type Availability = {
  conferenceId: string;
  name: string;
  seatTypes: SeatTypeAvailability[];
  /** Global position of the last event reflected (the event-sourced path); 0 where there are no events. */
  position: number;
  /** The stream version, when read from the aggregate. */
  version?: number;
};

export type Reservation = {
  reservationId: string;
  conferenceId: string;
  seats: SeatQuantity[];
  status: 'reserved' | 'cancelled';
  /** Present where the design records them (the read side does). */
  reservedAt?: string;
  cancelledAt?: string;
};

/**
 * One row per seat type, in order, with the conference's name: what both read sides select.
 * Neither selects `held` yet (the CRUD baseline has no holds; the remaining-seats view does not
 * fold them), so it counts as 0 where it is missing.
 */
export type SeatRow = {
  name: string;
  type: string;
  capacity: number;
  reserved: number;
  held?: number;
  remaining?: number;
};

/** Seat rows as an availability; no rows means no such conference. */
export const availabilityFromRows = (
  conferenceId: string,
  rows: SeatRow[],
  position: number,
): Availability | undefined => {
  const first = rows[0];
  if (!first) return undefined;
  return {
    conferenceId,
    name: first.name,
    seatTypes: rows.map(({ type, capacity, reserved, held = 0, remaining }) => ({
      type,
      capacity,
      reserved,
      held,
      remaining: remaining ?? capacity - reserved - held,
    })),
    position,
  };
};

/**
 * A page of a conference's reservations. An empty page is ambiguous: past the last reservation,
 * or no such conference; only then is `conferenceExists` asked, and undefined means unknown.
 */
export const reservationPage = async (
  conferenceId: string,
  rows: Omit<Reservation, 'conferenceId'>[],
  conferenceExists: () => Promise<boolean>,
): Promise<Reservation[] | undefined> => {
  if (rows.length === 0 && !(await conferenceExists())) return undefined;
  return rows.map((row) => ({ ...row, conferenceId }));
};

/** A stored reservation, with its times, as the API shows it. */
export const reservationFromRow = (
  conferenceId: string,
  reservationId: string,
  row: Pick<Reservation, 'seats' | 'status'> & { reservedAt: Date; cancelledAt: Date | null },
): Reservation => ({
  reservationId,
  conferenceId,
  seats: row.seats,
  status: row.status,
  reservedAt: row.reservedAt.toISOString(),
  ...(row.cancelledAt ? { cancelledAt: row.cancelledAt.toISOString() } : {}),
});
