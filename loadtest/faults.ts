import { audit } from './audit.js';
import { drive } from './drive.js';
import { Ledger } from './ledger.js';
import { DESIGNS, type Design, type Fault } from './options.js';
import { Recorder } from './recorder.js';
import type { StartedServer } from './server.js';
import { round } from './stats.js';
import type { SeatQuantity } from '../src/seat-availability/index.js';
import { seededRandom } from './random.js';
import { bookingWorkload } from './workloads.js';
import { operatorHeaders } from './operator-token.js';

/**
 * One injected fault, and what the store says of the reservations of the conference the fault
 * hit (those in flight at that moment included), and how long until the next one sold again.
 */
export type FaultResult = {
  fault: Fault;
  /** 1 for the first of its kind in the run. */
  repeat: number;
  conferenceId: string;
  /** Reservations answered 201. */
  acknowledged: number;
  /** Of those, found in the store afterwards. */
  found: number;
  lost: number;
  /** Seat types sold beyond capacity. */
  oversold: number;
  /** Reservations in the store whose request got no answer, or a 5xx: a retry with the same id answers them. */
  committedWithoutAnswer: number;
  /** From the fault to the first 201 again, seconds; null when none came. */
  recoverySeconds: number | null;
  /** For database faults: whether the API process lived through it (same process before and after). */
  apiSurvived: boolean | null;
  auditPassed: boolean;
};

export type FaultRun = { design: Design; connections: number; results: FaultResult[]; passed: boolean };

export type FaultRunOptions = {
  design: Design;
  connections: number;
  faults: Fault[];
  repeats: number;
  /** VIP seats of each conference: one request in ten asks for one, so they sell out while the load runs. */
  vipCapacity: number;
  /** Load before the first fault, and after each recovery before the next fault. */
  steadySeconds: number;
  runTag: string;
};

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** A fault as injected: the conference it hit, the one the load moved to, and when. */
type Injected = {
  fault: Fault;
  repeat: number;
  hit: string;
  conferenceId: string;
  at: number;
  apiSurvived: boolean | null;
};

/**
 * Per conference: the first failed answer, and the first 201 after it (the recovery). A 201
 * that slipped in before the fault took effect is not a recovery; after a killed API nothing
 * answers until the restart, so there the first 201 is.
 */
const recoveryTracker = () => {
  const firstFailure = new Map<string, number>();
  const firstCommit = new Map<string, number>();
  const afterRestart = new Set<string>();
  return {
    answered: (conferenceId: string | undefined, status: number) => {
      if (!conferenceId) return;
      if (status >= 500 && !firstFailure.has(conferenceId)) firstFailure.set(conferenceId, performance.now());
      const failedFirst = firstFailure.has(conferenceId) || afterRestart.has(conferenceId);
      if (status === 201 && failedFirst && !firstCommit.has(conferenceId)) {
        firstCommit.set(conferenceId, performance.now());
      }
    },
    restarted: (conferenceId: string) => afterRestart.add(conferenceId),
    recoveredAt: (conferenceId: string) => firstCommit.get(conferenceId),
  };
};

/**
 * A surge on one design with faults injected one after another. Each fault gets a conference of
 * its own: the load moves to it at the moment of the fault, so its first 201 is the recovery. A
 * fault's row reports the conference it hit: the one in use at that moment, with the requests in
 * flight then. A killed API is restarted, and `supervised.server` is kept current for the caller
 * to stop, also when the run fails.
 */
export const faultRun = async (supervised: { server: StartedServer }, options: FaultRunOptions): Promise<FaultRun> => {
  const { design, connections, faults, repeats, vipCapacity, runTag } = options;
  const prefix = DESIGNS[design];
  const schedule = faults.flatMap((fault) => Array.from({ length: repeats }, (_, i) => ({ fault, repeat: i + 1 })));
  const conferenceIds = [
    `${runTag}-${design}-steady`,
    ...schedule.map((s) => `${runTag}-${design}-${s.fault}-${s.repeat}`),
  ];
  for (const id of conferenceIds) await createConference(supervised.server.baseUrl, prefix, id, vipCapacity);

  const current = [conferenceIds[0]!];
  const recovery = recoveryTracker();
  const ledger = new Ledger();
  let finish: () => void = () => {};
  const load = drive({
    baseUrl: supervised.server.baseUrl,
    connections,
    durationSeconds: 3600,
    workload: bookingWorkload(prefix, current, `${runTag}-${design}-fault`, seededRandom(11), standardOrVip),
    recorder: new Recorder(),
    ledger,
    title: `${design} faults c=${connections}`,
    until: new Promise<void>((done) => (finish = done)),
    unknownOutcomeOn5xx: true,
    onAnswer: ({ conferenceId }, status) => recovery.answered(conferenceId, status),
  });
  let injected: Injected[];
  try {
    injected = await injectAll(supervised, schedule, conferenceIds, current, recovery, options.steadySeconds);
  } finally {
    finish();
    await load.catch(() => undefined);
  }

  const results: FaultResult[] = [];
  for (const fault of injected) {
    results.push(
      await faultResult(supervised.server.baseUrl, prefix, ledger, fault, recovery.recoveredAt(fault.conferenceId)),
    );
  }
  // The conference after the last fault was hit by none; its reservations are audited all the same.
  const last = await audit(supervised.server.baseUrl, prefix, [current[0]!], ledger);
  const passed =
    last.passed &&
    results.every(
      (r) => r.auditPassed && r.lost === 0 && r.oversold === 0 && r.recoverySeconds !== null && r.apiSurvived !== false,
    );
  return { design, connections, results, passed };
};

/** The faults, one after another, each once the service has sold again and then steadily for a while. */
const injectAll = async (
  supervised: { server: StartedServer },
  schedule: { fault: Fault; repeat: number }[],
  conferenceIds: string[],
  current: string[],
  recovery: ReturnType<typeof recoveryTracker>,
  steadySeconds: number,
): Promise<Injected[]> => {
  const injected: Injected[] = [];
  await sleep(steadySeconds * 1000);
  for (const [i, { fault, repeat }] of schedule.entries()) {
    const hit = current[0]!;
    const conferenceId = conferenceIds[i + 1]!;
    const apiPid = supervised.server.pid;
    // The fault first, then the load moves to the fault's conference: its first 201 comes after.
    await inject(supervised.server, fault);
    const at = performance.now();
    current[0] = conferenceId;
    if (fault === 'kill-api') {
      recovery.restarted(conferenceId);
      supervised.server = await supervised.server.restart();
    }
    const apiSurvived = fault === 'kill-api' ? null : supervised.server.pid === apiPid && isAlive(apiPid);
    injected.push({ fault, repeat, hit, conferenceId, at, apiSurvived });
    console.log(`  ${fault} #${repeat} injected; waiting for the first 201 again`);
    const deadline = Date.now() + 60_000;
    while (recovery.recoveredAt(conferenceId) === undefined && Date.now() < deadline) await sleep(50);
    await sleep(steadySeconds * 1000);
  }
  return injected;
};

/** One fault's row: the audit of the conference it hit, and the recovery on the next. */
const faultResult = async (
  baseUrl: string,
  prefix: string,
  ledger: Ledger,
  { fault, repeat, hit, at, apiSurvived }: Injected,
  recoveredAt: number | undefined,
): Promise<FaultResult> => {
  const acknowledged = ledger.accepted(hit).size;
  const checked = await audit(baseUrl, prefix, [hit], ledger);
  return {
    fault,
    repeat,
    conferenceId: hit,
    acknowledged,
    found: acknowledged - checked.counts.missing,
    lost: checked.counts.missing,
    oversold: checked.counts.oversold,
    committedWithoutAnswer: checked.adopted,
    recoverySeconds: recoveredAt === undefined ? null : round((recoveredAt - at) / 1000, 2),
    apiSurvived,
    auditPassed: checked.passed,
  };
};

/** Injects one fault (a killed API is restarted by the caller). */
const inject = async (server: StartedServer, fault: Fault): Promise<void> => {
  if (fault === 'kill-api') return server.kill();
  const pid = server.databasePid();
  if (pid === undefined) throw new Error(`${fault} needs the embedded PostgreSQL of a self-started server`);
  process.kill(pid, fault === 'kill-db' ? 'SIGKILL' : 'SIGINT');
};

const isAlive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Nine requests in ten book a standard seat (never sold out), one a VIP seat (sold out early). */
const standardOrVip = (random: () => number): SeatQuantity[] => [
  { seatType: random() < 0.1 ? 'vip' : 'standard', quantity: 1 },
];

const createConference = async (baseUrl: string, prefix: string, id: string, vipCapacity: number) => {
  const response = await fetch(`${baseUrl}${prefix}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...operatorHeaders },
    body: JSON.stringify({
      id,
      name: `Fault run ${id}`,
      seatTypes: [
        { type: 'standard', capacity: 10_000_000 },
        { type: 'vip', capacity: vipCapacity },
      ],
    }),
  });
  if (response.status !== 201) throw new Error(`creating ${id} answered ${response.status}`);
};

/** The fault table, one row per injected fault. */
export const faultTable = (run: FaultRun) => ({
  title: `Faults: ${run.design}, ${run.connections} connections`,
  header: [
    'fault',
    'acknowledged (201)',
    'found in store',
    'lost',
    'oversold',
    'committed without answer',
    'recovery (s)',
    'API survived',
    'audit',
  ],
  rows: run.results.map((r) => [
    `${r.fault} #${r.repeat}`,
    String(r.acknowledged),
    String(r.found),
    String(r.lost),
    String(r.oversold),
    String(r.committedWithoutAnswer),
    r.recoverySeconds === null ? 'never' : String(r.recoverySeconds),
    r.apiSurvived === null ? 'restarted' : r.apiSurvived ? 'yes' : 'NO',
    r.auditPassed ? 'ok' : 'FAILED',
  ]),
});
