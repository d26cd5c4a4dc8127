import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../loadtest/server.js';
import { ensureUnprivilegedUser, type RunAs } from '../../src/database/embedded-postgres.js';

/**
 * A throw-away PostgreSQL server from Debian's packages (postgresql-N and postgresql-client-N),
 * for the tests that need a tool of the machine the embedded server is too new for: Debian 12's
 * pg_dump is 15 and refuses the embedded 18. Its pg_dump is of the same major version, so it can
 * always dump it.
 */
export type DebianPostgres = {
  /** Connection URL of the server's `postgres` database. */
  url: string;
  /** The pg_dump of the server's own version. */
  pgDump: string;
  major: number;
  /** Stops the server and deletes its directory; safe to call twice. */
  stop: () => Promise<void>;
};

export type DebianPostgresBinaries = { major: number; bin: string };

const DEBIAN_ROOT = '/usr/lib/postgresql';
/** The migrations use `xid8`, `pg_current_xact_id` and `pg_snapshot_xmin`, new in PostgreSQL 13. */
const MIN_MAJOR = 13;
const TOOLS = ['initdb', 'pg_ctl', 'postgres', 'pg_dump'];
const USER = 'postgres';

/** The newest Debian PostgreSQL installed with its server and its pg_dump; undefined when there is none. */
export const debianPostgres: DebianPostgresBinaries | undefined = (() => {
  const majors = existsSync(DEBIAN_ROOT) ? readdirSync(DEBIAN_ROOT).map(Number).filter(Number.isInteger) : [];
  const major = majors
    .filter((candidate) => candidate >= MIN_MAJOR)
    .sort((a, b) => b - a)
    .find((candidate) => TOOLS.every((tool) => existsSync(join(DEBIAN_ROOT, String(candidate), 'bin', tool))));
  return major === undefined ? undefined : { major, bin: join(DEBIAN_ROOT, String(major), 'bin') };
})();

// CI installs them (.ci/run); there, a missing one is a failure, never a silent fallback.
if (process.env.CI === 'true' && !debianPostgres) {
  throw new Error(
    "Debian's PostgreSQL server and pg_dump (postgresql-15 postgresql-client-15) are not installed, and CI must check forgetting with a real pg_dump",
  );
}

/**
 * Starts a server of `binaries` on a free port of 127.0.0.1, its cluster in a new directory under
 * the OS temp directory (the `postgres` user, which it runs as when we are root, cannot reach a
 * clone under /root). Durability is off: the cluster lives for one test file. The directory is
 * deleted again when the start fails.
 */
export const startDebianPostgres = async ({ major, bin }: DebianPostgresBinaries): Promise<DebianPostgres> => {
  const runAs = ensureUnprivilegedUser();
  const directory = await mkdtemp(join(tmpdir(), `seat-surge-pg${major}-`));
  const dataDir = join(directory, 'data');
  const password = randomBytes(12).toString('hex');
  const port = await freePort();
  const stop = async () => {
    await stopServer(bin, directory, dataDir, runAs);
    await rm(directory, { recursive: true, force: true });
  };
  try {
    if (runAs) await chown(directory, runAs.uid, runAs.gid);
    await initialiseCluster(bin, directory, dataDir, password, runAs);
    await appendFile(join(dataDir, 'postgresql.conf'), serverSettings(port));
    await run(bin, 'pg_ctl', ['start', '--wait', '--timeout=60', '--silent', '-D', dataDir, '-l', logFile(directory)], {
      runAs,
      cwd: directory,
    });
  } catch (error) {
    const log = await readFile(logFile(directory), 'utf8').catch(() => '');
    await stop();
    throw new Error(`could not start PostgreSQL ${major} from ${bin}: ${(error as Error).message}\n${log}`, {
      cause: error,
    });
  }
  return {
    url: `postgres://${USER}:${password}@127.0.0.1:${port}/postgres`,
    pgDump: join(bin, 'pg_dump'),
    major,
    stop,
  };
};

const logFile = (directory: string) => join(directory, 'server.log');

/** Loopback only, no Unix socket (it would go to /var/run/postgresql, which may not be there). */
const serverSettings = (port: number) =>
  [
    '',
    `port = ${port}`,
    "listen_addresses = '127.0.0.1'",
    "unix_socket_directories = ''",
    'fsync = off',
    'synchronous_commit = off',
    'full_page_writes = off',
    '',
  ].join('\n');

/** initdb with a password (scram), so the server does not trust whoever reaches its port. */
const initialiseCluster = async (bin: string, directory: string, dataDir: string, password: string, runAs: RunAs) => {
  const passwordFile = join(directory, 'password');
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  if (runAs) await chown(passwordFile, runAs.uid, runAs.gid);
  try {
    await run(
      bin,
      'initdb',
      [
        `--pgdata=${dataDir}`,
        `--username=${USER}`,
        `--pwfile=${passwordFile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--no-locale',
        '--no-sync',
      ],
      { runAs, cwd: directory },
    );
  } finally {
    await rm(passwordFile, { force: true });
  }
};

/**
 * Fast shutdown through pg_ctl; if that fails (a hung server), the postmaster named in
 * postmaster.pid is killed, so no server outlives the test file.
 */
const stopServer = async (bin: string, directory: string, dataDir: string, runAs: RunAs): Promise<void> => {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  try {
    await run(bin, 'pg_ctl', ['stop', '--wait', '--timeout=30', '--silent', '-m', 'fast', '-D', dataDir], {
      runAs,
      cwd: directory,
    });
  } catch {
    const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]);
    if (Number.isInteger(pid) && pid > 0) process.kill(pid, 'SIGKILL');
  }
};

/**
 * Runs one of the server's programs as the server's user, in the cluster's directory (the user
 * may not be able to enter ours); a failure's message carries its stderr.
 */
const run = async (bin: string, program: string, args: string[], { runAs, cwd }: { runAs: RunAs; cwd: string }) => {
  try {
    await promisify(execFile)(join(bin, program), args, {
      ...runAs,
      cwd,
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`${program} failed: ${stderr?.trim() || (error as Error).message}`, { cause: error });
  }
};
