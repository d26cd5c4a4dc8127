import type { ChildProcess } from 'node:child_process';
import type { Logger } from '../logger.js';

/** The first restart waits a little (the killed server's backends are still exiting), later ones longer. */
const RESTART_FIRST_DELAY_MS = 200;
const RESTART_MAX_DELAY_MS = 5000;

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/**
 * Keeps a launched server running, as a supervisor would: when it exits without being asked to
 * (killed, crashed), it is launched again after 0.2 s, then with a doubling backoff up to 5 s,
 * with a log line each time. `stop()` ends the supervision and the server.
 */
export const superviseServer = async (
  launch: () => Promise<ChildProcess>,
  stopChild: (child: ChildProcess) => Promise<void>,
  log: Logger,
  where: { dataDir: string; port: number },
) => {
  let child = await launch();
  log.info(where, 'embedded PostgreSQL started');
  let stopping = false;
  let restarting: Promise<void> | undefined;

  const supervise = (running: ChildProcess) =>
    running.once('exit', (code, signal) => {
      if (stopping) return;
      log.warn({ code, signal, ...where }, 'embedded PostgreSQL exited; starting it again');
      restarting = restart().finally(() => (restarting = undefined));
    });
  const restart = async () => {
    for (let attempt = 0; !stopping; attempt++) {
      await sleep(Math.min(RESTART_MAX_DELAY_MS, RESTART_FIRST_DELAY_MS * 2 ** attempt));
      if (stopping) return;
      try {
        child = await launch();
      } catch (error) {
        log.warn(
          { err: (error as Error).message, attempt: attempt + 1 },
          'embedded PostgreSQL did not start; retrying',
        );
        continue;
      }
      if (stopping) return stopChild(child);
      log.info({ ...where, attempts: attempt + 1 }, 'embedded PostgreSQL is running again');
      supervise(child);
      return;
    }
  };
  supervise(child);

  return {
    /** The server process of the moment. */
    pid: () => child.pid,
    stop: async () => {
      stopping = true;
      // A restart under way stops the server it was starting by itself once it sees `stopping`.
      await Promise.race([restarting, sleep(RESTART_MAX_DELAY_MS)]);
      await stopChild(child);
    },
  };
};
