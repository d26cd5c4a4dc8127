import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.js';

/** Wait before starting another child after one exited on its own. */
const RESTART_DELAY_MS = 1000;

/**
 * One of the service's entry points beside this file, with this file's extension: `name.ts`
 * from source, `dist/src/name.js` compiled.
 */
export const entryPoint = (name: string): string =>
  fileURLToPath(new URL(`./${name}${extname(import.meta.url)}`, import.meta.url));

export type SupervisedChildOptions = {
  /** The entry point to run (see entryPoint). */
  entry: string;
  /** What the child is, in log lines ("the projector process", "API process 2"). */
  name: string;
  /** Its environment; this process's own unless given. */
  env?: NodeJS.ProcessEnv;
  log: Logger;
  /** Told each message the child sends. */
  onMessage?: (message: unknown) => void;
  /** Told each time a child starts, with its pid. */
  onStart?: (pid: number) => void;
};

/**
 * A child process of the service, started again when it exits on its own, as a supervisor
 * (systemd, Kubernetes) would do. It runs with this process's Node options (`fork` passes them
 * on: tsx's loader from source, none but --enable-source-maps compiled) and stops by itself when
 * this process dies: its IPC channel closes (see run.ts). It has its own process group, so a
 * Ctrl-C reaches only this process, which stops it in turn.
 */
export const superviseChild = ({ entry, name, env, log, onMessage, onStart }: SupervisedChildOptions) => {
  let stopping = false;
  let child: ChildProcess | undefined;
  let restart: NodeJS.Timeout | undefined;
  const start = () => {
    const started = fork(entry, [], {
      env: env ?? process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      detached: true,
    });
    child = started;
    if (started.pid !== undefined) onStart?.(started.pid);
    if (onMessage) started.on('message', onMessage);
    started.once('exit', (code, signal) => {
      if (stopping) return;
      log.error({ code, signal }, `${name} exited; starting another`);
      restart = setTimeout(start, RESTART_DELAY_MS);
    });
  };
  start();
  return {
    /** The running child's pid, if one runs. */
    get pid(): number | undefined {
      return child?.exitCode === null && child.signalCode === null ? child.pid : undefined;
    },
    /** Asks the child to stop (SIGTERM: it releases what it holds); kills it at `deadline` (epoch ms). */
    async stop(deadline: number): Promise<void> {
      stopping = true;
      clearTimeout(restart);
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((done) => running.once('exit', () => done()));
      running.kill('SIGTERM');
      const timer = setTimeout(() => running.kill('SIGKILL'), Math.max(0, deadline - Date.now()));
      await exited;
      clearTimeout(timer);
    },
  };
};

export type SupervisedChild = ReturnType<typeof superviseChild>;
