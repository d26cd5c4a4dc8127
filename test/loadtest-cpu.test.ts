import { describe, expect, it } from 'vitest';
import {
  cpuByRole,
  cpuCeilingRatio,
  cpuUse,
  microsecondsPer,
  parseProcStat,
  readCpuTimes,
  type ProcessCpu,
} from '../loadtest/cpu.js';

/** A /proc/<pid>/stat line with these times in ticks (utime stime cutime cstime). */
const statLine = (pid: number, name: string, parentPid: number, [utime, stime, cutime, cstime]: number[]) =>
  `${pid} (${name}) S ${parentPid} ${pid} ${pid} 0 -1 4194560 2000 0 0 0 ${utime} ${stime} ${cutime} ${cstime} 20 0 11 0 123 456 789`;

describe('CPU time by role', () => {
  it('reads a /proc stat line, also when the name holds spaces and parentheses', () => {
    expect(parseProcStat(statLine(4242, 'node (main) x', 17, [250, 50, 7, 3]))).toEqual({
      pid: 4242,
      parentPid: 17,
      name: 'node (main) x',
      cpuSeconds: 3,
      reapedChildrenSeconds: 0.1,
    });
  });

  it('counts the API, its PostgreSQL with the backends that ended, its projector and the harness with its generator apart', () => {
    const processes: (ProcessCpu & { commandLine: string })[] = [
      { pid: 10, parentPid: 1, name: 'node', cpuSeconds: 5, reapedChildrenSeconds: 0, commandLine: 'vitest' },
      { pid: 20, parentPid: 10, name: 'node', cpuSeconds: 3, reapedChildrenSeconds: 99, commandLine: 'src/main.ts' },
      { pid: 30, parentPid: 20, name: 'postgres', cpuSeconds: 0.5, reapedChildrenSeconds: 2, commandLine: 'postgres' },
      { pid: 31, parentPid: 30, name: 'postgres', cpuSeconds: 1.5, reapedChildrenSeconds: 4, commandLine: 'postgres' },
      {
        pid: 40,
        parentPid: 20,
        name: 'node',
        cpuSeconds: 0.75,
        reapedChildrenSeconds: 0,
        commandLine: 'projector-main.ts',
      },
      { pid: 41, parentPid: 20, name: 'esbuild', cpuSeconds: 0.25, reapedChildrenSeconds: 0, commandLine: 'esbuild' },
      { pid: 50, parentPid: 1, name: 'postgres', cpuSeconds: 8, reapedChildrenSeconds: 0, commandLine: 'postgres' },
      // The open model's generator, a child of the harness.
      { pid: 60, parentPid: 10, name: 'node', cpuSeconds: 1.5, reapedChildrenSeconds: 0, commandLine: 'generator' },
    ];
    expect(cpuByRole(processes, 20, 10)).toEqual({
      api: 3.25,
      projector: 0.75,
      postgres: 4,
      haproxy: 0,
      loadGenerator: 6.5,
      apiProcesses: { 20: 3.25 },
    });
    // A database that is not the API's child is not measured rather than counted as idle.
    expect(cpuByRole(processes.slice(0, 2), 20, 10).postgres).toBeNull();
  });

  it('counts a cluster: its API processes one by one, their projectors, HAProxy and the launcher', () => {
    const proc = (pid: number, parentPid: number, name: string, cpuSeconds: number, commandLine: string) => ({
      pid,
      parentPid,
      name,
      cpuSeconds,
      reapedChildrenSeconds: 0,
      commandLine,
    });
    const processes = [
      proc(10, 1, 'node', 5, 'vitest'),
      proc(20, 10, 'node', 0.5, 'node --import tsx src/cluster-main.ts --processes 2'),
      proc(30, 20, 'postgres', 2, 'postgres'),
      proc(21, 20, 'node', 3, 'node --import tsx /repo/src/main.ts'),
      proc(22, 20, 'node', 1, 'node --import tsx /repo/src/main.ts'),
      proc(23, 21, 'esbuild', 0.25, 'esbuild --service'),
      proc(24, 21, 'node', 0.75, 'node --import tsx /repo/src/projector-main.ts'),
      proc(25, 22, 'node', 0.125, 'node --import tsx /repo/src/projector-main.ts'),
      proc(26, 20, 'haproxy', 1.5, 'haproxy -db -f /tmp/haproxy.cfg'),
    ];
    expect(cpuByRole(processes, 20, 10)).toEqual({
      api: 4.75,
      projector: 0.875,
      postgres: 2,
      haproxy: 1.5,
      loadGenerator: 5,
      apiProcesses: { 21: 3.25, 22: 1 },
    });
  });

  it("counts a PostgreSQL the harness started for the API as the service's, not the load generator's", () => {
    const processes: (ProcessCpu & { commandLine: string })[] = [
      { pid: 10, parentPid: 1, name: 'node', cpuSeconds: 5, reapedChildrenSeconds: 0, commandLine: 'bench' },
      { pid: 20, parentPid: 10, name: 'node', cpuSeconds: 3, reapedChildrenSeconds: 0, commandLine: 'src/main.ts' },
      { pid: 30, parentPid: 10, name: 'postgres', cpuSeconds: 0.5, reapedChildrenSeconds: 2, commandLine: 'postgres' },
      { pid: 31, parentPid: 30, name: 'postgres', cpuSeconds: 1.5, reapedChildrenSeconds: 4, commandLine: 'postgres' },
    ];
    expect(cpuByRole(processes, 20, 10, 30)).toMatchObject({ api: 3, projector: 0, postgres: 4, loadGenerator: 5 });
    expect(cpuByRole(processes, 20, 10)).toMatchObject({ api: 3, projector: 0, postgres: null, loadGenerator: 7 });
  });

  const before = { api: 1, projector: 0.5, postgres: 2, haproxy: 0, loadGenerator: 1, apiProcesses: { 7: 1 } };
  const after = { api: 8, projector: 1.5, postgres: 6, haproxy: 1, loadGenerator: 3, apiProcesses: { 7: 6, 9: 3 } };

  it('turns two readings into cores busy and microseconds per request and per committed reservation', () => {
    expect(cpuUse(before, after, 10, { requests: 20_000, committed: 5_000 })).toEqual({
      cores: { api: 0.7, projector: 0.1, postgres: 0.4, haproxy: 0.1, loadGenerator: 0.2 },
      microsecondsPerRequest: {
        api: 350,
        projector: 50,
        postgres: 200,
        haproxy: 50,
        loadGenerator: 100,
        server: 650,
        total: 750,
      },
      // The same CPU over the 201s alone: 409s and 503s are part of what a commit costs.
      microsecondsPerCommitted: {
        api: 1400,
        projector: 200,
        postgres: 800,
        haproxy: 200,
        loadGenerator: 400,
        server: 2600,
        total: 3000,
      },
      // The process started between the readings counts from its start.
      apiProcessCores: [0.5, 0.3],
    });
    const outside = cpuUse({ ...before, postgres: null }, { ...after, postgres: null }, 10, {
      requests: 20_000,
      committed: 5_000,
    });
    expect(outside.microsecondsPerRequest).toEqual({
      api: 350,
      projector: 50,
      postgres: null,
      haproxy: 50,
      loadGenerator: 100,
      server: 450,
      total: 550,
    });
    expect(outside.microsecondsPerCommitted).toMatchObject({ postgres: null, server: 1800, total: 2200 });
  });

  it('has no CPU per committed reservation where nothing was committed (the HTTP ceiling)', () => {
    const ceiling = cpuUse(before, after, 10, { requests: 20_000, committed: 0 });
    expect(ceiling.microsecondsPerCommitted).toBeNull();
    expect(ceiling.microsecondsPerRequest.server).toBe(650);
  });

  it("sums the server's and the total before rounding, and gives zeros for no units of work", () => {
    // A third of a microsecond each for three roles: each rounds to 0, the server's to 1.
    const used = { api: 1e-6, projector: 1e-6, postgres: 1e-6, haproxy: 0, loadGenerator: 0 };
    expect(microsecondsPer(used, 3)).toEqual({
      api: 0,
      projector: 0,
      postgres: 0,
      haproxy: 0,
      loadGenerator: 0,
      server: 1,
      total: 1,
    });
    expect(microsecondsPer({ ...used, postgres: null }, 0)).toEqual({
      api: 0,
      projector: 0,
      postgres: null,
      haproxy: 0,
      loadGenerator: 0,
      server: 0,
      total: 0,
    });
  });

  it("holds the server's CPU per committed reservation against the HTTP ceiling's per request", () => {
    const zero = { api: 0, projector: 0, postgres: null, haproxy: 0, loadGenerator: 0, apiProcesses: {} };
    // 2.6 s of server CPU over 1,000 commits: 2,600 µs; the ceiling's 1.2 s over 1,000 requests: 1,200 µs.
    const phase = cpuUse(zero, { ...zero, api: 2, projector: 0.6, loadGenerator: 9 }, 10, {
      requests: 2_000,
      committed: 1_000,
    });
    const ceiling = cpuUse(zero, { ...zero, api: 1.2, loadGenerator: 9 }, 10, { requests: 1_000, committed: 0 });
    expect(cpuCeilingRatio(phase, ceiling)).toBe(2.17);
    expect(cpuCeilingRatio(ceiling, ceiling)).toBeNull(); // nothing committed
    expect(cpuCeilingRatio(phase, undefined)).toBeNull(); // no ceiling measured
    expect(cpuCeilingRatio(undefined, ceiling)).toBeNull();
    expect(cpuCeilingRatio(phase, cpuUse(zero, zero, 10, { requests: 1_000, committed: 0 }))).toBeNull();
  });

  it('reads this process from /proc', () => {
    let spin = 0;
    for (let i = 0; i < 5e7; i++) spin += i % 7;
    const times = readCpuTimes(process.pid, -1);
    expect(spin).toBeGreaterThan(0);
    expect(times?.api).toBeGreaterThan(0);
    expect(readCpuTimes(2 ** 22 + 1)).toBeUndefined(); // no such process
  });
});
