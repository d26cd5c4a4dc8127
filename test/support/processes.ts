import { readFileSync } from 'node:fs';

/** True while a process with this pid exists. */
export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The pids of `pid`'s child processes whose command line contains `command` (Linux /proc). */
export const childProcesses = (pid: number, command: string): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((child) => readFileSync(`/proc/${child}/cmdline`, 'utf8').includes(command));
  } catch {
    return [];
  }
};
