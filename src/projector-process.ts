import { fork, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from './logger.js';

/**
 * What the projector process tells the process that started it, after each batch (for its
 * metrics). Live readers hear of the batch from PostgreSQL instead, in every API process.
 */
export type ProjectorMessage = { kind: 'applied'; projection: string; count: number };

export type ProjectorProcessOptions = {
  /** The database the API serves from; the projector process uses the same one. */
  databaseUrl: string;
  log: Logger;
  /** Told each message of the projector process. */
  onMessage: (message: ProjectorMessage) => void;
};

/** Wait before starting another projector process after one exited on its own. */
const RESTART_DELAY_MS = 1000;

/**
 * `npm run projector`'s entry point beside this file, with its extension: src/projector-main.ts
 * from source, dist/src/projector-main.js compiled.
 */
const ENTRY_POINT = fileURLToPath(new URL(`./projector-main${extname(import.meta.url)}`, import.meta.url));

/**
 * The projectors in a process of their own, started and stopped with the API (`PROJECTOR=process`).
 * A batch is a few round trips, and in the API process each waited for a turn of an event loop
 * that serves every connection: at 256 connections that wait tripled the remaining-seats lag.
 * The child runs with this process's Node options (`fork` passes them on: tsx's loader from
 * source, none but --enable-source-maps compiled) and configuration, on its database, and
 * tells this process after each batch how many events it applied. It stops by itself when this process dies (its IPC channel closes); one that exits while this
 * process runs is started again.
 */
export const startProjectorProcess = ({ databaseUrl, log, onMessage }: ProjectorProcessOptions) => {
  let stopping = false;
  let child: ChildProcess | undefined;
  let restart: NodeJS.Timeout | undefined;
  const start = () => {
    // The child reads its configuration from the same variables as this process; only the
    // database is this one's, as it may be the embedded server this process started.
    const started = fork(ENTRY_POINT, [], {
      env: { ...process.env, DATABASE_URL: databaseUrl },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Its own process group, so a Ctrl-C reaches only this process, which stops it in turn.
      detached: true,
    });
    child = started;
    started.on('message', (message) => onMessage(message as ProjectorMessage));
    started.once('exit', (code, signal) => {
      if (stopping) return;
      log.error({ code, signal }, 'the projector process exited; starting another');
      restart = setTimeout(start, RESTART_DELAY_MS);
    });
  };
  start();
  return {
    /** Asks the projector process to stop (its batch in progress commits); kills it at `deadline` (epoch ms). */
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

export type ProjectorProcess = ReturnType<typeof startProjectorProcess>;
