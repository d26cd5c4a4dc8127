import type {
  Rejection,
  ReservationStatus,
  SeatQuantity,
  SeatTypeAvailability,
  SeatTypeCapacity,
} from './seat-availability/index.js';
import type { PersonalData, RevealedAttendee } from './attendees/index.js';

/**
 * What the HTTP routes need of a booking design. The event-sourced path implements it, and so
 * does the CRUD baseline, so both share one set of routes, validation and error answers.
 */
export type Bookings = {
  createConference: (input: NewConference, metadata: RequestMetadata) => Promise<BookingResult<Availability>>;
  reserveSeats: (input: ReservationRequest, metadata: RequestMetadata) => Promise<BookingResult<Reservation>>;
  cancelReservation: (input: ReservationKey, metadata: RequestMetadata) => Promise<BookingResult<Reservation>>;
  /** Takes seats from sale for `holdSeconds` (the checkout): confirmed, released, or expired when due. */
  holdSeats: (input: HoldRequest, metadata: RequestMetadata) => Promise<BookingResult<Reservation>>;
  /** Makes a pending hold's seats reserved; `hold_expired` once its due time has passed. */
  confirmReservation: (input: ConfirmRequest, metadata: RequestMetadata) => Promise<BookingResult<Reservation>>;
  /** Gives a pending hold's seats back (the visitor gave up). */
  releaseHold: (input: ReservationKey, metadata: RequestMetadata) => Promise<BookingResult<Reservation>>;
  /** `strong` reads the authoritative state; `eventual` may answer from a read model. */
  availability: (conferenceId: string, consistency: Consistency) => Promise<Availability | undefined>;
  /** The availability as it was at a past time; only designs that keep their history offer it. */
  availabilityAsOf?: (conferenceId: string, asOf: Date) => Promise<Availability | undefined>;
  conferences: () => Promise<ConferenceSummary[]>;
  reservation: (conferenceId: string, reservationId: string) => Promise<Reservation | undefined>;
  /** A page of a conference's reservations ordered by id, after `after` (for audits); undefined for an unknown conference. */
  reservations: (conferenceId: string, page: { after: string; limit: number }) => Promise<Reservation[] | undefined>;
  /** Whether a reservation may name its attendee here (the event-sourced design); where not, naming one is a 400. */
  namesAttendees: boolean;
};

export type ConferenceSummary = { conferenceId: string; name: string; createdAt: string; position: number };

export type Consistency = 'eventual' | 'strong';

export type NewConference = { conferenceId: string; name: string; seatTypes: SeatTypeCapacity[] };

export type ReservationKey = { conferenceId: string; reservationId: string };

/** A reservation's request; `attendee`, whom it is for, only where the design `namesAttendees`. */
export type ReservationRequest = ReservationKey & { seats: SeatQuantity[]; attendee?: PersonalData | undefined };

/** A hold's confirm, which may name whom the seats are for (the checkout asks at the end). */
export type ConfirmRequest = ReservationKey & { attendee?: PersonalData | undefined };

export type HoldRequest = ReservationKey & { seats: SeatQuantity[]; holdSeconds: number };

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

export type { ReservationStatus };

/**
 * A reservation as the API shows it. `reserved` is a one-step reservation; a hold is `held`
 * until it is `confirmed`, `released` or `expired`; `cancelled` is a reserved or confirmed one
 * given up.
 */
export type Reservation = {
  reservationId: string;
  conferenceId: string;
  seats: SeatQuantity[];
  status: ReservationStatus;
  /** A hold's due time; a reservation that began as a hold keeps it whatever became of it. */
  expiresAt?: string;
  /** Present where the design records them (the read side does): when the seats were taken, and when the status changed. */
  reservedAt?: string;
  confirmedAt?: string;
  cancelledAt?: string;
  releasedAt?: string;
  expiredAt?: string;
  /**
   * The attendee it names: the id in a command's answer and in listings; their personal fields
   * (or that they were forgotten) where a reservation is read by its id.
   */
  attendee?: { id: string } | RevealedAttendee;
};

/** One row per seat type, in order, with the conference's name: what both read sides select. */
export type SeatRow = {
  name: string;
  type: string;
  capacity: number;
  reserved: number;
  held: number;
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
    seatTypes: rows.map(({ type, capacity, reserved, held, remaining }) => ({
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
  rows: (StoredReservation & { reservationId: string })[],
  conferenceExists: () => Promise<boolean>,
): Promise<Reservation[] | undefined> => {
  if (rows.length === 0 && !(await conferenceExists())) return undefined;
  return rows.map(({ reservationId, ...row }) => reservationFromRow(conferenceId, reservationId, row));
};

/**
 * A reservation as both read sides store it (the reservations view, the CRUD reservations table);
 * the view also keeps the id of the attendee it names (the CRUD table names none).
 */
export type StoredReservation = Pick<Reservation, 'seats' | 'status'> & {
  attendeeId?: string | null;
  reservedAt: Date;
  expiresAt: Date | null;
  confirmedAt: Date | null;
  cancelledAt: Date | null;
  releasedAt: Date | null;
  expiredAt: Date | null;
};

/** The columns of a `StoredReservation`, selected by name from either table (same column names in both). */
export const STORED_RESERVATION_COLUMNS = `seats, status, reserved_at as "reservedAt", expires_at as "expiresAt",
  confirmed_at as "confirmedAt", cancelled_at as "cancelledAt", released_at as "releasedAt", expired_at as "expiredAt"`;

/**
 * A stored reservation, with its times, as the API shows it: the times it has, a hold's due
 * time, and the attendee it names (by id).
 */
export const reservationFromRow = (
  conferenceId: string,
  reservationId: string,
  row: StoredReservation,
): Reservation => {
  const { seats, status, attendeeId, ...times } = row;
  const reservation: Reservation = { reservationId, conferenceId, seats, status };
  for (const [name, time] of Object.entries(times) as [keyof typeof times, Date | null][]) {
    if (time) reservation[name] = time.toISOString();
  }
  if (attendeeId) reservation.attendee = { id: attendeeId };
  return reservation;
};
