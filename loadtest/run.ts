import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { checkoutFaultRun, checkoutFaultTable, type CheckoutFaultRun } from './checkout/checkout-faults.js';
import { checkoutPhase } from './checkout/checkout-phase.js';
import { readCpuTimes } from './cpu.js';
import { faultRun, faultTable, type FaultRun } from './faults.js';
import {
  DESIGNS,
  parseOptions,
  parseOrExit,
  topologies,
  topologyLabel,
  USAGE,
  type LoadtestOptions,
  type Topology,
} from './options.js';
import { clusterFaultRun, clusterFaultTable, RESUME_TARGET_SECONDS, type ClusterFaultRun } from './cluster-faults.js';
import { startCluster } from './cluster.js';
import {
  ceilingPhase,
  designLabel,
  mixedPhase,
  selloutPhase,
  throughputPhase,
  type Phase,
  type PhaseContext,
  type PhaseResult,
} from './phases.js';
import { startGenerator } from './open/generator-process.js';
import { runOpenModel, type OpenReport } from './open/open-run.js';
import { buildReport, reportTables, writeLoadtestReport } from './report/loadtest-report.js';
import { markdownTable } from './report/markdown.js';
import { startServer } from './server.js';

/**
 * What a phase's server CPU is counted per: a request at the HTTP ceiling (it commits nothing),
 * else what it commits (a seat sold in a sell-out, a confirm in a checkout).
 */
const CPU_PER: Record<Phase, string> = {
  ceiling: 'request',
  throughput: 'committed',
  sellout: 'seat sold',
  mixed: 'committed',
  checkout: 'confirmed',
};

/** The server's CPU per what the phase is judged by (see CPU_PER), where it was measured. */
const serverCpuNote = (r: PhaseResult): string => {
  const us = r.phase === 'ceiling' ? r.cpu?.microsecondsPerRequest.server : r.cpu?.microsecondsPerCommitted?.server;
  return us === undefined ? '' : `, server CPU ${us} µs/${CPU_PER[r.phase]}`;
};

/** A checkout phase's line: its rates, the latencies of holds and confirms, expiry lag and what stayed held. */
const checkoutLine = (r: PhaseResult, audit: string): string => {
  const c = r.checkout;
  if (!c) return '';
  const lag = c.expiryLagMs;
  return (
    `${designLabel(r)} checkout c=${r.connections}: ${c.confirmedPerSecond} confirmed/s${serverCpuNote(r)}, ${c.holdsPerSecond} holds/s, ` +
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
  return `${designLabel(r)} ${r.scenario}/${r.phase} c=${r.connections}: ${main}${serverCpuNote(r)}, p99 ${r.latencyMs.all.p99} ms${hot}, conflicts ${r.server.versionConflicts}, busy ${r.statusCounts[503] ?? 0} ${audit}`;
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
  if (options.faults.includes('kill-api-one')) return runClusterFaults(options, runTag, serverEnv);
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

/** `--fault kill-api-one`: a cluster, and per design a surge with one of its processes killed. */
const runClusterFaults = async (
  options: LoadtestOptions,
  runTag: string,
  serverEnv: Record<string, string>,
): Promise<{ exitCode: number; files: string[] }> => {
  const [processes = 3] = options.processes;
  const [routing = 'affinity'] = options.routings;
  const env = { EMBEDDED_POSTGRES_DIR: '.data/loadtest', EMBEDDED_POSTGRES_PORT: '54330', ...serverEnv };
  const cluster = await startCluster(join(options.outDir, 'cluster.log'), { processes, routing, env });
  const runs: ClusterFaultRun[] = [];
  try {
    for (const connections of options.connections) {
      for (const design of options.designs) {
        console.log(
          `${design} c=${connections}: kill-api-one of ${processes} processes, ${options.faultRepeats} times`,
        );
        const run = { design, connections, repeats: options.faultRepeats, runTag };
        runs.push(
          await clusterFaultRun(cluster, { ...run, conferences: 8 * processes, steadySeconds: options.quick ? 1 : 3 }),
        );
      }
    }
  } finally {
    await cluster.stop();
  }
  const tables = runs.map(clusterFaultTable);
  const markdown = tables.map((t) => `## ${t.title}\n\n${markdownTable(t.header, t.rows)}`).join('\n\n');
  const files = [join(options.outDir, 'faults.json'), join(options.outDir, 'faults.md')];
  await writeFile(files[0]!, JSON.stringify({ options, clusterRuns: runs }, null, 2));
  await writeFile(files[1]!, `# Fault run: one process of a cluster killed\n\n${markdown}\n`);
  for (const table of tables) console.log(`\n${table.title}\n${markdownTable(table.header, table.rows)}`);
  const passed = runs.every((r) => r.passed);
  if (!passed)
    console.error(
      `\n!!! FAULT RUN FAILED: a reservation was lost, seats oversold, or a killed process's conferences did not sell again within ${RESUME_TARGET_SECONDS} s !!!`,
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

/** The service of one topology, started by the harness: `npm start`'s process, or a cluster. */
const startService = async (topology: Topology, outDir: string, serverEnv: Record<string, string>) => {
  if (!topology.proxied) {
    const server = await startServer(join(outDir, 'server.log'), serverEnv);
    return { baseUrl: server.baseUrl, pid: server.pid, stop: server.stop };
  }
  const { processes, routing } = topology;
  // The database of a self-started server (.data/loadtest, port 54330), as startServer's.
  const env = { EMBEDDED_POSTGRES_DIR: '.data/loadtest', EMBEDDED_POSTGRES_PORT: '54330', ...serverEnv };
  const cluster = await startCluster(join(outDir, `cluster-${processes}-${routing}.log`), { processes, routing, env });
  return { baseUrl: cluster.baseUrl, processUrls: cluster.processUrls, pid: cluster.pid, stop: cluster.stop };
};

/**
 * Runs the whole comparison and writes the reports: on a server given by --target, or on each
 * service --processes and --routing ask for, started one after another (the same database
 * directory, so each starts where the last stopped). `serverEnv` is passed to the self-started
 * services (the tests point them at their own database).
 */
export const runLoadtest = async (
  options: LoadtestOptions,
  serverEnv: Record<string, string> = {},
): Promise<{ exitCode: number; files: string[] }> => {
  await mkdir(options.outDir, { recursive: true });
  const startedAt = new Date();
  const runTag = `lt${startedAt.getTime().toString(36)}`;
  // Results name their service once the run is about more than one process.
  const named = topologies(options).length > 1 || options.processes.some((n) => n > 1);
  const phases: PhaseResult[] = [];
  let open: OpenReport | undefined;
  for (const [index, topology] of (options.target ? [undefined] : topologies(options)).entries()) {
    const service = topology ? await startService(topology, options.outDir, serverEnv) : undefined;
    const rootPid = service?.pid;
    const ctx: PhaseContext = {
      baseUrl: options.target ?? service?.baseUrl ?? '',
      ...(service && 'processUrls' in service ? { processUrls: service.processUrls } : {}),
      options,
      // Each service its own conferences: they share the database.
      runTag: named ? `${runTag}-s${index + 1}` : runTag,
      ...(rootPid === undefined ? {} : { cpuTimes: () => readCpuTimes(rootPid) }),
    };
    const record = (result: PhaseResult) => {
      const labelled = topology && named ? { ...result, topology: topologyLabel(topology) } : result;
      phases.push(labelled);
      console.log(summaryLine(labelled));
    };
    const generator = options.model === 'open' ? startGenerator(options.open.generatorPriority) : undefined;
    try {
      if (generator) open = await runOpenModel({ ...ctx, generator }, record);
      else await runClosedModel(ctx, record);
    } finally {
      await generator?.stop();
      await service?.stop();
    }
  }
  const servers = options.target
    ? `target ${options.target}`
    : named
      ? `self-started, one after another: ${topologies(options).map(topologyLabel).join('; ')} (embedded PostgreSQL; HAProxy in front of a cluster)`
      : 'self-started (embedded PostgreSQL)';
  const report = buildReport(options, servers, startedAt, phases, open);
  const files = await writeLoadtestReport(options.outDir, report);
  for (const table of reportTables(report)) console.log(`\n${table.title}\n${markdownTable(table.header, table.rows)}`);
  if (!report.auditPassed) {
    console.error('\n!!! INTEGRITY AUDIT FAILED !!!');
    for (const r of report.results.filter((x) => x.audit?.passed === false)) {
      for (const c of r.audit?.checks.filter((x) => !x.passed) ?? []) {
        console.error(`!!! ${designLabel(r)} ${r.scenario}/${r.phase} c=${r.connections}: ${c.check}: ${c.detail}`);
      }
    }
  }
  console.log(`\nReports: ${files.join(', ')}`);
  return { exitCode: report.auditPassed ? 0 : 2, files };
};

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  const options = parseOrExit(() => parseOptions(process.argv.slice(2)), USAGE);
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
