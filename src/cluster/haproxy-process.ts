import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import type { Logger } from '../logger.js';

export type HaproxyProcessOptions = {
  /** The HAProxy binary (HAPROXY_PATH). */
  path: string;
  /** The configuration file it runs. */
  configFile: string;
  /** Where its pid is kept: a HAProxy left running by a launcher that was killed is stopped from it. */
  pidFile: string;
  log: Logger;
  /** Told when HAProxy exits while it should be running: the cluster has no front door any more. */
  onExit: (reason: string) => void;
};

/** What to say when HAProxy cannot be run at all. */
const notInstalled = (path: string) =>
  `HAProxy was not found at "${path}": install it (Debian: apt-get install haproxy) or set HAPROXY_PATH`;

/**
 * HAProxy in the foreground (`-db`), its configuration checked first (`-c`) so a mistake is told
 * in HAProxy's own words before anything listens. Its output (alerts and warnings: no access log
 * is configured) goes to this process's log.
 */
export const startHaproxy = async ({ path, configFile, pidFile, log, onExit }: HaproxyProcessOptions) => {
  await check(path, configFile);
  await stopStale(pidFile, log);
  const child = spawn(path, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid !== undefined) await writeFile(pidFile, String(child.pid));
  let stopping = false;
  const relay = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n').filter(Boolean)) {
      const level = line.startsWith('[ALERT]') ? 'error' : line.startsWith('[WARNING]') ? 'warn' : 'info';
      log[level]({ haproxy: line }, 'HAProxy says');
    }
  };
  child.stdout.on('data', relay);
  child.stderr.on('data', relay);
  child.once('error', (error) => onExit(`HAProxy could not run: ${error.message}`));
  child.once('exit', (code, signal) => {
    if (!stopping) onExit(`HAProxy exited (code ${code}, signal ${signal})`);
  });
  return {
    pid: child.pid,
    /** Soft stop (SIGUSR1): no new connections, answers in flight finish; killed at `deadline` (epoch ms). */
    async stop(deadline: number): Promise<void> {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      child.kill('SIGUSR1');
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
      await exited;
      clearTimeout(timer);
    },
  };
};

/**
 * HAProxy has no IPC channel to notice its launcher die (the API processes have, see run.ts): a
 * launcher killed with `kill -9` leaves it holding the port, and the next start stops it.
 */
const stopStale = async (pidFile: string, log: Logger) => {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!pid) return;
  const command = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  if (!command.includes('haproxy')) return;
  log.warn({ pid }, 'stopping the HAProxy a killed launcher left running');
  process.kill(pid, 'SIGKILL');
  for (let i = 0; i < 50 && (await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')); i++)
    await new Promise((next) => setTimeout(next, 20));
};

/** `haproxy -c`: rejects with HAProxy's words when the configuration is not valid. */
const check = (path: string, configFile: string) =>
  new Promise<void>((resolve, reject) => {
    const child = spawn(path, ['-c', '-q', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(new Error(error.code === 'ENOENT' ? notInstalled(path) : error.message)),
    );
    child.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`HAProxy refused ${configFile}: ${output.trim()}`)),
    );
  });
