import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { PACKAGE_ROOT } from '../package-root.js';

/** The committed drizzle-kit migrations. */
export const migrationsFolder = join(PACKAGE_ROOT, 'drizzle');

/** Applies pending migrations over a single connection of its own, as drizzle recommends. */
export const applyMigrations = async (url: string): Promise<void> => {
  const client = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.end({ timeout: 5 });
  }
};
