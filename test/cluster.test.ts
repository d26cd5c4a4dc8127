import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type StartedCluster } from '../loadtest/cluster.js';
import { parseMetrics } from '../loadtest/server-metrics.js';
import { CLUSTER_USAGE, ClusterUsageRequested, parseClusterOptions } from '../src/cluster/cluster-options.js';
import { CHECK_INTERVAL_MS, clusterBackends, haproxyConfig, type Routing } from '../src/cluster/haproxy-config.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { haproxyInstalled } from './support/haproxy.js';
import { alive } from './support/processes.js';
import { eventually } from './support/views.js';
import { operatorHeaders } from '../loadtest/operator-token.js';

/**
 * `npm run start:cluster`: N API processes behind HAProxy on one database. Each conference is
 * owned by one process (a consistent hash of its id in the path, for every design's prefix);
 * correctness never depends on it: a conference that moves (a process killed, a request sent
 * straight to another process) is decided on the stream's current version.
 */

const config = (routing: Routing, { processes = 3, rateLimits = false } = {}) =>
  haproxyConfig({
    host: '127.0.0.1',
    port: 3000,
    backends: clusterBackends(3000, processes),
    routing,
    statsSocket: '/run/haproxy/seat-surge.sock',
    checkIntervalMs: CHECK_INTERVAL_MS,
    rateLimits,
  });

describe('the HAProxy configuration', () => {
  it('is what deploy/haproxy.cfg ships, for three processes', () => {
    expect(readFileSync('deploy/haproxy.cfg', 'utf8')).toBe(config('affinity', { rateLimits: true }));
  });

  it("limits each client address in the shipped file, and only shows how in the launcher's", () => {
    const shipped = config('affinity', { rateLimits: true });
    expect(shipped).toMatch(/^ {2}stick-table type ipv6 .* store conn_cur,http_req_rate\(10s\)$/m);
    expect(shipped).toMatch(/^ {2}tcp-request connection reject if \{ sc_conn_cur\(0\) gt 64 \}$/m);
    expect(shipped).toMatch(/^ {2}http-request deny deny_status 429 .*"error":"too_many_requests".* gt 600 \}$/m);
    const launched = config('affinity');
    expect(launched).not.toMatch(/^ {2}(stick-table|tcp-request|http-request deny)/m);
    expect(launched).toMatch(/^ {2}# stick-table type ipv6/m);
  });

  it('hashes the conference id of every design, consistently, and never moves keys off a live owner', () => {
    const text = config('affinity');
    expect(text).toContain('balance hash var(txn.conference)');
    expect(text).toContain('hash-type consistent');
    expect(text).not.toMatch(/hash-balance-factor|option redispatch|balance uri/);
    expect(text).toContain('option httpchk GET /healthz');
    expect(config('round-robin')).toContain('balance roundrobin');
  });

  it.runIf(haproxyInstalled)('is valid for HAProxy itself, both routings, with and without the limits', () => {
    const directory = mkdtempSync(join(tmpdir(), 'seat-surge-haproxy-'));
    for (const routing of ['affinity', 'round-robin'] as const) {
      for (const rateLimits of [false, true]) {
        const file = join(directory, `${routing}-${rateLimits}.cfg`);
        const input = config(routing, { rateLimits }).replace('/run/haproxy', directory);
        execFileSync('sh', ['-c', `cat > ${file}`], { input });
        expect(() => execFileSync('haproxy', ['-c', '-q', '-f', file], { stdio: 'pipe' })).not.toThrow();
      }
    }
  });
});

describe('the launcher command line', () => {
  it('takes the processes and the routing, with defaults', () => {
    expect(parseClusterOptions([], 2)).toEqual({ processes: 2, routing: 'affinity' });
    expect(parseClusterOptions(['--processes', '3', '--routing', 'round-robin'])).toEqual({
      processes: 3,
      routing: 'round-robin',
    });
  });

  it('refuses what it cannot run, in a sentence', () => {
    expect(() => parseClusterOptions(['--processes', '0'])).toThrow(/--processes must be a whole number from 1 to 16/);
    expect(() => parseClusterOptions(['--processes', 'two'])).toThrow(/--processes/);
    expect(() => parseClusterOptions(['--routing', 'random'])).toThrow(/--routing must be one of affinity/);
    expect(() => parseClusterOptions(['--help'])).toThrow(ClusterUsageRequested);
    expect(CLUSTER_USAGE).toContain('--processes N');
  });
});

type Answer = { status: number; servedBy: string | null; body: Record<string, unknown> };

const send = async (base: string, method: string, path: string, body?: unknown): Promise<Answer> => {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...operatorHeaders },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    servedBy: response.headers.get('x-served-by'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
};
const createConference = (base: string, prefix: string, id: string, capacity: number) =>
  send(base, 'POST', prefix, { id, name: id, seatTypes: [{ type: 'standard', capacity }] });
const reserve = (base: string, prefix: string, conferenceId: string, reservationId: string) =>
  send(base, 'POST', `${prefix}/${conferenceId}/reservations`, {
    reservationId,
    seats: [{ seatType: 'standard', quantity: 1 }],
  });
/** A reservation through HAProxy while a process dies: a connection it closes is no answer (status 0). */
const tryReserve = (base: string, conferenceId: string, reservationId: string): Promise<Answer> =>
  reserve(base, '/conferences', conferenceId, reservationId).catch(() => ({ status: 0, servedBy: null, body: {} }));

/** A counter of one process's /metrics, summed over its labels. */
const counter = async (port: number, name: string): Promise<number> =>
  parseMetrics(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).get(name) ?? 0;

describe.runIf(haproxyInstalled)('three API processes behind HAProxy, routed by conference', () => {
  let db: TestDatabase;
  let cluster: StartedCluster;
  beforeAll(async () => {
    db = await createTestDatabase();
    const logFile = join(mkdtempSync(join(tmpdir(), 'seat-surge-cluster-test-')), 'cluster.log');
    cluster = await startCluster(logFile, {
      processes: 3,
      routing: 'affinity',
      // Admission by wait off, as in createTestService: on a loaded machine a race would be partly
      // refused busy (a CI run saw two 503s), which decides nothing and so proves nothing.
      env: { DATABASE_URL: db.url, DATABASE_POOL_SIZE: '4', STOP_TIMEOUT_MS: '5000', BATCH_QUEUE_MAX_WAIT_MS: '0' },
    });
  }, 240_000);
  afterAll(async () => {
    const pids = cluster ? [cluster.pid, ...cluster.processes().map((p) => p.pid)] : [];
    await cluster?.stop();
    // The launcher stops what it started: no API process outlives it.
    for (const pid of pids) await eventually(async () => expect(alive(pid)).toBe(false), 15_000);
    await db?.drop();
  });

  const prefixes = ['/conferences', '/batched/conferences', '/direct/conferences', '/crud/conferences'];

  it('sends every request of one conference, under every prefix, to the same process', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => `owned-${i}`);
    for (const id of ids) expect((await createConference(cluster.baseUrl, '/conferences', id, 100)).status).toBe(201);
    const owners = new Map<string, string>();
    for (const id of ids) {
      const served = new Set<string | null>();
      for (const prefix of prefixes) {
        for (let i = 0; i < 3; i++)
          served.add((await send(cluster.baseUrl, 'GET', `${prefix}/${id}/availability`)).servedBy);
      }
      expect([...served]).toHaveLength(1);
      owners.set(id, [...served][0]!);
    }
    // Twelve conferences do not all land on one process of three.
    expect(new Set(owners.values()).size).toBeGreaterThan(1);
  });

  it('races many reservations at one conference through HAProxy with no version conflict and no oversell', async () => {
    const capacity = 40;
    expect((await createConference(cluster.baseUrl, '/conferences', 'hot', capacity)).status).toBe(201);
    const before = await Promise.all(
      cluster.processes().map((p) => counter(p.port, 'seat_surge_version_conflicts_total')),
    );
    const answers = await Promise.all(
      Array.from({ length: 120 }, (_, i) => reserve(cluster.baseUrl, '/conferences', 'hot', `hot-reservation-${i}`)),
    );
    const after = await Promise.all(
      cluster.processes().map((p) => counter(p.port, 'seat_surge_version_conflicts_total')),
    );
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(capacity);
    expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
    expect(new Set(answers.map((a) => a.servedBy)).size).toBe(1);
    expect(after.reduce((a, b) => a + b, 0) - before.reduce((a, b) => a + b, 0)).toBe(0);
    const [stream] = await db.sql<{ version: number }[]>`
      select version from streams where stream_id = ${streamIdOf('hot')}`;
    expect(stream?.version).toBe(1 + capacity);
    await eventually(async () => {
      const view = await send(cluster.baseUrl, 'GET', '/conferences/hot/availability');
      expect(view.body.seatTypes).toEqual([expect.objectContaining({ type: 'standard', remaining: 0 })]);
    });
  });

  it('decides on the current version when a conference is written through another process and back', async () => {
    const [first, second] = cluster.processes();
    const direct = (p: { port: number }) => `http://127.0.0.1:${p.port}`;
    expect((await createConference(direct(first!), '/conferences', 'moved', 3)).status).toBe(201);
    // The first process caches the conference with one seat left...
    expect((await reserve(direct(first!), '/conferences', 'moved', 'moved-reservation-1')).status).toBe(201);
    expect((await reserve(direct(first!), '/conferences', 'moved', 'moved-reservation-2')).status).toBe(201);
    // ...another process sells it while the first one's cache says otherwise...
    expect((await reserve(direct(second!), '/conferences', 'moved', 'moved-reservation-3')).status).toBe(201);
    // ...and the first one, deciding again, finds the stream's version and says sold out.
    // (Its append at the cached version is refused: a version conflict, and a catch-up.)
    const refused = async () =>
      (await counter(first!.port, 'seat_surge_version_conflicts_total')) +
      (await counter(first!.port, 'seat_surge_stale_caches_total'));
    const refusedBefore = await refused();
    const last = await reserve(direct(first!), '/conferences', 'moved', 'moved-reservation-4');
    expect(last.status).toBe(409);
    expect(last.body.error).toBe('insufficient_seats');
    expect(await refused()).toBeGreaterThan(refusedBefore);
  });

  it('moves a killed process its conferences to another within 3 s, loses no reservation, and starts it again', async () => {
    expect((await createConference(cluster.baseUrl, '/conferences', 'orphan', 1000)).status).toBe(201);
    const owner = (await reserve(cluster.baseUrl, '/conferences', 'orphan', 'orphan-reservation-0')).servedBy!;
    const victim = cluster.processes().find((p) => p.name === owner)!;
    const acknowledged = ['orphan-reservation-0'];
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = Date.now();
    let served: string | null = null;
    for (let i = 1; served === null || served === owner; i++) {
      expect(Date.now() - killedAt).toBeLessThan(10_000);
      const answer = await tryReserve(cluster.baseUrl, 'orphan', `orphan-reservation-${i}`);
      if (answer.status === 201) {
        acknowledged.push(`orphan-reservation-${i}`);
        served = answer.servedBy;
      } else if (answer.status !== 0) {
        expect([502, 503]).toContain(answer.status);
        expect(answer.body.error).toBe('process_unavailable');
      }
    }
    expect(Date.now() - killedAt).toBeLessThan(3000);
    expect(served).not.toBe(owner);
    // HAProxy has it down, and the launcher starts it again; HAProxy then brings it back.
    expect((await cluster.serverStates()).get(owner)).toMatch(/DOWN|MAINT/);
    await eventually(async () => {
      const restarted = cluster.processes().find((p) => p.name === owner);
      expect(restarted?.pid).not.toBe(victim.pid);
      expect((await cluster.serverStates()).get(owner)).toBe('UP');
    }, 60_000);
    const stored = await db.sql<{ reservation_id: string }[]>`
      select data->>'reservationId' as reservation_id from events
      where stream_id = ${streamIdOf('orphan')} and type = 'SeatsReserved'`;
    // Every 201 is in the store (a 502 may be too: its process died after the commit).
    expect(stored.map((r) => r.reservation_id)).toEqual(expect.arrayContaining(acknowledged));
  }, 120_000);
});
