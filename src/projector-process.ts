import type { Logger } from './logger.js';
import { entryPoint, superviseChild } from './supervised-child.js';

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

/**
 * The projectors in a process of their own, started and stopped with the API (`PROJECTOR=process`).
 * A batch is a few round trips, and in the API process each waited for a turn of an event loop
 * that serves every connection: at 256 connections that wait tripled the remaining-seats lag.
 * The child runs with this process's configuration, on its database, and tells this process
 * after each batch how many events it applied; it is supervised as every child of the service
 * is (see supervised-child.ts).
 */
export const startProjectorProcess = ({ databaseUrl, log, onMessage }: ProjectorProcessOptions) =>
  superviseChild({
    entry: entryPoint('projector-main'),
    name: 'the projector process',
    // The child reads its configuration from the same variables as this process; only the
    // database is this one's, as it may be the embedded server this process started.
    env: { ...process.env, DATABASE_URL: databaseUrl },
    log,
    onMessage: (message) => onMessage(message as ProjectorMessage),
  });

export type ProjectorProcess = ReturnType<typeof startProjectorProcess>;
