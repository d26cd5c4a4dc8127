/** Shape rules of SPEC section 1, shared by the HTTP validation and the tests. */

/** Conference ids and seat type names. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Reservation ids: client-chosen idempotency keys, or a generated UUID. */
export const RESERVATION_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export const MAX_SEAT_TYPES = 20;
export const MAX_CAPACITY = 10_000_000;
export const MIN_QUANTITY = 1;
export const MAX_QUANTITY = 100;
export const MAX_CONFERENCE_NAME_LENGTH = 200;
