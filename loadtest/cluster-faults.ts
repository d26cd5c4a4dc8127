import { audit } from './audit.js';
import type { StartedCluster } from './cluster.js';
import { drive } from './drive.js';
import { Ledger } from './ledger.js';
import { DESIGNS, type Design } from './options.js';
import { seededRandom } from './random.js';
import { Recorder } from './recorder.js';
import { round } from './stats.js';
import { bookingWorkload } from './workloads.js';
import { operatorHeaders } from './operator-token.js';

/**
 * One `kill -9` of an API process of a cluster during a surge over conferences spread across the
 * processes: how soon HAProxy stopped sending to it, how soon each of its conferences sold again
 * on another process, and what the store says of every reservation.
 */
export type ClusterFaultResult = {
  repeat: number;
  /** The process killed (api1, …) and how many of the run's conferences it owned. */
  victim: string;
  conferencesMoved: number;
  /** From the kill until HAProxy had the process down (its runtime API, polled every 20 ms). */
  markedDownSeconds: number | null;
  /** From the kill to the first 201 of each of its conferences: the slowest of them, and the median. */
  resumedSeconds: { max: number | null; median: number | null };
  /** From the kill until HAProxy had the process, started again by the launcher, up again. */
  backSeconds: number | null;
};

export type ClusterFaultRun = {
  design: Design;
  connections: number;
  processes: number;
  results: ClusterFaultResult[];
  /** Every conference's reservations, audited once the faults are done. */
  acknowledged: number;
  lost: number;
  oversold: number;
  committedWithoutAnswer: number;
  /** 502s, 503s and 504s (HAProxy's and the service's) and answers that never came, during the whole run. */
  unavailable: number;
  auditPassed: boolean;
  passed: boolean;
};

export type ClusterFaultOptions = {
  design: Design;
  connections: number;
  repeats: number;
  /** Conferences the surge spreads over: enough that every process owns some. */
  conferences: number;
  steadySeconds: number;
  runTag: string;
};

/** The target: a killed process's conferences sell again within this, HAProxy's checks included. */
export const RESUME_TARGET_SECONDS = 3;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * A surge on one design over conferences owned by every process, with one process killed
 * `repeats` times (each time the owner of the most conferences, once the last one is back).
 */
export const clusterFaultRun = async (
  cluster: StartedCluster,
  options: ClusterFaultOptions,
): Promise<ClusterFaultRun> => {
  const { design, connections, runTag } = options;
  const prefix = DESIGNS[design];
  const ids = Array.from({ length: options.conferences }, (_, i) => `${runTag}-${design}-one-${i}`);
  for (const id of ids) await createConference(cluster.baseUrl, prefix, id);
  const owners = await ownersOf(cluster.baseUrl, prefix, ids);

  const ledger = new Ledger();
  const recorder = new Recorder();
  const firstCommitAfter = new Map<string, number>();
  let killedAt = Number.POSITIVE_INFINITY;
  let victim: string | undefined;
  let unavailable = 0;
  let finish: () => void = () => {};
  const load = drive({
    baseUrl: cluster.baseUrl,
    connections,
    durationSeconds: 3600,
    workload: bookingWorkload(prefix, ids, `${runTag}-${design}-one`, seededRandom(13)),
    recorder,
    ledger,
    title: `${design} kill-api-one c=${connections}`,
    until: new Promise<void>((done) => (finish = done)),
    unknownOutcomeOn5xx: true,
    onAnswer: ({ conferenceId }, status, servedBy) => {
      if (status >= 502 && status <= 504) unavailable++;
      // Sold again: a 201 from another process (the victim's last answers may be read after the kill).
      const sold = status === 201 && servedBy !== undefined && servedBy !== victim;
      if (sold && conferenceId && !firstCommitAfter.has(conferenceId) && performance.now() > killedAt)
        firstCommitAfter.set(conferenceId, performance.now());
    },
  });
  const results: ClusterFaultResult[] = [];
  try {
    await sleep(options.steadySeconds * 1000);
    for (let repeat = 1; repeat <= options.repeats; repeat++) {
      const killed = busiestOwner(owners);
      const process_ = cluster.processes().find((p) => p.name === killed);
      if (!process_) throw new Error(`no running process is ${killed}`);
      const moved = ids.filter((id) => owners.get(id) === killed);
      victim = killed;
      firstCommitAfter.clear();
      killedAt = performance.now();
      process.kill(process_.pid, 'SIGKILL');
      console.log(
        `  kill-api-one #${repeat}: killed ${killed} (pid ${process_.pid}), owner of ${moved.length} conferences`,
      );
      const markedDown = await until(async () => (await cluster.serverStates()).get(killed) !== 'UP', 20, 30_000);
      await until(async () => moved.every((id) => firstCommitAfter.has(id)), 20, 60_000);
      const resumed = moved.map((id) => firstCommitAfter.get(id)).filter((t) => t !== undefined);
      const back = await until(async () => (await cluster.serverStates()).get(killed) === 'UP', 100, 120_000);
      const seconds = (at: number | null) => (at === null ? null : round((at - killedAt) / 1000, 2));
      results.push({
        repeat,
        victim: killed,
        conferencesMoved: moved.length,
        markedDownSeconds: seconds(markedDown),
        resumedSeconds:
          resumed.length === moved.length
            ? { max: seconds(Math.max(...resumed)), median: seconds(median(resumed)) }
            : { max: null, median: null },
        backSeconds: seconds(back),
      });
      killedAt = Number.POSITIVE_INFINITY;
      victim = undefined;
      await sleep(options.steadySeconds * 1000);
    }
  } finally {
    finish();
    await load.catch(() => undefined);
  }
  const checked = await audit(cluster.baseUrl, prefix, ids, ledger);
  const acknowledged = ids.reduce((sum, id) => sum + ledger.accepted(id).size, 0);
  const passed =
    checked.passed &&
    results.every((r) => r.resumedSeconds.max !== null && r.resumedSeconds.max <= RESUME_TARGET_SECONDS);
  return {
    design,
    connections,
    processes: cluster.processes().length,
    results,
    acknowledged,
    lost: checked.counts.missing,
    oversold: checked.counts.oversold,
    committedWithoutAnswer: checked.adopted,
    unavailable: unavailable + recorder.errors,
    auditPassed: checked.passed,
    passed,
  };
};

/** Polls `done` every `everyMs` until it holds; when it first did (performance.now()), or null past `withinMs`. */
const until = async (done: () => Promise<boolean>, everyMs: number, withinMs: number): Promise<number | null> => {
  const deadline = performance.now() + withinMs;
  while (performance.now() < deadline) {
    if (await done().catch(() => false)) return performance.now();
    await sleep(everyMs);
  }
  return null;
};

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]!;

/** The process that owns the most of the conferences. */
const busiestOwner = (owners: Map<string, string>): string => {
  const counts = new Map<string, number>();
  for (const owner of owners.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]![0];
};

/** Which process answers for each conference: HAProxy names it in X-Served-By. */
const ownersOf = async (baseUrl: string, prefix: string, ids: string[]): Promise<Map<string, string>> => {
  const owners = new Map<string, string>();
  for (const id of ids) {
    const response = await fetch(`${baseUrl}${prefix}/${id}/availability`);
    await response.arrayBuffer();
    const owner = response.headers.get('x-served-by');
    if (!owner) throw new Error(`HAProxy named no process for ${id}: is this a cluster?`);
    owners.set(id, owner);
  }
  return owners;
};

/** Standard seats without end: the surge never sells out, so every conference keeps committing. */
const createConference = async (baseUrl: string, prefix: string, id: string) => {
  const response = await fetch(`${baseUrl}${prefix}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...operatorHeaders },
    body: JSON.stringify({ id, name: `Fault run ${id}`, seatTypes: [{ type: 'standard', capacity: 10_000_000 }] }),
  });
  if (response.status !== 201) throw new Error(`creating ${id} answered ${response.status}`);
};

/** The fault table, one row per kill. */
export const clusterFaultTable = (run: ClusterFaultRun) => ({
  title: `kill-api-one: ${run.design}, ${run.processes} processes behind HAProxy, ${run.connections} connections (${run.acknowledged} acknowledged, ${run.lost} lost, ${run.oversold} oversold, ${run.committedWithoutAnswer} committed without answer, ${run.unavailable} answered 502-504 or not at all; audit ${run.auditPassed ? 'ok' : 'FAILED'})`,
  header: [
    'kill',
    'process',
    'its conferences',
    'HAProxy had it down after s',
    `its conferences sold again after s: slowest (target ≤ ${RESUME_TARGET_SECONDS})`,
    'median',
    'back up after s',
  ],
  rows: run.results.map((r) => [
    `#${r.repeat}`,
    r.victim,
    String(r.conferencesMoved),
    String(r.markedDownSeconds ?? 'never'),
    String(r.resumedSeconds.max ?? 'never'),
    String(r.resumedSeconds.median ?? '-'),
    String(r.backSeconds ?? 'never'),
  ]),
});
