import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Listed } from '../loadtest/audit.js';
import { checkoutAudit, type CheckoutTold } from '../loadtest/checkout/checkout-audit.js';
import { expiredAfterRestart } from '../loadtest/checkout/checkout-faults.js';
import { expiryLag } from '../loadtest/checkout/checkout-figures.js';
import type { CheckoutStore, StreamEvent } from '../loadtest/checkout/checkout-store.js';
import { closedCheckout } from '../loadtest/checkout/closed-checkout.js';
import { foldStream } from '../loadtest/checkout/stream-fold.js';
import { checkoutVisitors, THINK_MS, type CheckoutPlan } from '../loadtest/checkout/visitors.js';
import type { HoldRecord } from '../loadtest/ledger.js';
import { driveOpenLoad } from '../loadtest/open/open-drive.js';
import { GENERATOR_LIMITS } from '../loadtest/open/open-load.js';
import { parseOptions } from '../loadtest/options.js';

/**
 * The checkout scenario's parts that need no server: the visitors, how the closed model schedules
 * their follow-ups, the fold of a stream, and the audit, fed stores and expectations that must
 * pass or fail. test/loadtest-checkout.test.ts runs them against a real server.
 */
const plan: CheckoutPlan = {
  prefix: '/batched/conferences',
  conferenceId: 'c1',
  idPrefix: 'v',
  seed: 7,
  holdSeconds: 3,
};

describe('--scenario checkout', () => {
  it('holds for --hold-seconds (3 by default, whole seconds) on --capacity seats', () => {
    expect(parseOptions(['--scenario', 'checkout'])).toMatchObject({ scenarios: ['checkout'], holdSeconds: 3 });
    expect(parseOptions(['--scenario', 'checkout', '--hold-seconds', '5', '--capacity', '200'])).toMatchObject({
      holdSeconds: 5,
      capacity: 200,
    });
    expect(() => parseOptions(['--scenario', 'checkout', '--hold-seconds', '1.5'])).toThrow(/whole number/);
    expect(() => parseOptions(['--scenario', 'checkout', '--hold-seconds', '0'])).toThrow(/positive/);
  });
});

describe('checkout visitors', () => {
  it('draw the same visitors from the same seed, whatever the answers', () => {
    const one = checkoutVisitors(plan);
    const two = checkoutVisitors(plan);
    const first = Array.from({ length: 50 }, () => one.arrive());
    const second = Array.from({ length: 50 }, (_, i) => {
      const hold = two.arrive();
      // The second run's service answers differently: the visitors that come stay the same.
      two.answered(hold, i % 2 === 0 ? 201 : 409);
      return hold;
    });
    expect(second).toEqual(first);
    const other = checkoutVisitors({ ...plan, seed: 8 });
    expect(first.map(() => other.arrive().body)).not.toEqual(first.map((hold) => hold.body));
  });

  it('hold one or two standard seats for the plan’s seconds, then 60% confirm, 30% abandon, 10% release after thinking', () => {
    const visitors = checkoutVisitors(plan);
    const tally = { confirm: 0, release: 0, none: 0 };
    const seats = new Set<number>();
    for (let i = 0; i < 20_000; i++) {
      const hold = visitors.arrive();
      expect(hold).toMatchObject({ kind: 'hold', method: 'POST', path: '/batched/conferences/c1/holds' });
      expect(JSON.parse(hold.body ?? '')).toMatchObject({ reservationId: hold.reservationId, holdSeconds: 3 });
      seats.add(hold.seats?.[0]?.quantity ?? 0);
      const next = visitors.answered(hold, 201);
      if (!next) tally.none++;
      else {
        expect(next.thinkMs).toBeGreaterThanOrEqual(THINK_MS.min);
        expect(next.thinkMs).toBeLessThanOrEqual(THINK_MS.max);
        expect(next.request.reservationId).toBe(hold.reservationId);
        tally[next.request.kind === 'confirm' ? 'confirm' : 'release']++;
      }
    }
    expect([...seats].sort()).toEqual([1, 2]);
    expect(tally.confirm / 20_000).toBeCloseTo(0.6, 1);
    expect(tally.none / 20_000).toBeCloseTo(0.3, 1);
    expect(tally.release / 20_000).toBeCloseTo(0.1, 1);
  });

  it('confirm with POST …/confirm and release with DELETE, each once, and leave when their hold is refused', () => {
    const visitors = checkoutVisitors(plan);
    const holds = Array.from({ length: 40 }, () => visitors.arrive());
    const followUps = holds.map((hold) => visitors.answered(hold, 201)).filter((f) => f !== undefined);
    expect(followUps.map((f) => `${f.request.method} ${f.request.path}`)).toContain(
      `POST /batched/conferences/c1/holds/${followUps.find((f) => f.request.kind === 'confirm')?.request.reservationId}/confirm`,
    );
    expect(followUps.find((f) => f.request.kind === 'release')?.request.method).toBe('DELETE');
    expect(visitors.answered(holds[0]!, 201)).toBeUndefined();
    for (const status of [409, 503, 500]) expect(visitors.answered(visitors.arrive(), status)).toBeUndefined();
  });

  it('think at most half a short hold, so a visitor who confirms is in time', () => {
    const visitors = checkoutVisitors({ ...plan, holdSeconds: 1 });
    for (let i = 0; i < 500; i++) {
      const next = visitors.answered(visitors.arrive(), 201);
      if (next) expect(next.thinkMs).toBeLessThanOrEqual(500);
    }
  });
});

describe('the closed model’s checkout', () => {
  it('sends a follow-up only once its think time is over, before any new visitor, and no connection waits for it', () => {
    let now = 0;
    const checkout = closedCheckout(checkoutVisitors(plan), () => now);
    const holds = Array.from({ length: 20 }, () => checkout.next());
    expect(holds.every((r) => r.kind === 'hold')).toBe(true);
    for (const hold of holds) checkout.answered(hold, 201);
    const thinking = checkout.thinking();
    expect(thinking).toBeGreaterThan(5);
    // Nobody has finished thinking: every free connection takes a new visitor meanwhile.
    now = THINK_MS.min - 1;
    expect(checkout.next().kind).toBe('hold');
    // Once they all have, their follow-ups go first, earliest due first, then new visitors again.
    now = THINK_MS.max + 10;
    const followUps = Array.from({ length: thinking }, () => checkout.next());
    expect(followUps.every((r) => r.kind === 'confirm' || r.kind === 'release')).toBe(true);
    expect(checkout.next().kind).toBe('hold');
    const late = checkout.lateMs();
    expect(late).toHaveLength(thinking);
    expect([...late].sort((a, b) => b - a)).toEqual(late);
    expect(checkout.thinking()).toBe(0);
  });
});

/** A service that grants every hold, confirm and release at once, and notes when each request came. */
const startCheckoutServer = async () => {
  /** When each reservation's hold, and its follow-up, reached the service. */
  const seen = new Map<string, { holdAt?: number; followUpAt?: number }>();
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const path = request.url ?? '';
      const isHold = request.method === 'POST' && path.endsWith('/holds');
      const id = isHold ? (JSON.parse(body) as { reservationId: string }).reservationId : path.split('/')[5]!;
      const times = seen.get(id) ?? {};
      if (isHold) times.holdAt = performance.now();
      else times.followUpAt = performance.now();
      seen.set(id, times);
      response.writeHead(isHold ? 201 : 200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
  const close = () =>
    new Promise<void>((closed) => {
      server.closeAllConnections();
      server.close(() => closed());
    });
  return { baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, close };
};

describe('the open model’s checkout', () => {
  it('offers visitors at the rate and sends each follow-up once its visitor has thought, waiting for the last', async () => {
    const { baseUrl, seen, close } = await startCheckoutServer();
    try {
      const result = await driveOpenLoad({
        baseUrl,
        schedule: { segments: [{ rate: 20, seconds: 1 }], spacing: 'constant', seed: 1 },
        workload: { kind: 'checkout', visitors: plan },
        connections: 4,
        maxWaiting: 100,
        timeoutMs: 10_000,
        limits: GENERATOR_LIMITS,
      });
      // The same visitors, replayed: those who confirm or release send one follow-up each.
      const replay = checkoutVisitors(plan);
      const followUps = Array.from({ length: 20 }, () => replay.answered(replay.arrive(), 201)).filter(Boolean);
      expect(result).toMatchObject({ offered: 20, sent: 20 + followUps.length, dropped: 0, errors: 0 });
      expect(result.answered).toBe(result.sent);
      expect(result.byKind.hold?.statusCounts).toEqual({ 201: 20 });
      const confirms = followUps.filter((f) => f?.request.kind === 'confirm').length;
      expect(result.byKind.confirm?.statusCounts).toEqual({ 200: confirms });
      expect(result.committed).toBe(confirms);
      // No follow-up reached the service before its visitor had thought for the shortest think time.
      const thought = [...seen.values()].flatMap(({ holdAt = 0, followUpAt }) =>
        followUpAt === undefined ? [] : [followUpAt - holdAt],
      );
      expect(thought).toHaveLength(followUps.length);
      expect(Math.min(...thought)).toBeGreaterThanOrEqual(THINK_MS.min - 1);
      expect(result.ledger.holds.map(([, , , told]) => told).filter((told) => told !== 'held')).toHaveLength(
        followUps.length,
      );
      expect(result.ledger.holds).toHaveLength(20);
    } finally {
      await close();
    }
  });
});

const created: StreamEvent = {
  version: 1,
  type: 'ConferenceCreated',
  data: { seatTypes: [{ type: 'standard', capacity: 3 }] },
};
const event = (version: number, type: string, quantity: number): StreamEvent => ({
  version,
  type,
  data: { seats: [{ seatType: 'standard', quantity }] },
});

describe('the stream fold', () => {
  it('finds the version at which confirmed + held went over capacity, even when the stream ends within it', () => {
    const fold = foldStream([
      created,
      event(2, 'SeatsHeld', 2),
      event(3, 'HoldConfirmed', 2),
      event(4, 'SeatsHeld', 2),
      event(5, 'HoldExpired', 2),
    ]);
    expect(fold.violations).toEqual(['v4 standard: reserved 2 + held 2 against capacity 3']);
    expect([fold.reserved.get('standard'), fold.held.get('standard')]).toEqual([2, 0]);
  });

  it('passes a stream that keeps within capacity, and names an event it cannot read', () => {
    const events = [created, event(2, 'SeatsHeld', 3), event(3, 'HoldReleased', 3), event(4, 'SeatsReserved', 3)];
    expect(foldStream(events).violations).toEqual([]);
    expect(foldStream([...events, event(5, 'SeatsTeleported', 1)]).violations).toEqual([
      'v5: unknown event type SeatsTeleported',
    ]);
  });
});

/**
 * A consistent end of a checkout on 3 seats: `a` (2 seats) confirmed, `b` released, `c` expired
 * after its visitor abandoned it, a hold refused for want of seats, and the last buyer's 1 seat.
 */
const reservation = (reservationId: string, status: string, quantity: number, extra: Partial<Listed> = {}): Listed => ({
  reservationId,
  status,
  seats: [{ seatType: 'standard', quantity }],
  ...extra,
});
const consistentStore = (): CheckoutStore => {
  const counts = { type: 'standard', capacity: 3, reserved: 3, held: 0, remaining: 0 };
  return {
    conferenceId: 'c1',
    strong: { seatTypes: [counts], position: 9 },
    view: { seatTypes: [{ ...counts }], position: 9 },
    reservations: [
      reservation('a', 'confirmed', 2),
      reservation('b', 'released', 1),
      reservation('c', 'expired', 1, { expiresAt: '2026-12-03T10:00:03.000Z', expiredAt: '2026-12-03T10:00:03.250Z' }),
      reservation('last', 'reserved', 1),
    ],
    events: [
      created,
      event(2, 'SeatsHeld', 2),
      event(3, 'SeatsHeld', 1),
      event(4, 'HoldConfirmed', 2),
      event(5, 'HoldReleased', 1),
      event(6, 'SeatsHeld', 1),
      event(7, 'HoldExpired', 1),
      event(8, 'SeatsReserved', 1),
    ],
  };
};
const consistentTold = (): CheckoutTold => {
  const hold = (quantity: number, told: HoldRecord['told']): HoldRecord => ({
    seats: [{ seatType: 'standard', quantity }],
    told,
  });
  return {
    holds: new Map([
      ['a', hold(2, 'confirmed')],
      ['b', hold(1, 'released')],
      ['c', hold(1, 'held')],
    ]),
    reserved: new Map([['last', [{ seatType: 'standard', quantity: 1 }]]]),
    unanswered: [],
    refused: new Set(['standard']),
  };
};
const failedChecks = (store: CheckoutStore, told: CheckoutTold) => [
  ...new Set(
    checkoutAudit(store, told)
      .checks.filter((c) => !c.passed)
      .map((c) => c.check),
  ),
];

describe('the checkout audit', () => {
  it('passes a checkout whose store is what its visitors were told', () => {
    const result = checkoutAudit(consistentStore(), consistentTold());
    expect(result.checks.filter((c) => !c.passed)).toEqual([]);
    expect(result).toMatchObject({ passed: true, counts: { oversold: 0, missing: 0, unexpected: 0 } });
    expect(result.checks.map((c) => c.check)).toContain('confirmed + held <= capacity at every version');
  });

  it.each<[string, (store: CheckoutStore, told: CheckoutTold) => void, string[]]>([
    [
      'a confirm answered 200 that the store holds as expired',
      (store) => (store.reservations[0]!.status = 'expired'),
      [
        'every 200 confirm stored',
        'every hold ended as told',
        'counts == sums',
        'sold = capacity where demand exceeded it',
      ],
    ],
    [
      'a release answered 200 that was never stored',
      (store) => store.reservations.splice(1, 1),
      ['every hold ended as told'],
    ],
    [
      'a hold still held once due, its seats never returned',
      (store) => {
        store.reservations[2]!.status = 'held';
        store.strong.seatTypes[0]!.held = 1;
        store.strong.seatTypes[0]!.reserved = 2;
        store.view!.seatTypes[0]!.held = 1;
        store.view!.seatTypes[0]!.reserved = 2;
        store.reservations.pop();
      },
      [
        'held = 0 at the end',
        'sold = capacity where demand exceeded it',
        'every hold ended as told',
        // The stream says the hold expired: its fold disagrees with the counts.
        'confirmed + held <= capacity at every version',
      ],
    ],
    [
      'a seat sold twice',
      (store) => store.reservations.push(reservation('twice', 'reserved', 1)),
      [
        'sold <= capacity',
        'counts == sums',
        'no unacknowledged reservation',
        'sold = capacity where demand exceeded it',
      ],
    ],
    [
      'counts that differ from the reservations',
      (store) => {
        store.strong.seatTypes[0]!.reserved = 2;
        store.strong.seatTypes[0]!.remaining = 1;
      },
      ['counts == sums', 'confirmed + held <= capacity at every version'],
    ],
    ['a view behind the authoritative counts', (store) => (store.view!.seatTypes[0]!.reserved = 2), ['counts == sums']],
    [
      'seats left unsold where demand exceeded capacity',
      (store) => {
        store.reservations.pop();
        store.strong.seatTypes[0]!.reserved = 2;
        store.strong.seatTypes[0]!.remaining = 1;
        store.view!.seatTypes[0]!.reserved = 2;
        store.events!.pop();
      },
      ['sold = capacity where demand exceeded it', 'every hold ended as told'],
    ],
    [
      'a stream that held more than capacity at one version',
      (store) => store.events!.splice(3, 0, event(4, 'SeatsHeld', 1)),
      ['confirmed + held <= capacity at every version'],
    ],
    [
      'a wrong expectation: a visitor told its confirm went through, where it released',
      (_, told) => (told.holds.get('b')!.told = 'confirmed'),
      ['every 200 confirm stored', 'every hold ended as told'],
    ],
  ])('fails on %s', (_, spoil, failing) => {
    const store = consistentStore();
    const told = consistentTold();
    spoil(store, told);
    expect(failedChecks(store, told).sort()).toEqual([...failing].sort());
  });

  it('takes the outcome of a request that got no answer from the store, and adopts it', () => {
    const told = consistentTold();
    told.holds.get('a')!.told = 'held';
    told.unanswered.push({ kind: 'confirm', method: 'POST', path: '/x', conferenceId: 'c1', reservationId: 'a' });
    expect(checkoutAudit(consistentStore(), told)).toMatchObject({ passed: true, unanswered: 1, adopted: 1 });
  });

  it('does not ask for a sell-out where no hold was refused', () => {
    const store = consistentStore();
    store.reservations.pop();
    store.events!.pop();
    for (const counts of [store.strong.seatTypes[0]!, store.view!.seatTypes[0]!])
      Object.assign(counts, { reserved: 2, remaining: 1 });
    const told = { ...consistentTold(), reserved: new Map(), refused: new Set<string>() };
    expect(checkoutAudit(store, told).passed).toBe(true);
  });
});

describe('expiry lag', () => {
  it('is expiredAt − expiresAt of every expired hold, and nothing of the others', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 10, 0, s)).toISOString();
    const lag = expiryLag([
      reservation('x', 'expired', 1, { expiresAt: at(3), expiredAt: '2026-12-03T10:00:03.120Z' }),
      reservation('y', 'expired', 1, { expiresAt: at(4), expiredAt: '2026-12-03T10:00:05.000Z' }),
      reservation('z', 'confirmed', 1, { expiresAt: at(3) }),
    ]);
    expect(lag).toEqual({ p50: 120, p99: 1000, max: 1000, count: 2 });
  });
});

describe('expiry after a restart', () => {
  it('measures the holds the outage kept from expiring, from the later of their due time and the restart', () => {
    const at = (ms: number) => new Date(Date.UTC(2026, 11, 3, 10) + ms).toISOString();
    const [killedAt, restartedAt] = [Date.UTC(2026, 11, 3, 10) + 10_000, Date.UTC(2026, 11, 3, 10) + 15_000];
    const reservations = [
      // Expired before the kill: not the outage's.
      reservation('early', 'expired', 1, { expiresAt: at(8000), expiredAt: at(8100) }),
      // Due before the kill, still pending at it: measured from the restart.
      reservation('pending', 'expired', 1, { expiresAt: at(9900), expiredAt: at(15_400) }),
      // Due during the outage.
      reservation('during', 'expired', 1, { expiresAt: at(12_000), expiredAt: at(16_200) }),
      // Due after the restart: the ordinary expiry lag, not the outage's.
      reservation('after', 'expired', 1, { expiresAt: at(17_000), expiredAt: at(17_100) }),
      reservation('confirmed', 'confirmed', 1, { expiresAt: at(12_000) }),
    ];
    expect(expiredAfterRestart(reservations, killedAt, restartedAt)).toEqual({ due: 2, maxMs: 1200 });
    expect(expiredAfterRestart(reservations.slice(0, 1), killedAt, restartedAt)).toEqual({ due: 0, maxMs: null });
  });
});
