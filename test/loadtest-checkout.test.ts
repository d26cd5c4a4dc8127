import { mkdtemp, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkoutAudit, toldOf } from '../loadtest/checkout/checkout-audit.js';
import { expiryLag } from '../loadtest/checkout/checkout-figures.js';
import { seatsHeldOnceDue } from '../loadtest/checkout/checkout-phase.js';
import { readCheckoutStore } from '../loadtest/checkout/checkout-store.js';
import { buyWhatIsLeft } from '../loadtest/checkout/last-buyer.js';
import { Ledger, noteAnswer } from '../loadtest/ledger.js';
import { parseOptions } from '../loadtest/options.js';
import type { LoadtestReport } from '../loadtest/report/loadtest-report.js';
import type { CheckoutFaultRun } from '../loadtest/checkout/checkout-faults.js';
import { runFaults, runLoadtest } from '../loadtest/run.js';
import type { PlannedRequest } from '../loadtest/workloads.js';
import { createTestDatabase, type TestDatabase } from './support/database.js';
import { createTestService, operatorAuth } from './support/service.js';

/**
 * The checkout scenario against a real service: the audit reading a real store (and failing when
 * fed a wrong expectation), and `npm run loadtest -- --scenario checkout` end to end. The parts
 * that need no server are in test/checkout-harness.test.ts.
 */
let out: string;
beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'seat-surge-checkout-'));
});
afterAll(async () => {
  await rm(out, { recursive: true, force: true });
});

const PREFIX = '/batched/conferences';

describe('the checkout audit on a real store', () => {
  let db: TestDatabase;
  let service: ReturnType<typeof createTestService>;
  let server: ReturnType<typeof serve>;
  let baseUrl: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = createTestService(db.sql);
    // As the API process runs them: the views kept up to date, and due holds expired.
    service.projector.start();
    service.expirer.start();
    server = serve({ fetch: service.app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((listening) => server.once('listening', () => listening()));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((closed) => server?.close(() => closed()));
    await service?.expirer.stop();
    await service?.projector.stop();
    service?.close();
    await db?.drop();
  });

  const ledger = new Ledger();
  const conferenceId = 'checkout-audit';
  const send = async (planned: PlannedRequest): Promise<number> => {
    ledger.sent(planned);
    const response = await fetch(`${baseUrl}${planned.path}`, {
      method: planned.method,
      ...(planned.body ? { body: planned.body, headers: { 'content-type': 'application/json' } } : {}),
    });
    await response.body?.cancel();
    noteAnswer(ledger, planned, response.status);
    return response.status;
  };
  const hold = (reservationId: string, quantity: number, holdSeconds: number) => {
    const seats = [{ seatType: 'standard', quantity }];
    return send({
      kind: 'hold',
      method: 'POST',
      path: `${PREFIX}/${conferenceId}/holds`,
      body: JSON.stringify({ reservationId, seats, holdSeconds }),
      conferenceId,
      reservationId,
      seats,
    });
  };
  const path = (reservationId: string) => `${PREFIX}/${conferenceId}/holds/${reservationId}`;

  it('passes when the store is what the visitors were told, and fails on a wrong expectation', async () => {
    const created = await fetch(`${baseUrl}${PREFIX}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...operatorAuth },
      body: JSON.stringify({
        id: conferenceId,
        name: 'Checkout audit',
        seatTypes: [{ type: 'standard', capacity: 3 }],
      }),
    });
    expect(created.status).toBe(201);
    expect(await hold('hold-of-visitor-a', 2, 60)).toBe(201);
    expect(await hold('hold-of-visitor-b', 1, 60)).toBe(201);
    expect(await hold('hold-refused-0001', 1, 60)).toBe(409);
    const confirm = {
      kind: 'confirm',
      method: 'POST',
      path: `${path('hold-of-visitor-a')}/confirm`,
      conferenceId,
    } as const;
    expect(await send({ ...confirm, reservationId: 'hold-of-visitor-a' })).toBe(200);
    expect(
      await send({
        kind: 'release',
        method: 'DELETE',
        path: path('hold-of-visitor-b'),
        conferenceId,
        reservationId: 'hold-of-visitor-b',
      }),
    ).toBe(200);
    // A visitor who abandons: its hold expires, and its seat goes to the last buyer.
    expect(await hold('hold-of-visitor-c', 1, 1)).toBe(201);

    expect(await seatsHeldOnceDue(baseUrl, PREFIX, conferenceId)).toBe(0);
    expect(await buyWhatIsLeft(baseUrl, PREFIX, conferenceId, ledger)).toBe(1);
    const store = await readCheckoutStore(baseUrl, PREFIX, conferenceId, true);
    expect(store.reservations.map((r) => `${r.reservationId} ${r.status}`).sort()).toEqual([
      'hold-of-visitor-a confirmed',
      'hold-of-visitor-b released',
      'hold-of-visitor-c expired',
      'last-buyer-standard-0 reserved',
    ]);
    const audit = checkoutAudit(store, toldOf(ledger, conferenceId));
    expect(audit.checks.filter((c) => !c.passed)).toEqual([]);
    expect(audit.checks.find((c) => c.check === 'confirmed + held <= capacity at every version')?.detail).toBe(
      '8 versions folded, 0 broke it',
    );
    const lag = expiryLag(store.reservations);
    expect(lag.count).toBe(1);
    expect(lag.max).toBeGreaterThanOrEqual(0);

    // Told its release went through as a confirm: the store says otherwise, and the audit fails.
    ledger.settleHold(conferenceId, 'hold-of-visitor-b', 'confirmed');
    const wrong = checkoutAudit(store, toldOf(ledger, conferenceId));
    expect(wrong.passed).toBe(false);
    expect(wrong.checks.filter((c) => !c.passed).map((c) => c.detail)).toContain('hold-of-visitor-b: released');
  }, 60_000);
});

describe('npm run loadtest -- --scenario checkout', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('runs visitors through holds, confirms, releases and expiries on es-batched, reports them, and audits clean', async () => {
    const options = parseOptions(['--quick', '--design', 'es-batched', '--scenario', 'checkout', '--out', out]);
    const { exitCode, files } = await runLoadtest(options, { DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    expect(exitCode).toBe(0);
    const report = JSON.parse(await readFile(files[0]!, 'utf8')) as LoadtestReport;
    expect(report.results.map((r) => `${r.design} ${r.scenario}/${r.phase}`)).toEqual(['es-batched checkout/checkout']);
    const [result] = report.results;
    const checkout = result!.checkout!;
    expect(checkout).toMatchObject({ capacity: 50, holdSeconds: 3, seatsHeldAtEnd: 0 });
    // Capacity is below demand: holds were granted and refused, confirms went through, seats came back.
    expect(checkout.holds.statusCounts['201']).toBeGreaterThan(0);
    expect(checkout.holds.statusCounts['409']).toBeGreaterThan(0);
    expect(checkout.confirms.statusCounts['200']).toBeGreaterThan(0);
    expect(checkout.confirmedPerSecond).toBe(result!.reservationsPerSecond);
    expect(checkout.holds.latencyMs.p99).toBeGreaterThanOrEqual(checkout.holds.latencyMs.p50);
    expect(checkout.expiryLagMs.count).toBeGreaterThan(0);
    expect(checkout.expiryLagMs.p50).toBeGreaterThanOrEqual(0);
    expect(checkout.expiryLagMs.max).toBeGreaterThanOrEqual(checkout.expiryLagMs.p99);
    expect(result!.audit?.passed).toBe(true);
    expect(result!.audit?.checks.map((c) => c.check)).toEqual([
      'sold <= capacity',
      'counts == sums',
      'held = 0 at the end',
      'sold = capacity where demand exceeded it',
      'every 200 confirm stored',
      'every hold ended as told',
      'no unacknowledged reservation',
      'confirmed + held <= capacity at every version',
    ]);
    // The server's CPU per confirm answered 200: the count confirmed/s is made of.
    const perConfirmed = result!.cpu?.microsecondsPerCommitted?.server;
    expect(perConfirmed).toBeGreaterThanOrEqual(result!.cpu?.microsecondsPerRequest.server ?? Infinity);
    const markdown = await readFile(files[1]!, 'utf8');
    expect(markdown).toMatch(
      /## checkout\n\n\| design \| conns \| confirmed\/s \| server CPU µs\/confirmed \| holds\/s \|/,
    );
    expect(markdown).toContain(
      `| es-batched | 8 | ${checkout.confirmedPerSecond} | ${perConfirmed} | ${checkout.holdsPerSecond} |`,
    );
    expect(markdown).toMatch(/\| es-batched \| 8 \| [\d.]+ \| \d+ \| [\d.]+ \|.*\| 0 \|.*\| pass \|/);
  }, 240_000);

  it('--model open: visitors arrive at the rate the closed loop served them, and the same figures and audit follow', async () => {
    const options = parseOptions([
      '--quick',
      '--model',
      'open',
      '--generator-priority',
      'normal',
      '--design',
      'es-batched',
      '--scenario',
      'checkout',
      '--out',
      join(out, 'open'),
    ]);
    const { exitCode, files } = await runLoadtest(options, { DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    expect(exitCode).toBe(0);
    const report = JSON.parse(await readFile(files[0]!, 'utf8')) as LoadtestReport;
    const closed = report.results.find((r) => r.scenario === 'checkout')!;
    const [open] = report.open!.checkout;
    expect(open).toMatchObject({ design: 'es-batched', audit: { passed: true }, checkout: { seatsHeldAtEnd: 0 } });
    expect(open!.rate).toBe(Math.round(closed.checkout!.holds.latencyMs.count / closed.durationSeconds));
    // Every visitor offered was sent, dropped or failed; each sent one hold, and some a follow-up.
    const { load, checkout } = open!;
    expect(checkout.holds.latencyMs.count + load.dropped + load.errors).toBe(load.offered);
    expect(load.sent).toBeGreaterThan(checkout.holds.latencyMs.count);
    expect(checkout.confirms.statusCounts['200']).toBeGreaterThan(0);
    expect(checkout.confirmedPerSecond).toBeGreaterThan(0);
    expect(checkout.expiryLagMs.count).toBeGreaterThan(0);
    const perConfirmed = load.cpu?.microsecondsPerCommitted?.server;
    expect(perConfirmed).toBeGreaterThanOrEqual(load.cpu?.microsecondsPerRequest.server ?? Infinity);
    const markdown = await readFile(files[1]!, 'utf8');
    expect(markdown).toContain('## checkout, open model');
    expect(markdown).toContain(`| ${load.achievedRate} | ${checkout.confirmedPerSecond} | ${perConfirmed} |`);
    expect(markdown).toContain('## checkout\n');
  }, 240_000);

  it('--fault kill-api: loses no acknowledged hold or confirm, oversells nothing, and expires the holds due in the outage soon after the restart', async () => {
    const options = parseOptions([
      '--quick',
      '--fault',
      'kill-api',
      '--scenario',
      'checkout',
      // Holds of a second: those taken in the second of load before the kill fall due while the
      // API is down, however quickly it comes back (a CI run restarted in 1.9 s, before any
      // 3 s hold taken in that second was due, and found none due in the outage).
      '--hold-seconds',
      '1',
      '--out',
      join(out, 'faults'),
    ]);
    const { exitCode, files } = await runFaults(options, { DATABASE_URL: db.url, LOG_LEVEL: 'warn' });
    expect(exitCode).toBe(0);
    const { checkoutRuns } = JSON.parse(await readFile(files[0]!, 'utf8')) as { checkoutRuns: CheckoutFaultRun[] };
    expect(checkoutRuns.map((r) => [r.design, r.passed])).toEqual([['es-batched', true]]);
    const [run] = checkoutRuns;
    expect(run).toMatchObject({ lost: 0, oversold: 0, seatsHeldAtEnd: 0, audit: { passed: true } });
    expect(run!.holdsAcknowledged).toBeGreaterThan(0);
    expect(run!.confirmsAcknowledged).toBeGreaterThan(0);
    const [outage] = run!.outages;
    // Holds were pending when the API died, and fell due before it was back.
    expect(outage!.dueDuringOutage).toBeGreaterThan(0);
    expect(outage!.expiredAfterRestartMaxMs).toBeLessThanOrEqual(5000);
    expect(await readFile(files[1]!, 'utf8')).toContain('| kill-api #1 |');
  }, 240_000);
});
