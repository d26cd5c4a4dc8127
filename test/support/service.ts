import { createLogger } from '../../src/logger.js';
import { createService, type ServiceOptions } from '../../src/service.js';
import type { Sql } from '../../src/database/connect.js';

export const quietLog = createLogger('silent');

/** The real service wired to a test database, with settings tests can override. */
export const createTestService = (sql: Sql, overrides: Partial<ServiceOptions> = {}) =>
  createService(sql, {
    snapshotInterval: 100,
    retry: { maxRetries: 50, baseDelayMs: 1, maxDelayMs: 20 },
    bodyLimitBytes: 16_384,
    log: quietLog,
    ...overrides,
  });

/** Applies every committed event to the views, batch by batch, so a test can read them deterministically. */
export const catchUp = async (projector: { applyNextBatch: () => Promise<number> }): Promise<void> => {
  while ((await projector.applyNextBatch()) > 0);
};
