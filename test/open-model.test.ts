import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { driveOpenLoad } from '../loadtest/open/open-drive.js';
import { generatorProblems, GENERATOR_LIMITS, type OpenLoadOptions } from '../loadtest/open/open-load.js';
import { capacityOf, connectionsFor, nextRate, recoverySeconds, stepVerdict } from '../loadtest/open/capacity.js';
import { parseOptions } from '../loadtest/options.js';
import { arrivalTimes, scheduleSeconds, spikeSegments, type Schedule } from '../loadtest/open/schedule.js';

const constant = (segments: Schedule['segments']): Schedule => ({ segments, spacing: 'constant', seed: 1 });

describe('arrival schedule', () => {
  it('spaces a constant rate evenly, the first arrival at the start', () => {
    expect([...arrivalTimes(constant([{ rate: 10, seconds: 1 }]))]).toEqual([
      0, 100, 200, 300, 400, 500, 600, 700, 800, 900,
    ]);
  });

  it('places a ramp where its cumulative rate reaches each arrival', () => {
    // From 0 to 10/s over 2 s: 10 arrivals, the k-th at sqrt(0.4·k) s (rate·t²/(2·seconds) = k).
    const times = [...arrivalTimes(constant([{ rate: 0, toRate: 10, seconds: 2 }]))];
    expect(times).toHaveLength(10);
    times.forEach((t, k) => expect(t).toBeCloseTo(Math.sqrt(0.4 * k) * 1000, 6));
  });

  it('chains segments: a spike is the base rate, then the spike rate, then the base rate again', () => {
    const segments = spikeSegments({ baseRate: 2, spikeRate: 10, baseSeconds: 1, spikeSeconds: 1, recoverySeconds: 1 });
    expect(scheduleSeconds({ segments })).toBe(3);
    expect([...arrivalTimes(constant(segments))]).toEqual([
      0, 500, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2500,
    ]);
  });

  it('draws Poisson arrivals from the seed: the same seed gives the same times, with exponential gaps at the rate', () => {
    const schedule: Schedule = { segments: [{ rate: 1000, seconds: 20 }], spacing: 'poisson', seed: 42 };
    const times = arrivalTimes(schedule);
    expect([...arrivalTimes(schedule)]).toEqual([...times]);
    expect([...arrivalTimes({ ...schedule, seed: 43 })]).not.toEqual([...times]);
    // 20,000 expected: a Poisson count has a standard deviation of √20,000 ≈ 141.
    expect(times.length).toBeGreaterThan(19_500);
    expect(times.length).toBeLessThan(20_500);
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
    expect(mean).toBeCloseTo(1, 1);
    // Exponential: the share of gaps longer than the mean is e^-1 ≈ 0.368 (a constant spacing gives 0).
    expect(gaps.filter((g) => g > mean).length / gaps.length).toBeCloseTo(Math.exp(-1), 1);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(times.at(-1)).toBeLessThan(20_000);
  });
});

describe('generator limits', () => {
  it('calls a load invalid when requests left late or the rate was not kept', () => {
    expect(generatorProblems(GENERATOR_LIMITS, 4.9, 1000, 990)).toEqual([]);
    expect(generatorProblems(GENERATOR_LIMITS, 5.1, 1000, 1000)).toEqual([
      expect.stringMatching(/send lag p99 5.1 ms/),
    ]);
    expect(generatorProblems(GENERATOR_LIMITS, 1, 1000, 970)).toEqual([
      expect.stringMatching(/issued 970\/s of 1000\/s/),
    ]);
  });
});

/** A test server whose `answer` decides when each request is answered (ms from its first request). */
const servers: { close: () => Promise<void> }[] = [];
const startServer = async (delayOf: (sinceFirstMs: number) => number) => {
  let first: number | undefined;
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      first ??= performance.now();
      const delay = Math.max(0, delayOf(performance.now() - first));
      setTimeout(() => response.writeHead(200, { 'content-type': 'application/json' }).end('{}'), delay);
    });
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
  const close = () =>
    new Promise<void>((closed) => {
      server.closeAllConnections();
      server.close(() => closed());
    });
  servers.push({ close });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const load = (baseUrl: string, schedule: Schedule, overrides: Partial<OpenLoadOptions> = {}): OpenLoadOptions => ({
  baseUrl,
  schedule,
  workload: { kind: 'ceiling' },
  connections: 2,
  maxWaiting: 1000,
  timeoutMs: 10_000,
  limits: GENERATOR_LIMITS,
  ...overrides,
});

describe('open-model load generator', () => {
  it('takes latency from the intended start: requests scheduled during a 500 ms stall report the wait they suffered', async () => {
    // Everything that reaches the server in its first 500 ms is answered at 500 ms. With two
    // connections, the arrivals of the stall wait in the generator's queue and are sent after it,
    // so timed from their actual send they would look fast.
    const baseUrl = await startServer((since) => 500 - since);
    const result = await driveOpenLoad(load(baseUrl, constant([{ rate: 100, seconds: 1 }])));
    expect(result).toMatchObject({ offered: 100, sent: 100, answered: 100, dropped: 0, errors: 0 });
    // The arrival at t ms (t < 500) waited about 500 - t: at least 10 of them over 400 ms.
    expect(result.latencyMs.all.p90).toBeGreaterThanOrEqual(400);
    expect(result.timeline[0]?.p99).toBeGreaterThanOrEqual(480);
    // The second half-second was not stalled.
    expect(result.timeline[0]?.offered).toBe(100);
  });

  it('counts arrivals dropped past the bound of its queue, and never sends them', async () => {
    // No answer before 1.5 s: one connection and three waiting arrivals fill the generator.
    const baseUrl = await startServer((since) => 1500 - since);
    const result = await driveOpenLoad(
      load(baseUrl, constant([{ rate: 100, seconds: 0.5 }]), { connections: 1, maxWaiting: 3 }),
    );
    expect(result).toMatchObject({ offered: 50, sent: 4, answered: 4, dropped: 46, errors: 0 });
    expect(result.timeline[0]).toMatchObject({ offered: 50, dropped: 46, statusCounts: { 200: 4 } });
  });

  it('marks a load invalid when its own event loop was blocked and requests left late', async () => {
    const baseUrl = await startServer(() => 0);
    // A generous limit, so only the block (300 ms, from 300 ms) can break it on a busy machine.
    const limits = { ...GENERATOR_LIMITS, sendLagP99Ms: 100 };
    const schedule = constant([{ rate: 200, seconds: 1 }]);
    const block = setTimeout(() => {
      const until = performance.now() + 300;
      while (performance.now() < until);
    }, 300);
    const blocked = await driveOpenLoad(load(baseUrl, schedule, { connections: 8, limits }));
    clearTimeout(block);
    expect(blocked.generator.valid).toBe(false);
    expect(blocked.generator.problems).toEqual([expect.stringMatching(/send lag p99/)]);
    expect(blocked.generator.sendLagMs.max).toBeGreaterThanOrEqual(250);
    expect(blocked.generator.eventLoopDelayMs.max).toBeGreaterThanOrEqual(250);

    const free = await driveOpenLoad(load(baseUrl, schedule, { connections: 8, limits }));
    expect(free.generator).toMatchObject({ valid: true, problems: [] });
  });
});

describe('capacity search', () => {
  const settings = { startRate: 200, maxRate: 20_000, refinements: 2 };
  /** Runs the search against a service that keeps the objective up to `capacity`. */
  const search = (capacity: number, s = settings) => {
    const tried: { rate: number; passed: boolean }[] = [];
    for (let rate = nextRate(tried, s); rate !== undefined; rate = nextRate(tried, s)) {
      tried.push({ rate, passed: rate <= capacity });
    }
    return tried;
  };

  it('grows the rate 1.5× a step, then halves the gap around the capacity twice', () => {
    const tried = search(2000);
    expect(tried.map((t) => t.rate)).toEqual([200, 300, 450, 680, 1000, 1500, 2300, 1900, 2100]);
    expect(capacityOf(tried)).toBe(1900);
  });

  it('stops at the highest rate it may try', () => {
    const tried = search(1e9, { ...settings, maxRate: 1000 });
    expect(tried.map((t) => t.rate)).toEqual([200, 300, 450, 680, 1000]);
    expect(capacityOf(tried)).toBe(1000);
  });

  it('halves the first rate while even that fails, and finds 0 when nothing passes', () => {
    expect(search(60).map((t) => t.rate)).toEqual([200, 100, 50, 75, 63]);
    expect(capacityOf(search(60))).toBe(50);
    expect(capacityOf(search(0))).toBe(0);
  });

  it('judges a step by p99, errors, drops, busy answers and the generator', () => {
    const generator = { sendLagMs: { p50: 0, p99: 1, max: 2 }, eventLoopDelayMs: { p50: 0, p99: 1, max: 2 } };
    const step = {
      latencyMs: { all: { p50: 5, p90: 20, p99: 90, p999: 120, max: 150, count: 1000 } },
      statusCounts: { 201: 991, 503: 9 },
      dropped: 0,
      errors: 0,
      answered: 1000,
      generator: { ...generator, valid: true, problems: [] },
    } as unknown as Parameters<typeof stepVerdict>[0];
    expect(stepVerdict(step, 100)).toEqual({ passed: true, reasons: [], generatorLimited: false });
    expect(stepVerdict(step, 80).reasons).toEqual(['p99 90 ms over 80 ms']);
    expect(stepVerdict({ ...step, statusCounts: { 201: 990, 503: 10 } }, 100).reasons).toEqual(['1% busy (503)']);
    expect(stepVerdict({ ...step, statusCounts: { 201: 999, 500: 1 } }, 100).reasons).toEqual([
      '1 answers 5xx other than busy',
    ]);
    expect(stepVerdict({ ...step, dropped: 3, errors: 2 }, 100).reasons).toEqual([
      '2 requests without an answer',
      '3 arrivals dropped',
    ]);
    const late = { ...step, generator: { ...generator, valid: false, problems: ['send lag p99 9 ms over 5 ms'] } };
    expect(stepVerdict(late, 100)).toEqual({
      passed: false,
      reasons: ['send lag p99 9 ms over 5 ms'],
      generatorLimited: true,
    });
  });

  it('measures the recovery from the spike end to the first step after which p99 stays under the objective', () => {
    const bucket = (atSecond: number, p99: number) => ({
      atSecond,
      offered: 10,
      dropped: 0,
      errors: 0,
      statusCounts: { 201: 10 },
      p99,
      p99Admitted: p99,
    });
    const timeline = [
      bucket(0, 10),
      bucket(1, 400),
      bucket(2, 300),
      bucket(2.5, 50),
      bucket(3, 120),
      bucket(3.5, 40),
      bucket(4, 30),
    ];
    expect(recoverySeconds(timeline, 2, 100)).toBe(1.5);
    expect(recoverySeconds(timeline.slice(0, 5), 2, 100)).toBeNull();
    expect(recoverySeconds([bucket(0, 10), bucket(2, 20)], 2, 100)).toBe(0);
  });

  it('sizes the connections by Little’s law, within bounds', () => {
    expect(connectionsFor(5000, 100)).toBe(500);
    expect(connectionsFor(50, 100)).toBe(16);
    expect(connectionsFor(90_000, 100)).toBe(4096);
    expect(connectionsFor(5000, 100, 64)).toBe(64);
  });
});

describe('open-model options', () => {
  it('keeps the closed model by default and reads the open model’s settings', () => {
    expect(parseOptions([]).model).toBe('closed');
    const options = parseOptions([
      '--model',
      'open',
      '--slo-ms',
      '250',
      '--arrivals',
      'constant',
      '--step-seconds',
      '3',
    ]);
    expect(options).toMatchObject({
      model: 'open',
      open: { sloMs: 250, spacing: 'constant', stepSeconds: 3, startRate: 200, refinements: 3 },
    });
  });

  it('says why a spike cannot run: a closed model, or no rate to take it from', () => {
    expect(() => parseOptions(['--scenario', 'spike'])).toThrow(/needs --model open/);
    expect(() => parseOptions(['--model', 'open', '--scenario', 'spike', '--design', 'es-batched'])).toThrow(
      /--spike-rate/,
    );
    expect(parseOptions(['--model', 'open', '--scenario', 'spike', '--spike-rate', '900']).open.spikeRate).toBe(900);
    expect(() => parseOptions(['--model', 'sideways'])).toThrow(/--model must be one of closed, open/);
  });
});
