import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  OPERATOR_TOKEN as TEST_OPERATOR_TOKEN,
  operatorHeaders as operatorAuth,
} from '../../loadtest/operator-token.js';
import { loadConfig } from '../../src/config.js';
import type { Sql } from '../../src/database/connect.js';
import { createLogger } from '../../src/logger.js';
import { createService, type ServiceOptions } from '../../src/service.js';

export const quietLog = createLogger('silent');

/** A logger at `level` that hands every line it writes, as written, to `onLine`: to check what requests leave in the log. */
export const capturingLog = (level: pino.LevelWithSilent, onLine: (line: string) => void) =>
  pino(
    { level },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        onLine(chunk.toString());
        done();
      },
    }),
  );

/** The configuration's defaults, as a service started with no environment would have them. */
const DEFAULTS = loadConfig({});

/**
 * The operator token of every test service, handed in as main.ts hands in ADMIN_TOKEN or its
 * file's, and the header that makes a request the operator's: the load-test harness's own, so
 * that its code (conference creation, audits) run against a test service is the operator there too.
 */
export { TEST_OPERATOR_TOKEN, operatorAuth };

/** What a test may change; `projector` part by part. */
export type TestServiceOverrides = Partial<Omit<ServiceOptions, 'projector'>> & {
  projector?: Partial<ServiceOptions['projector']>;
};

/**
 * The real service wired to a test database, with the configuration's defaults except where a
 * test says otherwise, and these: snapshots every 100 events; retries enough for a race of
 * hundreds of commands; admission by wait off (only the queue's length bounds it): such a race on
 * a slow machine would otherwise be partly refused busy, which decides nothing and so proves
 * nothing. The tests of admission by wait, and the tests that start the real server, set it
 * themselves.
 */
export const createTestService = (sql: Sql, { projector, ...overrides }: TestServiceOverrides = {}) =>
  createService(sql, {
    ...DEFAULTS,
    snapshotInterval: 100,
    batch: { ...DEFAULTS.batch, maxQueueWaitMs: 0 },
    retry: { maxRetries: 50, baseDelayMs: 1, maxDelayMs: 20 },
    log: quietLog,
    operator: { token: TEST_OPERATOR_TOKEN, onDemoPage: false },
    ...overrides,
    projector: { ...DEFAULTS.projector, ...projector },
  });

/** Applies every committed event to the views, batch by batch, so a test can read them deterministically. */
export const catchUp = async (projector: { applyNextBatch: () => Promise<number> }): Promise<void> => {
  while ((await projector.applyNextBatch()) > 0);
};

/**
 * Sends a request to the app as the operator (the tests that create conferences, list events and
 * forget attendees), with a JSON body if given, and reads the JSON answer.
 */
export const sendAsOperator = async (
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  method: string,
  path: string,
  body?: unknown,
) => {
  const response = await app.request(path, {
    method,
    headers: { ...operatorAuth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests check answers field by field
  return { status: response.status, body: (await response.json()) as Record<string, any> };
};
