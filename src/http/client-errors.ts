import { maxHeaderSize, Server, STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ServerType } from '@hono/node-server';
import type { Logger } from '../logger.js';
import { Problem, PROBLEM_CONTENT_TYPE } from './problem.js';

/**
 * What the server answers when a request never reaches the app (Node's HTTP parser rejects it or
 * it arrives too slowly), and how it tells a client that went away from a server error.
 */

/** Request line and headers must arrive within this: a client that trickles them (slowloris) is cut off. */
export const HEADERS_TIMEOUT_MS = 10_000;

/**
 * The whole request, body included, must arrive within this: bodies are a few kB at most, and a
 * body sent a byte every few seconds would otherwise hold a connection for Node's default 300 s.
 */
export const REQUEST_TIMEOUT_MS = 30_000;

export type ClientTimeouts = { headersTimeoutMs: number; requestTimeoutMs: number };

type ClientError = Error & { code?: string };

/** The answer to each error Node reports before a request reaches the app; the codes are Node's and llhttp's. */
const problemOf = (error: ClientError): Problem => {
  switch (error.code) {
    // llhttp counts the request line against the header limit, so a long URL lands here too.
    case 'HPE_HEADER_OVERFLOW':
      return new Problem(
        431,
        'headers_too_large',
        `The request line and headers are limited to ${maxHeaderSize} bytes.`,
      );
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return new Problem(413, 'payload_too_large', 'The chunk extensions of the request body are too large.');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return new Problem(408, 'request_timeout', 'The request did not arrive in time; send it again.');
    default:
      return new Problem(400, 'invalid_request', 'The request is not valid HTTP/1.1.', {
        httpParserError: error.code ?? 'unknown',
      });
  }
};

/** A whole HTTP/1.1 answer as bytes for the socket: there is no request or response object to answer through. */
const rawAnswer = (problem: Problem): string => {
  const body = JSON.stringify(problem.toDocument());
  return [
    `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}`,
    `Content-Type: ${PROBLEM_CONTENT_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Connection: close',
    '',
    body,
  ].join('\r\n');
};

/**
 * Answers what Node's HTTP parser rejects (a 100 kB URL, a 20 kB header, a bad Content-Length or
 * chunk size, a CR or LF inside a header, a request too slow) with a Problem Details document
 * instead of Node's bare status line, then closes the connection; and sets the timeouts that make
 * slow requests such errors. Call it with the server `serve()` returned. Node checks the timeouts
 * every `connectionsCheckingInterval` (30 s unless the server was created with another), so a
 * request is cut off up to that long after its timeout.
 */
export const answerClientErrors = (server: ServerType, log: Logger, timeouts: Partial<ClientTimeouts> = {}) => {
  if (!(server instanceof Server)) throw new TypeError('answerClientErrors answers for an HTTP/1.1 server only');
  server.requestTimeout = timeouts.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // Node refuses a headers timeout longer than the request timeout at creation; keep that true here.
  server.headersTimeout = Math.min(timeouts.headersTimeoutMs ?? HEADERS_TIMEOUT_MS, server.requestTimeout);

  // An answer written raw into a response that has begun would corrupt it for the client (a
  // pipelined bad request behind a streaming one): such a connection is only closed.
  const answering = new WeakMap<Duplex, ServerResponse>();
  server.on('request', (request: IncomingMessage, response: ServerResponse) => answering.set(request.socket, response));

  server.on('clientError', (error: ClientError, socket: Duplex) => {
    const response = answering.get(socket);
    const midAnswer = response !== undefined && response.headersSent && !response.writableFinished;
    if (error.code === 'ECONNRESET' || !socket.writable || midAnswer) {
      socket.destroy();
      return;
    }
    const problem = problemOf(error);
    log.debug({ code: error.code, status: problem.status }, 'request refused by the HTTP server');
    socket.end(rawAnswer(problem));
    socket.destroy();
  });
};

/**
 * True when `error` is the client's own request failing because the client closed the
 * connection mid-request (Node aborts the request with ECONNRESET): nobody is left to answer,
 * and the server did nothing wrong. Only that request's error counts, so an ECONNRESET from the
 * database is still a server error.
 */
export const isClientAbort = (error: Error, incoming: IncomingMessage | undefined): boolean =>
  incoming !== undefined && incoming.errored === error && (error as ClientError).code === 'ECONNRESET';
