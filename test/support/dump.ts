import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Sql } from '../../src/database/connect.js';

/**
 * The whole database as text, as `pg_dump` writes it (schema and every row of every table,
 * materialised view and partition), for tests of what it holds. pg_dump refuses a server of a
 * newer major version than its own (the embedded server is 18; Debian 12 ships pg_dump 15), so
 * where the machine's pg_dump cannot dump this server, every row of every table, partition and
 * materialised view in every schema, read as text by SQL, stands in for its data; `tool` says
 * which was used. `pgDump` is the program to try (test/support/debian-postgres.ts starts a server
 * with one of its own version).
 */
export const dumpDatabase = async (
  sql: Sql,
  url: string,
  { pgDump = 'pg_dump' }: { pgDump?: string } = {},
): Promise<{ tool: 'pg_dump' | 'sql'; text: string }> => {
  const [server] = await sql<{ major: number }[]>`select current_setting('server_version_num')::int / 10000 as major`;
  const pgDumpVersion = await pgDumpMajor(pgDump);
  if (pgDumpVersion !== undefined && server && pgDumpVersion >= server.major) {
    const { stdout } = await promisify(execFile)(pgDump, ['--no-owner', url], { maxBuffer: 512 * 1024 * 1024 });
    return { tool: 'pg_dump', text: stdout };
  }
  const relations = await sql<{ name: string }[]>`
    select format('%I.%I', n.nspname, c.relname) as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema')
      and n.nspname not like 'pg_toast%'`;
  const parts: string[] = [];
  for (const { name } of relations) {
    const rows = await sql.unsafe<{ row: string }[]>(`select t::text as row from ${name} t`);
    parts.push(`-- ${name}`, ...rows.map(({ row }) => row));
  }
  return { tool: 'sql', text: parts.join('\n') };
};

/** The major version of a pg_dump; undefined when there is none. */
const pgDumpMajor = async (pgDump: string): Promise<number | undefined> => {
  try {
    const { stdout } = await promisify(execFile)(pgDump, ['--version']);
    const major = /(\d+)(?:\.\d+)?/.exec(stdout)?.[1];
    return major === undefined ? undefined : Number(major);
  } catch {
    return undefined;
  }
};
