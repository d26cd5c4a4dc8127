import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDatabase } from '../../src/database/databases.js';
import { readCpuTimes } from '../cpu.js';
import { parseOptions } from '../options.js';
import { throughputPhase, type PhaseResult } from '../phases.js';
import { startServer, type StartedServer } from '../server.js';
import { round } from '../stats.js';
import type { BenchOptions } from './bench-options.js';

/** One surge at one interval: the write side of the trade-off. */
export type SurgeRun = {
  interval: number;
  /** Which pass over the intervals (1, 2, ...). */
  pass: number;
  committedPerSecond: number;
  p99Ms: number;
  /** CPU of the service's processes (all but the load generator; PostgreSQL where measured) per committed reservation, µs. */
  serverCpuUsPerCommitted: number | null;
  postgresMeasured: boolean;
  /** Snapshots the server wrote per second of the held part (the metric's `written` outcome). */
  snapshotsWrittenPerSecond: number;
  /** The harness's phase result as it reports it (timeline, status counts, CPU by role, audit). */
  phase: PhaseResult;
};

/** Snapshots written so far, from the server's /metrics. */
const snapshotsWritten = async (baseUrl: string): Promise<number> => {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const match = /^seat_surge_snapshots_total\{[^}]*outcome="written"[^}]*\}\s+(\S+)/m.exec(text);
  return Number(match?.[1] ?? 0);
};

/**
 * The write-cost phase: one server per interval (the service as `npm start` runs it, a process of
 * its own on a database of its own on the benchmark's PostgreSQL), then `repeats` passes over the
 * intervals, each a surge on the batched path measured by the harness's throughput phase (ramp,
 * held part, CPU by role, audit). A pass goes up the intervals and the next one down, so a drift
 * of the machine's load weighs on every interval alike.
 */
export const runWriteCosts = async (
  serverUrl: string,
  databasePrefix: string,
  options: BenchOptions,
  { databasePid, onRun = () => {} }: { databasePid?: number; onRun?: (run: SurgeRun) => void } = {},
): Promise<SurgeRun[]> => {
  if (options.repeats === 0 || options.intervals.length === 0) return [];
  const loadtestOptions = {
    ...parseOptions([
      '--design',
      'es-batched',
      '--connections',
      String(options.connections),
      '--duration',
      String(options.surgeSeconds),
      '--out',
      options.outDir,
    ]),
    rampSeconds: 0.5,
  };
  await mkdir(options.outDir, { recursive: true });
  const servers = new Map<number, StartedServer>();
  const runs: SurgeRun[] = [];
  try {
    for (const interval of options.intervals) {
      const url = await ensureDatabase(serverUrl, `${databasePrefix}_writes_${interval}`);
      const env = { DATABASE_URL: url, SNAPSHOT_INTERVAL: String(interval), WRITE_PATH: 'batched' };
      servers.set(interval, await startServer(join(options.outDir, `server-interval-${interval}.log`), env));
    }
    for (let pass = 1; pass <= options.repeats; pass++) {
      const order = pass % 2 === 1 ? options.intervals : [...options.intervals].reverse();
      for (const interval of order) {
        const server = servers.get(interval)!;
        const apiPid = server.pid;
        const ctx = {
          baseUrl: server.baseUrl,
          options: loadtestOptions,
          runTag: `sb${Date.now().toString(36)}p${pass}`,
          ...(apiPid === undefined ? {} : { cpuTimes: () => readCpuTimes(apiPid, process.pid, databasePid) }),
        };
        const before = await snapshotsWritten(server.baseUrl);
        const phase = await throughputPhase(ctx, 'es-batched', 'surge', options.connections);
        const written = (await snapshotsWritten(server.baseUrl)) - before;
        const run: SurgeRun = {
          interval,
          pass,
          committedPerSecond: phase.reservationsPerSecond,
          p99Ms: phase.latencyMs.all.p99,
          serverCpuUsPerCommitted: phase.cpu?.microsecondsPerCommitted?.server ?? null,
          postgresMeasured: phase.cpu?.microsecondsPerRequest.postgres !== null && phase.cpu !== undefined,
          // Counted from the ramp's start to after the audit: over the held part's length it overstates a little.
          snapshotsWrittenPerSecond: round(written / (phase.durationSeconds + 2 * loadtestOptions.rampSeconds), 0),
          phase,
        };
        runs.push(run);
        onRun(run);
      }
    }
  } finally {
    await Promise.all([...servers.values()].map((server) => server.stop()));
  }
  return runs;
};
