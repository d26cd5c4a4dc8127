import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Sql } from '../src/database/connect.js';
import { ensureDatabase } from '../src/database/databases.js';
import { applyMigrations } from '../src/database/migrate.js';
import { createTestDatabase, testEventsPartitions } from './support/database.js';
import { debianPostgres, startDebianPostgres, type DebianPostgresBinaries } from './support/debian-postgres.js';
import { dumpDatabase } from './support/dump.js';
import { catchUp, createTestService, sendAsOperator } from './support/service.js';

/**
 * Issue 28: once an attendee is forgotten, a pg_dump of the whole database holds neither their
 * name nor their email, in any table, view or snapshot. The run's embedded server is 18, which
 * Debian 12's pg_dump (15) refuses, so this file runs the real service on a throw-away Debian
 * server that its own pg_dump can dump (support/debian-postgres.ts). Without one, outside CI, it
 * runs on the run's server with an SQL read of every row standing in for the dump, and says so.
 */

type Target = { url: string; sql: Sql; pgDump?: string; close: () => Promise<void> };

let target: Target | undefined;
let service: ReturnType<typeof createTestService> | undefined;

/** A migrated database on a Debian server of its own, stopped (and its directory deleted) by `close`. */
const onDebianPostgres = async (binaries: DebianPostgresBinaries): Promise<Target> => {
  const server = await startDebianPostgres(binaries);
  try {
    const url = await ensureDatabase(server.url, 'seat_surge');
    await applyMigrations(url, { eventsPartitions: testEventsPartitions });
    const sql = connect(url, 5);
    const close = async () => {
      await sql.end({ timeout: 5 });
      await server.stop();
    };
    return { url, sql, pgDump: server.pgDump, close };
  } catch (error) {
    await server.stop();
    throw error;
  }
};

const onTheRunsServer = async (): Promise<Target> => {
  console.warn(
    "Debian's PostgreSQL server and pg_dump (postgresql-15, postgresql-client-15) are not installed: forgetting is checked on the embedded server, on an SQL read of every row instead of pg_dump",
  );
  const db = await createTestDatabase(5);
  return { url: db.url, sql: db.sql, close: db.drop };
};

beforeAll(async () => {
  target = debianPostgres ? await onDebianPostgres(debianPostgres) : await onTheRunsServer();
  // A snapshot at every event, so the dump holds snapshots of the streams that named attendees.
  service = createTestService(target.sql, { snapshotInterval: 1 });
});
afterAll(async () => {
  service?.close();
  await target?.close();
});

const send = (method: string, path: string, body?: unknown) => sendAsOperator(service!.app, method, path, body);

const dump = async () => {
  const { sql, url, pgDump } = target!;
  const dumped = await dumpDatabase(sql, url, pgDump ? { pgDump } : {});
  // Where the Debian server runs, the check is on a real pg_dump or it fails.
  if (pgDump) expect(dumped.tool).toBe('pg_dump');
  return dumped;
};

/** Personal fields unlike anything else in the database, so a search for them finds only them. */
const person = (first: string) => {
  const tag = randomBytes(6).toString('hex');
  return { name: `${first} ${tag} Hopper`, email: `${first.toLowerCase()}.${tag}@example.org` };
};

const seats = [{ seatType: 'standard', quantity: 1 }];

describe('forgetting an attendee, as a pg_dump of the whole database sees it', () => {
  it('leaves neither name, email nor key in the dump, in any table, view or snapshot, and keeps the events', async () => {
    const conference = '/conferences/pg-dump-forgotten';
    const created = await send('POST', '/conferences', {
      id: 'pg-dump-forgotten',
      name: 'pg_dump forgetting',
      seatTypes: [{ type: 'standard', capacity: 5 }],
    });
    expect(created.status).toBe(201);
    // One attendee named at a reservation (SeatsReserved), one at a hold's confirm (HoldConfirmed).
    const ada = person('Ada');
    const grace = person('Grace');
    const reserved = await send('POST', `${conference}/reservations`, {
      reservationId: 'pg-dump-forgotten-ada',
      seats,
      attendee: ada,
    });
    expect(reserved.status).toBe(201);
    expect(
      (await send('POST', `${conference}/holds`, { reservationId: 'pg-dump-forgotten-grace', seats })).status,
    ).toBe(201);
    const confirmed = await send('POST', `${conference}/holds/pg-dump-forgotten-grace/confirm`, { attendee: grace });
    expect(confirmed.status).toBe(200);
    await catchUp(service!.projector);
    const attendeeIds = [reserved.body.attendee.id as string, confirmed.body.attendee.id as string];
    const keys = await target!.sql<{ hex: string }[]>`
      select encode(key, 'hex') as hex from attendee_keys where attendee_id = any(${attendeeIds})`;
    expect(keys).toHaveLength(2);
    const [snapshots] = await target!.sql<{ n: number }[]>`select count(*)::int as n from snapshots`;
    expect(snapshots!.n).toBeGreaterThan(0);

    // The dump sees what it looks for: the keys, before they are deleted.
    const before = await dump();
    for (const { hex } of keys) expect(before.text).toContain(hex);

    for (const attendeeId of attendeeIds) {
      expect((await send('DELETE', `/attendees/${attendeeId}/personal-data`)).status).toBe(200);
    }
    await catchUp(service!.projector);

    const after = await dump();
    console.info(`forgetting checked on a dump by ${after.tool}${target!.pgDump ? ` (${target!.pgDump})` : ''}`);
    for (const { hex } of keys) expect(after.text).not.toContain(hex);
    for (const { name, email } of [ada, grace]) {
      expect(after.text).not.toContain(name);
      expect(after.text).not.toContain(email);
    }
    // The events are not rewritten: the attendees' ids and the reservations are still there.
    for (const attendeeId of attendeeIds) expect(after.text).toContain(attendeeId);
    expect(after.text).toContain('pg-dump-forgotten-ada');
    expect(after.text).toContain('pg-dump-forgotten-grace');
  });
});
