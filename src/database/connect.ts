import postgres from 'postgres';

export type Sql = postgres.Sql;

/** The pool or a transaction: what a function that only runs statements needs. */
export type Queryable = postgres.Sql | postgres.TransactionSql;

/**
 * A postgres.js pool. `bigint` columns (global positions) are read as numbers: they stay far
 * below 2^53. The driver is patched (patches/postgres+*.patch) so its query queue does not slow
 * down as the process ages under more queries in flight than connections (porsager/postgres#747).
 */
export const connect = (url: string, poolSize: number): Sql =>
  postgres(url, {
    max: poolSize,
    onnotice: () => {},
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
