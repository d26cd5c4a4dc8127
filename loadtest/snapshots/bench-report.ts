import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { machine } from '../report/loadtest-report.js';
import { intervalColor } from '../report/colors.js';
import { htmlTable, markdownTable } from '../report/markdown.js';
import { barChart, escapeHtml, lineChart, page, type Series } from '../report/svg.js';
import { round } from '../stats.js';
import type { BenchOptions } from './bench-options.js';
import type { BenchRow } from './read-costs.js';
import { compareSurges, rateBand, recommendInterval, RULE, type IntervalFigures } from './recommend.js';
import type { RetentionRow } from './retention.js';
import type { SurgeRun } from './write-costs.js';

/** report.json: field names are stable and documented in docs/snapshots.md. */
export type BenchReport = {
  schemaVersion: 1;
  kind: 'snapshot-benchmark';
  startedAt: string;
  finishedAt: string;
  machine: ReturnType<typeof machine>;
  options: BenchOptions;
  rows: BenchRow[];
  /** The write-cost phase: one surge per interval and pass. */
  surges: SurgeRun[];
  retention: RetentionRow[];
  recommendation: ReturnType<typeof recommendInterval>;
  /** Surge committed/s at interval 10 against 1,000, pass by pass, when both were measured. */
  surge10Against1000: ReturnType<typeof compareSurges>;
};

type Table = { title: string; header: string[]; rows: (string | number)[][] };

const intervalName = (interval: number) => (interval === 0 ? 'none' : String(interval));

/** What the recommendation and the trade-off table read: each interval's cold loads and surges. */
export const figuresOf = (rows: BenchRow[], surges: SurgeRun[], intervals: number[]): IntervalFigures[] =>
  intervals.map((interval) => ({
    interval,
    coldLoads: rows
      .filter((r) => r.snapshotInterval === interval)
      .map((r) => ({ streamLength: r.streamLength, median: r.coldLoadMs.median, p90: r.coldLoadMs.p90 })),
    surgeRates: surges.filter((s) => s.interval === interval).map((s) => s.committedPerSecond),
  }));

export const buildBenchReport = (
  startedAt: Date,
  machineInfo: ReturnType<typeof machine>,
  options: BenchOptions,
  rows: BenchRow[],
  surges: SurgeRun[],
  retention: RetentionRow[],
): BenchReport => {
  const figures = figuresOf(rows, surges, options.intervals);
  return {
    schemaVersion: 1,
    kind: 'snapshot-benchmark',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: machineInfo,
    options,
    rows,
    surges,
    retention,
    recommendation: recommendInterval(figures, options.maxColdMs),
    surge10Against1000: compareSurges(
      figures.find((f) => f.interval === 10),
      figures.find((f) => f.interval === 1000),
    ),
  };
};

const mean = (values: number[]) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);

/** Both sides of the trade-off, one row per interval. */
export const tradeOffTable = (report: BenchReport): Table => {
  const { options, rows, surges } = report;
  const longest = Math.max(...options.lengths);
  const baseline = rateBand(surges.filter((s) => s.interval === 0).map((s) => s.committedPerSecond));
  const lengthLabel = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
  return {
    title: 'The trade-off, per interval: read costs (cold load, asOf, reserve) beside write costs (surge)',
    header: [
      'interval',
      `cold load p90 ms at ${options.lengths.map(lengthLabel).join(' / ')} events`,
      `asOf middle ms at ${lengthLabel(longest)}`,
      `reserve ms at ${lengthLabel(longest)}`,
      `snapshots kept at ${lengthLabel(longest)}`,
      'surge committed/s (± noise)',
      'vs none',
      'surge p99 ms',
      'server CPU µs / committed',
      'snapshots written/s',
    ],
    rows: options.intervals.map((interval) => {
      const own = rows.filter((r) => r.snapshotInterval === interval);
      const atLongest = own.find((r) => r.streamLength === longest);
      const runs = surges.filter((s) => s.interval === interval);
      const band = rateBand(runs.map((s) => s.committedPerSecond));
      const cpu = mean(runs.flatMap((s) => s.serverCpuUsPerCommitted ?? []));
      return [
        intervalName(interval),
        own.map((r) => r.coldLoadMs.p90).join(' / '),
        atLongest?.asOfMiddleMs.median ?? '-',
        atLongest?.reserveCommandMs.median ?? '-',
        atLongest?.snapshotsKept ?? '-',
        band ? `${round(band.mean, 0)} ± ${round(band.halfRange, 0)}` : '-',
        band && baseline && baseline.mean > 0
          ? `${round(((band.mean - baseline.mean) / baseline.mean) * 100, 1)}%`
          : '-',
        runs.length > 0 ? round(mean(runs.map((s) => s.p99Ms))!, 1) : '-',
        cpu === null ? '-' : `${round(cpu, 0)}${runs.every((s) => s.postgresMeasured) ? '' : ' (without PostgreSQL)'}`,
        runs.length > 0 ? round(mean(runs.map((s) => s.snapshotsWrittenPerSecond))!, 0) : '-',
      ];
    }),
  };
};

const surgeTable = (report: BenchReport): Table => ({
  title: `Surges on the batched path: ${report.options.connections} connections, ${report.options.surgeSeconds} s held after a 1 s ramp, each pass`,
  header: [
    'interval',
    'pass',
    'committed/s',
    'p99 ms',
    '503 busy',
    'server CPU µs / committed',
    'cores: API',
    'projector',
    'PostgreSQL',
    'load generator',
    'snapshots written/s',
    'audit',
  ],
  rows: report.surges.map((s) => [
    intervalName(s.interval),
    s.pass,
    s.committedPerSecond,
    s.p99Ms,
    s.phase.statusCounts['503'] ?? 0,
    s.serverCpuUsPerCommitted ?? '-',
    s.phase.cpu?.cores.api ?? '-',
    s.phase.cpu?.cores.projector ?? '-',
    s.phase.cpu?.cores.postgres ?? '-',
    s.phase.cpu?.cores.loadGenerator ?? '-',
    s.snapshotsWrittenPerSecond,
    s.phase.audit?.passed === false ? 'FAIL' : 'pass',
  ]),
});

const retentionTable = (report: BenchReport): Table => ({
  title: 'Retention: snapshot rows kept against point-in-time (asOf) reads',
  header: ['SNAPSHOT_KEEP', 'interval', 'stream length', 'rows kept', 'asOf ms (median)', 'p90', 'points read'],
  rows: report.retention.map((r) => [
    r.keep,
    r.snapshotInterval,
    r.streamLength,
    r.rowsKept,
    r.asOfMs.median,
    r.asOfMs.p90,
    r.points,
  ]),
});

const detailTable = (rows: BenchRow[]): Table => ({
  title: 'Read costs, every stream length and interval',
  header: [
    'stream length',
    'active holds',
    'interval',
    'tail events',
    'snapshots kept',
    'cold load ms (median)',
    'p90',
    'asOf middle ms (median)',
    'reserve ms (median)',
    'p90',
    'snapshot JSON bytes',
    'stored bytes',
    'snapshot write ms',
  ],
  rows: rows.map((r) => [
    r.streamLength,
    r.activeHolds,
    intervalName(r.snapshotInterval),
    r.tailEvents,
    r.snapshotsKept,
    r.coldLoadMs.median,
    r.coldLoadMs.p90,
    r.asOfMiddleMs.median,
    r.reserveCommandMs.median,
    r.reserveCommandMs.p90,
    r.snapshotJsonBytes,
    r.snapshotStoredBytes,
    r.snapshotWriteMs ?? '-',
  ]),
});

/** The comparison the issue asks for, in words: interval 10 against 1,000 under a surge. */
export const comparisonLine = (report: BenchReport): string => {
  const c = report.surge10Against1000;
  if (!c)
    return 'Surge committed/s at interval 10 against 1,000: not measured (both intervals and at least one pass needed).';
  const sign = (n: number) => (n > 0 ? `+${n}` : String(n));
  return (
    `Surge committed/s at interval 10 against 1,000: ${c.means[0]} against ${c.means[1]}, ` +
    `${sign(c.difference)}/s (${sign(c.differencePercent)}%); per pass ${sign(c.bandPercent[0])}% to ${sign(c.bandPercent[1])}% over ${c.passes} pass${c.passes === 1 ? '' : 'es'}` +
    (c.passes < 2 ? ' (one pass: no noise band)' : '')
  );
};

export const benchTables = (report: BenchReport): Table[] =>
  [tradeOffTable(report), surgeTable(report), retentionTable(report), detailTable(report.rows)].filter(
    (t) => t.rows.length > 0,
  );

const GREYS = ['#111827', '#6b7280', '#9ca3af', '#d1d5db'];

/** Read cost and write cost against the interval, on one chart: cold-load p90 by length (left), surge committed/s (right). */
export const tradeOffChart = (report: BenchReport): string => {
  const intervals = report.options.intervals.filter((i) => i > 0).sort((a, b) => a - b);
  const lengths = report.options.lengths;
  const left: Series[] = [
    ...lengths.map((length, i) => ({
      label: `cold-load p90 ms, ${length.toLocaleString('en')} events`,
      color: GREYS[i % GREYS.length]!,
      points: intervals.flatMap((interval) => {
        const row = report.rows.find((r) => r.snapshotInterval === interval && r.streamLength === length);
        return row ? [[interval, row.coldLoadMs.p90] as [number, number]] : [];
      }),
    })),
    {
      label: `bound ${report.options.maxColdMs} ms`,
      color: '#b91c1c',
      dashed: true,
      points:
        intervals.length > 0
          ? [
              [intervals[0]!, report.options.maxColdMs],
              [intervals.at(-1)!, report.options.maxColdMs],
            ]
          : [],
    },
  ];
  const passes = [...new Set(report.surges.map((s) => s.pass))];
  const none = rateBand(report.surges.filter((s) => s.interval === 0).map((s) => s.committedPerSecond));
  const right: Series[] = [
    ...passes.map((pass) => ({
      label: `surge committed/s, pass ${pass}`,
      color: '#d97706',
      dashed: pass > 1,
      points: intervals.flatMap((interval) => {
        const run = report.surges.find((s) => s.interval === interval && s.pass === pass);
        return run ? [[interval, run.committedPerSecond] as [number, number]] : [];
      }),
    })),
    ...(none && intervals.length > 0
      ? [
          {
            label: 'surge committed/s, no snapshots',
            color: '#0f766e',
            dashed: true,
            points: [
              [intervals[0]!, round(none.mean, 0)],
              [intervals.at(-1)!, round(none.mean, 0)],
            ] as [number, number][],
          },
        ]
      : []),
  ];
  return lineChart({
    title: 'Both sides against the interval: cold load (left, log) and surge throughput (right)',
    xLabel: 'snapshot interval (log scale)',
    yLabel: 'cold-load p90 ms (log)',
    logX: true,
    logY: true,
    series: left,
    right: { yLabel: 'surge committed/s', series: right },
  });
};

const charts = (report: BenchReport): string[] => {
  const intervals = report.options.intervals;
  const seriesBy = (y: (r: BenchRow) => number) =>
    intervals.map((interval) => ({
      label: interval === 0 ? 'no snapshots' : `every ${interval}`,
      color: intervalColor(interval, intervals),
      points: report.rows
        .filter((r) => r.snapshotInterval === interval)
        .map((r) => [r.streamLength, y(r)] as [number, number]),
    }));
  const passes = [...new Set(report.surges.map((s) => s.pass))];
  return [
    tradeOffChart(report),
    ...(report.surges.length > 0
      ? [
          barChart({
            title: 'Surge committed/s on the batched path, by pass and interval',
            unit: 'committed/s',
            groups: passes.map((pass) => ({
              label: `pass ${pass}`,
              bars: intervals.flatMap((interval) => {
                const run = report.surges.find((s) => s.pass === pass && s.interval === interval);
                return run
                  ? [
                      {
                        label: interval === 0 ? 'no snapshots' : `every ${interval}`,
                        value: run.committedPerSecond,
                        color: intervalColor(interval, intervals),
                      },
                    ]
                  : [];
              }),
            })),
          }),
        ]
      : []),
    lineChart({
      title: 'Cold aggregate load time by stream length',
      xLabel: 'events in the stream (log scale)',
      yLabel: 'median ms (log scale)',
      logX: true,
      logY: true,
      series: seriesBy((r) => r.coldLoadMs.median),
    }),
    lineChart({
      title: 'Point-in-time read (asOf the middle of the history) by stream length',
      xLabel: 'events in the stream (log scale)',
      yLabel: 'median ms (log scale)',
      logX: true,
      logY: true,
      series: seriesBy((r) => r.asOfMiddleMs.median),
    }),
    lineChart({
      title: 'Reserve command latency by stream length',
      xLabel: 'events in the stream',
      yLabel: 'median ms',
      series: seriesBy((r) => r.reserveCommandMs.median),
    }),
    lineChart({
      title: 'Snapshot size by stream length',
      xLabel: 'events in the stream',
      yLabel: 'JSON bytes',
      series: seriesBy((r) => r.snapshotJsonBytes).filter((s) => s.label !== 'no snapshots'),
    }),
    ...(report.retention.length > 0
      ? [
          lineChart({
            title: `Retention: asOf latency against snapshot rows kept (${report.retention[0]!.streamLength.toLocaleString('en')} events, interval ${report.retention[0]!.snapshotInterval})`,
            xLabel: 'snapshot rows kept (log scale)',
            yLabel: 'asOf ms',
            logX: true,
            series: [
              {
                label: 'median',
                points: report.retention.map((r) => [r.rowsKept, r.asOfMs.median] as [number, number]),
              },
              {
                label: 'p90',
                dashed: true,
                points: report.retention.map((r) => [r.rowsKept, r.asOfMs.p90] as [number, number]),
              },
            ],
          }),
        ]
      : []),
  ];
};

const intro = (report: BenchReport) =>
  `Machine: ${report.machine.cpus} × ${report.machine.cpuModel}, Node ${report.machine.node}. ${report.options.samples} samples per read figure; ${report.options.repeats} pass(es) of the write-cost phase.`;

export const benchMarkdown = (report: BenchReport): string => {
  const lines = [
    `# seat-surge snapshot benchmark, ${report.startedAt}`,
    '',
    intro(report),
    '',
    `**Recommendation: ${report.recommendation.line}.**`,
    '',
    `Rule: ${RULE}`,
    '',
    comparisonLine(report),
  ];
  for (const table of benchTables(report))
    lines.push('', `## ${table.title}`, '', markdownTable(table.header, table.rows));
  lines.push('', `**Recommendation: ${report.recommendation.line}.**`);
  return `${lines.join('\n')}\n`;
};

/** Writes report.json, report.md, report.html, and the two-sided chart alone as tradeoff.svg. */
export const writeBenchReport = async (report: BenchReport): Promise<string[]> => {
  const dir = report.options.outDir;
  await mkdir(dir, { recursive: true });
  const html = page(
    `seat-surge snapshot benchmark, ${report.startedAt}`,
    [
      `<p>${escapeHtml(intro(report))}</p>`,
      `<p><b>Recommendation: ${escapeHtml(report.recommendation.line)}.</b></p>`,
      `<p>Rule: ${escapeHtml(RULE)}</p>`,
      `<p>${escapeHtml(comparisonLine(report))}</p>`,
      ...charts(report),
      ...benchTables(report).flatMap((t) => [
        `<h3>${escapeHtml(t.title)}</h3>`,
        htmlTable(t.header, t.rows, escapeHtml),
      ]),
      `<p><b>Recommendation: ${escapeHtml(report.recommendation.line)}.</b></p>`,
    ].join('\n'),
  );
  const files = ['report.json', 'report.md', 'report.html', 'tradeoff.svg'].map((name) => join(dir, name));
  await writeFile(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files[1]!, benchMarkdown(report));
  await writeFile(files[2]!, html);
  await writeFile(files[3]!, `${tradeOffChart(report)}\n`);
  return files;
};
