import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { cpuCeilingRatio, type CpuUse } from '../cpu.js';
import { CRUD_DESIGNS, isCrud, type LoadtestOptions } from '../options.js';
import { designLabel, type PhaseResult } from '../phases.js';
import { ratioCell, round } from '../stats.js';
import type { OpenReport } from '../open/open-run.js';
import { attendeeTable } from './attendee-report.js';
import { checkoutTable } from './checkout-report.js';
import { htmlTable, markdownTable, otherStatuses, serverCpuPerCommitted, statusCount } from './markdown.js';
import { openHeadline, openHtml, openTables } from './open-report.js';
import { designColor } from './colors.js';
import { barChart, escapeHtml, lineChart, page } from './svg.js';

/** report.json: field names are stable and documented in docs/load-testing.md. */
export type LoadtestReport = {
  schemaVersion: 1;
  kind: 'loadtest';
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string; platform: string };
  server: string;
  options: LoadtestOptions;
  /** Requests per second of the HTTP ceiling probe, per connection count, and the CPU it used. */
  ceilings: { connections: number; requestsPerSecond: number; cpu?: CpuUse; topology?: string }[];
  /**
   * `ceilingFraction`: committed/s ÷ the HTTP ceiling's req/s (throughput phases). `cpuCeilingRatio`:
   * the server's CPU µs per committed reservation ÷ the HTTP ceiling's server CPU µs per request
   * (see cpuCeilingRatio). Both against the ceiling of the same connection count and service.
   */
  results: (PhaseResult & { ceilingFraction: number | null; cpuCeilingRatio: number | null })[];
  /** The open model's capacity at the objective, spikes and generator check (`--model open`). */
  open?: OpenReport;
  auditPassed: boolean;
};

export const machine = () => ({
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? 'unknown',
  memoryGiB: round(totalmem() / 2 ** 30, 1),
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
});

export const buildReport = (
  options: LoadtestOptions,
  server: string,
  startedAt: Date,
  phases: PhaseResult[],
  open?: OpenReport,
): LoadtestReport => {
  const ceilings = phases
    .filter((p) => p.phase === 'ceiling')
    .map((p) => ({
      connections: p.connections,
      requestsPerSecond: p.requestsPerSecond,
      ...(p.cpu ? { cpu: p.cpu } : {}),
      ...(p.topology ? { topology: p.topology } : {}),
    }));
  const results = phases
    .filter((p) => p.phase !== 'ceiling')
    .map((p) => {
      const ceiling = ceilings.find((c) => c.connections === p.connections && c.topology === p.topology);
      return {
        ...p,
        ceilingFraction:
          p.phase === 'throughput' && ceiling ? round(p.reservationsPerSecond / ceiling.requestsPerSecond, 3) : null,
        cpuCeilingRatio: cpuCeilingRatio(p.cpu, ceiling?.cpu),
      };
    });
  return {
    schemaVersion: 1,
    kind: 'loadtest',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machine(),
    server,
    options,
    ceilings,
    results,
    ...(open ? { open } : {}),
    auditPassed:
      results.every((r) => r.audit?.passed !== false) &&
      [...(open?.capacity ?? []), ...(open?.spikes ?? []), ...(open?.checkout ?? [])].every((r) => r.audit.passed),
  };
};

/** The projections whose lag the report shows (their checkpoint names). */
const PROJECTIONS_SHOWN = ['remaining_seats', 'reservations'] as const;

const isEventSourced = (r: PhaseResult) => r.design.startsWith('es-');
/** A design's own colour; one design on several services (--processes) leaves the chart to tell them apart. */
const seriesColor = (r: PhaseResult) => (r.topology ? {} : { color: designColor(r.design) });
/** A projection's lag over the phase, p50/p99/max ms of the per-second samples; '-' where there is no projection. */
const lagCell = (r: PhaseResult, projection: string) => {
  const lag = r.lag?.[projection];
  return isEventSourced(r) && lag ? `${lag.p50}/${lag.p99}/${lag.max}` : '-';
};
/** A projection's lag right after the phase: events, ms. */
const lagAfterCell = (r: PhaseResult, projection: string) => {
  const lag = r.server.projectionLag?.[projection];
  return isEventSourced(r) && lag ? `${lag.events} / ${lag.milliseconds}` : '-';
};
const auditCell = (r: LoadtestReport['results'][number]) =>
  r.audit
    ? r.audit.passed
      ? 'pass'
      : `FAIL: ${r.audit.checks
          .filter((c) => !c.passed)
          .map((c) => c.check)
          .join(', ')}`
    : '-';

/** The tables of the report, one per scenario phase. */
export const reportTables = (
  report: LoadtestReport,
): { title: string; header: string[]; rows: (string | number)[][] }[] => {
  const tables = report.open ? openTables(report.open) : [];
  const groups = new Map<string, LoadtestReport['results']>();
  for (const r of report.results) {
    const key = `${r.scenario} / ${r.phase}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const comparisons = comparisonTable(report);
  for (const [title, rows] of groups) {
    if (rows.some((r) => r.checkout)) {
      tables.push(checkoutTable(rows));
      continue;
    }
    const sellout = rows.some((r) => r.sellout);
    const header = [
      'design',
      'conns',
      ...(sellout
        ? ['sold', 'sold out after s', 'attempts/s', 'server CPU µs/seat sold']
        : ['committed/s', 'of ceiling', 'server CPU µs/committed']),
      'req/s',
      'p50 ms',
      'p90 ms',
      'p99 ms',
      'max ms',
      'p99 201 ms',
      '201',
      '409',
      '503',
      'other',
      'errors',
      'conflicts',
      'retries',
      'exhausted',
      'seats lag p50/p99/max ms',
      'resv lag p50/p99/max ms',
      'seats lag after: events / ms',
      'resv lag after: events / ms',
      'audit',
    ];
    tables.push({
      title,
      header,
      rows: rows.map((r) => [
        designLabel(r),
        r.connections,
        ...(sellout
          ? [
              `${r.sellout?.seatsSold}/${r.sellout?.capacity}`,
              r.sellout?.timeToSellOutSeconds ?? 'not sold out',
              r.attemptsPerSecond,
              serverCpuPerCommitted(r.cpu),
            ]
          : [
              r.reservationsPerSecond,
              r.ceilingFraction === null ? '-' : `${Math.round(r.ceilingFraction * 100)}%`,
              serverCpuPerCommitted(r.cpu),
            ]),
        r.requestsPerSecond,
        r.latencyMs.all.p50,
        r.latencyMs.all.p90,
        r.latencyMs.all.p99,
        r.latencyMs.all.max,
        r.latencyMs.committed.p99,
        statusCount(r.statusCounts, '201'),
        statusCount(r.statusCounts, '409'),
        statusCount(r.statusCounts, '503'),
        otherStatuses(r.statusCounts),
        r.errors,
        r.server.versionConflicts,
        r.server.retries,
        r.server.retriesExhausted,
        lagCell(r, 'remaining_seats'),
        lagCell(r, 'reservations'),
        lagAfterCell(r, 'remaining_seats'),
        lagAfterCell(r, 'reservations'),
        auditCell(r),
      ]),
    });
  }
  if (comparisons.rows.length > 0) tables.push(comparisons);
  const attendees = attendeeTable(report);
  if (attendees.rows.length > 0) tables.push(attendees);
  const cpu = cpuTable(report);
  if (cpu.rows.length > 0) tables.push(cpu);
  return tables;
};

/**
 * The ceilings and the phases whose CPU was measured, with the figures of their per-committed
 * columns: the HTTP ceiling commits nothing, so its per-request figures stand in (the figures
 * `÷ ceiling` divides by).
 */
const measuredCpu = (report: LoadtestReport) =>
  [
    ...report.ceilings.map((c) => ({
      design: 'http-ceiling',
      ...(c.topology ? { topology: c.topology } : {}),
      phase: 'ceiling',
      connections: c.connections,
      requestsPerSecond: c.requestsPerSecond,
      cpu: c.cpu,
      perCommitted: c.cpu?.microsecondsPerRequest,
      cpuCeilingRatio: null,
    })),
    ...report.results.map((r) => ({
      ...r,
      phase: `${r.scenario} / ${r.phase}`,
      perCommitted: r.cpu?.microsecondsPerCommitted,
    })),
  ].flatMap((r) => (r.cpu ? [{ ...r, cpu: r.cpu }] : []));

/**
 * Where the CPU of each held part went: the cores each process kept busy, and the CPU time per
 * request answered and per reservation committed. The machine's cores are shared by all four, so
 * a design's requests per second is bounded by the sum: fewer microseconds per request is what
 * lets a design answer more, and fewer per committed reservation what lets it sell more.
 */
export const cpuTable = (report: LoadtestReport) => {
  const measured = measuredCpu(report);
  const cell = (value: number | null | undefined) => value ?? '-';
  // HAProxy and the API processes one by one only when HAProxy ran (a cluster, or one process behind it).
  const cluster = measured.some((r) => r.cpu.apiProcessCores.length > 1 || r.cpu.cores.haproxy > 0);
  return {
    title: 'Where the CPU goes (held part): cores busy, and CPU µs per request and per committed reservation',
    header: [
      'design',
      'phase',
      'conns',
      'req/s',
      'cores: API',
      ...(cluster ? ['each API process', 'HAProxy'] : []),
      'projector',
      'PostgreSQL',
      'load generator',
      'µs/request: API',
      ...(cluster ? ['HAProxy'] : []),
      'projector',
      'PostgreSQL',
      'load generator',
      'all',
      'server (all but the load generator)',
      'µs/committed (http-ceiling: per request): API',
      ...(cluster ? ['HAProxy'] : []),
      'projector',
      'PostgreSQL',
      'server',
      '÷ ceiling (server µs/committed ÷ http-ceiling server µs/request)',
    ],
    rows: measured.map((r) => {
      const { cores, microsecondsPerRequest: us, apiProcessCores } = r.cpu;
      const committed = r.perCommitted;
      return [
        designLabel(r),
        r.phase,
        r.connections,
        r.requestsPerSecond,
        cores.api,
        ...(cluster ? [apiProcessCores.join(' / '), cores.haproxy] : []),
        cores.projector,
        cell(cores.postgres),
        cores.loadGenerator,
        us.api,
        ...(cluster ? [us.haproxy] : []),
        us.projector,
        cell(us.postgres),
        us.loadGenerator,
        us.total,
        us.server,
        cell(committed?.api),
        ...(cluster ? [cell(committed?.haproxy)] : []),
        cell(committed?.projector),
        cell(committed?.postgres),
        cell(committed?.server),
        r.cpuCeilingRatio === null ? '-' : `${r.cpuCeilingRatio}×`,
      ];
    }),
  };
};

/**
 * What spreading the load and a hot conference among quiet ones cost each design, against
 * figures of the same run: spread committed/s, and the server's CPU per committed reservation
 * in the spread, against the strongest CRUD baseline's (the one of most spread committed/s), and
 * committed/s against its own surge's; the hot conference's p99 in the hotspot against the p99
 * of a surge alone.
 */
export const comparisonTable = (report: LoadtestReport) => {
  const throughput = report.results.filter((r) => r.phase === 'throughput');
  const find = (design: string, scenario: string, connections: number, topology?: string) =>
    throughput.find(
      (r) => r.design === design && r.scenario === scenario && r.connections === connections && r.topology === topology,
    );
  // One row per design and connection count that ran spread or hotspot, in the run's order.
  const rows = throughput
    .filter((r) => r.scenario !== 'surge')
    .filter(
      (r, i, all) =>
        all.findIndex((x) => x.design === r.design && x.connections === r.connections && x.topology === r.topology) ===
        i,
    )
    .map(({ design, connections, topology }) => {
      const spread = find(design, 'spread', connections, topology);
      const surge = find(design, 'surge', connections, topology);
      const hot = find(design, 'hotspot', connections, topology)?.hot;
      const [strongestCrud] = CRUD_DESIGNS.flatMap((d) => find(d, 'spread', connections, topology) ?? []).sort(
        (a, b) => b.reservationsPerSecond - a.reservationsPerSecond,
      );
      const serverCpu = (r: PhaseResult | undefined) => r?.cpu?.microsecondsPerCommitted?.server;
      return [
        designLabel({ design, topology }),
        connections,
        spread?.reservationsPerSecond ?? '-',
        isCrud(design) ? '-' : ratioCell(spread?.reservationsPerSecond, strongestCrud?.reservationsPerSecond),
        isCrud(design) ? '-' : ratioCell(serverCpu(spread), serverCpu(strongestCrud)),
        ratioCell(spread?.reservationsPerSecond, surge?.reservationsPerSecond),
        hot?.reservationsPerSecond ?? '-',
        hot?.latencyMs.p99 ?? '-',
        surge?.latencyMs.all.p99 ?? '-',
        ratioCell(hot?.latencyMs.p99, surge?.latencyMs.all.p99),
      ];
    });
  return {
    title: 'Comparisons within this run',
    header: [
      'design',
      'conns',
      'spread committed/s',
      'spread ÷ strongest CRUD spread',
      'spread server CPU/committed ÷ strongest CRUD’s',
      'spread ÷ own surge',
      'hotspot: hot conference committed/s',
      'hot conference p99 ms',
      'surge alone p99 ms',
      'hot p99 ÷ surge p99',
    ],
    rows,
  };
};

/**
 * The HTTP ceiling of each connection count, with the server's CPU per request there: the figure
 * each design's server CPU per committed reservation is held against (the ceiling commits nothing).
 */
const ceilingFigures = (report: LoadtestReport): string =>
  report.ceilings
    .map(
      (c) =>
        `${c.requestsPerSecond} req/s at ${c.connections} connections` +
        (c.cpu ? ` (server CPU ${c.cpu.microsecondsPerRequest.server} µs/request)` : ''),
    )
    .join('; ') || 'not measured';

const markdown = (report: LoadtestReport): string => {
  const lines = [
    `# seat-surge load test, ${report.startedAt}`,
    '',
    `Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}. Server: ${report.server}.`,
    `HTTP ceiling (POST with a validated body and one \`select 1\`): ${ceilingFigures(report)}.`,
    `Integrity audit: **${report.auditPassed ? 'passed' : 'FAILED'}**.`,
    ...(report.open
      ? [
          `Open model: ${report.open.spacing} arrivals, latency from each arrival's intended start; the generator ran at ${report.open.generatorScheduling} priority.`,
          '',
          ...openHeadline(report.open).map((line) => `**${line}**`),
        ]
      : []),
  ];
  for (const table of reportTables(report))
    lines.push('', `## ${table.title}`, '', markdownTable(table.header, table.rows));
  const failures = report.results.flatMap((r) =>
    r.audit?.passed === false
      ? r.audit.checks
          .filter((c) => !c.passed)
          .map((c) => `- ${designLabel(r)} ${r.scenario}/${r.phase} c=${r.connections}: ${c.check}: ${c.detail}`)
      : [],
  );
  if (failures.length > 0) lines.push('', '## Audit failures', '', ...failures);
  return `${lines.join('\n')}\n`;
};

const html = (report: LoadtestReport): string => {
  const sections: string[] = [
    `<p>Machine: ${escapeHtml(`${report.machine.cpus} × ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, Node ${report.machine.node}`)}. Server: ${escapeHtml(report.server)}. HTTP ceiling (POST with a validated body and one <code>select 1</code>): ${escapeHtml(ceilingFigures(report))}. Integrity audit: <b class="${report.auditPassed ? 'pass' : 'fail'}">${report.auditPassed ? 'passed' : 'FAILED'}</b>.</p>`,
  ];
  if (report.open) sections.push(openHtml(report.open));
  const byPhase = new Map<string, LoadtestReport['results']>();
  for (const r of report.results)
    byPhase.set(`${r.scenario} / ${r.phase}`, [...(byPhase.get(`${r.scenario} / ${r.phase}`) ?? []), r]);
  for (const [title, rows] of byPhase) {
    const connections = [...new Set(rows.map((r) => r.connections))].sort((a, b) => a - b);
    const sellout = rows.some((r) => r.sellout);
    // A checkout commits a reservation when a confirm is answered 200.
    const committed = rows.some((r) => r.checkout) ? 'Confirms answered 200' : 'Reservations committed';
    const metric = (r: PhaseResult) => (sellout ? r.attemptsPerSecond : r.reservationsPerSecond);
    sections.push(`<h2>${escapeHtml(title)}</h2>`);
    sections.push(
      barChart({
        title: sellout ? 'Booking attempts answered per second (201 + 409)' : `${committed} per second`,
        unit: '/s',
        groups: connections.map((c) => ({
          label: `${c} connections`,
          bars: rows
            .filter((r) => r.connections === c)
            .map((r) => ({ label: designLabel(r), value: metric(r), ...seriesColor(r) })),
        })),
        ...(sellout
          ? {}
          : {
              reference: {
                label: 'HTTP ceiling',
                values: connections.map((c) => report.ceilings.find((x) => x.connections === c)?.requestsPerSecond),
              },
            }),
      }),
    );
    sections.push(
      barChart({
        title: 'Latency of all requests: p50, p90, p99',
        unit: 'ms',
        groups: rows.map((r) => ({
          label: `${designLabel(r)} c=${r.connections}`,
          bars: [
            { label: 'p50', value: r.latencyMs.all.p50 },
            { label: 'p90', value: r.latencyMs.all.p90 },
            { label: 'p99', value: r.latencyMs.all.p99 },
          ],
        })),
      }),
    );
    for (const c of connections) {
      const atC = rows.filter((r) => r.connections === c);
      sections.push(
        lineChart({
          title: `Per second at ${c} connections: ${sellout ? 'answers' : committed.toLowerCase()} (ramp included)`,
          xLabel: 'second of the phase',
          yLabel: sellout ? 'answers/s' : 'committed/s',
          series: atC.map((r) => ({
            label: designLabel(r),
            ...seriesColor(r),
            points: r.timeline.map((t) => [t.second, sellout ? t.requests : t.committed] as [number, number]),
          })),
        }),
        lineChart({
          title: `Per second at ${c} connections: lag of each projection (largest sample of the second)`,
          xLabel: 'second of the phase',
          yLabel: 'lag ms',
          series: atC.filter(isEventSourced).flatMap((r) =>
            PROJECTIONS_SHOWN.map((projection, p) => ({
              label: `${designLabel(r)} ${projection}`,
              ...seriesColor(r),
              dashed: p > 0,
              points: r.timeline.map((t) => [t.second, t.lagMs?.[projection] ?? 0] as [number, number]),
            })),
          ),
        }),
        lineChart({
          title: `Per second at ${c} connections: p99 latency`,
          xLabel: 'second of the phase',
          yLabel: 'p99 ms',
          series: atC.map((r) => ({
            label: designLabel(r),
            ...seriesColor(r),
            points: r.timeline.map((t) => [t.second, t.p99] as [number, number]),
          })),
        }),
      );
    }
  }
  for (const table of reportTables(report))
    sections.push(`<h3>${escapeHtml(table.title)}</h3>`, htmlTable(table.header, table.rows, escapeHtml));
  return page(`seat-surge load test, ${report.startedAt}`, sections.join('\n'));
};

/** Writes report.json, report.md and report.html into `dir`. */
export const writeLoadtestReport = async (dir: string, report: LoadtestReport): Promise<string[]> => {
  await mkdir(dir, { recursive: true });
  const files = [join(dir, 'report.json'), join(dir, 'report.md'), join(dir, 'report.html')];
  await writeFile(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files[1]!, markdown(report));
  await writeFile(files[2]!, html(report));
  return files;
};

export { markdown as loadtestMarkdown };
