/** Shape rules of SPEC section 1, shared by the HTTP validation and the tests. */

/** Conference ids and seat type names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/**
 * Reservation ids as stored and looked up: client-chosen idempotency keys, or a generated UUID.
 * Ids of 1 to 15 characters were accepted before issue 29, and stay reachable by it.
 */
export const RESERVATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/**
 * The fewest characters of a reservation id a client chooses. The id is the only proof of holding
 * the reservation (whoever sends it may cancel it), so it must be as hard to guess as a payment
 * API's idempotency key: 16 characters of this alphabet are 95 bits if drawn at random.
 */
export const MIN_CLIENT_RESERVATION_ID_LENGTH = 16;

/** A reservation id a client chooses from now on: RESERVATION_ID_PATTERN, at least MIN_CLIENT_RESERVATION_ID_LENGTH long. */
export const CLIENT_RESERVATION_ID_PATTERN = new RegExp(
  `^[A-Za-z0-9][A-Za-z0-9_-]{${MIN_CLIENT_RESERVATION_ID_LENGTH - 1},63}$`,
);

export const MAX_SEAT_TYPES = 20;
export const MAX_CAPACITY = 10_000_000;
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 100;
export const MAX_CONFERENCE_NAME_LENGTH = 200;
