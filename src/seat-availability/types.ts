/**
 * The SeatAvailability aggregate's vocabulary: commands (what a caller asks for), events (facts
 * that happened) and rejections (why a command changed nothing). Times and ids arrive as data,
 * so the decision logic stays pure.
 */

/** One seat type of a conference and how many seats it has. */
export type SeatTypeCapacity = { type: string; capacity: number };

/** A requested or reserved quantity of one seat type. */
export type SeatQuantity = { seatType: string; quantity: number };

/**
 * An attendee's personal fields as they are stored: encrypted with that attendee's own key
 * (AES-256-GCM; base64 text), so that deleting the key forgets them. Opaque to the domain: no
 * decision reads them.
 */
export type SealedPersonalData = { iv: string; ciphertext: string; tag: string };

/** Whom a reservation is for: the data subject's id, and their personal fields, sealed. */
export type Attendee = { id: string; personalData: SealedPersonalData };

export type CreateConference = {
  type: 'CreateConference';
  conferenceId: string;
  name: string;
  seatTypes: SeatTypeCapacity[];
  now: string;
};

export type ReserveSeats = {
  type: 'ReserveSeats';
  conferenceId: string;
  reservationId: string;
  seats: SeatQuantity[];
  /** Whom the seats are for, if the caller says. */
  attendee?: Attendee | undefined;
  now: string;
};

export type CancelReservation = {
  type: 'CancelReservation';
  conferenceId: string;
  reservationId: string;
  now: string;
};

/**
 * Takes seats from sale for `holdSeconds` (a positive whole number, bounded at the HTTP edge),
 * until they are confirmed, released or expired: the checkout flow.
 */
export type HoldSeats = {
  type: 'HoldSeats';
  conferenceId: string;
  reservationId: string;
  seats: SeatQuantity[];
  holdSeconds: number;
  now: string;
};

/** Makes a hold's seats reserved, while the hold is still due to last; the checkout names the attendee here. */
export type ConfirmReservation = {
  type: 'ConfirmReservation';
  conferenceId: string;
  reservationId: string;
  attendee?: Attendee | undefined;
  now: string;
};

/** Gives a hold's seats back: the visitor walked away from the checkout. */
export type ReleaseHold = {
  type: 'ReleaseHold';
  conferenceId: string;
  reservationId: string;
  now: string;
};

/** Gives a hold's seats back once its time is up; sent by the expirer, never an error to it. */
export type ExpireHold = {
  type: 'ExpireHold';
  conferenceId: string;
  reservationId: string;
  now: string;
};

export type SeatAvailabilityCommand =
  CreateConference | ReserveSeats | CancelReservation | HoldSeats | ConfirmReservation | ReleaseHold | ExpireHold;

export type ConferenceCreated = {
  type: 'ConferenceCreated';
  data: { conferenceId: string; name: string; seatTypes: SeatTypeCapacity[]; createdAt: string };
};

/** Version 2: names its attendee (null when the reservation named none, as every version 1 event reads). */
export type SeatsReserved = {
  type: 'SeatsReserved';
  data: {
    conferenceId: string;
    reservationId: string;
    seats: SeatQuantity[];
    reservedAt: string;
    attendee: Attendee | null;
  };
};

export type ReservationCancelled = {
  type: 'ReservationCancelled';
  data: { conferenceId: string; reservationId: string; seats: SeatQuantity[]; cancelledAt: string };
};

export type SeatsHeld = {
  type: 'SeatsHeld';
  data: { conferenceId: string; reservationId: string; seats: SeatQuantity[]; heldAt: string; expiresAt: string };
};

/** Version 2: names its attendee, as SeatsReserved does. */
export type HoldConfirmed = {
  type: 'HoldConfirmed';
  data: {
    conferenceId: string;
    reservationId: string;
    seats: SeatQuantity[];
    confirmedAt: string;
    attendee: Attendee | null;
  };
};

export type HoldReleased = {
  type: 'HoldReleased';
  data: { conferenceId: string; reservationId: string; seats: SeatQuantity[]; releasedAt: string };
};

/** Carries the hold's `expiresAt` too, so the expiry's lag (`expiredAt - expiresAt`) reads off the event. */
export type HoldExpired = {
  type: 'HoldExpired';
  data: { conferenceId: string; reservationId: string; seats: SeatQuantity[]; expiresAt: string; expiredAt: string };
};

export type SeatAvailabilityEvent =
  ConferenceCreated | SeatsReserved | ReservationCancelled | SeatsHeld | HoldConfirmed | HoldReleased | HoldExpired;

/** What was asked of one seat type and what remains of it, reported when a reservation cannot be met. */
export type RequestedSeats = { seatType: string; requested: number; remaining: number };

/**
 * Why a reservation id cannot be used for the command: it was used with other seats, or it
 * stands at a status the command cannot act on (the status is the reason).
 */
export type ConflictReason = 'different_seats' | KnownReservation['status'];

export type Rejection =
  | { kind: 'conference_exists'; conferenceId: string }
  | { kind: 'conference_not_found'; conferenceId: string }
  | { kind: 'unknown_seat_type'; seatTypes: string[] }
  | { kind: 'insufficient_seats'; remaining: RequestedSeats[] }
  | { kind: 'reservation_conflict'; reservationId: string; reason: ConflictReason }
  | { kind: 'reservation_not_found'; reservationId: string }
  | { kind: 'hold_not_found'; reservationId: string }
  | { kind: 'hold_expired'; reservationId: string; expiresAt: string };

/**
 * The outcome of `decide`: the events to append (none when the command was already applied,
 * which makes repeats idempotent), or a rejection value.
 */
export type Decision =
  { kind: 'accepted'; events: SeatAvailabilityEvent[] } | { kind: 'rejected'; rejection: Rejection };

/**
 * Seats of one type: reserved (sold) and held (in a checkout). `remaining` is always
 * `capacity - reserved - held`, so it is derived, not stored.
 */
export type SeatCount = { capacity: number; reserved: number; held: number };

/**
 * What a reservation's own earlier events say of it: nothing yet, or its status and seats.
 * `reserved` is a one-step reservation (ReserveSeats); a hold is `held` until it is `confirmed`,
 * `released` or `expired`; `cancelled` is a reserved or confirmed one given up. A hold keeps its
 * due time while it is held, and once it expired (a late confirm is told when that was). It is
 * not part of the conference's state, which would then grow with every reservation ever made: it
 * is found by the reservation id and handed to `decide` with the command. A reservation or a
 * confirmed hold carries the id of the attendee it names, if any, for the answers (no decision
 * reads it).
 */
export type Reservation =
  | { status: 'absent' }
  | { status: 'reserved' | 'cancelled' | 'confirmed' | 'released'; seats: SeatQuantity[]; attendeeId?: string }
  | { status: 'held' | 'expired'; seats: SeatQuantity[]; expiresAt: string };

/** A reservation that exists, at any status. */
export type KnownReservation = Exclude<Reservation, { status: 'absent' }>;

/** The statuses a reservation that exists can stand at. */
export type ReservationStatus = KnownReservation['status'];

export type OpenConference = {
  status: 'open';
  conferenceId: string;
  name: string;
  /** In the order the conference was created with; the whole state: it never grows with the reservations. */
  seatTypes: Map<string, SeatCount>;
};

export type SeatAvailability = { status: 'absent' } | OpenConference;
