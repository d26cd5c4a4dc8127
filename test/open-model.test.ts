import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  driveOpenLoad,
  generatorProblems,
  GENERATOR_LIMITS,
  type OpenLoadOptions,
} from '../loadtest/open/open-drive.js';
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
