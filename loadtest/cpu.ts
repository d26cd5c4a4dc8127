import { readdirSync, readFileSync } from 'node:fs';

/** Whom a process works for during a run: the service's three kinds of process, and the harness. */
export const CPU_ROLES = ['api', 'projector', 'postgres', 'loadGenerator'] as const;
export type CpuRole = (typeof CPU_ROLES)[number];

/** CPU seconds used so far, by role; `postgres` is null when the database is not the API's own child. */
export type CpuTimes = Record<Exclude<CpuRole, 'postgres'>, number> & { postgres: number | null };

/**
 * What a phase's held part used: cores kept busy by each role (CPU seconds per second), and CPU
 * microseconds per request answered, by role and in all. The load generator is the harness itself
 * (autocannon and the bookkeeping of every answer) with the open model's generator process, on
 * the same cores as the server.
 */
export type CpuUse = {
  cores: CpuTimes;
  microsecondsPerRequest: CpuTimes & { total: number };
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

/**
 * Sums the CPU time of the processes by role: the API process; below it, the PostgreSQL server it
 * started (every process named `postgres`, with the backends that have exited) and the projector
 * process (`projector-main` in its command line); anything else below the API counts as the API's.
 * The load generator is the harness's own process and the processes it started other than the
 * API (the open model's generator). `databasePid`: a PostgreSQL the harness started itself for the
 * API (the snapshot benchmark's), counted as the API's own would be.
 */
export const cpuByRole = (
  processes: readonly (ProcessCpu & { commandLine: string })[],
  apiPid: number,
  harnessPid: number,
  databasePid?: number,
): CpuTimes => {
  const byPid = new Map(processes.map((p) => [p.pid, p]));
  const isBelow = (p: ProcessCpu, ancestor: number) => {
    for (let pid = p.parentPid, hops = 0; pid > 1 && hops < 32; hops++) {
      if (pid === ancestor) return true;
      pid = byPid.get(pid)?.parentPid ?? 0;
    }
    return false;
  };
  const times = { api: 0, projector: 0, postgres: null as number | null, loadGenerator: 0 };
  const isDatabase = (p: ProcessCpu) =>
    databasePid !== undefined && p.name === 'postgres' && (p.pid === databasePid || isBelow(p, databasePid));
  for (const p of processes) {
    if (p.pid === apiPid) times.api += p.cpuSeconds;
    else if (!isBelow(p, apiPid) && !isDatabase(p)) {
      // The harness, and the open model's generator process it started.
      if (p.pid === harnessPid || isBelow(p, harnessPid)) times.loadGenerator += p.cpuSeconds;
    } else if (p.name === 'postgres') {
      // The postmaster's reaped children are its backends that have ended.
      const parentIsPostgres = byPid.get(p.parentPid)?.name === 'postgres';
      times.postgres = (times.postgres ?? 0) + p.cpuSeconds + (parentIsPostgres ? 0 : p.reapedChildrenSeconds);
    } else if (p.commandLine.includes('projector-main')) times.projector += p.cpuSeconds;
    else times.api += p.cpuSeconds;
  }
  return times;
};

/** The CPU times of a running service by role, read from /proc; undefined where there is no /proc. */
export const readCpuTimes = (apiPid: number, harnessPid = process.pid, databasePid?: number): CpuTimes | undefined => {
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
  return processes.some((p) => p.pid === apiPid) ? cpuByRole(processes, apiPid, harnessPid, databasePid) : undefined;
};

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

/** Applies `f` to the time of each role; a role not measured stays null. */
const mapRoles = (times: CpuTimes, f: (seconds: number) => number): CpuTimes => ({
  api: f(times.api),
  projector: f(times.projector),
  postgres: times.postgres === null ? null : f(times.postgres),
  loadGenerator: f(times.loadGenerator),
});

/** What was used between two readings, over `seconds` in which `requests` were answered. */
export const cpuUse = (before: CpuTimes, after: CpuTimes, seconds: number, requests: number): CpuUse => {
  const used: CpuTimes = {
    api: after.api - before.api,
    projector: after.projector - before.projector,
    postgres: after.postgres === null || before.postgres === null ? null : after.postgres - before.postgres,
    loadGenerator: after.loadGenerator - before.loadGenerator,
  };
  const total = CPU_ROLES.reduce((sum, role) => sum + (used[role] ?? 0), 0);
  const perRequest = (cpuSeconds: number) => (requests > 0 ? round((cpuSeconds * 1e6) / requests, 0) : 0);
  return {
    cores: mapRoles(used, (cpuSeconds) => (seconds > 0 ? round(cpuSeconds / seconds, 2) : 0)),
    microsecondsPerRequest: { ...mapRoles(used, perRequest), total: perRequest(total) },
  };
};
