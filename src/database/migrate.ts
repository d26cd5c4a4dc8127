import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { PACKAGE_ROOT } from '../package-root.js';
import { partitionEvents } from './partition-events.js';

/** The committed drizzle-kit migrations. */
export const migrationsFolder = join(PACKAGE_ROOT, 'drizzle');

/**
 * Applies pending migrations over a single connection of its own, as drizzle recommends; then,
 * with `eventsPartitions` of 2 or more (EVENTS_PARTITIONS), makes `events` hash-partitioned by
 * stream id if it is not yet (see partition-events.ts). Every process and every test database
 * comes through here, so all of them get the same schema.
 */
export const applyMigrations = async (
  url: string,
  { eventsPartitions = 0 }: { eventsPartitions?: number } = {},
): Promise<void> => {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(client), { migrationsFolder });
    if (eventsPartitions >= 2) await partitionEvents(client, eventsPartitions);
  } finally {
    await client.end({ timeout: 5 });
  }
};
