import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { clusterDirectory } from '../src/cluster/cluster-directory.js';
import type { Routing } from '../src/cluster/haproxy-config.js';
import { OPERATOR_TOKEN } from './operator-token.js';
import { childPids, commandLine, environment, freePort, stopChild, waitForHealth } from './server.js';

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
 * server's directory and port) and the harness's operator token, and waits until HAProxy answers /healthz. Output goes to `logFile`.
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
      env: { ...process.env, PORT: String(port), LOG_LEVEL: 'warn', ADMIN_TOKEN: OPERATOR_TOKEN, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = () => stopChild(child);
  const pid = child.pid!;
  try {
    await waitForHealth(baseUrl, child, logFile, { what: 'the cluster', withinMs: 180_000 });
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
      childPids(pid)
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
