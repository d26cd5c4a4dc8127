import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../loadtest/server.js';
import { connect } from '../src/database/connect.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { streamIdOf } from '../src/seat-availability/index.js';
import { alive, childProcesses } from './support/processes.js';
import { quietLog } from './support/service.js';
import { operatorAuth, TEST_OPERATOR_TOKEN } from './support/service.js';

/**
 * `npm start`'s process under continuous load gets SIGTERM: it must exit 0 within its stop
 * deadline, leave no PostgreSQL and no projector process running, and have stored every
 * reservation it answered 201.
 */
const STOP_TIMEOUT_MS = 5000;
let dataDir: string | undefined;
afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('stopping the service under load', () => {
  it('exits 0 within the deadline, stops its PostgreSQL, and keeps every answered reservation', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'seat-surge-stop-'));
    const [port, databasePort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: {
        ...process.env,
        DATABASE_URL: '',
        PORT: String(port),
        EMBEDDED_POSTGRES_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(databasePort),
        STOP_TIMEOUT_MS: String(STOP_TIMEOUT_MS),
        LOG_LEVEL: 'warn',
        ADMIN_TOKEN: TEST_OPERATOR_TOKEN,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<{ code: number | null; at: number }>((done) =>
      child.once('exit', (code) => done({ code, at: Date.now() })),
    );
    const base = `http://127.0.0.1:${port}`;
    let load: autocannon.Instance | undefined;
    try {
      const deadline = Date.now() + 90_000;
      while (
        !(await fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        ))
      ) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the service did not start:\n${output}`);
        await new Promise((next) => setTimeout(next, 200));
      }
      const created = await fetch(`${base}/conferences`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...operatorAuth },
        body: JSON.stringify({ id: 'stop', name: 'Stop', seatTypes: [{ type: 'standard', capacity: 1_000_000 }] }),
      });
      expect(created.status).toBe(201);
      const postmasterPid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

      // autocannon keeps every connection busy, as the surge's load generator does: a connection
      // is never idle, so only Connection: close or the deadline ends it.
      const acknowledged: string[] = [];
      let next = 0;
      load = autocannon(
        {
          url: base,
          connections: 16,
          duration: 60,
          requests: [
            {
              method: 'POST',
              path: '/conferences/stop/reservations',
              setupRequest: (request, context: { id?: string }) => {
                context.id = `stop-reservation-${next++}`;
                return {
                  ...request,
                  headers: { 'content-type': 'application/json' },
                  body: JSON.stringify({ reservationId: context.id, seats: [{ seatType: 'standard', quantity: 1 }] }),
                };
              },
              onResponse: (status, _body, context: { id?: string }) => {
                if (status === 201 && context.id) acknowledged.push(context.id);
              },
            },
          ],
        },
        () => {},
      );
      const loaded = Date.now() + 60_000;
      while (acknowledged.length < 200) {
        if (Date.now() > loaded || child.exitCode !== null) throw new Error(`no load was served:\n${output}`);
        await new Promise((next) => setTimeout(next, 20));
      }
      const projectors = childProcesses(child.pid!, 'projector-main');
      expect(projectors).toHaveLength(1);
      const signalled = Date.now();
      child.kill('SIGTERM');
      const { code, at } = await exited;

      expect(code).toBe(0);
      expect(at - signalled).toBeLessThanOrEqual(STOP_TIMEOUT_MS);
      expect(alive(postmasterPid)).toBe(false);
      expect(projectors.filter(alive)).toEqual([]);
      expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false);

      // Every 201 is in the store: open the data directory again and look.
      const server = await startEmbeddedPostgres({ dataDir, port: await freePort(), log: quietLog });
      const sql = connect(server.url.replace(/\/postgres$/, '/seat_surge'), 1);
      try {
        const rows = await sql<{ id: string }[]>`
          select data->>'reservationId' as id from events where stream_id = ${streamIdOf('stop')} and type = 'SeatsReserved'`;
        const stored = new Set(rows.map((row) => row.id));
        expect(acknowledged.filter((id) => !stored.has(id))).toEqual([]);
      } finally {
        await sql.end({ timeout: 5 });
        await server.stop();
      }
    } finally {
      load?.stop();
      if (child.exitCode === null && child.signalCode === null) {
        // A failed test still leaves nothing running: the service, then the PostgreSQL it started.
        child.kill('SIGKILL');
        const pidFile = join(dataDir, 'postmaster.pid');
        const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
        if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
      }
      await exited;
    }
  }, 180_000);
});
