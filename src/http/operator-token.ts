import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './app-env.js';
import { Problem } from './problem.js';

/**
 * Who may do what: operator routes (creating a conference, listing a conference's reservations
 * or events, forgetting an attendee, changing a capacity) want the operator's token as
 * `Authorization: Bearer <token>`; every other route is the visitor's, and a reservation is
 * whoever holds its id. This file is the one place the token is checked.
 */

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/**
 * A check of presented tokens against `token` that takes the same time whatever they hold: both
 * sides are hashed to 32 bytes, so `timingSafeEqual` compares equal lengths (it throws on
 * unequal ones) and a token of another length tells nothing by being refused sooner.
 */
export const operatorTokenCheck = (token: string): ((presented: string | undefined) => boolean) => {
  const expected = sha256(token);
  return (presented) => presented !== undefined && timingSafeEqual(sha256(presented), expected);
};

/** The token of an `Authorization: Bearer <token>` header (the scheme in any case, RFC 9110); undefined for anything else. */
export const bearerToken = (authorization: string | undefined): string | undefined =>
  /^Bearer +([^\s,]+) *$/i.exec(authorization ?? '')?.[1];

/** The answer to an operator route without the operator's token: the same for a missing and a wrong one. */
export const operatorTokenRequired = (): Problem =>
  new Problem(
    401,
    'unauthorized',
    "This route is the operator's: send the operator token as Authorization: Bearer <token>.",
    {},
    { 'WWW-Authenticate': 'Bearer realm="seat-surge operator"' },
  );

/** Middleware for an operator route: a request without the operator's token is answered 401 before anything else is read. */
export const operatorOnly = (token: string): MiddlewareHandler<AppEnv> => {
  const isOperator = operatorTokenCheck(token);
  return (c, next) => {
    if (!isOperator(bearerToken(c.req.header('authorization')))) throw operatorTokenRequired();
    return next();
  };
};
