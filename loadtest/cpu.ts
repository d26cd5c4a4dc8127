import { readdirSync, readFileSync } from 'node:fs';

/**
 * Whom a process works for during a run: the service's kinds of process (HAProxy in front of a
 * cluster of API processes), and the harness.
 */
export const CPU_ROLES = ['api', 'projector', 'postgres', 'haproxy', 'loadGenerator'] as const;
export type CpuRole = (typeof CPU_ROLES)[number];
/** The roles that make up the service: every one but the load generator. */
const SERVER_ROLES = CPU_ROLES.filter((role) => role !== 'loadGenerator');

/**
 * CPU seconds used so far, by role; `postgres` is null when the database is not the service's own
 * child. `apiProcesses` splits `api` by API process (by pid; one entry unless a cluster runs).
 */
export type CpuTimes = Record<Exclude<CpuRole, 'postgres'>, number> & {
  postgres: number | null;
  apiProcesses: Record<string, number>;
};

/** CPU seconds (or a figure derived from them) by role; `postgres` is null when not measured. */
export type RoleTimes = Omit<CpuTimes, 'apiProcesses'>;

/**
 * CPU microseconds per unit of work by role, with `server` (every role but the load generator:
 * what the work cost the service) and `total` (all roles).
 */
export type Microseconds = RoleTimes & { server: number; total: number };

/**
 * What a phase's held part used: cores kept busy by each role (CPU seconds per second), and CPU
 * microseconds per request answered and per reservation committed (a 201 to a reservation, or a
 * confirm answered 200: the count committed/s is made of), by role. The load generator is the
 * harness itself (autocannon and the bookkeeping of every answer) with the open model's generator
 * process, on the same cores as the server. `microsecondsPerCommitted` is null when nothing was
 * committed (the HTTP ceiling). `apiProcessCores` is the cores of each API process, busiest first.
 */
export type CpuUse = {
  cores: RoleTimes;
  microsecondsPerRequest: Microseconds;
  microsecondsPerCommitted: Microseconds | null;
  apiProcessCores: number[];
};

/** One process as /proc/<pid>/stat tells it. */
export type ProcessCpu = {
  pid: number;
  parentPid: number;
  name: string;
  /** User and system time of its own threads. */
  cpuSeconds: number;
  /** Of its children that have exited and been waited for (a PostgreSQL backend that ended). */
  reapedChildrenSeconds: number;
};

/** Linux reports /proc times in clock ticks of USER_HZ, which is 100 on every kernel built today. */
const TICKS_PER_SECOND = 100;

/** Parses /proc/<pid>/stat; the name sits in parentheses and may itself hold spaces or parentheses. */
export const parseProcStat = (line: string): ProcessCpu => {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  // The fields after the name, from the third (state) on: ppid is the 4th, utime..cstime the 14th..17th.
  const fields = line
    .slice(close + 2)
    .trim()
    .split(' ')
    .map((field) => Number(field));
  const field = (n: number) => fields[n - 3] ?? 0;
  return {
    pid: Number(line.slice(0, open).trim()),
    parentPid: field(4),
    name: line.slice(open + 1, close),
    cpuSeconds: (field(14) + field(15)) / TICKS_PER_SECOND,
    reapedChildrenSeconds: (field(16) + field(17)) / TICKS_PER_SECOND,
  };
};

/** The entry point of an API process (`npm start`'s), from source or compiled. */
const API_ENTRY = /\bsrc\/main\.ts\b|\bdist\/src\/main\.js\b/;

/**
 * Sums the CPU time of the processes by role. The service is `rootPid` and what runs below it:
 * one API process (`npm start`), or a cluster's launcher with its API processes and HAProxy
 * (`npm run start:cluster`). Below them, the PostgreSQL server (every process named `postgres`,
 * with the backends that have exited), the projector processes (`projector-main` in their
 * command line) and HAProxy (`haproxy`); anything else counts as the API's, and as its nearest
 * API process's (tsx's esbuild, for one), the launcher as none's. The load generator is the
 * harness's own process and the processes it started other than the service (the open model's
 * generator). `databasePid`: a PostgreSQL the harness started itself for the service (the
 * snapshot benchmark's), counted as the service's own would be.
 */
export const cpuByRole = (
  processes: readonly (ProcessCpu & { commandLine: string })[],
  rootPid: number,
  harnessPid: number,
  databasePid?: number,
): CpuTimes => {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const ancestors = function* (p: ProcessCpu) {
    for (let pid = p.parentPid, hops = 0; pid > 1 && hops < 32; hops++) {
      yield pid;
      pid = byPid.get(pid)?.parentPid ?? 0;
    }
  };
  const isBelow = (p: ProcessCpu, ancestor: number) => [...ancestors(p)].includes(ancestor);
  const root = byPid.get(rootPid);
  const apiPids = new Set(
    root && !root.commandLine.includes('cluster-main')
      ? [rootPid]
      : processes.filter((p) => p.parentPid === rootPid && API_ENTRY.test(p.commandLine)).map((p) => p.pid),
  );
  const times: CpuTimes = { api: 0, projector: 0, postgres: null, haproxy: 0, loadGenerator: 0, apiProcesses: {} };
  const countApi = (p: ProcessCpu) => {
    times.api += p.cpuSeconds;
    const owner = apiPids.has(p.pid) ? p.pid : [...ancestors(p)].find((pid) => apiPids.has(pid));
    if (owner !== undefined) times.apiProcesses[owner] = (times.apiProcesses[owner] ?? 0) + p.cpuSeconds;
  };
  const isDatabase = (p: ProcessCpu) =>
    databasePid !== undefined && p.name === 'postgres' && (p.pid === databasePid || isBelow(p, databasePid));
  for (const p of processes) {
    if (p.pid === rootPid) countApi(p);
    else if (!isBelow(p, rootPid) && !isDatabase(p)) {
      // The harness, and the open model's generator process it started.
      if (p.pid === harnessPid || isBelow(p, harnessPid)) times.loadGenerator += p.cpuSeconds;
    } else if (p.name === 'postgres') {
      // The postmaster's reaped children are its backends that have ended.
      const parentIsPostgres = byPid.get(p.parentPid)?.name === 'postgres';
      times.postgres = (times.postgres ?? 0) + p.cpuSeconds + (parentIsPostgres ? 0 : p.reapedChildrenSeconds);
    } else if (p.commandLine.includes('projector-main')) times.projector += p.cpuSeconds;
    else if (p.name === 'haproxy') times.haproxy += p.cpuSeconds;
    else countApi(p);
  }
  return times;
};

/** The CPU times of a running service (see cpuByRole) by role, read from /proc; undefined where there is no /proc. */
export const readCpuTimes = (rootPid: number, harnessPid = process.pid, databasePid?: number): CpuTimes | undefined => {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  const processes = pids.flatMap((pid) => {
    try {
      const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      return [{ ...stat, commandLine: readFileSync(`/proc/${pid}/cmdline`, 'utf8') }];
    } catch {
      return []; // ended while we looked
    }
  });
  return processes.some((p) => p.pid === rootPid) ? cpuByRole(processes, rootPid, harnessPid, databasePid) : undefined;
};

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Applies `f` to the time of each role; a role not measured stays null. */
const mapRoles = (times: RoleTimes, f: (seconds: number) => number): RoleTimes => ({
  api: f(times.api),
  projector: f(times.projector),
  postgres: times.postgres === null ? null : f(times.postgres),
  haproxy: f(times.haproxy),
  loadGenerator: f(times.loadGenerator),
});

/**
 * CPU seconds used by role, spread over `count` units of work (requests answered, reservations
 * committed) as whole microseconds each; the server's and the total are summed before rounding.
 * No units: zero.
 */
export const microsecondsPer = (used: RoleTimes, count: number): Microseconds => {
  const per = (cpuSeconds: number) => (count > 0 ? round((cpuSeconds * 1e6) / count, 0) : 0);
  const server = SERVER_ROLES.reduce((sum, role) => sum + (used[role] ?? 0), 0);
  return { ...mapRoles(used, per), server: per(server), total: per(server + used.loadGenerator) };
};

/**
 * What was used between two readings, over `seconds` in which `requests` were answered and
 * `committed` reservations committed. An API process started between them (one killed and
 * started again) counts from its start.
 */
export const cpuUse = (
  before: CpuTimes,
  after: CpuTimes,
  seconds: number,
  { requests, committed }: { requests: number; committed: number },
): CpuUse => {
  const used = {
    api: after.api - before.api,
    projector: after.projector - before.projector,
    postgres: after.postgres === null || before.postgres === null ? null : after.postgres - before.postgres,
    haproxy: after.haproxy - before.haproxy,
    loadGenerator: after.loadGenerator - before.loadGenerator,
  };
  const perSecond = (cpuSeconds: number) => (seconds > 0 ? round(cpuSeconds / seconds, 2) : 0);
  return {
    cores: mapRoles(used, perSecond),
    microsecondsPerRequest: microsecondsPer(used, requests),
    microsecondsPerCommitted: committed > 0 ? microsecondsPer(used, committed) : null,
    apiProcessCores: Object.entries(after.apiProcesses)
      .map(([pid, cpuSeconds]) => perSecond(cpuSeconds - (before.apiProcesses[pid] ?? 0)))
      .sort((a, b) => b - a),
  };
};

/**
 * A design's cost against the HTTP layer's: the server's CPU per reservation committed in a
 * phase, as a multiple of the server's CPU per request at the HTTP ceiling (whose requests commit
 * nothing, so per request is its comparable figure). Null when either was not measured or
 * nothing was committed.
 */
export const cpuCeilingRatio = (phase: CpuUse | undefined, ceiling: CpuUse | undefined): number | null => {
  const perCommitted = phase?.microsecondsPerCommitted?.server;
  const ceilingPerRequest = ceiling?.microsecondsPerRequest.server;
  return perCommitted === undefined || !ceilingPerRequest ? null : round(perCommitted / ceilingPerRequest, 2);
};
