import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import { loadSeatAvailability } from './command-handlers/index.js';
import type { Sql } from './database/connect.js';
import { createEventStore, type EventStore, type StreamAppend } from './event-store/event-store.js';
import { VersionConflictError } from './event-store/version-conflict-error.js';
import type { Logger } from './logger.js';
import { createReadModel } from './projections/index.js';
import { streamIdOf } from './seat-availability/index.js';
import { createSnapshots } from './snapshots/index.js';

/** No command can name this conference: a valid id starts with a letter or a digit (NAME_PATTERN). */
const NO_CONFERENCE = '-warm-up';
/** No stream is ever at this version, so an append that expects it claims no stream. */
const NO_VERSION = -1;

/**
 * PostgreSQL plans a prepared statement for its parameters on its first five executions, and
 * only then may keep a generic plan. Planning the grouped append (its plan never depends on its
 * one JSON parameter) cost about 2 ms a command until each connection had run it five times.
 */
const CUSTOM_PLANS = 5;

/** The appends of the warm-up: at version -1, to a stream that cannot exist. */
const noAppend: StreamAppend = {
  streamId: streamIdOf(NO_CONFERENCE),
  expectedVersion: NO_VERSION,
  events: [{ type: 'SeatsReserved', data: {} }],
  newKeys: ['warm-up'],
};

/** The append of the warm-up (both write paths run the one append statement), which the store must refuse with a version conflict. */
const appendNothing = async (eventStore: EventStore): Promise<void> => {
  const [outcome] = await eventStore.appendStreams([noAppend]);
  if (!(outcome instanceof VersionConflictError)) throw new Error("the warm-up's append was not refused");
};

/**
 * Runs on `connection` the statements a reservation (either write path) and an eventual read
 * run, so the first real request finds them parsed, planned and prepared there, the append on
 * its generic plan, and the backend's catalog caches filled. It writes nothing: the conference
 * cannot exist, and its append expects version -1, so it claims no stream row, inserts no
 * event, draws no position.
 */
export const primeHotPath = async (connection: Sql, log: Logger): Promise<void> => {
  const eventStore = createEventStore(connection);
  const snapshots = createSnapshots(connection, { interval: 0, log });
  const { streamId } = noAppend;
  await loadSeatAvailability({ eventStore, snapshots }, NO_CONFERENCE);
  await eventStore.readByKeys(streamId, noAppend.newKeys);
  await eventStore.streamVersion(streamId);
  // Every command appends; the load runs once per conference, so once is enough for it.
  for (let run = 0; run < CUSTOM_PLANS; run++) await appendNothing(eventStore);
  await createReadModel(connection).availability(NO_CONFERENCE);
};

/**
 * Opens `connections` of the pool's connections and runs `prime` on each, before the service
 * says it is ready: postgres.js connects lazily and prepares a statement per connection on
 * first use, so otherwise the first requests after a start pay for connecting (the startup and
 * SCRAM exchanges, then the driver's lookup of array types) and for parsing and planning. Each
 * connection is reserved for the time, so each gets its own turn: left to the pool, the next
 * query goes to the first idle connection and the others stay unopened.
 */
export const warmUp = async (sql: Sql, connections: number, prime: (connection: Sql) => Promise<void>) => {
  const reserving = await Promise.allSettled(Array.from({ length: connections }, () => sql.reserve()));
  const reserved = reserving.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  try {
    const failed = reserving.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
    await Promise.all(reserved.map(prime));
  } finally {
    for (const connection of reserved) connection.release();
  }
};

/**
 * Sends one reservation through `app`, for a conference that does not exist (a new random id),
 * so the code of a request is compiled before the first real one: routing, middleware,
 * validation, the conference's writer, the load and the decision, the error answer. V8 compiles
 * a function once for all the closures made of it, so a request through an app of its own
 * compiles the code of the one that serves.
 */
export const rehearseReservation = async (app: Pick<Hono, 'request'>): Promise<void> => {
  await app.request(`/conferences/warm-up-${randomUUID()}/reservations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ seats: [{ seatType: 'standard', quantity: 1 }] }),
  });
};

/**
 * Runs `work` on one connection of the pool in a read-only transaction, rolled back after:
 * PostgreSQL refuses any write it attempts.
 */
export const readOnly = async <T>(sql: Sql, work: (connection: Sql) => Promise<T>): Promise<T> => {
  const connection = await sql.reserve();
  try {
    await connection`begin read only`;
    try {
      return await work(connection);
    } finally {
      await connection`rollback`;
    }
  } finally {
    connection.release();
  }
};
