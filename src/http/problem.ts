import type { ConflictReason, Rejection } from '../seat-availability/index.js';

/** The stable machine codes of every error answer. */
export type ProblemCode =
  | Rejection['kind']
  | 'attendee_not_found'
  | 'invalid_request'
  | 'malformed_json'
  | 'unauthorized'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'headers_too_large'
  | 'request_timeout'
  | 'not_found'
  | 'busy'
  | 'database_unavailable'
  | 'process_unavailable'
  | 'too_many_requests'
  | 'internal_error';

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/**
 * An error answer as an RFC 9457 Problem Details document, plus our own `error` (a stable
 * code) and `message` (a human sentence), and any details of the problem.
 */
export class Problem extends Error {
  override readonly name = 'Problem';

  constructor(
    readonly status: number,
    readonly code: ProblemCode,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  /** The document itself, the body of every error answer, also those written straight to a socket. */
  toDocument(): Record<string, unknown> {
    // Details first: they may never overwrite the standard members.
    return {
      ...this.details,
      type: `urn:seat-surge:problem:${this.code}`,
      title: titles[this.code],
      status: this.status,
      detail: this.message,
      error: this.code,
      message: this.message,
    };
  }

  toResponse(): Response {
    return new Response(JSON.stringify(this.toDocument()), {
      status: this.status,
      headers: { 'content-type': PROBLEM_CONTENT_TYPE, ...this.headers },
    });
  }
}

const titles = {
  conference_exists: 'Conference already exists',
  conference_not_found: 'Conference not found',
  unknown_seat_type: 'Unknown seat type',
  insufficient_seats: 'Not enough seats',
  reservation_conflict: 'Reservation id already used',
  reservation_not_found: 'Reservation not found',
  hold_not_found: 'Hold not found',
  hold_expired: 'Hold expired',
  attendee_not_found: 'Attendee not found',
  invalid_request: 'Invalid request',
  malformed_json: 'Malformed JSON',
  unauthorized: 'Operator token required',
  payload_too_large: 'Request body too large',
  unsupported_media_type: 'Unsupported media type',
  headers_too_large: 'Request headers too large',
  request_timeout: 'Request timeout',
  not_found: 'Not found',
  busy: 'Busy, retry shortly',
  database_unavailable: 'Database unavailable',
  process_unavailable: 'No API process could answer',
  too_many_requests: 'Too many requests',
  internal_error: 'Internal error',
} satisfies Record<ProblemCode, string>;

/** Every error code an answer can carry. */
export const PROBLEM_CODES = Object.keys(titles) as [ProblemCode, ...ProblemCode[]];

/** Why a reservation id cannot serve the command, in words, by the reason the domain gives. */
const CONFLICTS: Record<ConflictReason, string> = {
  different_seats: 'already exists with other seats.',
  reserved: 'is already a reservation; its id cannot be used for another one.',
  cancelled: 'was cancelled; its id cannot be used again.',
  held: 'is a pending hold: confirm it or release it.',
  confirmed: 'is confirmed: to give it up, cancel the reservation.',
  released: 'was released; its id cannot be used again.',
  expired: 'expired; its id cannot be used again.',
};

/** The one table from a domain rejection to its HTTP status and words. */
export const rejectionProblem = (rejection: Rejection): Problem => {
  switch (rejection.kind) {
    case 'conference_exists':
      return new Problem(409, rejection.kind, `Conference ${rejection.conferenceId} already exists.`, {
        conferenceId: rejection.conferenceId,
      });
    case 'conference_not_found':
      return new Problem(404, rejection.kind, `There is no conference ${rejection.conferenceId}.`, {
        conferenceId: rejection.conferenceId,
      });
    case 'unknown_seat_type':
      return new Problem(400, rejection.kind, `This conference has no seat type ${rejection.seatTypes.join(', ')}.`, {
        seatTypes: rejection.seatTypes,
      });
    case 'insufficient_seats': {
      const short = rejection.remaining.filter((r) => r.requested > r.remaining);
      const words = short.map((r) => `${r.remaining} ${r.seatType} left, ${r.requested} requested`).join('; ');
      return new Problem(409, rejection.kind, `Not enough seats: ${words}.`, { remaining: rejection.remaining });
    }
    case 'reservation_conflict':
      return new Problem(409, rejection.kind, `Reservation ${rejection.reservationId} ${CONFLICTS[rejection.reason]}`, {
        reservationId: rejection.reservationId,
        reason: rejection.reason,
      });
    case 'reservation_not_found':
      return new Problem(404, rejection.kind, `There is no reservation ${rejection.reservationId}.`, {
        reservationId: rejection.reservationId,
      });
    case 'hold_not_found':
      return new Problem(404, rejection.kind, `There is no hold ${rejection.reservationId}.`, {
        reservationId: rejection.reservationId,
      });
    case 'hold_expired':
      return new Problem(409, rejection.kind, `Hold ${rejection.reservationId} expired at ${rejection.expiresAt}.`, {
        reservationId: rejection.reservationId,
        expiresAt: rejection.expiresAt,
      });
    default: {
      const unknown: never = rejection;
      throw new Error(`Unknown rejection ${JSON.stringify(unknown)}`);
    }
  }
};
