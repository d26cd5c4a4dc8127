import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { HOLD_DEFAULTS } from '../src/config.js';
import { createConferenceSchema, holdSeatsSchema, reserveSeatsSchema } from '../src/http/schemas.js';
import { CLIENT_RESERVATION_ID_PATTERN, MAX_CAPACITY } from '../src/seat-availability/index.js';

/**
 * k6 is not installed here, so the k6 scripts in loadtest/k6 are imported under Node with stubs of
 * k6's modules: each load copies the scripts into a fresh temp dir, pointing their `k6`, `k6/http`,
 * `k6/metrics` and `k6/execution` imports at small stubs written beside them. The stubs record
 * requests, checks, metric samples and sleeps, and answer HTTP from an in-memory fake of the
 * service. checkout.js runs on a fake clock (Date only), which its sleeps move on, so holds fall
 * due and expire as they would in a run, without waiting.
 */

const K6_DIR = fileURLToPath(new URL('../loadtest/k6/', import.meta.url));
const SCRIPTS = ['surge.js', 'spread.js', 'hotspot.js', 'mixed.js', 'spike.js', 'checkout.js'] as const;
type ScriptName = (typeof SCRIPTS)[number];
/** The scripts that ramp up to PEAK_RATE and hold it for DURATION (spike.js steps instead). */
const RAMPED_SCRIPTS = ['surge.js', 'spread.js', 'hotspot.js', 'mixed.js', 'checkout.js'] as const;
/** The scripts whose iterations reserve seats in one step (checkout.js holds them instead). */
const RESERVING_SCRIPTS = SCRIPTS.filter((name) => name !== 'checkout.js');
/** The request kind whose p(99) every script bounds: a reservation, or checkout.js's hold. */
const MAIN_KIND = (name: ScriptName) => (name === 'checkout.js' ? 'hold' : 'reserve');
/** Designs other than the default a script can drive. */
const OTHER_DESIGNS = (_name: ScriptName) => ['crud', 'crud-atomic'];
const BASE_URL = 'http://k6-stub.test:3999';
/** The operator token the scripts are given (ADMIN_TOKEN) and the fake service wants on its operator routes. */
const OPERATOR_TOKEN = 'k6-test-operator-token-0123456789abcdef';
const CONFERENCE_ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** A reservation id a client may choose: hard to guess, 16 characters or more (CLIENT_RESERVATION_ID_PATTERN). */
const RESERVATION_ID = CLIENT_RESERVATION_ID_PATTERN;
/** Where the service serves each design (src/service.ts); lib.js must agree. */
const PREFIXES: Record<string, string> = {
  es: '/conferences',
  'es-batched': '/batched/conferences',
  'es-direct': '/direct/conferences',
  crud: '/crud/conferences',
  'crud-atomic': '/crud-atomic/conferences',
};

type Tags = Record<string, string>;
type StubRequest = {
  method: string;
  url: string;
  body: string | null;
  params: { headers?: Record<string, string>; tags?: Tags; responseCallback?: unknown };
};
type ReservationStatus = 'reserved' | 'cancelled' | 'held' | 'confirmed' | 'released' | 'expired';
/** A reservation of the fake service; a hold has its due time, and its expiry time once expired (ms). */
type FakeReservation = { seats: Seat[]; status: ReservationStatus; expiresAt?: number; expiredAt?: number };
type StubResponse = {
  status: number;
  body: string;
  headers: Record<string, string>;
  timings: { duration: number };
  json: () => unknown;
};
type StubState = {
  requests: StubRequest[];
  checks: { name: string; passed: boolean; tags?: Tags }[];
  metrics: Record<string, { type: string; samples: { value: number; tags?: Tags }[] }>;
  /** Every sleep() of the script, in seconds. */
  sleeps: number[];
  /** Told of every sleep (checkout.js: moves the fake clock on). */
  onSleep: (seconds: number) => void;
  respond: (request: StubRequest) => StubResponse;
};
type Seat = { seatType: string; quantity: number };
type SetupData = { conferences: { id: string; seatTypes: { type: string; capacity: number }[] }[] };
type Scenario = {
  executor: string;
  startRate?: number;
  rate?: number;
  timeUnit?: string;
  duration?: string;
  startTime?: string;
  preAllocatedVUs?: number;
  maxVUs?: number;
  stages?: { duration: string; target: number }[];
  tags?: Tags;
};
type K6Script = {
  options: { scenarios: Record<string, Scenario>; thresholds: Record<string, string[]> };
  setup: () => SetupData;
  default: (data: SetupData) => void;
  teardown?: (data: SetupData) => void;
  handleSummary?: (data: unknown) => unknown;
};

// ---------------------------------------------------------------------------------------------------
// stubs of k6's modules (plain JS, written next to the copied scripts)

const STUBS: Record<string, { file: string; source: string }> = {
  k6: {
    file: 'k6-stub.js',
    source: `import { state } from './k6-stub-state.js';
export const check = (value, sets, tags) => {
  let all = true;
  for (const [name, predicate] of Object.entries(sets)) {
    const passed = Boolean(typeof predicate === 'function' ? predicate(value) : predicate);
    state.checks.push({ name, passed, tags });
    all = all && passed;
  }
  return all;
};
export const fail = (message) => { throw new Error(message); };
export const sleep = (seconds) => {
  state.sleeps.push(seconds);
  state.onSleep(seconds);
};
export const group = (_name, fn) => fn();
export default { check, fail, sleep, group };
`,
  },
  'k6/http': {
    file: 'k6-stub-http.js',
    source: `import { state } from './k6-stub-state.js';
const send = (method, url, body, params) => {
  const request = { method, url, body: body === undefined ? null : body, params: params || {} };
  state.requests.push(request);
  return state.respond(request);
};
export const request = send;
export const get = (url, params) => send('GET', url, null, params);
export const head = (url, params) => send('HEAD', url, null, params);
export const post = (url, body, params) => send('POST', url, body, params);
export const put = (url, body, params) => send('PUT', url, body, params);
export const patch = (url, body, params) => send('PATCH', url, body, params);
export const del = (url, body, params) => send('DELETE', url, body, params);
export const batch = (requests) =>
  requests.map((r) =>
    typeof r === 'string' ? send('GET', r, null) : Array.isArray(r) ? send(r[0], r[1], r[2], r[3]) : send(r.method, r.url, r.body, r.params),
  );
export const expectedStatuses = (...statuses) => ({ expectedStatuses: statuses });
export const setResponseCallback = () => {};
export default { request, get, head, post, put, patch, del, batch, expectedStatuses, setResponseCallback };
`,
  },
  'k6/metrics': {
    file: 'k6-stub-metrics.js',
    source: `import { state } from './k6-stub-state.js';
class Metric {
  constructor(name, type) {
    this.name = name;
    state.metrics[name] = { type, samples: [] };
  }
  add(value, tags) {
    state.metrics[this.name].samples.push({ value: Number(value), tags });
  }
}
export class Counter extends Metric { constructor(name) { super(name, 'counter'); } }
export class Gauge extends Metric { constructor(name) { super(name, 'gauge'); } }
export class Rate extends Metric { constructor(name) { super(name, 'rate'); } }
export class Trend extends Metric { constructor(name) { super(name, 'trend'); } }
export default { Counter, Gauge, Rate, Trend };
`,
  },
  'k6/execution': {
    file: 'k6-stub-execution.js',
    source: `export default {
  vu: { idInTest: 1, idInInstance: 1, iterationInInstance: 0, iterationInScenario: 0, tags: {} },
  scenario: { name: 'stub', executor: 'ramping-arrival-rate', iterationInTest: 0, iterationInInstance: 0 },
  instance: { vusActive: 1 },
  test: { abort: (message) => { throw new Error(message); }, options: {} },
};
`,
  },
};
const STATE_SOURCE = `export const state = { requests: [], checks: [], metrics: {}, sleeps: [], onSleep: () => {}, respond: () => { throw new Error('no responder'); } };\n`;

// ---------------------------------------------------------------------------------------------------
// an in-memory fake of the HTTP API, serving one design's prefix; request bodies are validated with
// the service's own schemas, so a script that sends what the service refuses gets its 400 here too

const reply = (status: number, body: unknown): StubResponse => {
  const text = JSON.stringify(body);
  return {
    status,
    body: text,
    headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json' },
    timings: { duration: 1 },
    json: () => JSON.parse(text),
  };
};

type Availability = {
  conferenceId: string;
  name: string;
  seatTypes: { type: string; capacity: number; reserved: number; held: number; remaining: number }[];
  position: number;
};
type FakeConference = {
  name: string;
  seatTypes: { type: string; capacity: number; reserved: number; held: number }[];
  reservations: Map<string, FakeReservation>;
};

const holdSchema = holdSeatsSchema(HOLD_DEFAULTS);
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

class FakeService {
  readonly conferences = new Map<string, FakeConference>();
  /** Rewrites availability answers, to simulate a broken store. */
  tamper: (availability: Availability) => Availability = (a) => a;
  /** Listing requests still to be answered as if the view had seen no reservation yet. */
  listingLag = 0;
  /** Answers every reservation POST with this instead, when set. */
  reserveAnswer: (() => StubResponse) | undefined;
  /** Answers conference creation with this status instead of 201, when set. */
  createStatus: number | undefined;
  /** The global position of the last event "appended", as the real store numbers them. */
  position = 0;
  /**
   * The fake's hold expirer: how many ms after its due time a hold is expired (the n-th expiry so
   * far given), checked on every request by the clock (Date.now); undefined when none runs.
   */
  expiryLagMs: ((n: number) => number) | undefined = () => 150;
  /** Holds expired so far. */
  expired = 0;
  /** Answers every confirm with this instead, when set. */
  confirmAnswer: (() => StubResponse) | undefined;

  constructor(readonly prefix: string) {}

  respond = (request: StubRequest): StubResponse => {
    const url = new URL(request.url);
    const root = `${BASE_URL}${this.prefix}`;
    if (`${url.origin}${url.pathname}`.slice(0, root.length) !== root) return reply(404, { error: 'not_found' });
    const parts = url.pathname.slice(this.prefix.length).split('/').filter(Boolean);
    // The operator routes, as the service has them: creating a conference, listing its reservations.
    const operatorRoute =
      (parts.length === 0 && request.method === 'POST') ||
      (parts.length === 2 && parts[1] === 'reservations' && request.method === 'GET');
    if (operatorRoute && request.params.headers?.authorization !== `Bearer ${OPERATOR_TOKEN}`) {
      return reply(401, { status: 401, error: 'unauthorized' });
    }
    const body = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
    if (parts.length === 0 && request.method === 'POST') return this.create(body);
    const conference = this.conferences.get(parts[0] ?? '');
    if (!conference) return reply(404, { error: 'conference_not_found' });
    const id = parts[0] ?? '';
    this.expireDue();
    if (parts[1] === 'availability' && request.method === 'GET') return reply(200, this.tamper(this.availability(id)));
    if (parts[1] === 'holds') return this.holds(id, parts.slice(2), request.method, body);
    if (parts[1] !== 'reservations') return reply(404, { error: 'not_found' });
    if (parts.length === 2 && request.method === 'POST') return this.reserve(id, body);
    if (parts.length === 2 && request.method === 'GET') return this.listing(id, url.searchParams);
    if (parts.length === 3 && request.method === 'DELETE') {
      const reservation = conference.reservations.get(parts[2] ?? '');
      if (!reservation) return reply(404, { error: 'reservation_not_found' });
      if (reservation.status === 'reserved' || reservation.status === 'confirmed') {
        this.position++;
        reservation.status = 'cancelled';
        move(conference, reservation.seats, 'reserved', -1);
      }
      return reply(200, { reservationId: parts[2], conferenceId: id, seats: reservation.seats, status: 'cancelled' });
    }
    return reply(404, { error: 'not_found' });
  };

  private create(body: Record<string, unknown>): StubResponse {
    if (this.createStatus !== undefined) return reply(this.createStatus, { error: 'conference_exists' });
    if (!createConferenceSchema.safeParse(body).success) return reply(400, { status: 400, error: 'invalid_request' });
    const id = String(body.id);
    if (this.conferences.has(id)) return reply(409, { error: 'conference_exists' });
    const seatTypes = (body.seatTypes as { type: string; capacity: number }[]).map((s) => ({
      ...s,
      reserved: 0,
      held: 0,
    }));
    this.position++;
    this.conferences.set(id, { name: String(body.name), seatTypes, reservations: new Map() });
    return reply(201, this.availability(id));
  }

  private reserve(id: string, body: Record<string, unknown>): StubResponse {
    if (this.reserveAnswer) return this.reserveAnswer();
    if (!reserveSeatsSchema.safeParse(body).success) return reply(400, { status: 400, error: 'invalid_request' });
    const conference = this.conferences.get(id);
    const reservationId = String(body.reservationId);
    const seats = body.seats as Seat[];
    if (!conference) return reply(404, { error: 'conference_not_found' });
    const existing = conference.reservations.get(reservationId);
    if (existing) {
      // As the contract says: the same id with the same seats repeats the answer; otherwise it is a conflict.
      const same = existing.status === 'reserved' && JSON.stringify(existing.seats) === JSON.stringify(seats);
      return same
        ? reply(200, { reservationId, conferenceId: id, seats: existing.seats, status: 'reserved' })
        : reply(409, { status: 409, error: 'reservation_conflict', reservationId });
    }
    const refused = refuseSeats(conference, seats);
    if (refused) return refused;
    move(conference, seats, 'reserved', 1);
    this.position++;
    conference.reservations.set(reservationId, { seats, status: 'reserved' });
    return reply(201, { reservationId, conferenceId: id, seats, status: 'reserved' });
  }

  private listing(id: string, query: URLSearchParams): StubResponse {
    const conference = this.conferences.get(id);
    const after = query.get('after') ?? '';
    const limit = Number(query.get('limit') ?? '100');
    const lagging = this.listingLag > 0;
    if (lagging) this.listingLag--;
    const all = lagging
      ? []
      : [...(conference?.reservations ?? new Map()).entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    const page = all
      .filter(([reservationId]) => reservationId > after)
      .slice(0, limit)
      .map(([reservationId, r]) => ({
        reservationId,
        conferenceId: id,
        seats: r.seats,
        status: r.status,
        ...(r.expiresAt === undefined ? {} : { expiresAt: iso(r.expiresAt) }),
        ...(r.expiredAt === undefined ? {} : { expiredAt: iso(r.expiredAt) }),
      }));
    const last = page.at(-1);
    return reply(200, {
      conferenceId: id,
      reservations: page,
      ...(last && page.length === limit ? { next: `?after=${last.reservationId}&limit=${limit}` } : {}),
    });
  }

  availability(id: string): Availability {
    const conference = this.conferences.get(id);
    return {
      conferenceId: id,
      name: conference?.name ?? '',
      seatTypes: (conference?.seatTypes ?? []).map((s) => ({ ...s, remaining: s.capacity - s.reserved - s.held })),
      position: this.position,
    };
  }

  /** POST holds, POST holds/:reservationId/confirm and DELETE holds/:reservationId, as docs/api.md has them. */
  private holds(id: string, rest: string[], method: string, body: Record<string, unknown>): StubResponse {
    const conference = this.conferences.get(id);
    if (!conference) return reply(404, { error: 'conference_not_found' });
    const [reservationId = '', action] = rest;
    if (rest.length === 0 && method === 'POST') return this.hold(id, conference, body);
    const reservation = conference.reservations.get(reservationId);
    const answer = (r: FakeReservation) =>
      reply(200, { reservationId, conferenceId: id, seats: r.seats, status: r.status, expiresAt: iso(r.expiresAt) });
    if (rest.length === 2 && action === 'confirm' && method === 'POST') {
      if (this.confirmAnswer) return this.confirmAnswer();
      if (reservation?.expiresAt === undefined) return reply(404, { error: 'hold_not_found', reservationId });
      const late =
        reservation.status === 'expired' || (reservation.status === 'held' && Date.now() >= reservation.expiresAt);
      if (late) return reply(409, { error: 'hold_expired', reservationId, expiresAt: iso(reservation.expiresAt) });
      if (reservation.status === 'released') return reply(409, { error: 'reservation_conflict', reservationId });
      if (reservation.status === 'held') {
        move(conference, reservation.seats, 'held', -1);
        move(conference, reservation.seats, 'reserved', 1);
        reservation.status = 'confirmed';
        this.position++;
      }
      return answer(reservation);
    }
    if (rest.length === 1 && method === 'DELETE') {
      if (reservation?.expiresAt === undefined) return reply(404, { error: 'hold_not_found', reservationId });
      if (reservation.status === 'confirmed') return reply(409, { error: 'reservation_conflict', reservationId });
      if (reservation.status === 'held') {
        move(conference, reservation.seats, 'held', -1);
        reservation.status = 'released';
        this.position++;
      }
      return answer(reservation);
    }
    return reply(404, { error: 'not_found' });
  }

  private hold(id: string, conference: FakeConference, body: Record<string, unknown>): StubResponse {
    const parsed = holdSchema.safeParse(body);
    if (!parsed.success) return reply(400, { status: 400, error: 'invalid_request' });
    const { reservationId = 'generated', seats, holdSeconds } = parsed.data;
    const existing = conference.reservations.get(reservationId);
    if (existing) {
      // As the contract says: the same seats while held or confirmed repeat the answer (the first due time stands).
      const same =
        (existing.status === 'held' || existing.status === 'confirmed') &&
        JSON.stringify(existing.seats) === JSON.stringify(seats);
      return same
        ? reply(200, {
            reservationId,
            conferenceId: id,
            seats,
            status: existing.status,
            expiresAt: iso(existing.expiresAt),
          })
        : reply(409, { status: 409, error: 'reservation_conflict', reservationId });
    }
    const refused = refuseSeats(conference, seats);
    if (refused) return refused;
    move(conference, seats, 'held', 1);
    this.position++;
    const expiresAt = Date.now() + holdSeconds * 1000;
    conference.reservations.set(reservationId, { seats, status: 'held', expiresAt });
    return reply(201, { reservationId, conferenceId: id, seats, status: 'held', expiresAt: iso(expiresAt) });
  }

  /** Expires the holds whose due time plus the expirer's lag has passed, as the server's expirer does. */
  private expireDue() {
    const lagOf = this.expiryLagMs;
    if (!lagOf) return;
    for (const conference of this.conferences.values()) {
      for (const reservation of conference.reservations.values()) {
        if (reservation.status !== 'held' || reservation.expiresAt === undefined) continue;
        const expiredAt = reservation.expiresAt + lagOf(this.expired);
        if (expiredAt > Date.now()) continue;
        this.expired++;
        move(conference, reservation.seats, 'held', -1);
        Object.assign(reservation, { status: 'expired', expiredAt });
        this.position++;
      }
    }
  }
}

/** Adds (sign 1) or takes (sign -1) seats to or from a count of each of their seat types. */
const move = (conference: FakeConference, seats: Seat[], count: 'reserved' | 'held', sign: 1 | -1) => {
  for (const { seatType, quantity } of seats) {
    const seat = conference.seatTypes.find((s) => s.type === seatType);
    if (seat) seat[count] += sign * quantity;
  }
};

/** The service's refusal of seats the conference does not have or has not enough of left, if any. */
const refuseSeats = (conference: FakeConference, seats: Seat[]): StubResponse | undefined => {
  const unknown = seats.filter(({ seatType }) => !conference.seatTypes.some((s) => s.type === seatType));
  if (unknown.length > 0) {
    return reply(400, { status: 400, error: 'unknown_seat_type', seatTypes: unknown.map((s) => s.seatType) });
  }
  const short = seats.some(({ seatType, quantity }) => {
    const seat = conference.seatTypes.find((s) => s.type === seatType);
    return seat !== undefined && seat.capacity - seat.reserved - seat.held < quantity;
  });
  return short ? reply(409, { status: 409, error: 'insufficient_seats' }) : undefined;
};

// ---------------------------------------------------------------------------------------------------
// loading a script

const tempDirs: string[] = [];

type Loaded = {
  script: K6Script;
  state: StubState;
  service: FakeService;
  /** Module specifiers other than k6's modules and relative files, per file. */
  foreignImports: string[];
  /** k6 module imports that were pointed at stubs. */
  stubbedImports: string[];
};

const load = async (name: ScriptName, env: Record<string, string> = {}): Promise<Loaded> => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'seat-surge-k6-'));
  tempDirs.push(dir);
  const foreignImports: string[] = [];
  const stubbedImports: string[] = [];
  await writeFile(path.join(dir, 'k6-stub-state.js'), STATE_SOURCE);
  for (const stub of Object.values(STUBS)) await writeFile(path.join(dir, stub.file), stub.source);
  for (const file of (await readdir(K6_DIR)).filter((f) => f.endsWith('.js'))) {
    const source = await readFile(path.join(K6_DIR, file), 'utf8');
    const rewritten = source.replace(
      /(\bfrom\s*|\bimport\s*)(['"])([^'"]+)\2/g,
      (match, keyword: string, quote: string, specifier: string) => {
        const stub = STUBS[specifier];
        if (stub) {
          stubbedImports.push(`${file}: ${specifier}`);
          return `${keyword}${quote}./${stub.file}${quote}`;
        }
        if (!specifier.startsWith('./')) foreignImports.push(`${file}: ${specifier}`);
        return match;
      },
    );
    await writeFile(path.join(dir, file), rewritten);
  }
  const fullEnv: Record<string, string> = { BASE_URL, ADMIN_TOKEN: OPERATOR_TOKEN, ...env };
  for (const [variable, value] of Object.entries(fullEnv)) if (value === '') delete fullEnv[variable];
  (globalThis as Record<string, unknown>).__ENV = fullEnv;
  const state = (await import(pathToFileURL(path.join(dir, 'k6-stub-state.js')).href)).state as StubState;
  const script = (await import(pathToFileURL(path.join(dir, name)).href)) as K6Script;
  const service = new FakeService(PREFIXES[fullEnv.DESIGN ?? 'es'] ?? '/conferences');
  state.respond = service.respond;
  if (name === 'checkout.js') {
    vi.useFakeTimers({ toFake: ['Date'] });
    state.onSleep = (seconds) => vi.setSystemTime(Date.now() + seconds * 1000);
  }
  return { script, state, service, foreignImports, stubbedImports };
};

const sum = (state: StubState, metric: string) =>
  (state.metrics[metric]?.samples ?? []).reduce((total, { value }) => total + value, 0);
const failedChecks = (state: StubState) => state.checks.filter((c) => !c.passed).map((c) => c.name);
const teardownOf = (script: K6Script) => {
  const teardown = script.teardown;
  if (!teardown) throw new Error('the script has no teardown');
  return teardown;
};

/** Small runs, so the fakes stay small; teardown's settle budget is kept for the lag tests. */
const ENV: Record<ScriptName, Record<string, string>> = {
  'surge.js': { CAPACITY: '5', PEAK_RATE: '200', DURATION: '5s' },
  'spread.js': { CONFERENCES: '3', CAPACITY: '50', PEAK_RATE: '200', DURATION: '5s' },
  'hotspot.js': { CONFERENCES: '3', CAPACITY: '50', PEAK_RATE: '200', DURATION: '5s' },
  'mixed.js': { CAPACITY: '50', PEAK_RATE: '200', DURATION: '5s' },
  'spike.js': { BASE_RATE: '20', SPIKE_RATE: '60', BASE_SECONDS: '1', SPIKE_SECONDS: '1', RECOVERY_SECONDS: '2' },
  'checkout.js': { CAPACITY: '50', PEAK_RATE: '200', DURATION: '5s' },
};

beforeEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  // The scripts log the integrity summary (and failures) as k6 would print them.
  vi.spyOn(console, 'log').mockImplementation(() => {});
  vi.spyOn(console, 'error').mockImplementation(() => {});
});

afterAll(async () => {
  vi.restoreAllMocks();
  vi.useRealTimers();
  delete (globalThis as Record<string, unknown>).__ENV;
  await Promise.all(tempDirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe.each(SCRIPTS)('k6 script %s', (name) => {
  it('imports nothing but k6 modules and its shared lib', async () => {
    const { foreignImports, stubbedImports } = await load(name, ENV[name]);
    expect(foreignImports).toEqual([]);
    expect(stubbedImports).toContain('lib.js: k6/http');
  });

  it('drives an open model: arrival-rate scenarios only, per second, with VUs to spare', async () => {
    const { script } = await load(name, ENV[name]);
    const scenarios = Object.values(script.options.scenarios);
    expect(scenarios.length).toBeGreaterThan(0);
    for (const scenario of scenarios) {
      expect(['ramping-arrival-rate', 'constant-arrival-rate']).toContain(scenario.executor);
      expect(scenario.timeUnit).toBe('1s');
      expect(scenario.preAllocatedVUs).toBeGreaterThan(0);
      expect(scenario.maxVUs).toBeGreaterThanOrEqual(scenario.preAllocatedVUs ?? Infinity);
    }
  });

  it('sets thresholds on p(99) reservation (or hold) latency, unexpected answers and integrity failures', async () => {
    const { script } = await load(name, ENV[name]);
    const thresholds = script.options.thresholds;
    expect(Object.keys(thresholds).length).toBeGreaterThan(0);
    expect(thresholds[`http_req_duration{kind:${MAIN_KIND(name)}}`]).toEqual(['p(99)<1000']);
    expect(
      Object.values(thresholds)
        .flat()
        .some((t) => t.startsWith('p(99)')),
    ).toBe(true);
    expect(thresholds.unexpected_status).toEqual(['rate<0.01']);
    expect(thresholds.integrity_failures).toEqual(['count==0']);
  });

  it('takes the p(99) bound and the error rate from P99_MS and ERROR_RATE', async () => {
    const { script } = await load(name, { ...ENV[name], P99_MS: '250', ERROR_RATE: '0.05' });
    expect(script.options.thresholds[`http_req_duration{kind:${MAIN_KIND(name)}}`]).toEqual(['p(99)<250']);
    expect(script.options.thresholds.unexpected_status).toEqual(['rate<0.05']);
  });

  it('exports setup, default and teardown', async () => {
    const { script } = await load(name, ENV[name]);
    expect(typeof script.setup).toBe('function');
    expect(typeof script.default).toBe('function');
    expect(typeof (script.teardown ?? script.handleSummary)).toBe('function');
  });

  it('setup creates its conferences at BASE_URL/conferences with valid, fresh ids', async () => {
    const { script, state, service } = await load(name, ENV[name]);
    const data = script.setup();
    const creates = state.requests.filter((r) => r.method === 'POST');
    expect(creates.length).toBe({ 'spread.js': 3, 'hotspot.js': 4 }[name as string] ?? 1);
    for (const request of creates) {
      expect(request.url).toBe(`${BASE_URL}/conferences`);
      const body = JSON.parse(request.body ?? '{}') as { id: string; name: string; seatTypes: unknown[] };
      expect(body.id).toMatch(CONFERENCE_ID);
      expect(body.name.length).toBeGreaterThan(0);
      expect(body.seatTypes.length).toBeGreaterThan(0);
    }
    expect(data.conferences.map((c) => c.id).sort()).toEqual([...service.conferences.keys()].sort());
    const again = (await load(name, ENV[name])).script.setup();
    expect(again.conferences[0]?.id).not.toBe(data.conferences[0]?.id);
  });

  it.each(OTHER_DESIGNS(name))("setup uses the design's own path when DESIGN=%s", async (designName) => {
    const { script, state, service } = await load(name, { ...ENV[name], DESIGN: designName });
    const data = script.setup();
    expect(state.requests.length).toBeGreaterThan(0);
    for (const request of state.requests) expect(request.url).toBe(`${BASE_URL}${PREFIXES[designName]}`);
    expect(service.conferences.size).toBe(data.conferences.length);
  });

  it('sends the operator token (ADMIN_TOKEN) on the operator routes only', async () => {
    const { script, state } = await load(name, ENV[name]);
    const data = script.setup();
    for (let i = 0; i < 5; i++) script.default(data);
    teardownOf(script)(data);
    const operator = (r: StubRequest) =>
      r.method === 'POST' ? r.url.endsWith('/conferences') : /\/reservations\?/.test(r.url) && r.method === 'GET';
    const authorization = (r: StubRequest) => r.params.headers?.authorization;
    expect(state.requests.filter(operator).length).toBeGreaterThan(0);
    expect(state.requests.filter(operator).map(authorization)).toEqual(
      state.requests.filter(operator).map(() => `Bearer ${OPERATOR_TOKEN}`),
    );
    expect(state.requests.filter((r) => !operator(r) && authorization(r) !== undefined)).toEqual([]);
  });

  it('setup stops at once, saying why, without ADMIN_TOKEN', async () => {
    const { script, state } = await load(name, { ...ENV[name], ADMIN_TOKEN: '' });
    expect(() => script.setup()).toThrow(/ADMIN_TOKEN must be set/);
    expect(state.requests).toEqual([]);
  });

  it('setup fails loudly when creating a conference does not answer 201', async () => {
    const { script, service } = await load(name, ENV[name]);
    service.createStatus = 409;
    expect(() => script.setup()).toThrow(/answered 409, not 201/);
  });

  it('teardown finds no integrity failure when availability and listing agree', async () => {
    const { script, state } = await load(name, ENV[name]);
    const data = script.setup();
    for (let i = 0; i < 20; i++) script.default(data);
    state.checks.length = 0;
    teardownOf(script)(data);
    expect(failedChecks(state)).toEqual([]);
    expect(state.checks.filter((c) => c.name.startsWith('integrity:')).length).toBeGreaterThan(0);
    // A sample even without failures, so the count==0 threshold is evaluated.
    expect(state.metrics.integrity_failures?.samples.length).toBeGreaterThan(0);
    expect(sum(state, 'integrity_failures')).toBe(0);
    for (const { id } of data.conferences) {
      const urls = state.requests.map((r) => r.url);
      expect(urls).toContain(`${BASE_URL}/conferences/${id}/availability?consistency=strong`);
      expect(urls.some((u) => u.startsWith(`${BASE_URL}/conferences/${id}/reservations?`))).toBe(true);
    }
  });

  it('teardown counts an integrity failure when reserved exceeds capacity', async () => {
    const { script, state, service } = await load(name, ENV[name]);
    const data = script.setup();
    script.default(data);
    service.tamper = (a) => ({
      ...a,
      seatTypes: a.seatTypes.map((s) => ({ ...s, reserved: s.capacity + 1, remaining: -1 })),
    });
    teardownOf(script)(data);
    expect(sum(state, 'integrity_failures')).toBeGreaterThan(0);
    expect(failedChecks(state)).toContain('integrity: 0 <= reserved + held <= capacity');
  });

  it('teardown counts an integrity failure when remaining is not capacity - reserved - held', async () => {
    const { script, state, service } = await load(name, ENV[name]);
    const data = script.setup();
    service.tamper = (a) => ({ ...a, seatTypes: a.seatTypes.map((s) => ({ ...s, remaining: s.remaining + 1 })) });
    teardownOf(script)(data);
    expect(sum(state, 'integrity_failures')).toBeGreaterThan(0);
    expect(failedChecks(state)).toEqual(expect.arrayContaining(['integrity: remaining == capacity - reserved - held']));
  });
});

describe.each(RESERVING_SCRIPTS)('k6 script %s iteration', (name) => {
  it.each(Object.keys(PREFIXES))('an iteration POSTs a reservation with seats to the design %s', async (design) => {
    const { script, state } = await load(name, { ...ENV[name], DESIGN: design });
    const prefix = PREFIXES[design] ?? '';
    const data = script.setup();
    state.requests.length = 0;
    // mixed.js rolls first for reserve / cancel / read: 0.5 is a reservation.
    if (name === 'mixed.js') vi.spyOn(Math, 'random').mockReturnValueOnce(0.5);
    script.default(data);
    expect(state.requests).toHaveLength(1);
    const [request] = state.requests;
    expect(request?.method).toBe('POST');
    const ids = data.conferences.map((c) => c.id);
    const match = /^(.*)\/([^/]+)\/reservations$/.exec(request?.url ?? '');
    expect(match?.[1]).toBe(`${BASE_URL}${prefix}`);
    expect(ids).toContain(match?.[2]);
    expect(request?.params.tags?.kind).toBe('reserve');
    expect(request?.params.headers?.['content-type']).toBe('application/json');
    const body = JSON.parse(request?.body ?? '{}') as { reservationId: string; seats: Seat[] };
    expect(body.reservationId).toMatch(RESERVATION_ID);
    expect(body.seats.length).toBeGreaterThan(0);
    for (const seat of body.seats) {
      expect(['standard', 'vip']).toContain(seat.seatType);
      expect(Number.isInteger(seat.quantity) && seat.quantity >= 1 && seat.quantity <= 100).toBe(true);
    }
    expect(sum(state, 'reservations_accepted')).toBe(1);
    expect(sum(state, 'unexpected_status')).toBe(0);
  });
});

describe.each(RAMPED_SCRIPTS)('k6 script %s ramp', (name) => {
  it('drives an open model: a ramping-arrival-rate scenario ramping to PEAK_RATE and held for DURATION', async () => {
    const { script } = await load(name, ENV[name]);
    const scenarios = Object.values(script.options.scenarios);
    const scenario = scenarios.find((s) => s.executor === 'ramping-arrival-rate');
    expect(scenario).toBeDefined();
    expect(scenario?.timeUnit).toBe('1s');
    expect(scenario?.startRate).toBeGreaterThan(0);
    expect(scenario?.startRate).toBeLessThan(200);
    expect(scenario?.preAllocatedVUs).toBeGreaterThan(0);
    expect(scenario?.maxVUs).toBeGreaterThanOrEqual(scenario?.preAllocatedVUs ?? Infinity);
    expect(scenario?.stages?.at(-1)).toEqual({ duration: '5s', target: 200 });
    expect(Math.max(...(scenario?.stages ?? []).map((s) => s.target))).toBe(200);
  });
});

describe('k6 integrity check against the eventually consistent listing', () => {
  it('re-reads a lagging listing until it matches the strong availability', async () => {
    const { script, state, service } = await load('surge.js', ENV['surge.js']);
    const data = script.setup();
    for (let i = 0; i < 3; i++) script.default(data);
    service.listingLag = 2;
    teardownOf(script)(data);
    expect(sum(state, 'integrity_failures')).toBe(0);
    expect(state.requests.filter((r) => r.url.includes('/reservations?')).length).toBe(3);
  });

  it('fails when the listing never catches up within SETTLE_SECONDS', async () => {
    const { script, state, service } = await load('surge.js', { ...ENV['surge.js'], SETTLE_SECONDS: '1' });
    const data = script.setup();
    script.default(data);
    service.listingLag = 1_000;
    teardownOf(script)(data);
    expect(sum(state, 'integrity_failures')).toBe(1);
    expect(failedChecks(state)).toEqual(['integrity: listing matches strong availability']);
    // 1 s at a 0.5 s pause: the first read and two more, never an endless loop.
    expect(state.requests.filter((r) => r.url.includes('/reservations?')).length).toBe(3);
  });

  it('pages through the listing with after= until a page is not full', async () => {
    const { script, state } = await load('spread.js', { ...ENV['spread.js'], CONFERENCES: '1', CAPACITY: '5000' });
    const data = script.setup();
    for (let i = 0; i < 1_100; i++) script.default(data);
    teardownOf(script)(data);
    const pages = state.requests.filter((r) => r.url.includes('/reservations?'));
    expect(pages.length).toBe(2);
    expect(pages[0]?.url).toContain('after=&limit=1000');
    expect(pages[1]?.url).toMatch(/after=k6-[0-9a-f-]+&limit=1000/);
    expect(sum(state, 'integrity_failures')).toBe(0);
  });
});

describe('k6 surge', () => {
  it('sells out: 201s up to the capacity, then 409s, and teardown reports as many seats as 201s', async () => {
    const { script, state } = await load('surge.js', ENV['surge.js']);
    const data = script.setup();
    for (let i = 0; i < 8; i++) script.default(data);
    expect(sum(state, 'reservations_accepted')).toBe(5);
    expect(sum(state, 'reservations_sold_out')).toBe(3);
    expect(sum(state, 'unexpected_status')).toBe(0);
    teardownOf(script)(data);
    expect(sum(state, 'integrity_failures')).toBe(0);
    expect(state.metrics.seats_reserved_at_end?.samples.at(-1)?.value).toBe(5);
  });

  it('counts busy 503s and other answers apart from sold-out 409s, and both as unexpected', async () => {
    const { script, state, service } = await load('surge.js', ENV['surge.js']);
    const data = script.setup();
    const answers = [
      reply(503, { error: 'busy' }),
      reply(500, { error: 'internal_error' }),
      reply(409, { error: 'reservation_conflict' }),
      reply(409, { error: 'insufficient_seats' }),
    ];
    service.reserveAnswer = () => answers.shift() ?? reply(0, null);
    for (let i = 0; i < 4; i++) script.default(data);
    expect(sum(state, 'requests_busy')).toBe(1);
    expect(sum(state, 'request_errors')).toBe(2);
    expect(sum(state, 'reservations_sold_out')).toBe(1);
    expect(sum(state, 'reservations_accepted')).toBe(0);
    expect(state.metrics.unexpected_status?.samples.map((s) => s.value)).toEqual([1, 1, 1, 0]);
  });
});

describe('k6 mixed', () => {
  it('cancels only reservations this VU made, each once, and reserves when there is none', async () => {
    const { script, state, service } = await load('mixed.js', ENV['mixed.js']);
    const data = script.setup();
    const conferenceId = data.conferences[0]?.id ?? '';
    const random = vi.spyOn(Math, 'random');
    // 0.25 rolls a cancel; with nothing to cancel yet, this iteration reserves instead.
    random.mockReturnValueOnce(0.25);
    script.default(data);
    const first = state.requests.at(-1);
    expect(first?.method).toBe('POST');
    const reservationId = (JSON.parse(first?.body ?? '{}') as { reservationId: string }).reservationId;
    random.mockReturnValueOnce(0.25).mockReturnValueOnce(0);
    script.default(data);
    const cancel = state.requests.at(-1);
    expect(cancel?.method).toBe('DELETE');
    expect(cancel?.url).toBe(`${BASE_URL}/conferences/${conferenceId}/reservations/${reservationId}`);
    expect(cancel?.params.tags?.kind).toBe('cancel');
    expect(service.conferences.get(conferenceId)?.reservations.get(reservationId)?.status).toBe('cancelled');
    random.mockReturnValueOnce(0.25);
    script.default(data);
    expect(state.requests.at(-1)?.method).toBe('POST');
    expect(state.requests.filter((r) => r.method === 'DELETE')).toHaveLength(1);
  });

  it('reads the availability on a fifth of the rolls', async () => {
    const { script, state } = await load('mixed.js', ENV['mixed.js']);
    const data = script.setup();
    vi.spyOn(Math, 'random').mockReturnValueOnce(0.1);
    script.default(data);
    const read = state.requests.at(-1);
    expect(read?.method).toBe('GET');
    expect(read?.url).toBe(`${BASE_URL}/conferences/${data.conferences[0]?.id}/availability`);
    expect(read?.params.tags?.kind).toBe('read');
    expect(sum(state, 'availability_reads')).toBe(1);
  });

  it('sets p(99) thresholds on reservations, cancels and reads', async () => {
    const { script } = await load('mixed.js', ENV['mixed.js']);
    for (const kind of ['reserve', 'cancel', 'read']) {
      expect(script.options.thresholds[`http_req_duration{kind:${kind}}`]).toEqual(['p(99)<1000']);
    }
  });
});

describe('k6 script hotspot.js', () => {
  it('sends HOT_SHARE of the reservations to the hot conference, tagged, with a p(99) threshold of their own', async () => {
    const { script, state } = await load('hotspot.js', { ...ENV['hotspot.js'], HOT_SHARE: '0.5', P99_MS: '300' });
    const data = script.setup();
    const hot = data.conferences[0]?.id ?? '';
    expect(hot).toMatch(/-hot$/);
    state.requests.length = 0;
    for (let i = 0; i < 400; i++) script.default(data);
    const toHot = state.requests.filter((r) => r.url.includes(`/${hot}/reservations`));
    expect(toHot.length).toBeGreaterThan(140);
    expect(toHot.length).toBeLessThan(260);
    for (const request of state.requests) {
      expect(request.params.tags?.conference).toBe(toHot.includes(request) ? 'hot' : 'quiet');
    }
    expect(script.options.thresholds['http_req_duration{kind:reserve,conference:hot}']).toEqual(['p(99)<300']);
  });
});

describe('k6 script spike.js', () => {
  /** The three parts as [name, rate, duration, start time], in the order they run. */
  const scheduleOf = (script: K6Script) =>
    Object.entries(script.options.scenarios).map(([part, s]) => [part, s.rate, s.duration, s.startTime]);

  it('steps from the base rate to the spike rate and back, with the defaults of BASE_RATE, SPIKE_RATE and the *_SECONDS', async () => {
    const { script } = await load('spike.js');
    expect(scheduleOf(script)).toEqual([
      ['base', 500, '5s', '0s'],
      ['spike', 3000, '5s', '5s'],
      ['recovery', 500, '10s', '10s'],
    ]);
  });

  it('takes the rates and the durations of the parts from the environment', async () => {
    const { script } = await load('spike.js', {
      BASE_RATE: '200',
      SPIKE_RATE: '600',
      BASE_SECONDS: '3',
      SPIKE_SECONDS: '3',
      RECOVERY_SECONDS: '4',
    });
    expect(scheduleOf(script)).toEqual([
      ['base', 200, '3s', '0s'],
      ['spike', 600, '3s', '3s'],
      ['recovery', 200, '4s', '6s'],
    ]);
  });

  it('runs each part as a constant-arrival-rate scenario tagged with its part, its VUs sized from its rate', async () => {
    const { script } = await load('spike.js');
    for (const [part, scenario] of Object.entries(script.options.scenarios)) {
      expect(scenario.executor).toBe('constant-arrival-rate');
      expect(scenario.timeUnit).toBe('1s');
      expect(scenario.tags).toEqual({ part });
    }
    const { base, spike, recovery } = script.options.scenarios;
    // Little's law as for the ramped scripts: ~200 ms answers pre-allocated, up to 2 s answers at most.
    expect([base?.preAllocatedVUs, base?.maxVUs]).toEqual([100, 1000]);
    expect([spike?.preAllocatedVUs, spike?.maxVUs]).toEqual([600, 6000]);
    expect([recovery?.preAllocatedVUs, recovery?.maxVUs]).toEqual([100, 1000]);
  });

  it("bounds the spike's p(99) by P99_MS and shows each part's latency and share within SLO_MS", async () => {
    const thresholds = (await load('spike.js')).script.options.thresholds;
    expect(thresholds['http_req_duration{part:spike}']).toEqual(['p(99)<1000']);
    // Shown in the summary, never failing a run: the harness's recovery objective is not a k6 threshold.
    expect(thresholds['http_req_duration{part:base}']).toEqual(['max>=0']);
    expect(thresholds['http_req_duration{part:recovery}']).toEqual(['max>=0']);
    for (const part of ['base', 'spike', 'recovery']) {
      expect(thresholds[`answered_within_slo{part:${part}}`]).toEqual(['rate>=0']);
    }
    const strict = (await load('spike.js', { P99_MS: '400' })).script.options.thresholds;
    expect(strict['http_req_duration{part:spike}']).toEqual(['p(99)<400']);
  });

  it('creates one conference of 10,000,000 standard and 10,000,000 vip seats, the most the service accepts', async () => {
    const { script, service } = await load('spike.js', ENV['spike.js']);
    const data = script.setup();
    expect(data.conferences).toHaveLength(1);
    expect(data.conferences[0]?.seatTypes).toEqual([
      { type: 'standard', capacity: 10_000_000 },
      { type: 'vip', capacity: 10_000_000 },
    ]);
    expect(MAX_CAPACITY).toBe(10_000_000);
    expect(service.conferences.size).toBe(1);
  });

  it('counts answered reservations within SLO_MS, and leaves out requests that got no answer', async () => {
    const { script, state, service } = await load('spike.js', { ...ENV['spike.js'], SLO_MS: '50' });
    const data = script.setup();
    const answers = [
      { ...reply(201, {}), timings: { duration: 20 } },
      { ...reply(503, { error: 'busy' }), timings: { duration: 80 } },
      { ...reply(0, null), timings: { duration: 60_000 } },
    ];
    service.reserveAnswer = () => answers.shift() ?? reply(0, null);
    for (let i = 0; i < 3; i++) script.default(data);
    expect(state.metrics.answered_within_slo?.samples.map((s) => s.value)).toEqual([1, 0]);
    expect(sum(state, 'reservations_accepted')).toBe(1);
    expect(sum(state, 'requests_busy')).toBe(1);
    expect(sum(state, 'request_errors')).toBe(1);
  });
});

describe('k6 script checkout.js', () => {
  const HOLD_DESIGNS = ['es', 'es-batched', 'es-direct', 'crud', 'crud-atomic'];
  const requestsOf = (state: StubState, method: string, path: RegExp) =>
    state.requests.filter((r) => r.method === method && path.test(new URL(r.url).pathname));
  /** A hold through the fake service, as another client would make it. */
  const holdDirectly = (service: FakeService, conferenceId: string, reservationId: string, holdSeconds: number) =>
    service.respond({
      method: 'POST',
      url: `${BASE_URL}/conferences/${conferenceId}/holds`,
      body: JSON.stringify({ reservationId, seats: [{ seatType: 'standard', quantity: 1 }], holdSeconds }),
      params: {},
    });

  it.each(HOLD_DESIGNS)(
    'an iteration holds 1-2 standard seats for HOLD_SECONDS at the design %s, then thinks',
    async (designName) => {
      const { script, state } = await load('checkout.js', {
        ...ENV['checkout.js'],
        DESIGN: designName,
        HOLD_SECONDS: '5',
      });
      const data = script.setup();
      state.requests.length = 0;
      script.default(data);
      const [request] = state.requests;
      expect(request?.method).toBe('POST');
      expect(request?.url).toBe(`${BASE_URL}${PREFIXES[designName]}/${data.conferences[0]?.id}/holds`);
      expect(request?.params.tags?.kind).toBe('hold');
      const body = JSON.parse(request?.body ?? '{}') as { reservationId: string; seats: Seat[]; holdSeconds: number };
      expect(body.reservationId).toMatch(RESERVATION_ID);
      expect(body.holdSeconds).toBe(5);
      expect(body.seats).toHaveLength(1);
      expect(body.seats[0]?.seatType).toBe('standard');
      expect([1, 2]).toContain(body.seats[0]?.quantity);
      expect(sum(state, 'holds_accepted')).toBe(1);
      expect(state.sleeps).toHaveLength(1);
      expect(state.sleeps[0]).toBeGreaterThanOrEqual(0.2);
      expect(state.sleeps[0]).toBeLessThanOrEqual(1.5);
      // Then at most one more request, on the same hold: a confirm or a release (or nothing: abandoned).
      const rest = state.requests.slice(1);
      expect(rest.length).toBeLessThanOrEqual(1);
      for (const r of rest) expect(r.url).toContain(`/holds/${body.reservationId}`);
    },
  );

  it('splits the visitors 60% confirm, 30% abandon, 10% release', async () => {
    const { script, state, service } = await load('checkout.js', { ...ENV['checkout.js'], CAPACITY: '100000' });
    const data = script.setup();
    const visitors = 2000;
    for (let i = 0; i < visitors; i++) script.default(data);
    const confirms = requestsOf(state, 'POST', /\/holds\/[^/]+\/confirm$/).length;
    const releases = requestsOf(state, 'DELETE', /\/holds\/[^/]+$/).length;
    const abandons = sum(state, 'holds_abandoned');
    expect(sum(state, 'holds_accepted')).toBe(visitors);
    expect(confirms + releases + abandons).toBe(visitors);
    expect(confirms).toBeGreaterThan(1080);
    expect(confirms).toBeLessThan(1320);
    expect(abandons).toBeGreaterThan(510);
    expect(abandons).toBeLessThan(690);
    expect(releases).toBeGreaterThan(140);
    expect(releases).toBeLessThan(260);
    // Every confirm came well within the 3 s hold: none too late.
    expect(sum(state, 'confirms_accepted')).toBe(confirms);
    expect(sum(state, 'holds_released')).toBe(releases);
    expect(sum(state, 'hold_expired')).toBe(0);
    expect(sum(state, 'unexpected_status')).toBe(0);
    // The abandoned holds were expired by the fake's expirer as time went on (the last few not yet).
    expect(service.expired).toBeGreaterThan(abandons - 10);
    const { visitorChoice } = script as unknown as { visitorChoice: (roll: number) => string };
    expect([0, 0.5999, 0.6, 0.8999, 0.9, 0.9999].map(visitorChoice)).toEqual([
      'confirm',
      'confirm',
      'abandon',
      'abandon',
      'release',
      'release',
    ]);
  });

  it('counts holds refused for want of seats apart, as expected answers, when demand is above capacity', async () => {
    const { script, state } = await load('checkout.js', { ...ENV['checkout.js'], CAPACITY: '4' });
    const data = script.setup();
    for (let i = 0; i < 40; i++) script.default(data);
    expect(sum(state, 'holds_accepted') + sum(state, 'holds_sold_out')).toBe(40);
    expect(sum(state, 'holds_sold_out')).toBeGreaterThan(0);
    expect(sum(state, 'unexpected_status')).toBe(0);
    teardownOf(script)(data);
    expect(failedChecks(state)).toEqual([]);
  });

  it.each([
    [409, 'hold_expired', 'hold_expired', 0],
    [503, 'busy', 'requests_busy', 1],
    [409, 'reservation_conflict', 'request_errors', 1],
  ])('counts a confirm answered %i %s in %s (unexpected: %i)', async (status, error, metric, unexpected) => {
    const { script, state, service } = await load('checkout.js', { ...ENV['checkout.js'], CAPACITY: '1000' });
    const data = script.setup();
    service.confirmAnswer = () => reply(status, { error });
    for (let i = 0; i < 50; i++) script.default(data);
    const confirms = requestsOf(state, 'POST', /\/confirm$/).length;
    expect(confirms).toBeGreaterThan(0);
    expect(sum(state, metric)).toBe(confirms);
    expect(sum(state, 'confirms_accepted')).toBe(0);
    const samples = state.metrics.unexpected_status?.samples.filter((s) => s.tags?.kind === 'confirm') ?? [];
    expect(samples.map((s) => s.value)).toEqual(Array.from({ length: confirms }, () => unexpected));
  });

  it('teardown waits until every hold is due, finds no seat held, and reports the expiry lag of each expired hold', async () => {
    const { script, state, service } = await load('checkout.js', { ...ENV['checkout.js'], HOLD_SECONDS: '3' });
    const data = script.setup();
    for (let i = 0; i < 100; i++) script.default(data);
    const sleptBefore = state.sleeps.length;
    const end = Date.now();
    state.checks.length = 0;
    teardownOf(script)(data);
    // Every hold was made before teardown: HOLD_SECONDS from its start, every one is due.
    expect(state.sleeps[sleptBefore]).toBe(3);
    expect(Date.now() - end).toBeGreaterThanOrEqual(3000);
    expect(failedChecks(state)).toEqual([]);
    expect(state.checks.map((c) => c.name)).toContain('integrity: no seat held once every hold is due');
    expect(sum(state, 'integrity_failures')).toBe(0);
    expect(state.metrics.seats_held_at_end?.samples).toEqual([{ value: 0, tags: undefined }]);
    const lags = state.metrics.hold_expiry_lag?.samples.map((s) => s.value) ?? [];
    expect(lags.length).toBe(service.expired);
    expect(lags.length).toBeGreaterThan(0);
    expect(new Set(lags)).toEqual(new Set([150]));
    expect(console.log).toHaveBeenCalledWith(
      expect.stringMatching(
        /: \d+ holds expired, expiredAt - expiresAt p50 150 ms, p99 150 ms, max 150 ms \(0 still listed as held\)$/,
      ),
    );
  });

  it('teardown reports p50, p99 and max of the expiry lags', async () => {
    const { script, service } = await load('checkout.js', { ...ENV['checkout.js'], CAPACITY: '1000' });
    const data = script.setup();
    const conferenceId = data.conferences[0]?.id ?? '';
    // A hundred holds expired 1 to 100 ms late, in an order of their own.
    service.expiryLagMs = (n) => ((n * 37) % 100) + 1;
    for (let i = 0; i < 100; i++) holdDirectly(service, conferenceId, `k6-direct-hold-${i}`, 1);
    teardownOf(script)(data);
    expect(service.expired).toBe(100);
    expect(console.log).toHaveBeenCalledWith(
      expect.stringMatching(/: 100 holds expired, expiredAt - expiresAt p50 50 ms, p99 99 ms, max 100 ms /),
    );
  });

  it('teardown waits for the latest due time the listing shows when it is later than HOLD_SECONDS', async () => {
    const { script, state, service } = await load('checkout.js', ENV['checkout.js']);
    const data = script.setup();
    holdDirectly(service, data.conferences[0]?.id ?? '', 'k6-long-hold-0001', 60);
    teardownOf(script)(data);
    expect(state.sleeps[0]).toBeCloseTo(60, 3);
    expect(sum(state, 'integrity_failures')).toBe(0);
    expect(service.expired).toBe(1);
  });

  it('teardown counts an integrity failure when seats are still held once every hold is due', async () => {
    const { script, state, service } = await load('checkout.js', { ...ENV['checkout.js'], SETTLE_SECONDS: '1' });
    const data = script.setup();
    service.expiryLagMs = undefined;
    expect(holdDirectly(service, data.conferences[0]?.id ?? '', 'k6-left-hold-0001', 3).status).toBe(201);
    teardownOf(script)(data);
    expect(failedChecks(state)).toEqual(['integrity: no seat held once every hold is due']);
    expect(sum(state, 'integrity_failures')).toBe(1);
    expect(state.metrics.seats_held_at_end?.samples.at(-1)?.value).toBe(1);
    expect(console.error).toHaveBeenCalledWith(
      expect.stringContaining('1 seat(s) still held 1 s after the last due time'),
    );
  });

  it('bounds p(99) of holds, confirms, releases and (EXPIRY_P99_MS) the expiry lag, with VUs for the think time', async () => {
    const { script } = await load('checkout.js', { ...ENV['checkout.js'], EXPIRY_P99_MS: '500' });
    for (const kind of ['hold', 'confirm', 'release']) {
      expect(script.options.thresholds[`http_req_duration{kind:${kind}}`]).toEqual(['p(99)<1000']);
    }
    expect(script.options.thresholds.hold_expiry_lag).toEqual(['p(99)<500']);
    // 200 visitors/s, each up to 1.5 s of thinking: ~200 ms answers pre-allocated, up to 2 s answers at most.
    const scenario = script.options.scenarios.checkout;
    expect([scenario?.preAllocatedVUs, scenario?.maxVUs]).toEqual([340, 700]);
  });
});
