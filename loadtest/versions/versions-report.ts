import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { machine } from '../report/loadtest-report.js';
import { markdownTable } from '../report/markdown.js';
import { percentiles, round } from '../stats.js';
import type { LoadedCounts, Samples, StreamName } from './measure-loads.js';
import type { StreamsWritten } from './seed-streams.js';
import { TARGET_RATIO, type VersionsOptions } from './versions-options.js';

/** The spread of one figure's measured rounds, in ms (or a ratio). */
type Figures = { min: number; median: number; p90: number };

/** report.json: field names are stable and documented in docs/snapshots.md. */
export type VersionsReport = {
  schemaVersion: 1;
  kind: 'event-versions-benchmark';
  startedAt: string;
  finishedAt: string;
  machine: ReturnType<typeof machine>;
  options: VersionsOptions;
  streams: StreamsWritten;
  /** The state every load of either stream gave, checked at every load: the run stops otherwise. */
  state: LoadedCounts;
  coldLoadMs: Record<StreamName, Figures>;
  /** `toSeatAvailabilityEvent` over the stream's rows alone, already read. */
  upcastMs: Record<StreamName, Figures>;
  /** The mixed stream's median cold load ÷ the all-current one's: what issue 28's target bounds. */
  ratio: number;
  /** Mixed ÷ all current within each measured round: how far the ratio moves with the machine. */
  roundRatios: Figures;
  /** Upcasting alone ÷ the cold load (medians), per stream: the part of a load the upcasting is. */
  upcastShare: Record<StreamName, number>;
  /**
   * What the version-1 events add to the upcasting alone (medians, mixed − all current), in ms and
   * as a part of the all-current cold load: the ratio the upcasting alone would make, 1 + that,
   * a second estimate beside the loads' own, which a busy machine moves more.
   */
  upcastExtra: { ms: number; ofAllCurrentLoad: number };
  target: { ratio: number; met: boolean };
  verdict: string;
  /** Every measured round's time, in round order. */
  samples: { coldLoadMs: Samples; upcastMs: Samples };
};

const STREAM_LABELS: Record<StreamName, string> = { allCurrent: 'all current', mixed: 'half version 1' };

/** Min, median and p90 of the samples (left in their order). */
const spreadOf = (samples: number[], digits = 2): Figures => {
  const p = percentiles([...samples]);
  return { min: round(Math.min(...samples), digits), median: round(p.p50, digits), p90: round(p.p90, digits) };
};

const bothOf = (samples: Samples): Record<StreamName, Figures> => ({
  allCurrent: spreadOf(samples.allCurrent),
  mixed: spreadOf(samples.mixed),
});

/** The verdict line: the ratio of medians against the target. */
const verdictOf = (ratio: number, loads: Record<StreamName, Figures>, rounds: number): string =>
  `mixed ÷ all current, median cold loads: ${ratio.toFixed(3)} (${loads.mixed.median} ms against ${loads.allCurrent.median} ms over ${rounds} rounds): ${ratio <= TARGET_RATIO ? 'within' : 'OVER'} the target of ${TARGET_RATIO.toFixed(2)}`;

export const buildVersionsReport = (input: {
  startedAt: Date;
  machine: ReturnType<typeof machine>;
  options: VersionsOptions;
  streams: StreamsWritten;
  state: LoadedCounts;
  loads: Samples;
  upcasts: Samples;
}): VersionsReport => {
  const coldLoadMs = bothOf(input.loads);
  const upcastMs = bothOf(input.upcasts);
  const ratio = round(coldLoadMs.mixed.median / coldLoadMs.allCurrent.median, 3);
  const share = (stream: StreamName) => round(upcastMs[stream].median / coldLoadMs[stream].median, 3);
  return {
    schemaVersion: 1,
    kind: 'event-versions-benchmark',
    startedAt: input.startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: input.machine,
    options: input.options,
    streams: input.streams,
    state: input.state,
    coldLoadMs,
    upcastMs,
    ratio,
    roundRatios: spreadOf(
      input.loads.mixed.map((ms, i) => ms / input.loads.allCurrent[i]!),
      3,
    ),
    upcastShare: { allCurrent: share('allCurrent'), mixed: share('mixed') },
    upcastExtra: {
      ms: round(upcastMs.mixed.median - upcastMs.allCurrent.median, 2),
      ofAllCurrentLoad: round((upcastMs.mixed.median - upcastMs.allCurrent.median) / coldLoadMs.allCurrent.median, 3),
    },
    target: { ratio: TARGET_RATIO, met: ratio <= TARGET_RATIO },
    verdict: verdictOf(ratio, coldLoadMs, input.options.rounds),
    samples: { coldLoadMs: input.loads, upcastMs: input.upcasts },
  };
};

const percent = (share: number) => `${round(share * 100, 1)}%`;

/** One row per stream: what was written in version 1, its cold loads, and its upcasting alone. */
export const versionsTable = (report: VersionsReport): string =>
  markdownTable(
    [
      'stream',
      'events',
      'written in version 1',
      'upcast on read',
      'cold load ms: min',
      'median',
      'p90',
      'upcasting alone ms (median)',
      'share of the load',
    ],
    (['allCurrent', 'mixed'] as const).map((stream) => [
      STREAM_LABELS[stream],
      report.streams.length,
      stream === 'mixed' ? report.streams.writtenInVersion1 : 0,
      stream === 'mixed' ? report.streams.upcastOnRead : 0,
      report.coldLoadMs[stream].min,
      report.coldLoadMs[stream].median,
      report.coldLoadMs[stream].p90,
      report.upcastMs[stream].median,
      percent(report.upcastShare[stream]),
    ]),
  );

/** What the upcasting alone says the version-1 events cost a load. */
export const upcastLine = ({ upcastExtra, streams }: VersionsReport): string =>
  `The upcasting alone: the ${streams.upcastOnRead} upcasts of the version-1 events add ${upcastExtra.ms} ms, ${percent(upcastExtra.ofAllCurrentLoad)} of the all-current cold load (a ratio of ${(1 + upcastExtra.ofAllCurrentLoad).toFixed(3)} from them alone).`;

const versionsMarkdown = (report: VersionsReport): string => {
  const { machine: m, options, streams, state, roundRatios } = report;
  const counts = state.seatTypes
    .map((s) => `${s.type} ${s.reserved} reserved and ${s.held} held of ${s.capacity}`)
    .join(', ');
  return `${[
    `# seat-surge event-versions benchmark, ${report.startedAt}`,
    '',
    `Machine: ${m.cpus} × ${m.cpuModel}, Node ${m.node}. Two streams of ${streams.length} events with the same history (seed ${options.seed}), one written all in the current versions, the other with its first ${streams.writtenInVersion1} events written as the release before event versions wrote them (${streams.upcastOnRead} of them upcast at every read). Cold loads without snapshots, ${options.rounds} measured rounds after a warm-up, the streams taking turns.`,
    '',
    `**${report.verdict}.**`,
    '',
    versionsTable(report),
    '',
    `Mixed ÷ all current within each round: min ${roundRatios.min}, median ${roundRatios.median}, p90 ${roundRatios.p90}.`,
    '',
    upcastLine(report),
    '',
    `Every load of either stream gave version ${state.version}: ${counts}.`,
    '',
    `Events by type: ${Object.entries(streams.eventTypes)
      .map(([type, n]) => `${type} ${n}`)
      .join(', ')}.`,
  ].join('\n')}\n`;
};

/** Writes report.json and report.md into the options' output directory; returns their paths. */
export const writeVersionsReport = async (report: VersionsReport): Promise<string[]> => {
  const dir = report.options.outDir;
  await mkdir(dir, { recursive: true });
  const files = ['report.json', 'report.md'].map((name) => join(dir, name));
  await writeFile(files[0]!, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files[1]!, versionsMarkdown(report));
  return files;
};
