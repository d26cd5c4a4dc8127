import postgres from 'postgres';

export type Sql = postgres.Sql;

/** The pool or a transaction: what a function that only runs statements needs. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

const CONNECT_TIMEOUT_SECONDS = 5;
const RECONNECT_MAX_DELAY_SECONDS = 0.5;

/**
 * A postgres.js pool. `bigint` columns (global positions) are read as numbers: they stay far
 * below 2^53. The driver is patched (patches/postgres+*.patch) so its query queue does not slow
 * down as the process ages under more queries in flight than connections (porsager/postgres#747),
 * and so a connection lost while reserved (the projector's leader lock) fails its queries instead
 * of crashing the process (porsager/postgres#1154, #1208).
 */
export const connect = (url: string, poolSize: number): Sql =>
  postgres(url, {
    max: poolSize,
    onnotice: () => {},
    // An unreachable host never refuses; without a bound, requests would wait 30 s (the driver's
    // default) for each connection attempt during a network outage.
    connect_timeout: CONNECT_TIMEOUT_SECONDS,
    // The driver's default waits up to 20 s between attempts after repeated failures, so a
    // database back after a minute's outage would be used only up to 20 s later.
    backoff: (attempts: number) => Math.min(RECONNECT_MAX_DELAY_SECONDS, 0.05 * 2 ** attempts),
    types: {
      bigint: {
        to: 20,
        from: [20],
        serialize: (value: number) => String(value),
        parse: (value: string) => Number(value),
      },
    },
    connection: { application_name: 'seat-surge' },
  });
