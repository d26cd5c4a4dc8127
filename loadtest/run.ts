import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkoutFaultRun, checkoutFaultTable, type CheckoutFaultRun } from './checkout/checkout-faults.js';
import { checkoutPhase } from './checkout/checkout-phase.js';
import { readCpuTimes } from './cpu.js';
import { faultRun, faultTable, type FaultRun } from './faults.js';
import { DESIGNS, parseOptions, USAGE, UsageRequested, type LoadtestOptions } from './options.js';
import {
  ceilingPhase,
  mixedPhase,
  selloutPhase,
  throughputPhase,
  type PhaseContext,
  type PhaseResult,
} from './phases.js';
import { startGenerator } from './open/generator-process.js';
import { runOpenModel, type OpenReport } from './open/open-run.js';
import { buildReport, reportTables, writeLoadtestReport } from './report/loadtest-report.js';
import { markdownTable } from './report/markdown.js';
import { startServer } from './server.js';

/** A checkout phase's line: its rates, the latencies of holds and confirms, expiry lag and what stayed held. */
const checkoutLine = (r: PhaseResult, audit: string): string => {
  const c = r.checkout;
  if (!c) return '';
  const lag = c.expiryLagMs;
  return (
    `${r.design} checkout c=${r.connections}: ${c.confirmedPerSecond} confirmed/s, ${c.holdsPerSecond} holds/s, ` +
    `hold p50/p99 ${c.holds.latencyMs.p50}/${c.holds.latencyMs.p99} ms, confirm p50/p99 ${c.confirms.latencyMs.p50}/${c.confirms.latencyMs.p99} ms, ` +
    `expiry lag p50/p99/max ${lag.p50}/${lag.p99}/${lag.max} ms (${lag.count} expired), held at end ${c.seatsHeldAtEnd}, ${audit}`
  );
};

/** One line per phase as it finishes. */
const summaryLine = (r: PhaseResult): string => {
  const audit = r.audit ? (r.audit.passed ? 'audit ok' : 'AUDIT FAILED') : '';
  if (r.checkout) return checkoutLine(r, audit);
  const main =
    r.phase === 'sellout'
      ? `sold ${r.sellout?.seatsSold}/${r.sellout?.capacity} in ${r.sellout?.timeToSellOutSeconds ?? '-'} s, ${r.attemptsPerSecond} attempts/s`
      : r.phase === 'ceiling'
        ? `${r.requestsPerSecond} req/s`
        : `${r.reservationsPerSecond} committed/s, ${r.requestsPerSecond} req/s`;
  const hot = r.hot ? `, hot conference ${r.hot.reservationsPerSecond} committed/s p99 ${r.hot.latencyMs.p99} ms` : '';
  return `${r.design} ${r.scenario}/${r.phase} c=${r.connections}: ${main}, p99 ${r.latencyMs.all.p99} ms${hot}, conflicts ${r.server.versionConflicts}, busy ${r.statusCounts[503] ?? 0} ${audit}`;
};

/**
 * A fault run: a surge per design with the chosen faults injected into a server this process
 * supervises, then the audit of every fault's reservations; with `--scenario checkout`, the
 * checkout with the API killed and restarted instead (see checkoutFaultRun). Writes faults.json
 * and faults.md.
 */
export const runFaults = async (
  options: LoadtestOptions,
  serverEnv: Record<string, string> = {},
): Promise<{ exitCode: number; files: string[] }> => {
  await mkdir(options.outDir, { recursive: true });
  const runTag = `ft${Date.now().toString(36)}`;
  const supervised = { server: await startServer(join(options.outDir, 'server.log'), serverEnv) };
  const runs: FaultRun[] = [];
  const checkoutRuns: CheckoutFaultRun[] = [];
  const steadySeconds = options.quick ? 1 : 3;
  try {
    for (const connections of options.connections) {
      for (const design of options.designs) {
        console.log(`${design} c=${connections}: ${options.faults.join(', ')}, ${options.faultRepeats} times each`);
        if (options.scenarios.includes('checkout')) {
          const { capacity, holdSeconds, faultRepeats: repeats } = options;
          const run = { design, connections, repeats, capacity, holdSeconds, steadySeconds, runTag };
          checkoutRuns.push(await checkoutFaultRun(supervised, run));
          continue;
        }
        const run = await faultRun(supervised, {
          design,
          connections,
          faults: options.faults,
          repeats: options.faultRepeats,
          vipCapacity: Math.max(1, Math.round(options.capacity / 10)),
          steadySeconds,
          runTag,
        });
        runs.push(run);
      }
    }
  } finally {
    await supervised.server.stop();
  }
  const tables = [...runs.map(faultTable), ...checkoutRuns.map(checkoutFaultTable)];
  const markdown = tables.map((t) => `## ${t.title}\n\n${markdownTable(t.header, t.rows)}`).join('\n\n');
  const files = [join(options.outDir, 'faults.json'), join(options.outDir, 'faults.md')];
  await writeFile(files[0]!, JSON.stringify({ options, runs, checkoutRuns }, null, 2));
  await writeFile(files[1]!, `# Fault run\n\n${markdown}\n`);
  for (const table of tables) console.log(`\n${table.title}\n${markdownTable(table.header, table.rows)}`);
  const passed = runs.every((r) => r.passed) && checkoutRuns.every((r) => r.passed);
  if (!passed)
    console.error(
      '\n!!! FAULT RUN FAILED: a reservation or hold was lost, seats oversold, the service did not recover, or due holds did not expire in time !!!',
    );
  console.log(`\nReports: ${files.join(', ')}`);
  return { exitCode: passed ? 0 : 2, files };
};

/** The closed model: per connection count, the HTTP ceiling, then every scenario for every design. */
const runClosedModel = async (ctx: PhaseContext, record: (result: PhaseResult) => void) => {
  const { options } = ctx;
  for (const connections of options.connections) {
    record(await ceilingPhase(ctx, connections));
    for (const scenario of options.scenarios) {
      for (const design of options.designs) {
        if (scenario === 'surge') {
          record(await throughputPhase(ctx, design, 'surge', connections));
          record(await selloutPhase(ctx, design, connections));
        } else if (scenario === 'checkout') {
          record(await checkoutPhase(ctx, design, connections));
        } else if (scenario === 'spread' || scenario === 'hotspot') {
          record(await throughputPhase(ctx, design, scenario, connections));
        } else {
          record(await mixedPhase(ctx, design, connections));
        }
      }
    }
  }
};

/**
 * Runs the whole comparison and writes the reports. `serverEnv` is passed to the self-started
 * server (the tests point it at their own database).
 */
export const runLoadtest = async (
  options: LoadtestOptions,
  serverEnv: Record<string, string> = {},
): Promise<{ exitCode: number; files: string[] }> => {
  await mkdir(options.outDir, { recursive: true });
  const startedAt = new Date();
  const server = options.target ? undefined : await startServer(join(options.outDir, 'server.log'), serverEnv);
  const baseUrl = options.target ?? server?.baseUrl ?? '';
  const apiPid = server?.pid;
  const ctx: PhaseContext = {
    baseUrl,
    options,
    runTag: `lt${startedAt.getTime().toString(36)}`,
    ...(apiPid === undefined ? {} : { cpuTimes: () => readCpuTimes(apiPid) }),
  };
  const phases: PhaseResult[] = [];
  const record = (result: PhaseResult) => {
    phases.push(result);
    console.log(summaryLine(result));
  };
  const generator = options.model === 'open' ? startGenerator(options.open.generatorPriority) : undefined;
  let open: OpenReport | undefined;
  try {
    if (generator) open = await runOpenModel({ ...ctx, generator }, record);
    else await runClosedModel(ctx, record);
  } finally {
    await generator?.stop();
    await server?.stop();
  }
  const report = buildReport(
    options,
    options.target ? `target ${options.target}` : 'self-started (embedded PostgreSQL)',
    startedAt,
    phases,
    open,
  );
  const files = await writeLoadtestReport(options.outDir, report);
  for (const table of reportTables(report)) console.log(`\n${table.title}\n${markdownTable(table.header, table.rows)}`);
  if (!report.auditPassed) {
    console.error('\n!!! INTEGRITY AUDIT FAILED !!!');
    for (const r of report.results.filter((x) => x.audit?.passed === false)) {
      for (const c of r.audit?.checks.filter((x) => !x.passed) ?? []) {
        console.error(`!!! ${r.design} ${r.scenario}/${r.phase} c=${r.connections}: ${c.check}: ${c.detail}`);
      }
    }
  }
  console.log(`\nReports: ${files.join(', ')}`);
  return { exitCode: report.auditPassed ? 0 : 2, files };
};

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  let options: LoadtestOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageRequested) {
      console.log(USAGE);
      process.exit(0);
    }
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(1);
  }
  console.log(
    `Designs ${options.designs.join(', ')} (${options.designs.map((d) => DESIGNS[d]).join(', ')}); scenarios ${options.scenarios.join(', ')}; connections ${options.connections.join(', ')}`,
  );
  (options.faults.length > 0 ? runFaults(options) : runLoadtest(options)).then(
    ({ exitCode }) => process.exit(exitCode),
    (error: unknown) => {
      console.error(`load test failed: ${(error as Error).message}`);
      process.exit(1);
    },
  );
}
