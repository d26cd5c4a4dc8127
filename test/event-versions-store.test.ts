import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, type Sql } from '../src/database/connect.js';
import { dropDatabase, ensureDatabase } from '../src/database/databases.js';
import { applyMigrations } from '../src/database/migrate.js';
import { PROJECTIONS, rebuildViews } from '../src/projections/index.js';
import { migrationsUpTo, testEventsPartitions } from './support/database.js';
import { catchUp, createTestService, quietLog, sendAsOperator } from './support/service.js';
import { viewContents } from './support/views.js';

/**
 * A store that a release before event versions wrote (rows inserted by raw SQL on the schema of
 * migration 0012, with no schema_version column), then migrated and read by this release.
 */

const serverUrl = inject('serverUrl');
const name = `test_${randomBytes(6).toString('hex')}`;
const stream = 'seat-availability-older-conf';
const [reserveA, holdB, reserveC] = ['older-release-reservation-a', 'older-release-hold-b', 'older-release-reserve-c'];

/** The events as the older release wrote them, one append (and one time) each. */
const OLDER_EVENTS = [
  [
    'ConferenceCreated',
    null,
    '2026-11-01T10:00:00Z',
    {
      conferenceId: 'older-conf',
      name: 'Older',
      seatTypes: [{ type: 'standard', capacity: 10 }],
      createdAt: '2026-11-01T10:00:00.000Z',
    },
  ],
  [
    'SeatsReserved',
    reserveA,
    '2026-11-01T10:01:00Z',
    {
      conferenceId: 'older-conf',
      reservationId: reserveA,
      seats: [{ seatType: 'standard', quantity: 2 }],
      reservedAt: '2026-11-01T10:01:00.000Z',
    },
  ],
  [
    'SeatsHeld',
    holdB,
    '2026-11-01T10:02:00Z',
    {
      conferenceId: 'older-conf',
      reservationId: holdB,
      seats: [{ seatType: 'standard', quantity: 3 }],
      heldAt: '2026-11-01T10:02:00.000Z',
      expiresAt: '2026-11-01T10:12:00.000Z',
    },
  ],
  [
    'HoldConfirmed',
    holdB,
    '2026-11-01T10:03:00Z',
    {
      conferenceId: 'older-conf',
      reservationId: holdB,
      seats: [{ seatType: 'standard', quantity: 3 }],
      confirmedAt: '2026-11-01T10:03:00.000Z',
    },
  ],
  [
    'ReservationCancelled',
    reserveA,
    '2026-11-01T10:04:00Z',
    {
      conferenceId: 'older-conf',
      reservationId: reserveA,
      seats: [{ seatType: 'standard', quantity: 2 }],
      cancelledAt: '2026-11-01T10:04:00.000Z',
    },
  ],
  [
    'SeatsReserved',
    reserveC,
    '2026-11-01T10:05:00Z',
    {
      conferenceId: 'older-conf',
      reservationId: reserveC,
      seats: [{ seatType: 'standard', quantity: 1 }],
      reservedAt: '2026-11-01T10:05:00.000Z',
    },
  ],
] as const;

let sql: Sql;
let service: ReturnType<typeof createTestService>;

beforeAll(async () => {
  const url = await ensureDatabase(serverUrl, name);
  const before = await migrationsUpTo('0012_events_without_recorded_at_index');
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(client), { migrationsFolder: before });
    await client`insert into streams (stream_id, version) values (${stream}, ${OLDER_EVENTS.length})`;
    for (const [i, [type, key, at, data]] of OLDER_EVENTS.entries()) {
      await client`
        insert into events (stream_id, stream_version, type, data, metadata, key, recorded_at)
        values (${stream}, ${i + 1}, ${type}, ${JSON.stringify(data)}::jsonb, '{}', ${key}, ${at})`;
    }
  } finally {
    await client.end({ timeout: 5 });
    await rm(before, { recursive: true, force: true });
  }
  await applyMigrations(url, { eventsPartitions: testEventsPartitions });
  sql = connect(url, 10);
  service = createTestService(sql);
});

afterAll(async () => {
  service?.close();
  await sql?.end({ timeout: 5 });
  await dropDatabase(serverUrl, name);
});

const send = (method: string, path: string, body?: unknown) => sendAsOperator(service.app, method, path, body);

const seatsOf = (answer: { body: Record<string, unknown> }) => answer.body.seatTypes;

describe('events written before event versions', () => {
  it('are version 1 after the migration, and the stored data is left as it was', async () => {
    const rows = await sql<{ schemaVersion: number; data: Record<string, unknown> }[]>`
      select schema_version as "schemaVersion", data from events where stream_id = ${stream} order by stream_version`;
    expect(rows.map((row) => row.schemaVersion)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(rows.map((row) => row.data)).toEqual(OLDER_EVENTS.map(([, , , data]) => data));
  });

  it('load and replay: the strong read, and asOf before and after each change', async () => {
    const strong = await send('GET', '/conferences/older-conf/availability?consistency=strong');
    expect(strong.status).toBe(200);
    expect(seatsOf(strong)).toEqual([{ type: 'standard', capacity: 10, reserved: 4, held: 0, remaining: 6 }]);
    expect(strong.body.version).toBe(6);
    const asOf = async (at: string) => {
      const answer = await send('GET', `/conferences/older-conf/availability?asOf=${at}`);
      return { version: answer.body.version, seats: seatsOf(answer) };
    };
    const standard = (reserved: number, held: number) => [
      { type: 'standard', capacity: 10, reserved, held, remaining: 10 - reserved - held },
    ];
    expect(await asOf('2026-11-01T10:01:30Z')).toEqual({ version: 2, seats: standard(2, 0) });
    expect(await asOf('2026-11-01T10:02:30Z')).toEqual({ version: 3, seats: standard(2, 3) });
    expect(await asOf('2026-11-01T10:03:30Z')).toEqual({ version: 4, seats: standard(5, 0) });
    expect(await asOf('2026-11-01T10:04:30Z')).toEqual({ version: 5, seats: standard(3, 0) });
  });

  it('are listed in the current shape: a SeatsReserved or HoldConfirmed of version 1 names no attendee', async () => {
    const listing = await send('GET', '/conferences/older-conf/events?limit=10');
    expect(listing.status).toBe(200);
    const events = listing.body.events as { version: number; type: string; data: unknown; recordedAt: string }[];
    expect(events.map(({ version, type, data, recordedAt }) => ({ version, type, data, recordedAt }))).toEqual(
      OLDER_EVENTS.map(([type, , at, data], i) => ({
        version: i + 1,
        type,
        data: type === 'SeatsReserved' || type === 'HoldConfirmed' ? { ...data, attendee: null } : data,
        recordedAt: new Date(at).toISOString(),
      })),
    );
  });

  it('project into both views, and a rebuild of each gives the same views', async () => {
    await catchUp(service.projector);
    const availability = await send('GET', '/conferences/older-conf/availability');
    expect(seatsOf(availability)).toEqual([{ type: 'standard', capacity: 10, reserved: 4, held: 0, remaining: 6 }]);
    const reservation = async (id: string) => (await send('GET', `/conferences/older-conf/reservations/${id}`)).body;
    expect(await reservation(reserveA)).toMatchObject({ status: 'cancelled', cancelledAt: '2026-11-01T10:04:00.000Z' });
    expect(await reservation(holdB)).toMatchObject({ status: 'confirmed', confirmedAt: '2026-11-01T10:03:00.000Z' });
    expect(await reservation(reserveC)).toMatchObject({
      status: 'reserved',
      seats: [{ seatType: 'standard', quantity: 1 }],
    });
    const live = await viewContents(sql);
    for (const projection of PROJECTIONS) await rebuildViews({ sql, log: quietLog, projection, batchSize: 2 });
    expect(await viewContents(sql)).toEqual(live);
  });

  it('are decided on by new commands, whose events are written in the current version', async () => {
    const seats = [{ seatType: 'standard', quantity: 1 }];
    expect(
      (await send('POST', '/conferences/older-conf/reservations', { reservationId: reserveC, seats })).status,
    ).toBe(200);
    expect(
      (await send('POST', '/conferences/older-conf/reservations', { reservationId: reserveA, seats })).status,
    ).toBe(409);
    expect((await send('DELETE', `/conferences/older-conf/reservations/${reserveC}`)).status).toBe(200);
    const fresh = 'this-release-reservation-d';
    expect((await send('POST', '/conferences/older-conf/reservations', { reservationId: fresh, seats })).status).toBe(
      201,
    );
    const rows = await sql<{ type: string; schemaVersion: number }[]>`
      select type, schema_version as "schemaVersion" from events
      where stream_id = ${stream} and stream_version > ${OLDER_EVENTS.length} order by stream_version`;
    expect(rows).toEqual([
      { type: 'ReservationCancelled', schemaVersion: 1 },
      { type: 'SeatsReserved', schemaVersion: 2 },
    ]);
    const strong = await send('GET', '/conferences/older-conf/availability?consistency=strong');
    expect(seatsOf(strong)).toEqual([{ type: 'standard', capacity: 10, reserved: 4, held: 0, remaining: 6 }]);
  });
});
