import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../loadtest/server.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { alive, childProcesses } from './support/processes.js';
import { eventually } from './support/views.js';

/**
 * `npm start` builds with `npm run build` and runs dist/src/main.js with plain Node and
 * NODE_ENV=production: it must find public/, drizzle/ and package.json from dist/, fork the
 * compiled projector without tsx, write its logs as JSON lines, and stop cleanly.
 */
let db: TestDatabase;
let child: ChildProcess | undefined;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await db?.drop();
});

const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');

describe('the compiled service', () => {
  it('serves, projects and stops from dist/ with plain Node', async () => {
    await promisify(execFile)('npm', ['run', '-s', 'build'], { cwd: PACKAGE_ROOT });
    const port = await freePort();
    // No ADMIN_TOKEN: the service makes its operator token in this file.
    const tokenDirectory = await mkdtemp(join(tmpdir(), 'seat-surge-compiled-'));
    const tokenFile = join(tokenDirectory, 'data', 'admin-token');
    const { ADMIN_TOKEN: _unset, ...environment } = process.env;
    const api = spawn(process.execPath, ['--enable-source-maps', join(PACKAGE_ROOT, 'dist/src/main.js')], {
      env: {
        ...environment,
        ADMIN_TOKEN_FILE: tokenFile,
        NODE_ENV: 'production',
        DATABASE_URL: db.url,
        PORT: String(port),
        LOG_LEVEL: 'info',
        STOP_TIMEOUT_MS: '5000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = api;
    let output = '';
    api.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    api.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((done) => api.once('exit', (code) => done(code)));
    const base = `http://127.0.0.1:${port}`;
    await eventually(async () => {
      if (api.exitCode !== null) throw new Error(`the service exited:\n${output}`);
      expect((await fetch(`${base}/healthz`)).ok).toBe(true);
    }, 30_000);

    // public/ and package.json (the version in the API document), found from dist/.
    expect((await fetch(`${base}/`)).headers.get('content-type')).toMatch(/text\/html/);
    const { version } = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8'));
    const document = (await (await fetch(`${base}/openapi.json`)).json()) as { info: { version: string } };
    expect(document.info.version).toBe(version);
    expect((await fetch(`${base}/docs`)).status).toBe(200);

    const [projector, ...others] = childProcesses(api.pid!, 'projector-main');
    expect(others).toEqual([]);
    expect(commandLine(projector!)).toContain('dist/src/projector-main.js');
    expect(commandLine(projector!)).not.toContain('tsx');

    // The operator token: made once, readable by its owner only, its place logged and itself never.
    const token = readFileSync(tokenFile, 'utf8').trim();
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const conference = { id: 'compiled', name: 'Compiled', seatTypes: [{ type: 'standard', capacity: 10 }] };
    expect((await post(`${base}/conferences`, conference)).status).toBe(401);
    expect((await post(`${base}/conferences`, conference, { authorization: `Bearer ${token}` })).status).toBe(201);
    // Listening on loopback with a token of its own, it gives the demo page the token.
    expect(await (await fetch(`${base}/`)).text()).toContain(`content="${token}"`);
    const reserved = await post(`${base}/conferences/compiled/reservations`, {
      seats: [{ seatType: 'standard', quantity: 3 }],
    });
    expect(reserved.status).toBe(201);
    // The eventual read comes from the views, which only the compiled projector process writes.
    await eventually(async () => {
      const availability = (await (await fetch(`${base}/conferences/compiled/availability`)).json()) as {
        seatTypes: unknown[];
      };
      expect(availability.seatTypes).toEqual([expect.objectContaining({ type: 'standard', remaining: 7 })]);
    });

    api.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(alive(projector!)).toBe(false);
    const lines = output.trim().split('\n');
    expect(lines.map((line) => JSON.parse(line).msg)).toContain('seat-surge is serving');
    expect(lines.map((line) => JSON.parse(line).file)).toContain(tokenFile);
    expect(output).not.toContain(token);
    await rm(tokenDirectory, { recursive: true, force: true });
  }, 60_000);
});
