import { spawn } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { clusterDirectory } from '../src/cluster/cluster-directory.js';
import type { Routing } from '../src/cluster/haproxy-config.js';
import { freePort } from './server.js';

/** One API process of a running cluster. */
export type ClusterProcess = { name: string; port: number; pid: number };

export type StartedCluster = {
  /** HAProxy's address: where clients go. */
  baseUrl: string;
  /** Each API process's own address (api1 first), for its /metrics. */
  processUrls: string[];
  /** The launcher (`npm run start:cluster`'s process). */
  pid: number;
  /** The API processes running now (a killed one is started again by the launcher). */
  processes: () => ClusterProcess[];
  /** Each API process's state as HAProxy sees it (UP, DOWN, …), by name. */
  serverStates: () => Promise<Map<string, string>>;
  stop: () => Promise<void>;
};

/** A port with the `count` ports after it free too: the cluster's HAProxy and its API processes. */
const freePortRun = async (count: number): Promise<number> => {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await freePort();
    if (port + count > 65_535) continue;
    const next = await Promise.all(Array.from({ length: count }, (_, i) => isFree(port + i + 1)));
    if (next.every(Boolean)) return port;
  }
  throw new Error(`found no ${count + 1} free ports in a row`);
};

const isFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = createConnection({ port, host: '127.0.0.1' });
    probe.once('connect', () => {
      probe.destroy();
      resolve(false);
    });
    probe.once('error', () => resolve(true));
  });

/**
 * Starts `npm run start:cluster`'s entry point from source on free ports (HAProxy on the first,
 * API process i on the i-th after it), with `env` (the database: DATABASE_URL, or an embedded
 * server's directory and port), and waits until HAProxy answers /healthz. Output goes to `logFile`.
 */
export const startCluster = async (
  logFile: string,
  { processes, routing, env = {} }: { processes: number; routing: Routing; env?: Record<string, string> },
): Promise<StartedCluster> => {
  const port = await freePortRun(processes);
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cluster-main.ts', '--processes', String(processes), '--routing', routing],
    {
      env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  };
  const pid = child.pid!;
  try {
    await waitForHealth(baseUrl, () => child.exitCode !== null, logFile);
  } catch (error) {
    await stop();
    throw error;
  }
  const socket = join(clusterDirectory(port), 'haproxy.sock');
  return {
    baseUrl,
    processUrls: Array.from({ length: processes }, (_, i) => `http://127.0.0.1:${port + i + 1}`),
    pid,
    processes: () =>
      childrenOf(pid)
        .filter((p) => commandLine(p).includes('src/main.ts'))
        .flatMap((p) => {
          const apiPort = Number(/(?:^|\0)PORT=(\d+)/.exec(environment(p))?.[1]);
          return apiPort ? [{ name: `api${apiPort - port}`, port: apiPort, pid: p }] : [];
        })
        .sort((a, b) => a.port - b.port),
    serverStates: () => serverStates(socket),
    stop,
  };
};

/** `show stat` on HAProxy's runtime socket: the status of each server of the `api` backend. */
const serverStates = async (socket: string): Promise<Map<string, string>> => {
  const csv = await new Promise<string>((resolve, reject) => {
    const connection = createConnection(socket);
    let text = '';
    connection.on('data', (chunk) => (text += chunk.toString()));
    connection.once('end', () => resolve(text));
    connection.once('error', reject);
    connection.end('show stat\n');
  });
  const [header, ...rows] = csv.replace(/^# /, '').trim().split('\n');
  const columns = header?.split(',') ?? [];
  const at = (name: string) => columns.indexOf(name);
  return new Map(
    rows
      .map((row) => row.split(','))
      .filter((fields) => fields[at('pxname')] === 'api' && !['FRONTEND', 'BACKEND'].includes(fields[at('svname')]!))
      .map((fields) => [fields[at('svname')]!, fields[at('status')]!]),
  );
};

const read = (path: string): string => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};
const childrenOf = (pid: number): number[] =>
  read(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);
const commandLine = (pid: number) => read(`/proc/${pid}/cmdline`).replaceAll('\0', ' ');
const environment = (pid: number) => read(`/proc/${pid}/environ`);

const waitForHealth = async (baseUrl: string, exited: () => boolean, logFile: string) => {
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    if (exited()) throw new Error(`the cluster exited during start-up; see ${logFile}`);
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((next) => setTimeout(next, 200));
  }
  throw new Error(`the cluster did not become healthy within 180 s; see ${logFile}`);
};
