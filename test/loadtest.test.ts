import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { capacityOf } from '../loadtest/open/capacity.js';
import { parseOptions } from '../loadtest/options.js';
import type { LoadtestReport } from '../loadtest/report/loadtest-report.js';
import { runLoadtest } from '../loadtest/run.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService, TEST_OPERATOR_TOKEN } from './support/service.js';

let db: TestDatabase;
let out: string;

beforeAll(async () => {
  db = await createTestDatabase();
  out = await mkdtemp(join(tmpdir(), 'seat-surge-loadtest-'));
});
afterAll(async () => {
  await db?.drop();
  await rm(out, { recursive: true, force: true });
});

const runCli = (args: string[]) =>
  new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'loadtest/run.ts', ...args], {
      // The operator token of this process's test services, for a --target run against one of them.
      env: { ...process.env, ADMIN_TOKEN: TEST_OPERATOR_TOKEN },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });

describe('npm run loadtest --quick', () => {
  it('runs every scenario against every design on a self-started server and writes a complete, clean report', async () => {
    const options = parseOptions(['--quick', '--scenario', 'surge,spread,hotspot,mixed', '--out', join(out, 'clean')]);
    const { exitCode, files } = await runLoadtest(options, { DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    expect(exitCode).toBe(0);
    expect(files.map((f) => f.split('/').at(-1))).toEqual(['report.json', 'report.md', 'report.html']);

    const report = JSON.parse(await readFile(files[0]!, 'utf8')) as LoadtestReport;
    expect(report).toMatchObject({ schemaVersion: 1, kind: 'loadtest', auditPassed: true });
    expect(report.ceilings).toEqual([
      {
        connections: 8,
        requestsPerSecond: expect.any(Number),
        cpu: expect.objectContaining({ cores: expect.any(Object) }),
      },
    ]);
    const rows = report.results.map((r) => `${r.design} ${r.scenario}/${r.phase}`);
    expect(rows).toEqual([
      'es-batched surge/throughput',
      'es-batched surge/sellout',
      'es-direct surge/throughput',
      'es-direct surge/sellout',
      'crud surge/throughput',
      'crud surge/sellout',
      'crud-atomic surge/throughput',
      'crud-atomic surge/sellout',
      'es-batched spread/throughput',
      'es-direct spread/throughput',
      'crud spread/throughput',
      'crud-atomic spread/throughput',
      'es-batched hotspot/throughput',
      'es-direct hotspot/throughput',
      'crud hotspot/throughput',
      'crud-atomic hotspot/throughput',
      'es-batched mixed/mixed',
      'es-direct mixed/mixed',
      'crud mixed/mixed',
      'crud-atomic mixed/mixed',
    ]);
    for (const result of report.results) {
      expect(result.audit?.passed).toBe(true);
      expect(result.requests).toBeGreaterThan(0);
      expect(result.timeline.length).toBeGreaterThan(0);
      expect(result.latencyMs.all.p99).toBeGreaterThanOrEqual(result.latencyMs.all.p50);
      if (result.design.startsWith('es-')) {
        // Each projection's lag, sampled every second of the phase and right after it.
        expect(Object.keys(result.lag).sort()).toEqual(['remaining_seats', 'reservations']);
        expect(result.lag.remaining_seats?.samples).toBeGreaterThan(0);
        expect(result.lag.reservations?.p99).toBeGreaterThanOrEqual(result.lag.reservations?.p50 ?? 0);
        expect(Object.keys(result.server.projectionLag).sort()).toEqual(['remaining_seats', 'reservations']);
        expect(result.timeline.some((t) => 'remaining_seats' in t.lagMs)).toBe(true);
      }
      expect(result.server).toEqual(
        expect.objectContaining({ versionConflicts: expect.any(Number), retries: expect.any(Number) }),
      );
      // The API and this process (the load generator) worked; the database is not the API's child here.
      expect(result.cpu?.microsecondsPerRequest.api).toBeGreaterThan(0);
      expect(result.cpu?.microsecondsPerRequest.loadGenerator).toBeGreaterThan(0);
      expect(result.cpu?.microsecondsPerRequest.postgres).toBeNull();
      expect(result.cpu?.microsecondsPerRequest.total).toBeGreaterThanOrEqual(
        result.cpu?.microsecondsPerRequest.api ?? 0,
      );
      // Every phase committed something, each commit costing its share of every answer's CPU.
      const perCommitted = result.cpu?.microsecondsPerCommitted?.server ?? 0;
      expect(perCommitted).toBeGreaterThanOrEqual(result.cpu?.microsecondsPerRequest.server ?? Infinity);
      const ceilingPerRequest = report.ceilings[0]?.cpu?.microsecondsPerRequest.server ?? 0;
      expect(result.cpuCeilingRatio).toBeCloseTo(perCommitted / ceilingPerRequest, 1);
    }
    for (const sellout of report.results.filter((r) => r.phase === 'sellout')) {
      // Exactly the capacity is sold, never more.
      expect(sellout.sellout).toMatchObject({ capacity: 50, seatsSold: 50, attempts: 1000 });
      expect(sellout.statusCounts['201']).toBe(50);
    }
    const throughput = report.results.filter((r) => r.phase === 'throughput');
    expect(throughput.every((r) => r.ceilingFraction !== null)).toBe(true);
    for (const hotspot of throughput.filter((r) => r.scenario === 'hotspot')) {
      // The hot conference measured on its own: about half of the phase's requests.
      expect(hotspot.hot?.latencyMs.count).toBeGreaterThan(hotspot.requests / 4);
      expect(hotspot.hot?.latencyMs.count).toBeLessThan((hotspot.requests * 3) / 4);
      expect(hotspot.hot?.reservationsPerSecond).toBeGreaterThan(0);
    }

    const markdown = await readFile(files[1]!, 'utf8');
    expect(markdown).toMatch(
      /HTTP ceiling \(POST with a validated body and one `select 1`\): [\d.]+ req\/s at 8 connections \(server CPU \d+ µs\/request\)\./,
    );
    expect(markdown).toMatch(
      /## surge \/ throughput\n\n\| design \| conns \| committed\/s \| of ceiling \| server CPU µs\/committed \| req\/s \|[^]*\| es-batched \| 8 \| [\d.]+ \| \d+% \| \d+ \| [\d.]+ \|/,
    );
    expect(markdown).toMatch(
      /## surge \/ sellout\n\n\| design \| conns \| sold \| sold out after s \| attempts\/s \| server CPU µs\/seat sold \|[^]*\| es-batched \| 8 \| 50\/50 \| [\d.]+ \| [\d.]+ \| \d+ \|/,
    );
    expect(markdown).toContain('seats lag p50/p99/max ms');
    expect(markdown).toMatch(
      /## Comparisons within this run[^]*\| es-batched \| 8 \| [\d.]+ \| [\d.]+× \| [\d.]+× \| [\d.]+× \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× \|/,
    );
    // The ceiling's server CPU per request stands in its per-committed columns; a phase's ratio to it comes last.
    expect(markdown).toMatch(
      /## Where the CPU goes[^]*\| http-ceiling \| ceiling \| 8 \| [\d.]+ \| [\d.]+ \|.*\| (\d+) \| \d+ \| \d+ \| - \| \1 \| - \|\n[^]*\| crud-atomic \| mixed \/ mixed \| 8 \|.*\| \d+ \| \d+ \| - \| \d+ \| [\d.]+× \|\n/,
    );
    expect(markdown).toContain('Integrity audit: **passed**');
    const html = await readFile(files[2]!, 'utf8');
    expect(html).toContain('<svg');
    expect(html).toMatch(
      /HTTP ceiling \(POST [^)]*<code>select 1<\/code>\): [\d.]+ req\/s at 8 connections \(server CPU \d+ µs\/request\)\./,
    );
    expect(html).toContain('<th>of ceiling</th><th>server CPU µs/committed</th>');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href="http/); // opens from disk, no network
  }, 240_000);

  it('--model open: finds each design’s capacity at the objective, runs the spike and the generator check, and reports them first', async () => {
    const options = parseOptions([
      '--quick',
      '--model',
      'open',
      '--design',
      'es-batched,crud-atomic',
      '--scenario',
      'surge,spike',
      '--out',
      join(out, 'open'),
    ]);
    const { exitCode, files } = await runLoadtest(options, { DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    expect(exitCode).toBe(0);
    const report = JSON.parse(await readFile(files[0]!, 'utf8')) as LoadtestReport;
    const open = report.open!;
    expect(open).toMatchObject({ sloMs: 100, spacing: 'poisson' });
    // The closed-loop phases of the same run, for the same rate measured both ways.
    expect(report.results.map((r) => `${r.design} ${r.scenario}/${r.phase}`)).toEqual([
      'es-batched surge/throughput',
      'crud-atomic surge/throughput',
    ]);
    expect(open.capacity.map((c) => c.design)).toEqual(['es-batched', 'crud-atomic']);
    for (const c of open.capacity) {
      expect(c.audit.passed).toBe(true);
      expect(c.steps.map((s) => s.rate)).toEqual(expect.arrayContaining([50]));
      expect(c.capacityAtSlo).toBe(capacityOf(c.steps.map((s) => ({ rate: s.rate, passed: s.verdict.passed }))));
      for (const step of c.steps) {
        // Every arrival is accounted for: answered, failed, or dropped.
        expect(step.answered + step.errors + step.dropped).toBe(step.offered);
        expect(Object.values(step.statusCounts).reduce((a, b) => a + b, 0)).toBe(step.answered);
        expect(step.latencyMs.all.p999).toBeGreaterThanOrEqual(step.latencyMs.all.p99);
        expect(step.verdict.passed).toBe(step.verdict.reasons.length === 0);
        expect(step.generator.sendLagMs.p99).toBeGreaterThanOrEqual(0);
        expect(step.cpu?.cores).toEqual(expect.objectContaining({ api: expect.any(Number) }));
      }
      // The generator's process is counted as load generator (CPU ticks are 10 ms: summed over the steps).
      expect(c.steps.reduce((sum, step) => sum + (step.cpu?.cores.loadGenerator ?? 0), 0)).toBeGreaterThan(0);
      expect(c.closed?.requestsPerSecond).toBeGreaterThan(0);
      expect(c.atClosedRate?.rate).toBe(Math.round(c.closed?.requestsPerSecond ?? 0));
    }
    expect(open.generatorCheck?.rate).toBe(Math.round(open.capacity[0]!.capacityAtSlo * 1.5));
    expect(open.spikes.map((s) => s.design)).toEqual(['es-batched', 'crud-atomic']);
    for (const spike of open.spikes) {
      const crud = open.capacity.find((c) => c.design === 'crud-atomic')!.capacityAtSlo;
      expect(spike.shape).toMatchObject({ spikeRate: 3 * crud, baseRate: Math.round(crud / 2) });
      expect(spike.audit.passed).toBe(true);
      // Half-second steps over the 4 s of the quick spike; the spike's own arrivals counted apart.
      expect(spike.load.timeline).toHaveLength(8);
      expect(spike.spike.offered).toBe(spike.load.timeline.slice(2, 4).reduce((n, b) => n + b.offered, 0));
    }
    const markdown = await readFile(files[1]!, 'utf8');
    // A step the generator could not drive (one second of a quick run on a busy machine) is
    // never counted as kept, and the headline says when that bounded a capacity.
    expect(markdown).toMatch(
      /\*\*surge, poisson arrivals, p99 ≤ 100 ms: es-batched takes \d+( \(generator limit\))? arrivals\/s( \(server CPU \d+ µs\/committed\))?; crud-atomic takes \d+( \(generator limit\))? arrivals\/s( \(server CPU \d+ µs\/committed\))?\.\*\*/,
    );
    // Beside each capacity found, the server's CPU per committed reservation at that step.
    for (const c of open.capacity) {
      const step = c.steps.find((s) => s.rate === c.capacityAtSlo && s.verdict.passed);
      const perCommitted = step?.cpu?.microsecondsPerCommitted?.server;
      const capacity = `${c.capacityAtSlo}${c.limitedByGenerator ? ' (generator limit)' : ''}`;
      if (perCommitted !== undefined)
        expect(markdown).toContain(
          `${c.design} takes ${capacity} arrivals/s (server CPU ${perCommitted} µs/committed)`,
        );
    }
    expect(markdown).toContain('| server CPU µs/request there | server CPU µs/committed there |');
    // The open model's tables come first.
    expect(markdown.indexOf('## Capacity at p99 ≤ 100 ms')).toBeLessThan(markdown.indexOf('## surge / throughput'));
    expect(markdown).toContain('## Spike: base rate, a step up, back to base');
    expect(markdown).toContain('## Closed loop and open model at the same rate');
    const html = await readFile(files[2]!, 'utf8');
    expect(html).toContain('p99 latency against the offered rate');
    expect(html).toContain('Spike, es-batched: arrivals and answers per second');
  }, 240_000);

  it('catches a design that loses updates: the audit fails loudly and the process exits non-zero', async () => {
    // The CRUD baseline without its row locks: reads the counters unlocked and writes back absolute values.
    const broken = createTestService(db.sql, { crud: { unsafeWithoutRowLocks: true } });
    const server = serve({ fetch: broken.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((listening) => server.once('listening', () => listening()));
    const { port } = server.address() as AddressInfo;
    try {
      // The harness runs as its own process; this test process serves the broken design meanwhile.
      const run = await runCli([
        '--quick',
        '--design',
        'crud',
        '--scenario',
        'surge',
        '--target',
        `http://127.0.0.1:${port}`,
        '--out',
        join(out, 'broken'),
      ]);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain('INTEGRITY AUDIT FAILED');
      expect(run.stderr).toMatch(/reserved == accepted/);
      const report = JSON.parse(await readFile(join(out, 'broken', 'report.json'), 'utf8')) as LoadtestReport;
      expect(report.auditPassed).toBe(false);
    } finally {
      await new Promise<void>((closed) => server.close(() => closed()));
    }
  }, 240_000);
});
