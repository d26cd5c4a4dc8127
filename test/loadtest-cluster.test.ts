import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterFaultRun } from '../loadtest/cluster-faults.js';
import { parseOptions, topologies, topologyLabel } from '../loadtest/options.js';
import type { LoadtestReport } from '../loadtest/report/loadtest-report.js';
import { runFaults, runLoadtest } from '../loadtest/run.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { haproxyInstalled } from './support/haproxy.js';

/**
 * The harness past one process: `--processes` and `--routing` measure one service after another
 * (npm start, then clusters behind HAProxy), and `--fault kill-api-one` kills one process of a
 * cluster mid-surge.
 */

describe('--processes and --routing', () => {
  it('measure every processes count with every routing; one process has no routing to vary', () => {
    const options = parseOptions(['--processes', '1,3', '--routing', 'affinity,round-robin']);
    expect(topologies(options).map(topologyLabel)).toEqual([
      '1 process',
      '3 processes, affinity',
      '3 processes, round-robin',
    ]);
    const withHop = parseOptions(['--processes', '1,2', '--one-behind-haproxy']);
    expect(topologies(withHop).map(topologyLabel)).toEqual([
      '1 process',
      '1 process behind HAProxy',
      '2 processes, affinity',
    ]);
    expect(() => parseOptions(['--processes', '2', '--one-behind-haproxy'])).toThrow(/put 1 in --processes/);
    expect(parseOptions([])).toMatchObject({ processes: [1], routings: ['affinity'] });
  });

  it('refuse what they cannot be combined with, in a sentence', () => {
    expect(() => parseOptions(['--processes', '0'])).toThrow(/--processes must be whole numbers from 1/);
    expect(() => parseOptions(['--routing', 'random'])).toThrow(/--routing must be a list of affinity, round-robin/);
    expect(() => parseOptions(['--processes', '3', '--target', 'http://127.0.0.1:3000'])).toThrow(/leave out --target/);
    expect(() => parseOptions(['--processes', '3', '--model', 'open'])).toThrow(/closed model/);
    expect(() => parseOptions(['--fault', 'kill-api-one'])).toThrow(/give one --processes of 2 or more/);
    expect(() => parseOptions(['--fault', 'kill-api-one', '--processes', '2,3'])).toThrow(/one --processes/);
    expect(() => parseOptions(['--fault', 'kill-api-one,kill-db', '--processes', '3'])).toThrow(/runs alone/);
    expect(() => parseOptions(['--fault', 'kill-db', '--processes', '3'])).toThrow(/runs on one process/);
    expect(parseOptions(['--fault', 'kill-api-one', '--processes', '3'])).toMatchObject({
      faults: ['kill-api-one'],
      processes: [3],
      designs: ['es-batched'],
    });
  });
});

describe.runIf(haproxyInstalled)('the harness on a cluster', () => {
  let db: TestDatabase;
  let out: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    out = await mkdtemp(join(tmpdir(), 'seat-surge-loadtest-cluster-'));
  });
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
    await db?.drop();
  });
  const env = () => ({ DATABASE_URL: db.url, DATABASE_POOL_SIZE: '4', LOG_LEVEL: 'warn' });

  it('measures one process and a cluster in one run, names each, and counts HAProxy and each process', async () => {
    const options = parseOptions([
      '--quick',
      '--design',
      'es-batched',
      '--processes',
      '1,2',
      '--out',
      join(out, 'topologies'),
    ]);
    const { exitCode, files } = await runLoadtest(options, env());
    expect(exitCode).toBe(0);
    const report = JSON.parse(await readFile(files[0]!, 'utf8')) as LoadtestReport;
    const surges = report.results.filter((r) => r.scenario === 'surge' && r.phase === 'throughput');
    expect(surges.map((r) => r.topology)).toEqual(['1 process', '2 processes, affinity']);
    for (const surge of surges) {
      expect(surge.reservationsCommitted).toBeGreaterThan(0);
      expect(surge.audit?.passed).toBe(true);
    }
    // Affinity: the hot conference's commands never race across processes.
    expect(surges[1]!.server.versionConflicts).toBe(0);
    const clusterCpu = surges[1]!.cpu!;
    expect(clusterCpu.apiProcessCores).toHaveLength(2);
    expect(clusterCpu.cores.haproxy).toBeGreaterThan(0);
    expect(clusterCpu.microsecondsPerCommitted?.haproxy).toBeGreaterThan(0);
    expect(surges[0]!.cpu!.apiProcessCores).toHaveLength(1);
    expect(report.ceilings.map((c) => c.topology)).toEqual(['1 process', '2 processes, affinity']);
    expect(await readFile(files[1]!, 'utf8')).toContain('| es-batched · 2 processes, affinity |');
  }, 300_000);

  it('kills one process mid-surge: its conferences sell again on another, and nothing is lost', async () => {
    const options = parseOptions([
      '--quick',
      '--fault',
      'kill-api-one',
      '--processes',
      '2',
      '--out',
      join(out, 'faults'),
    ]);
    const { exitCode, files } = await runFaults(options, env());
    expect(exitCode).toBe(0);
    const { clusterRuns } = JSON.parse(await readFile(files[0]!, 'utf8')) as { clusterRuns: ClusterFaultRun[] };
    const [run] = clusterRuns;
    expect(run).toMatchObject({ design: 'es-batched', lost: 0, oversold: 0, auditPassed: true, passed: true });
    expect(run!.acknowledged).toBeGreaterThan(0);
    const [kill] = run!.results;
    expect(kill!.conferencesMoved).toBeGreaterThan(0);
    expect(kill!.markedDownSeconds).not.toBeNull();
    expect(kill!.resumedSeconds.max).toBeLessThanOrEqual(3);
    expect(kill!.backSeconds).not.toBeNull();
  }, 300_000);
});
