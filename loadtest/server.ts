import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

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
 * disturbed), and waits until /healthz answers. Its output goes to `logFile`.
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

/** The first child process of `pid` with this name (Linux /proc), if any. */
const childNamed = (pid: number, name: string): number | undefined => {
  try {
    const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    return children.map(Number).find((child) => readFileSync(`/proc/${child}/comm`, 'utf8').trim() === name);
  } catch {
    return undefined;
  }
};

const waitForHealth = async (baseUrl: string, child: ChildProcess, logFile: string) => {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited during start-up; see ${logFile}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((next) => setTimeout(next, 200));
  }
  throw new Error(`the server did not become healthy within 120 s; see ${logFile}`);
};

const stopChild = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
};
