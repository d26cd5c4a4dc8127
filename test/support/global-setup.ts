import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../loadtest/server.js';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { createLogger } from '../../src/logger.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of a PostgreSQL server (its maintenance database) on which test files create their own databases. */
    serverUrl: string;
  }
}

/**
 * Starts one embedded PostgreSQL for the whole run, under the OS temp directory (reachable by
 * the unprivileged `postgres` user wherever the clone lives), and stops it afterwards, also
 * when tests fail. With DATABASE_URL set, that server is used instead.
 */
export default async function setup(project: TestProject) {
  const external = process.env.DATABASE_URL;
  if (external) {
    project.provide('serverUrl', external);
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'seat-surge-test-'));
  const log = createLogger(process.env.TEST_LOG_LEVEL ?? 'warn');
  let server;
  try {
    // A throw-away cluster: durability settings off make the suite faster and change no behaviour under test.
    server = await startEmbeddedPostgres({
      dataDir,
      port: await freePort(),
      log,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' },
    });
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`could not start the embedded PostgreSQL for the tests: ${(error as Error).message}`, {
      cause: error,
    });
  }
  project.provide('serverUrl', server.url);
  return async () => {
    await server.stop();
    await rm(dataDir, { recursive: true, force: true });
  };
}
