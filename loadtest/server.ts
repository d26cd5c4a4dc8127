import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { OPERATOR_TOKEN } from './operator-token.js';

export type StartedServer = {
  baseUrl: string;
  /** The API process. */
  pid: number | undefined;
  /** Its embedded PostgreSQL (the postmaster, a child of the API process), if it runs one. */
  databasePid: () => number | undefined;
  /** SIGKILL of the API process, as a crash would: its embedded PostgreSQL is left running. */
  kill: () => Promise<void>;
  /** Starts the API process again, on the same port, database and log. */
  restart: () => Promise<StartedServer>;
  stop: () => Promise<void>;
};

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port')),
      );
    });
  });

/**
 * Starts the service as its own process (`npm start`'s entry point) on a free port, with an
 * embedded PostgreSQL of its own (`.data/loadtest`, port 54330, so a running `npm start` is not
 * disturbed) and the harness's operator token (operator-token.ts), and waits until /healthz
 * answers. Its output goes to `logFile`.
 */
export const startServer = async (
  logFile: string,
  env: Record<string, string> = {},
  port?: number,
): Promise<StartedServer> => {
  port ??= await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      PORT: String(port),
      EMBEDDED_POSTGRES_DIR: '.data/loadtest',
      EMBEDDED_POSTGRES_PORT: '54330',
      LOG_LEVEL: 'warn',
      ADMIN_TOKEN: OPERATOR_TOKEN,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  try {
    await waitForHealth(baseUrl, child, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    baseUrl,
    pid: child.pid,
    databasePid: () => (child.pid === undefined ? undefined : childNamed(child.pid, 'postgres')),
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGKILL');
      await exited;
    },
    restart: () => startServer(logFile, env, port),
    stop,
  };
};

/** A file of /proc as text; empty when the process is gone (or there is no /proc). */
const readProc = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The pids of `pid`'s child processes (Linux /proc). */
export const childPids = (pid: number): number[] =>
  readProc(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);

/** A process's command line, its arguments joined by spaces. */
export const commandLine = (pid: number): string => readProc(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');

/** A process's environment, NUL-separated as /proc gives it. */
export const environment = (pid: number): string => readProc(`/proc/${pid}/environ`);

/** The first child process of `pid` with this name, if any. */
const childNamed = (pid: number, name: string): number | undefined =>
  childPids(pid).find((child) => readProc(`/proc/${child}/comm`).trim() === name);

/**
 * Polls `baseUrl`/healthz until it answers 200; fails at once if the process `what` names exited
 * meanwhile, and after `withinMs`.
 */
export const waitForHealth = async (
  baseUrl: string,
  child: ChildProcess,
  logFile: string,
  { what = 'the server', withinMs = 120_000 }: { what?: string; withinMs?: number } = {},
) => {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited during start-up; see ${logFile}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((next) => setTimeout(next, 200));
  }
  throw new Error(`${what} did not become healthy within ${withinMs / 1000} s; see ${logFile}`);
};

/** SIGTERM, and SIGKILL 30 s later if it has not exited by then. */
export const stopChild = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
};
