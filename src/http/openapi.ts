import { maxHeaderSize } from 'node:http';
import { z } from 'zod';
import {
  availabilityAnswer,
  ceilingAnswer,
  conferenceListAnswer,
  eventPageAnswer,
  forgottenAnswer,
  healthAnswer,
  problemAnswer,
  reservationAnswer,
  reservationPageAnswer,
} from './answer-schemas.js';
import { HOLD_DEFAULTS } from '../config.js';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from './client-errors.js';
import {
  attendeeIdSchema,
  availabilityQuerySchema,
  ceilingSchema,
  conferenceIdSchema,
  confirmSchema,
  createConferenceSchema,
  eventsQuerySchema,
  holdSeatsSchema,
  reservationIdSchema,
  reservationsQuerySchema,
  reserveSeatsSchema,
} from './schemas.js';

/**
 * The OpenAPI 3.1 document, generated from the zod schemas the routes validate with (requests)
 * and the answer schemas the tests check every answer against (answers). The table of
 * operations below is the only hand-written part; `test/openapi.test.ts` fails when a route of
 * the app is missing from it or it names a route the app does not have.
 */

type Answer = { description: string; schema?: z.ZodType; contentType?: string; headers?: Record<string, string> };

export type Operation = {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI path, parameters in braces: /conferences/{id}/availability. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  params?: Record<string, z.ZodType>;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** Whether the body may be left out (it is required otherwise). */
  bodyOptional?: boolean;
  answers: Record<number, Answer>;
  /** An operator route: it wants the operator token (operator-token.ts), and answers 401 without it. */
  operator?: true;
};

/** Schemas shown by name under components.schemas; requests are described as sent, answers as received. */
const requestSchemas = { CreateConference: createConferenceSchema, ReserveSeats: reserveSeatsSchema };
const answerSchemas = {
  Availability: availabilityAnswer,
  ConferenceList: conferenceListAnswer,
  Reservation: reservationAnswer,
  ReservationPage: reservationPageAnswer,
  EventPage: eventPageAnswer,
  Health: healthAnswer,
  Problem: problemAnswer,
};

const problem = (description: string): Answer => ({
  description,
  schema: problemAnswer,
  contentType: 'application/problem+json',
});
/** What the event-sourced routes that name an attendee say of it. */
const ATTENDEE_WORDS =
  'The body may name the attendee (`attendee: {name, email}`): stored only encrypted with a key of their own, answered with `attendee.id` (the id to forget them by), shown with their fields when the reservation is read by its id.';

const invalid = problem('Invalid input (`invalid_request`, `malformed_json`, `unknown_seat_type`)');
const notFound = problem('No such conference or reservation');
const busy: Answer = {
  ...problem(
    '`busy`: the conference has too many commands waiting, or they have waited too long; or `database_unavailable`: the database cannot be reached. Retry after `Retry-After` seconds',
  ),
  headers: { 'Retry-After': 'Seconds to wait before retrying' },
};
const unauthorized: Answer = {
  ...problem('`unauthorized`: no operator token, or a wrong one (`Authorization: Bearer <token>`)'),
  headers: { 'WWW-Authenticate': 'Bearer realm="seat-surge operator"' },
};
const tooLarge = problem('`payload_too_large`: the body is over the limit');
const notJson = problem('`unsupported_media_type`: the body is not sent as JSON (`Content-Type: application/json`)');

/** The booking routes, served for each design under its prefix. */
const bookingOperations = (prefix: string, tag: string, keepsHistory: boolean): Operation[] => {
  const conference = { id: conferenceIdSchema };
  const reservation = { id: conferenceIdSchema, reservationId: reservationIdSchema };
  return [
    {
      method: 'post',
      path: prefix,
      tag,
      summary: 'Create a conference',
      description: 'An operator route: it wants the operator token.',
      operator: true,
      body: createConferenceSchema,
      answers: {
        201: { description: 'Created; the availability of the new conference', schema: availabilityAnswer },
        400: invalid,
        401: unauthorized,
        409: problem('`conference_exists`'),
        413: tooLarge,
        415: notJson,
        503: busy,
      },
    },
    {
      method: 'get',
      path: prefix,
      tag,
      summary: 'List conferences',
      description: 'From the read side (eventually consistent) on the event-sourced paths.',
      answers: { 200: { description: 'The conferences', schema: conferenceListAnswer } },
    },
    {
      method: 'get',
      path: `${prefix}/{id}/availability`,
      tag,
      summary: 'Remaining seats per seat type',
      description: keepsHistory
        ? 'From the materialised view by default (eventually consistent; `position` says how far it has read). `consistency=strong` replays the aggregate (snapshot + events); `asOf` replays from the latest snapshot at or before that time.'
        : 'From the counter rows. This design keeps no history: `asOf` is answered 400.',
      params: conference,
      query: availabilityQuerySchema,
      answers: {
        200: { description: 'Capacity, reserved and remaining of every seat type', schema: availabilityAnswer },
        400: invalid,
        404: notFound,
      },
    },
    {
      method: 'get',
      path: `${prefix}/{id}/reservations`,
      tag,
      summary: "A page of a conference's reservations, by reservation id",
      description:
        "An operator route: every id listed is its holder's only proof of holding the reservation, so only the operator may list them.",
      operator: true,
      params: conference,
      query: reservationsQuerySchema,
      answers: {
        200: { description: 'A page', schema: reservationPageAnswer },
        400: invalid,
        401: unauthorized,
        404: notFound,
      },
    },
    {
      method: 'post',
      path: `${prefix}/{id}/reservations`,
      tag,
      summary: 'Reserve seats',
      description: `Idempotent by \`reservationId\` (generated when absent): repeating a reservation with the same seats answers 200 (with the attendee it named first). ${
        keepsHistory ? ATTENDEE_WORDS : 'This design records no attendee: a body naming one is answered 400.'
      }`,
      params: conference,
      body: reserveSeatsSchema,
      answers: {
        201: { description: 'Reserved', schema: reservationAnswer, headers: { Location: 'The reservation' } },
        200: { description: 'Already reserved with these seats (a repeat)', schema: reservationAnswer },
        400: invalid,
        404: notFound,
        409: problem('`insufficient_seats` (with `remaining` per requested type) or `reservation_conflict`'),
        413: tooLarge,
        415: notJson,
        503: busy,
      },
    },
    {
      method: 'post',
      path: `${prefix}/{id}/holds`,
      tag,
      summary: 'Hold seats (the checkout)',
      description: `Takes the seats from sale until \`expiresAt\` (\`holdSeconds\` from now; by default ${HOLD_DEFAULTS.defaultSeconds}, at most ${HOLD_DEFAULTS.maxSeconds}: the server's HOLD_DEFAULT_SECONDS and HOLD_MAX_SECONDS). Confirm it before then, or release it; a hold left alone expires and its seats return to sale. Idempotent by \`reservationId\` (generated when absent).`,
      params: conference,
      body: holdSeatsSchema(HOLD_DEFAULTS),
      answers: {
        201: { description: 'Held', schema: reservationAnswer, headers: { Location: 'The reservation it becomes' } },
        200: { description: 'Already held (or confirmed) with these seats (a repeat)', schema: reservationAnswer },
        400: invalid,
        404: notFound,
        409: problem('`insufficient_seats` (with `remaining` per requested type) or `reservation_conflict`'),
        413: tooLarge,
        415: notJson,
        503: busy,
      },
    },
    {
      method: 'post',
      path: `${prefix}/{id}/holds/{reservationId}/confirm`,
      tag,
      summary: 'Confirm a hold: its seats become reserved',
      description: `Idempotent: confirming a confirmed hold answers 200 again. At or after \`expiresAt\` it is too late. ${
        keepsHistory ? ATTENDEE_WORDS : 'This design records no attendee: a body naming one is answered 400.'
      }`,
      params: reservation,
      body: confirmSchema,
      bodyOptional: true,
      answers: {
        200: { description: 'Confirmed', schema: reservationAnswer },
        400: invalid,
        404: problem('`hold_not_found` (or `conference_not_found`)'),
        409: problem('`hold_expired` (with `expiresAt`), or `reservation_conflict` (it was released)'),
        503: busy,
      },
    },
    {
      method: 'delete',
      path: `${prefix}/{id}/holds/{reservationId}`,
      tag,
      summary: 'Release a hold: its seats return to sale',
      description:
        'Idempotent: releasing a released or expired hold answers 200. A confirmed one is cancelled instead (DELETE the reservation).',
      params: reservation,
      answers: {
        200: { description: 'Released (or expired already)', schema: reservationAnswer },
        400: invalid,
        404: problem('`hold_not_found` (or `conference_not_found`)'),
        409: problem('`reservation_conflict` (it was confirmed)'),
        503: busy,
      },
    },
    {
      method: 'get',
      path: `${prefix}/{id}/reservations/{reservationId}`,
      tag,
      summary: 'One reservation',
      params: reservation,
      answers: { 200: { description: 'The reservation', schema: reservationAnswer }, 400: invalid, 404: notFound },
    },
    {
      method: 'delete',
      path: `${prefix}/{id}/reservations/{reservationId}`,
      tag,
      summary: 'Cancel a reservation',
      description: 'Idempotent: cancelling a cancelled reservation answers 200 again.',
      params: reservation,
      answers: {
        200: { description: 'Cancelled', schema: reservationAnswer },
        400: invalid,
        404: notFound,
        503: busy,
      },
    },
  ];
};

/** Every operation the app serves, in the order the document lists them. */
const operations: Operation[] = [
  ...bookingOperations('/conferences', 'Event-sourced (configured write path)', true),
  {
    method: 'get',
    path: '/conferences/{id}/events',
    tag: 'Event-sourced (configured write path)',
    summary: "The conference's events (its audit trail), oldest first",
    description:
      "An operator route: the events carry every reservation id, and the attendees' names and email addresses. Each event is shown in the current shape of its type, whatever version it was stored in.",
    operator: true,
    params: { id: conferenceIdSchema },
    query: eventsQuerySchema,
    answers: {
      200: { description: 'A page of events', schema: eventPageAnswer },
      400: invalid,
      401: unauthorized,
      404: notFound,
    },
  },
  {
    method: 'delete',
    path: '/attendees/{attendeeId}/personal-data',
    tag: 'Event-sourced (configured write path)',
    summary: "Forget an attendee's personal data (crypto-shredding)",
    description:
      "Deletes the attendee's key: from then on every read shows `{ id, forgotten: true }` instead of their name and email. The events are not rewritten; seat counts and every answer about seats stay as they were. Idempotent: a repeat answers 200 with the first `forgottenAt`. See docs/architecture.md for what it does not erase (WAL, backups, logs kept elsewhere). An operator route: the operator acts on the person's request.",
    operator: true,
    params: { attendeeId: attendeeIdSchema },
    answers: {
      200: { description: 'Forgotten', schema: forgottenAnswer },
      400: invalid,
      401: unauthorized,
      404: problem('`attendee_not_found`'),
      503: busy,
    },
  },
  {
    method: 'get',
    path: '/conferences/{id}/stream',
    tag: 'Event-sourced (configured write path)',
    summary: 'Live availability (Server-Sent Events)',
    description:
      'An `availability` event with the body of GET /conferences/{id}/availability on connect and whenever the view changes.',
    params: { id: conferenceIdSchema },
    answers: {
      200: { description: 'An event stream', contentType: 'text/event-stream' },
      400: invalid,
      404: notFound,
    },
  },
  ...bookingOperations('/batched/conferences', 'Event-sourced, batched single writer', true),
  ...bookingOperations('/direct/conferences', 'Event-sourced, direct (retry on conflict)', true),
  ...bookingOperations('/crud/conferences', 'CRUD baseline (naive: locking transaction)', false),
  ...bookingOperations('/crud-atomic/conferences', 'CRUD baseline (atomic: one round trip)', false),
  {
    method: 'get',
    path: '/healthz',
    tag: 'Operations',
    summary: 'Liveness and database reachability',
    answers: { 200: { description: 'Up', schema: healthAnswer } },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'Operations',
    summary: 'Prometheus metrics',
    answers: { 200: { description: 'Metrics in the Prometheus text format', contentType: 'text/plain' } },
  },
  {
    method: 'post',
    path: '/loadtest/ceiling',
    tag: 'Operations',
    summary: "The HTTP layer's ceiling probe for the load tests",
    description: 'The middleware and body validation of a reservation, then one `select 1`.',
    body: ceilingSchema,
    answers: { 200: { description: 'Done', schema: ceilingAnswer }, 400: invalid, 413: tooLarge, 415: notJson },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'Operations',
    summary: 'This document',
    answers: { 200: { description: 'OpenAPI 3.1', contentType: 'application/json' } },
  },
];

const unavailable: Answer = {
  ...problem('`database_unavailable`: the database cannot be reached; retry after `Retry-After` seconds'),
  headers: { 'Retry-After': 'Seconds to wait before retrying' },
};
/** Served without the database: everything else may answer 503 `database_unavailable` during an outage. */
const WITHOUT_DATABASE = new Set(['/metrics', '/openapi.json']);

/** Every operation of the app, with the 503 of a database outage where it can happen. */
export const OPERATIONS: Operation[] = operations.map((operation) =>
  WITHOUT_DATABASE.has(operation.path) || operation.answers[503]
    ? operation
    : { ...operation, answers: { ...operation.answers, 503: unavailable } },
);

/** The name of the operator token's security scheme. */
const OPERATOR_TOKEN = 'operatorToken';

type JsonSchema = Record<string, unknown>;

/** JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of one schema, named ones by reference. */
const toSchema = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const named = Object.entries(io === 'input' ? requestSchemas : answerSchemas).find(([, s]) => s === schema);
  if (named) return { $ref: `#/components/schemas/${named[0]}` };
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return json;
};

const components = (schemas: Record<string, z.ZodType>, io: 'input' | 'output') => {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(schemas)) registry.add(schema, { id });
  const { schemas: json } = z.toJSONSchema(registry, {
    io,
    unrepresentable: 'any',
    uri: (id) => `#/components/schemas/${id}`,
  });
  return Object.fromEntries(
    Object.entries(json).map(([id, { $schema: _s, $id: _i, ...schema }]) => [id, schema as JsonSchema]),
  );
};

const parameters = (operation: Operation) => [
  ...Object.entries(operation.params ?? {}).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: toSchema(schema, 'input'),
  })),
  ...Object.entries(operation.query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: 'query',
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: toSchema(schema as z.ZodType, 'input'),
  })),
];

const answer = ({ description, schema, contentType = 'application/json', headers }: Answer) => ({
  description,
  ...(headers
    ? {
        headers: Object.fromEntries(
          Object.entries(headers).map(([name, text]) => [name, { description: text, schema: { type: 'string' } }]),
        ),
      }
    : {}),
  content: { [contentType]: schema ? { schema: toSchema(schema, 'output') } : {} },
});

/** The whole document; built once per app. */
export const openApiDocument = (version: string) => {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const operation of OPERATIONS) {
    const parametersOf = parameters(operation);
    (paths[operation.path] ??= {})[operation.method] = {
      tags: [operation.tag],
      summary: operation.summary,
      ...(operation.description ? { description: operation.description } : {}),
      operationId: `${operation.method}${operation.path.replace(/[{}]/g, '').replace(/[/.-](\w)/g, (_, c: string) => c.toUpperCase())}`,
      ...(operation.operator ? { security: [{ [OPERATOR_TOKEN]: [] }] } : {}),
      ...(parametersOf.length > 0 ? { parameters: parametersOf } : {}),
      ...(operation.body
        ? {
            requestBody: {
              required: !operation.bodyOptional,
              content: { 'application/json': { schema: toSchema(operation.body, 'input') } },
            },
          }
        : {}),
      responses: Object.fromEntries(Object.entries(operation.answers).map(([status, a]) => [status, answer(a)])),
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'seat-surge',
      version,
      description:
        'Conference seat reservations, event-sourced (with a batched single writer or the textbook retry-on-conflict path) and as a CRUD baseline, side by side. Errors are RFC 9457 Problem Details with a stable `error` code. ' +
        'Any request may also be refused before it reaches an operation, with a Problem Details body and the connection closed: ' +
        '400 `invalid_request` (not valid HTTP/1.1: a bad Content-Length or chunk size, a CR or LF inside a header), ' +
        `431 \`headers_too_large\` (request line and headers over ${maxHeaderSize} bytes), ` +
        `408 \`request_timeout\` (headers not in within ${HEADERS_TIMEOUT_MS / 1000} s, or the whole request within ${REQUEST_TIMEOUT_MS / 1000} s). ` +
        'While the database cannot be reached, every operation that needs it answers 503 `database_unavailable` with `Retry-After`; a write may have been committed just before, and a retry with the same `reservationId` says which.',
    },
    servers: [{ url: '/' }],
    paths,
    components: {
      schemas: { ...components(requestSchemas, 'input'), ...components(answerSchemas, 'output') },
      securitySchemes: {
        [OPERATOR_TOKEN]: {
          type: 'http',
          scheme: 'bearer',
          description:
            'The operator token: ADMIN_TOKEN, or the one `npm start` keeps in ADMIN_TOKEN_FILE (.data/admin-token) when it is unset.',
        },
      },
    },
  };
};
