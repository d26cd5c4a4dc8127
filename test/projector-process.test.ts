import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../loadtest/server.js';
import { byProjection } from '../loadtest/server-metrics.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { alive, childProcesses } from './support/processes.js';
import { eventually } from './support/views.js';
import { operatorAuth, TEST_OPERATOR_TOKEN } from './support/service.js';

/**
 * `npm start` runs the projectors in a child process of its own (PROJECTOR=process, the default):
 * the views follow a race of commands from there, the API hears of each batch, and the child
 * never outlives the API.
 */
let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(() => db?.drop());

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/** The projector processes `pid` started. */
const projectorChildren = (pid: number): number[] => childProcesses(pid, 'projector-main');

/** `npm start`'s entry point on the test database, answering on a free port once healthy. */
const startApi = async () => {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: db.url,
      PORT: String(port),
      LOG_LEVEL: 'warn',
      STOP_TIMEOUT_MS: '5000',
      ADMIN_TOKEN: TEST_OPERATOR_TOKEN,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const base = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`the service exited:\n${output}`);
    expect((await fetch(`${base}/healthz`)).ok).toBe(true);
  }, 60_000);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return { child, base, exited, output: () => output };
};

const post = (url: string, body: unknown) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...operatorAuth },
    body: JSON.stringify(body),
  });

/** Many reservations at once at one conference (more than it has seats); the ids answered 201. */
const race = async (base: string, conferenceId: string, attempts: number): Promise<string[]> => {
  const answers = await Promise.all(
    Array.from({ length: attempts }, async (_, i) => {
      const reservationId = `${conferenceId}-reservation-${i}`;
      const response = await post(`${base}/conferences/${conferenceId}/reservations`, {
        reservationId,
        seats: [{ seatType: i % 2 === 0 ? 'standard' : 'vip', quantity: 1 + (i % 3) }],
      });
      const { error } = (await response.json()) as { error?: string };
      return { reservationId, status: response.status, error };
    }),
  );
  // 201 or 409; or, on a machine slow enough that the conference's queue waited past
  // BATCH_QUEUE_MAX_WAIT_MS, 503 busy, which decides nothing.
  const decided = ({ status, error }: (typeof answers)[number]) =>
    status === 201 || status === 409 || (status === 503 && error === 'busy');
  expect(answers.filter((answer) => !decided(answer))).toEqual([]);
  return answers.filter(({ status }) => status === 201).map(({ reservationId }) => reservationId);
};

/** The remaining-seats view equals the aggregate, and every acknowledged reservation is in the reservations view. */
const expectViewsLevel = async (base: string, conferenceId: string, acknowledged: string[]) => {
  await eventually(async () => {
    const read = async (query: string) => {
      const answer = await fetch(`${base}/conferences/${conferenceId}/availability${query}`);
      const { seatTypes, position } = (await answer.json()) as { seatTypes: unknown; position: number };
      return { seatTypes, position };
    };
    expect(await read('')).toEqual(await read('?consistency=strong'));
  });
  await eventually(async () => {
    const [row] = await db.sql<{ count: number }[]>`
      select count(*)::int as count from reservations_view
      where conference_id = ${conferenceId} and reservation_id = any(${acknowledged}) and status = 'reserved'`;
    expect(row?.count).toBe(acknowledged.length);
  });
};

const createConference = async (base: string, id: string) => {
  const created = await post(`${base}/conferences`, {
    id,
    name: id,
    seatTypes: [
      { type: 'standard', capacity: 150 },
      { type: 'vip', capacity: 40 },
    ],
  });
  expect(created.status).toBe(201);
};

describe('the projectors in a process of their own (PROJECTOR=process)', () => {
  it('keep both views level with a race of reservations, and the API counts what they applied', async () => {
    const api = await startApi();
    expect(projectorChildren(api.child.pid!)).toHaveLength(1);
    await createConference(api.base, 'pp-race');
    const acknowledged = await race(api.base, 'pp-race', 400);
    expect(acknowledged.length).toBeGreaterThan(0);
    await expectViewsLevel(api.base, 'pp-race', acknowledged);
    // Told by the child after each batch: the API process applied nothing itself.
    const metrics = await (await fetch(`${api.base}/metrics`)).text();
    const applied = byProjection(metrics, 'seat_surge_projected_events_total');
    expect(applied.get('remaining_seats')).toBeGreaterThan(acknowledged.length);
    expect(applied.get('reservations')).toBeGreaterThan(acknowledged.length);
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });

  it('stops with the API: on SIGTERM, and by itself when the API process is killed', async () => {
    const stopped = await startApi();
    const [stoppedChild] = projectorChildren(stopped.child.pid!);
    expect(stoppedChild).toBeDefined();
    stopped.child.kill('SIGTERM');
    expect(await stopped.exited).toBe(0);
    expect(alive(stoppedChild!)).toBe(false);

    const killed = await startApi();
    const [orphan] = projectorChildren(killed.child.pid!);
    expect(orphan).toBeDefined();
    killed.child.kill('SIGKILL');
    await killed.exited;
    await eventually(async () => expect(alive(orphan!)).toBe(false));
  });

  it('is started again when it dies, and the views catch up with what was committed meanwhile', async () => {
    const api = await startApi();
    const [first] = projectorChildren(api.child.pid!);
    process.kill(first!, 'SIGKILL');
    await createConference(api.base, 'pp-restart');
    const acknowledged = await race(api.base, 'pp-restart', 200);
    await eventually(async () =>
      expect(projectorChildren(api.child.pid!).filter((pid) => pid !== first)).toHaveLength(1),
    );
    await expectViewsLevel(api.base, 'pp-restart', acknowledged);
    expect(api.output()).toContain('the projector process exited; starting another');
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
  });
});
