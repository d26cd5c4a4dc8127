import { BATCH_DEFAULTS } from '../../src/command-handlers/index.js';
import { createLogger } from '../../src/logger.js';
import { createService, type ServiceOptions } from '../../src/service.js';
import type { Sql } from '../../src/database/connect.js';

export const quietLog = createLogger('silent');

/**
 * The real service wired to a test database, with settings tests can override. Admission by wait
 * is off (only the queue's length bounds it): a race of hundreds of commands on a slow machine
 * would otherwise be partly refused busy, which decides nothing and so proves nothing. The tests
 * of admission by wait, and the tests that start the real server, set it themselves.
 */
export const createTestService = (sql: Sql, overrides: Partial<ServiceOptions> = {}) =>
  createService(sql, {
    snapshotInterval: 100,
    batch: { ...BATCH_DEFAULTS, maxQueueWaitMs: 0 },
    retry: { maxRetries: 50, baseDelayMs: 1, maxDelayMs: 20 },
    bodyLimitBytes: 16_384,
    log: quietLog,
    ...overrides,
  });

/** Applies every committed event to the views, batch by batch, so a test can read them deterministically. */
export const catchUp = async (projector: { applyNextBatch: () => Promise<number> }): Promise<void> => {
  while ((await projector.applyNextBatch()) > 0);
};
