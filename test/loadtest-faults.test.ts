import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultRun } from '../loadtest/faults.js';
import { parseOptions } from '../loadtest/options.js';
import { runFaults } from '../loadtest/run.js';
import { freePort } from '../loadtest/server.js';

/**
 * `npm run loadtest -- --fault ...` end to end: a self-started server with its own embedded
 * PostgreSQL, each fault injected once into a surge, then the audit of every fault's conference.
 */
let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'seat-surge-faults-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

describe('npm run loadtest -- --fault', () => {
  it('survives each fault, recovers, and loses no acknowledged reservation', async () => {
    const options = parseOptions(['--quick', '--fault', 'kill-api,kill-db,restart-db', '--out', join(out, 'report')]);
    const { exitCode, files } = await runFaults(options, {
      DATABASE_URL: '',
      EMBEDDED_POSTGRES_DIR: join(out, 'postgres'),
      EMBEDDED_POSTGRES_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
    });
    expect(exitCode).toBe(0);
    const { runs } = JSON.parse(await readFile(files[0]!, 'utf8')) as { runs: FaultRun[] };
    expect(runs.map((r) => [r.design, r.passed])).toEqual([['es-batched', true]]);
    const results = runs[0]!.results;
    expect(results.map((r) => r.fault)).toEqual(['kill-api', 'kill-db', 'restart-db']);
    for (const result of results) {
      expect(result.acknowledged).toBeGreaterThan(0);
      expect(result.found).toBe(result.acknowledged);
      expect(result).toMatchObject({ lost: 0, oversold: 0, auditPassed: true });
      expect(result.recoverySeconds).not.toBeNull();
    }
    expect(results.map((r) => r.apiSurvived)).toEqual([null, true, true]);
    expect(await readFile(files[1]!, 'utf8')).toContain('| kill-db #1 |');
  }, 240_000);
});
