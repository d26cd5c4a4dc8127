import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'undici';
import { driveOpenLoad, openConnections } from './open-drive.js';
import type { OpenLoadOptions, OpenLoadResult } from './open-load.js';

type Request = { id: number; options: OpenLoadOptions };
type Reply = { id: number; result: OpenLoadResult } | { id: number; error: string };

/**
 * How the generator process is scheduled. `realtime` (SCHED_FIFO through `chrt`, which needs root
 * or CAP_SYS_NICE) keeps it punctual on a machine whose cores the server shares: without it, each
 * write that wakes the server can hand it the core, and arrivals left 6-15 ms late at p99 under
 * load (1.7-2.3 ms with it, in docs/load-testing.md). It uses a quarter of a core at most
 * rates, so it takes little from the server; `normal` leaves it to the kernel's fair share.
 */
export type GeneratorPriority = 'realtime' | 'normal';

/** Gives every thread of `pid` a real-time (FIFO) priority; the reason if it could not. */
const makeRealtime = (pid: number): string | undefined => {
  try {
    execFileSync('chrt', ['--all-tasks', '--fifo', '--pid', '10', String(pid)], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    return stderr || (error as Error).message;
  }
};

/**
 * The open-model load generator in a process of its own: its event loop serves nothing but the
 * schedule (the harness's bookkeeping, progress and scrapes cannot delay an arrival), and the CPU
 * accounting sees its cost apart from the server's. One process serves every load of a run.
 */
export const startGenerator = (priority: GeneratorPriority = 'realtime') => {
  let child: ChildProcess | undefined;
  let nextId = 0;
  /** How the process is scheduled, as the report tells it. */
  let scheduling = 'not started';
  const waiting = new Map<number, { resolve: (r: OpenLoadResult) => void; reject: (e: Error) => void }>();
  const failAll = (error: Error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  const started = () => {
    if (child) return child;
    const spawned = fork(fileURLToPath(import.meta.url), [], {
      execArgv: ['--import', 'tsx'],
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    spawned.on('message', (reply: Reply) => {
      const caller = waiting.get(reply.id);
      waiting.delete(reply.id);
      if ('error' in reply) caller?.reject(new Error(`the load generator failed: ${reply.error}`));
      else caller?.resolve(reply.result);
    });
    spawned.on('exit', (code, signal) => {
      child = undefined;
      failAll(new Error(`the load generator process exited (${signal ?? code})`));
    });
    scheduling = 'normal';
    if (priority === 'realtime' && spawned.pid !== undefined) {
      const refused = makeRealtime(spawned.pid);
      scheduling = refused ? `normal (real-time priority refused: ${refused})` : 'realtime (SCHED_FIFO 10)';
      if (refused) console.warn(`The load generator runs at normal priority: ${refused}`);
    }
    return (child = spawned);
  };
  return {
    /** Runs one open load in the generator process. */
    drive: (options: OpenLoadOptions): Promise<OpenLoadResult> =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        started().send({ id, options } satisfies Request);
      }),
    /** How the generator process is scheduled. */
    scheduling: () => scheduling,
    stop: async () => {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise<void>((done) => running.once('exit', () => done()));
      // Closing the channel ends it (see below); a generator that does not end is killed.
      running.disconnect();
      const timer = setTimeout(() => running.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
};

export type Generator = ReturnType<typeof startGenerator>;

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  // One load at a time, in the order asked, on connections kept between them; the parent's end is ours too.
  let queue = Promise.resolve();
  const connections = new Map<string, Pool>();
  process.on('message', (request: Request) => {
    queue = queue.then(async () => {
      const { baseUrl, timeoutMs } = request.options;
      let kept = connections.get(baseUrl);
      if (!kept) connections.set(baseUrl, (kept = openConnections(baseUrl, timeoutMs)));
      const reply: Reply = await driveOpenLoad(request.options, kept).then(
        (result) => ({ id: request.id, result }),
        (error: unknown) => ({ id: request.id, error: (error as Error).message }),
      );
      process.send?.(reply);
    });
  });
  process.on('disconnect', () => process.exit(0));
}
