import type { CapacityResult, OpenStep, SpikeResult } from '../open/open-phases.js';
import type { OpenReport } from '../open/open-run.js';
import { round } from '../stats.js';
import { isCrud } from '../options.js';
import { openCheckoutTable } from './checkout-report.js';
import { designColor } from './colors.js';
import { otherStatuses, serverCpuPerCommitted, statusCount } from './markdown.js';
import { escapeHtml, lineChart } from './svg.js';

type Table = { title: string; header: string[]; rows: (string | number)[][] };

const perSecond = (n: number, seconds: number) => (seconds > 0 ? round(n / seconds) : 0);
const auditCell = (audit: { passed: boolean }) => (audit.passed ? 'pass' : 'FAIL');
/** Server CPU (all but the load generator) per answered request, µs. */
const serverCpuPerRequest = (step: OpenStep | undefined) => step?.cpu?.microsecondsPerRequest.server ?? '-';
const capacityStep = (c: CapacityResult) => c.steps.find((s) => s.rate === c.capacityAtSlo && s.verdict.passed);
const capacityCell = (c: CapacityResult) => `${c.capacityAtSlo}${c.limitedByGenerator ? ' (generator limit)' : ''}`;

/** A design's capacity, with the server's CPU per committed reservation at that step where it was measured. */
const capacityClause = (c: CapacityResult) => {
  const cpu = serverCpuPerCommitted(capacityStep(c)?.cpu);
  return `${c.design} takes ${capacityCell(c)} arrivals/s${cpu === '-' ? '' : ` (server CPU ${cpu} µs/committed)`}`;
};

/** The first line of the results: each design's capacity at the objective, per scenario. */
export const openHeadline = (open: OpenReport): string[] =>
  [...new Set(open.capacity.map((c) => c.scenario))].map((scenario) => {
    const rows = open.capacity.filter((c) => c.scenario === scenario);
    return `${scenario}, ${open.spacing} arrivals, p99 ≤ ${open.sloMs} ms: ${rows.map(capacityClause).join('; ')}.`;
  });

export const capacityTable = (open: OpenReport): Table => ({
  title: `Capacity at p99 ≤ ${open.sloMs} ms (open model, ${open.spacing} arrivals)`,
  header: [
    'scenario',
    'design',
    'arrivals/s at the objective',
    '÷ strongest CRUD',
    'committed/s there',
    'p99 ms there',
    'p99.9 ms there',
    'server CPU µs/request there',
    'server CPU µs/committed there',
    'closed loop committed/s',
    'capacity ÷ closed loop',
    'steps',
    'audit',
  ],
  rows: open.capacity.map((c) => {
    const step = capacityStep(c);
    const crud = Math.max(
      0,
      ...open.capacity.filter((x) => x.scenario === c.scenario && isCrud(x.design)).map((x) => x.capacityAtSlo),
    );
    return [
      c.scenario,
      c.design,
      capacityCell(c),
      isCrud(c.design) || crud === 0 ? '-' : `${round(c.capacityAtSlo / crud, 2)}×`,
      step ? perSecond(step.committed, step.seconds) : '-',
      step?.latencyMs.all.p99 ?? '-',
      step?.latencyMs.all.p999 ?? '-',
      serverCpuPerRequest(step),
      serverCpuPerCommitted(step?.cpu),
      c.closed?.reservationsPerSecond ?? '-',
      c.closed && c.closed.reservationsPerSecond > 0
        ? `${Math.round((c.capacityAtSlo / c.closed.reservationsPerSecond) * 100)}%`
        : '-',
      c.steps.length,
      auditCell(c.audit),
    ];
  }),
});

const stepRow = (label: string[], s: OpenStep) => [
  ...label,
  s.rate,
  s.achievedRate,
  perSecond(s.answered, s.seconds),
  s.latencyMs.all.p50,
  s.latencyMs.all.p90,
  s.latencyMs.all.p99,
  s.latencyMs.all.p999,
  s.latencyMs.all.max,
  statusCount(s.statusCounts, '201'),
  statusCount(s.statusCounts, '409'),
  statusCount(s.statusCounts, '503'),
  otherStatuses(s.statusCounts),
  s.dropped,
  s.errors,
  s.generator.sendLagMs.p99,
  s.generator.eventLoopDelayMs.p99,
  s.verdict.passed ? 'kept' : `missed: ${s.verdict.reasons.join('; ')}`,
];
const STEP_HEADER = [
  'offered/s',
  'issued/s',
  'answered/s',
  'p50 ms',
  'p90 ms',
  'p99 ms',
  'p99.9 ms',
  'max ms',
  '201',
  '409',
  '503',
  'other',
  'dropped',
  'errors',
  'send lag p99 ms',
  'generator loop delay p99 ms',
  'objective',
];

export const stepsTable = (open: OpenReport): Table => ({
  title: 'Open-model steps of the capacity search (latency from each arrival’s intended start)',
  header: ['scenario', 'design', ...STEP_HEADER],
  rows: open.capacity.flatMap((c) =>
    [...c.steps].sort((a, b) => a.rate - b.rate).map((s) => stepRow([c.scenario, c.design], s)),
  ),
});

/** The same rate measured both ways: what the closed loop's p99 leaves out. */
export const closedAgainstOpenTable = (open: OpenReport): Table => ({
  title: 'Closed loop and open model at the same rate',
  header: [
    'scenario',
    'design',
    'closed: connections',
    'closed: req/s achieved',
    'closed: p99 ms',
    'open at that rate: p99 ms',
    'p99.9 ms',
    'max ms',
    '503',
    'dropped',
    'objective',
  ],
  rows: open.capacity.flatMap((c) =>
    c.closed && c.atClosedRate
      ? [
          [
            c.scenario,
            c.design,
            c.closed.connections,
            c.closed.requestsPerSecond,
            c.closed.p99,
            c.atClosedRate.latencyMs.all.p99,
            c.atClosedRate.latencyMs.all.p999,
            c.atClosedRate.latencyMs.all.max,
            statusCount(c.atClosedRate.statusCounts, '503'),
            c.atClosedRate.dropped,
            c.atClosedRate.verdict.passed ? 'kept' : 'missed',
          ],
        ]
      : [],
  ),
});

export const spikeTable = (open: OpenReport): Table => ({
  title: `Spike: base rate, a step up, back to base (p99 objective ${open.sloMs} ms)`,
  header: [
    'design',
    'base/s → spike/s',
    'seconds base / spike / after',
    'spike arrivals',
    '201',
    '409',
    '503 busy',
    'busy share',
    'other, errors, dropped',
    'admitted p99 ms in the spike',
    'slowest answer ms (whole phase)',
    'back under the objective after s',
    'audit',
  ],
  rows: open.spikes.map((s: SpikeResult) => [
    s.design,
    `${s.shape.baseRate} → ${s.shape.spikeRate}`,
    `${s.shape.baseSeconds} / ${s.shape.spikeSeconds} / ${s.shape.recoverySeconds}`,
    s.spike.offered,
    statusCount(s.spike.statusCounts, '201'),
    statusCount(s.spike.statusCounts, '409'),
    statusCount(s.spike.statusCounts, '503'),
    `${round(s.busyShare * 100, 1)}%`,
    `${otherStatuses(s.spike.statusCounts)}, ${s.spike.errors}, ${s.spike.dropped}`,
    s.spike.admittedLatencyMs.p99,
    s.load.latencyMs.all.max,
    s.recoverySeconds ?? 'not within the phase',
    auditCell(s.audit),
  ]),
});

export const generatorTable = (open: OpenReport): Table => {
  const check = open.generatorCheck;
  return {
    title: 'The generator’s own check: an open load against the HTTP ceiling',
    header: ['why this rate', ...STEP_HEADER, 'generator CPU cores'],
    rows: check ? [[...stepRow([check.reason], check.step), check.step.cpu?.cores.loadGenerator ?? '-']] : [],
  };
};

/** Every table of the open model, the headline's first. */
export const openTables = (open: OpenReport): Table[] =>
  [
    capacityTable(open),
    spikeTable(open),
    openCheckoutTable(open.checkout),
    closedAgainstOpenTable(open),
    generatorTable(open),
    stepsTable(open),
  ].filter((t) => t.rows.length > 0);

/** Charts: p99 against the offered rate per design, and each spike second by second. */
export const openCharts = (open: OpenReport): string[] => {
  const charts: string[] = [];
  for (const scenario of new Set(open.capacity.map((c) => c.scenario))) {
    const rows = open.capacity.filter((c) => c.scenario === scenario);
    const rates = rows.flatMap((c) => c.steps.map((s) => s.rate));
    charts.push(
      lineChart({
        title: `${scenario}: p99 latency against the offered rate (open model; dashed level: the objective)`,
        xLabel: 'offered arrivals/s',
        yLabel: 'p99 ms (log)',
        logY: true,
        series: [
          ...rows.map((c) => ({
            label: c.design,
            color: designColor(c.design),
            points: [...c.steps]
              .sort((a, b) => a.rate - b.rate)
              .map((s) => [s.rate, s.latencyMs.all.p99] as [number, number]),
          })),
          {
            label: `objective ${open.sloMs} ms`,
            points: [
              [Math.min(...rates), open.sloMs],
              [Math.max(...rates), open.sloMs],
            ],
          },
        ],
      }),
    );
  }
  for (const s of open.spikes) {
    const step = s.load.timeline.length > 1 ? s.load.timeline[1]!.atSecond - s.load.timeline[0]!.atSecond : 1;
    const series = (label: string, value: (b: (typeof s.load.timeline)[number]) => number) => ({
      label,
      points: s.load.timeline.map((b) => [b.atSecond, round(value(b) / step)] as [number, number]),
    });
    charts.push(
      lineChart({
        title: `Spike, ${s.design}: arrivals and answers per second (by intended start)`,
        xLabel: 'second of the phase',
        yLabel: 'per second',
        series: [
          series('offered', (b) => b.offered),
          series('201', (b) => statusCount(b.statusCounts, '201')),
          series('409', (b) => statusCount(b.statusCounts, '409')),
          series('503 busy', (b) => statusCount(b.statusCounts, '503')),
          series('dropped or failed', (b) => b.dropped + b.errors + otherStatuses(b.statusCounts)),
        ],
      }),
    );
  }
  if (open.spikes.length > 0) {
    charts.push(
      lineChart({
        title: `Spike: p99 latency per half second, every design (objective ${open.sloMs} ms)`,
        xLabel: 'second of the phase',
        yLabel: 'p99 ms (log)',
        logY: true,
        series: open.spikes.map((s) => ({
          label: s.design,
          color: designColor(s.design),
          points: s.load.timeline.map((b) => [b.atSecond, b.p99] as [number, number]),
        })),
      }),
    );
  }
  return charts;
};

/** The open model's part of report.html: the headline, the charts. */
export const openHtml = (open: OpenReport): string =>
  [
    '<h2>Open model: capacity at the latency objective</h2>',
    ...openHeadline(open).map((line) => `<p><b>${escapeHtml(line)}</b></p>`),
    ...openCharts(open),
  ].join('\n');
