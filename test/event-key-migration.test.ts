import { randomBytes } from 'node:crypto';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connect } from '../src/database/connect.js';
import { dropDatabase, ensureDatabase } from '../src/database/databases.js';
import { applyMigrations } from '../src/database/migrate.js';
import { rm } from 'node:fs/promises';
import { createEventStore } from '../src/event-store/event-store.js';
import { migrationsUpTo, testEventsPartitions } from './support/database.js';

const serverUrl = inject('serverUrl');
const name = `test_${randomBytes(6).toString('hex')}`;
afterAll(() => dropDatabase(serverUrl, name));

describe('the migration to a generic event key', () => {
  it('keeps the reservation id of every event recorded before as its key, found by the key lookup', async () => {
    const url = await ensureDatabase(serverUrl, name);
    const before = await migrationsUpTo('0007_per_projection_checkpoints');
    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      await migrate(drizzle(client), { migrationsFolder: before });
      // Recorded by the old schema, whose column took the reservation id from the data itself.
      await client`insert into streams (stream_id, version) values ('old-stream', 3)`;
      await client`
        insert into events (stream_id, stream_version, type, data) values
          ('old-stream', 1, 'ConferenceCreated', '{"conferenceId": "old"}'),
          ('old-stream', 2, 'SeatsReserved', '{"conferenceId": "old", "reservationId": "r1"}'),
          ('old-stream', 3, 'ReservationCancelled', '{"conferenceId": "old", "reservationId": "r1"}')`;
    } finally {
      await client.end({ timeout: 5 });
      await rm(before, { recursive: true, force: true });
    }

    await applyMigrations(url, { eventsPartitions: testEventsPartitions });
    const sql = connect(url, 2);
    try {
      const keys = await sql<{ key: string | null }[]>`
        select key from events where stream_id = 'old-stream' order by stream_version`;
      expect(keys.map((row) => row.key)).toEqual([null, 'r1', 'r1']);
      const store = createEventStore(sql);
      const { version, events } = await store.readByKeys('old-stream', ['r1', 'r2']);
      expect({ version, found: events.map((e) => e.streamVersion) }).toEqual({ version: 3, found: [2, 3] });
      // From now on the appender gives the key; the data is not looked into.
      await store.append('old-stream', 3, [{ type: 'SeatsReserved', data: { reservationId: 'r2' }, key: 'other' }]);
      expect((await store.readByKeys('old-stream', ['other'])).events.map((e) => e.streamVersion)).toEqual([4]);
      expect((await store.readByKeys('old-stream', ['r2'])).events).toEqual([]);
    } finally {
      await sql.end({ timeout: 5 });
    }
  });
});
