import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { driveOpenLoad, type OpenLoadOptions, type OpenLoadResult } from './open-drive.js';

type Request = { id: number; options: OpenLoadOptions };
type Reply = { id: number; result: OpenLoadResult } | { id: number; error: string };

/**
 * The open-model load generator in a process of its own: its event loop serves nothing but the
 * schedule (the harness's bookkeeping, progress and scrapes cannot delay an arrival), and the CPU
 * accounting sees its cost apart from the server's. One process serves every load of a run.
 */
export const startGenerator = () => {
  let child: ChildProcess | undefined;
  let nextId = 0;
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
    stop: async () => {
      const running = child;
      if (!running || running.exitCode !== null) return;
      const exited = new Promise<void>((done) => running.once('exit', () => done()));
      running.kill('SIGTERM');
      await exited;
    },
  };
};

export type Generator = ReturnType<typeof startGenerator>;

const isMain = process.argv[1] === fileURLToPath(import.meta.url);
if (isMain) {
  // One load at a time, in the order asked; the parent's end is ours too.
  let queue = Promise.resolve();
  process.on('message', (request: Request) => {
    queue = queue.then(async () => {
      const reply: Reply = await driveOpenLoad(request.options).then(
        (result) => ({ id: request.id, result }),
        (error: unknown) => ({ id: request.id, error: (error as Error).message }),
      );
      process.send?.(reply);
    });
  });
  process.on('disconnect', () => process.exit(0));
}
