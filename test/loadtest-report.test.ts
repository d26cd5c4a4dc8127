import { describe, expect, it } from 'vitest';
import { cpuUse, type CpuTimes } from '../loadtest/cpu.js';
import { parseOptions } from '../loadtest/options.js';
import type { Phase, PhaseResult } from '../loadtest/phases.js';
import {
  buildReport,
  comparisonTable,
  cpuTable,
  loadtestMarkdown,
  reportTables,
} from '../loadtest/report/loadtest-report.js';
import { attendeeTable } from '../loadtest/report/attendee-report.js';

const zero: CpuTimes = { api: 0, projector: 0, postgres: null, haproxy: 0, loadGenerator: 0, apiProcesses: {} };
const latency = { p50: 1, p90: 2, p99: 3, max: 4, count: 10 };

/**
 * A phase of 10 s at 8 connections: `requests` answered, `committed` of them committed, and the
 * API's and the projector's CPU seconds (`cpu: false`: not measured, as with --target).
 */
const phase = (
  design: PhaseResult['design'],
  scenario: PhaseResult['scenario'],
  name: Phase,
  {
    requests,
    committed,
    api = 0,
    projector = 0,
    cpu = true,
  }: { requests: number; committed: number; api?: number; projector?: number; cpu?: boolean },
): PhaseResult => {
  const used = { ...zero, api, projector, loadGenerator: 1 };
  return {
    design,
    scenario,
    phase: name,
    connections: 8,
    durationSeconds: 10,
    requests,
    errors: 0,
    statusCounts: { 201: committed, 409: requests - committed },
    reservationsCommitted: committed,
    reservationsPerSecond: committed / 10,
    requestsPerSecond: requests / 10,
    attemptsPerSecond: requests / 10,
    latencyMs: { all: latency, committed: latency },
    server: { versionConflicts: 0, retries: 0, retriesExhausted: 0, projectionLag: {} },
    lag: {},
    timeline: [],
    ...(cpu ? { cpu: cpuUse(zero, used, 10, { requests, committed }) } : {}),
  };
};

const phases: PhaseResult[] = [
  // 6 s of the server's CPU over 40,000 requests: 150 µs each.
  phase('http-ceiling', 'ceiling', 'ceiling', { requests: 40_000, committed: 0, api: 6 }),
  // 400 + 100 µs per committed reservation: 3.33× the ceiling's per request.
  phase('es-batched', 'surge', 'throughput', { requests: 20_000, committed: 15_000, api: 6, projector: 1.5 }),
  phase('es-direct', 'surge', 'throughput', { requests: 20_000, committed: 15_000, cpu: false }),
  {
    ...phase('es-batched', 'surge', 'sellout', { requests: 1_000, committed: 50, api: 0.5 }),
    sellout: { capacity: 50, attempts: 1_000, seatsSold: 50, timeToSellOutSeconds: 1.2 },
  },
  // Spread: es-batched 500 µs/committed at 1,000/s; crud 650 µs at 800/s; crud-atomic 700 µs at 900/s.
  phase('es-batched', 'spread', 'throughput', { requests: 12_000, committed: 10_000, api: 4, projector: 1 }),
  phase('crud', 'spread', 'throughput', { requests: 8_000, committed: 8_000, api: 5.2 }),
  phase('crud-atomic', 'spread', 'throughput', { requests: 9_000, committed: 9_000, api: 6.3 }),
];
const report = buildReport(parseOptions(['--quick']), 'self-started', new Date(0), phases);

type Table = { header: string[]; rows: (string | number)[][] };
/** The cell of a row (by its first cells) in a column (by its header, or its index). */
const cellOf = (table: Table, row: (string | number)[], column: string | number) => {
  const index = typeof column === 'number' ? column : table.header.indexOf(column);
  expect(index).toBeGreaterThanOrEqual(0);
  const found = table.rows.find((r) => row.every((value, i) => r[i] === value));
  expect(found).toBeDefined();
  return found![index];
};
const tableTitled = (title: string) => reportTables(report).find((t) => t.title === title)!;

describe("the load test report's CPU per committed reservation", () => {
  it('puts the server CPU per committed reservation right after committed/s and of ceiling', () => {
    const surge = tableTitled('surge / throughput');
    expect(surge.header.slice(2, 5)).toEqual(['committed/s', 'of ceiling', 'server CPU µs/committed']);
    expect(cellOf(surge, ['es-batched'], 'server CPU µs/committed')).toBe(500);
    expect(cellOf(surge, ['es-direct'], 'server CPU µs/committed')).toBe('-'); // not measured
  });

  it("gives a sell-out's server CPU per seat sold, its refusals included", () => {
    const sellout = tableTitled('surge / sellout');
    expect(sellout.header.slice(2, 6)).toEqual(['sold', 'sold out after s', 'attempts/s', 'server CPU µs/seat sold']);
    expect(cellOf(sellout, ['es-batched'], 'server CPU µs/seat sold')).toBe(10_000);
  });

  it("carries the ratio to the HTTP ceiling's server CPU per request in report.json", () => {
    const ratios = report.results.map((r) => [r.design, r.scenario, r.phase, r.cpuCeilingRatio]);
    expect(ratios).toEqual([
      ['es-batched', 'surge', 'throughput', 3.33],
      ['es-direct', 'surge', 'throughput', null],
      ['es-batched', 'surge', 'sellout', 66.67],
      ['es-batched', 'spread', 'throughput', 3.33],
      ['crud', 'spread', 'throughput', 4.33],
      ['crud-atomic', 'spread', 'throughput', 4.67],
    ]);
    expect(report.results[0]?.cpu?.microsecondsPerCommitted).toMatchObject({ api: 400, projector: 100, server: 500 });
  });

  it("shows per role and in all per committed reservation in the CPU table, the ceiling's per request standing in", () => {
    const cpu = cpuTable(report);
    const perCommittedApi = cpu.header.indexOf('µs/committed (http-ceiling: per request): API');
    const ratio = '÷ ceiling (server µs/committed ÷ http-ceiling server µs/request)';
    expect(cpu.header.slice(perCommittedApi)).toEqual([
      'µs/committed (http-ceiling: per request): API',
      'projector',
      'PostgreSQL',
      'server',
      ratio,
    ]);
    const surge = ['es-batched', 'surge / throughput'];
    expect(cellOf(cpu, surge, perCommittedApi)).toBe(400);
    expect(cellOf(cpu, surge, perCommittedApi + 1)).toBe(100);
    expect(cellOf(cpu, surge, perCommittedApi + 2)).toBe('-'); // PostgreSQL not the service's child
    expect(cellOf(cpu, surge, 'server')).toBe(500);
    expect(cellOf(cpu, surge, ratio)).toBe('3.33×');
    expect(cellOf(cpu, ['http-ceiling', 'ceiling'], 'server')).toBe(150);
    expect(cellOf(cpu, ['http-ceiling', 'ceiling'], ratio)).toBe('-');
    expect(cpu.rows.map((r) => r[0])).not.toContain('es-direct');
  });

  it("holds each design's spread server CPU per committed reservation against the strongest CRUD's", () => {
    const comparisons = comparisonTable(report);
    const column = 'spread server CPU/committed ÷ strongest CRUD’s';
    expect(comparisons.header.indexOf(column)).toBe(comparisons.header.indexOf('spread ÷ strongest CRUD spread') + 1);
    // crud-atomic is the strongest (900/s against crud's 800/s), though crud spends less per commit.
    expect(cellOf(comparisons, ['es-batched'], column)).toBe('0.71×');
    expect(cellOf(comparisons, ['es-batched'], 'spread ÷ strongest CRUD spread')).toBe('1.11×');
    expect(cellOf(comparisons, ['crud-atomic'], column)).toBe('-');
  });

  it("names the HTTP ceiling's server CPU per request in the headline", () => {
    expect(loadtestMarkdown(report)).toContain(
      'HTTP ceiling (POST with a validated body and one `select 1`): 4000 req/s at 8 connections (server CPU 150 µs/request).',
    );
  });
});

describe('the attendee comparison', () => {
  it('holds es-attendees against es-batched of the same scenario, in committed/s and server CPU per committed', () => {
    const withAttendees = buildReport(parseOptions(['--quick']), 'self-started', new Date(0), [
      ...phases,
      // 9,000 committed in 10 s against es-batched's 15,000; 7.5 s of API CPU: 833 µs per committed against 500.
      phase('es-attendees', 'surge', 'throughput', { requests: 12_000, committed: 9_000, api: 6, projector: 1.5 }),
    ]);
    const table = attendeeTable(withAttendees);
    expect(table.rows).toEqual([['surge', 8, 1500, 900, '0.6×', 500, 833, '1.67×']]);
    expect(reportTables(withAttendees).map((t) => t.title)).toContain(table.title);
    expect(attendeeTable(report).rows).toEqual([]);
  });

  it('runs es-attendees only where its reservations name attendees, and never by default', () => {
    expect(parseOptions([]).designs).not.toContain('es-attendees');
    expect(parseOptions(['--design', 'es-batched,es-attendees', '--scenario', 'surge,spread']).designs).toEqual([
      'es-batched',
      'es-attendees',
    ]);
    for (const other of [
      ['--scenario', 'mixed'],
      ['--scenario', 'checkout'],
      ['--model', 'open'],
    ])
      expect(() => parseOptions(['--design', 'es-attendees', ...other])).toThrow(/es-attendees runs the closed-model/);
  });
});
