import postgres from 'postgres';
import type { Sql } from '../../src/database/connect.js';

/**
 * A statement as the code sent it: its text, its parameters' types (as the server resolved them
 * when it was prepared) and their values (as sent, in text form).
 */
export type SentStatement = { text: string; types: number[]; values: (string | null)[] };

/** A node of EXPLAIN's JSON plan, with the fields these checks read. */
export type PlanNode = {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  Plans?: PlanNode[];
};

/**
 * Runs `send` against the database at `url` through a pool of one new connection, and returns
 * the first statement it sent whose text `matches`: the statement exactly as the code writes it,
 * not a copy that could drift from it. The driver prepares a statement on first use, so the
 * first use on a new connection is the one whose parameter types the server fills in.
 */
export const sentStatement = async (
  url: string,
  matches: (text: string) => boolean,
  send: (sql: Sql) => Promise<unknown>,
): Promise<SentStatement> => {
  let sent: SentStatement | undefined;
  const spy = postgres(url, {
    max: 1,
    onnotice: () => {},
    // The driver fills these arrays in as it goes (types when the server describes the statement,
    // values when it serializes them), so they are complete once the statement has run.
    debug: (_connection, text, values: (string | null)[], types: number[]) => {
      if (sent === undefined && matches(text)) sent = { text, types, values };
    },
  });
  try {
    await send(spy);
  } finally {
    await spy.end({ timeout: 5 });
  }
  if (sent === undefined) throw new Error('the code sent no statement that matches');
  return sent;
};

const literal = (value: string | null) => (value === null ? 'null' : `'${value.replaceAll("'", "''")}'`);

/**
 * The generic plan of a statement: the one a prepared statement may settle on for any
 * parameters, and keep until its tables are next analyzed (one chosen while they were new or
 * small goes on being used as they grow). Planned on a connection of its own, which nothing else
 * shares. The parameters' values are
 * given to EXPLAIN EXECUTE, so partitions that cannot hold them are pruned as when it runs.
 */
export const genericPlan = async (url: string, { text, types, values }: SentStatement): Promise<PlanNode> => {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`set plan_cache_mode = force_generic_plan`;
    const names = await sql<{ name: string }[]>`
      select type::regtype::text as name from unnest(${types}::oid[]) with ordinality as t(type, n) order by n`;
    const signature = names.length > 0 ? `(${names.map(({ name }) => name).join(', ')})` : '';
    await sql.unsafe(`prepare planned ${signature} as ${text}`);
    const parameters = values.length > 0 ? `(${values.map(literal).join(', ')})` : '';
    const [row] = await sql.unsafe<{ 'QUERY PLAN': [{ Plan: PlanNode }] }[]>(
      // Verbose: without it, EXPLAIN leaves out the subplans of a node's output expressions.
      `explain (format json, verbose) execute planned ${parameters}`,
    );
    if (!row) throw new Error('EXPLAIN returned no plan');
    return row['QUERY PLAN'][0].Plan;
  } finally {
    await sql.end({ timeout: 5 });
  }
};

/** Every node of a plan, its subplans and init plans included. */
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

/**
 * What a plan reads, named as the schema names it: a partition of `events` (events_p<n>, with
 * EVENTS_PARTITIONS) as `events`, and a partition's index as the index of `events` it belongs to.
 */
export const planReads = async (sql: Sql, plan: PlanNode) => {
  const relations = await sql<{ name: string; parent: string | null; table: string | null }[]>`
    select c.relname as name, p.relname as parent, t.relname as table from pg_class c
    left join pg_inherits i on i.inhrelid = c.oid left join pg_class p on p.oid = i.inhparent
    left join pg_index x on x.indexrelid = c.oid left join pg_class t on t.oid = x.indrelid
    where c.relnamespace = current_schema()::regnamespace`;
  const parents = new Map(relations.map(({ name, parent }) => [name, parent ?? name]));
  const tables = new Map(relations.map(({ name, table }) => [name, table ?? name]));
  const named = (name: string) => parents.get(name) ?? name;
  const nodes = nodesOf(plan);
  const distinct = (names: string[]) => [...new Set(names.map(named))].sort();
  return {
    /** The indexes the plan scans. */
    indexes: distinct(nodes.flatMap((node) => node['Index Name'] ?? [])),
    /** The tables the plan reads whole: scanned in sequence, or along an index with no condition on it. */
    readWhole: distinct(
      nodes.flatMap((node) => {
        if (node['Node Type'] === 'Seq Scan') return node['Relation Name'] ?? [];
        const index = node['Index Name'];
        return index !== undefined && node['Index Cond'] === undefined ? (tables.get(index) ?? index) : [];
      }),
    ),
  };
};
