import { describe, expect, it } from 'vitest';
import { cpuByRole, cpuUse, parseProcStat, readCpuTimes, type ProcessCpu } from '../loadtest/cpu.js';

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
    expect(cpuByRole(processes, 20, 10)).toEqual({ api: 3.25, projector: 0.75, postgres: 4, loadGenerator: 6.5 });
    // A database that is not the API's child is not measured rather than counted as idle.
    expect(cpuByRole(processes.slice(0, 2), 20, 10).postgres).toBeNull();
  });

  it("counts a PostgreSQL the harness started for the API as the service's, not the load generator's", () => {
    const processes: (ProcessCpu & { commandLine: string })[] = [
      { pid: 10, parentPid: 1, name: 'node', cpuSeconds: 5, reapedChildrenSeconds: 0, commandLine: 'bench' },
      { pid: 20, parentPid: 10, name: 'node', cpuSeconds: 3, reapedChildrenSeconds: 0, commandLine: 'src/main.ts' },
      { pid: 30, parentPid: 10, name: 'postgres', cpuSeconds: 0.5, reapedChildrenSeconds: 2, commandLine: 'postgres' },
      { pid: 31, parentPid: 30, name: 'postgres', cpuSeconds: 1.5, reapedChildrenSeconds: 4, commandLine: 'postgres' },
    ];
    expect(cpuByRole(processes, 20, 10, 30)).toEqual({ api: 3, projector: 0, postgres: 4, loadGenerator: 5 });
    expect(cpuByRole(processes, 20, 10)).toEqual({ api: 3, projector: 0, postgres: null, loadGenerator: 7 });
  });

  it('turns two readings into cores busy and microseconds per request', () => {
    const before = { api: 1, projector: 0.5, postgres: 2, loadGenerator: 1 };
    const after = { api: 8, projector: 1.5, postgres: 6, loadGenerator: 3 };
    expect(cpuUse(before, after, 10, 20_000)).toEqual({
      cores: { api: 0.7, projector: 0.1, postgres: 0.4, loadGenerator: 0.2 },
      microsecondsPerRequest: { api: 350, projector: 50, postgres: 200, loadGenerator: 100, total: 700 },
    });
    const outside = cpuUse({ ...before, postgres: null }, { ...after, postgres: null }, 10, 20_000);
    expect(outside.microsecondsPerRequest).toEqual({
      api: 350,
      projector: 50,
      postgres: null,
      loadGenerator: 100,
      total: 500,
    });
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
