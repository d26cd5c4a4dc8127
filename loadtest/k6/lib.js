// Shared code of the k6 scenarios (surge.js, spread.js, hotspot.js, mixed.js, spike.js): where the
// service is, which design is driven, ids, the requests, how answers are classified and the
// end-of-run integrity check.
// Runs inside k6 (goja), so only k6's own modules are imported: no npm packages, no Node APIs.
//
//   k6 run -e DESIGN=crud -e BASE_URL=http://127.0.0.1:3000 loadtest/k6/surge.js
//
// Environment (all optional): BASE_URL (http://127.0.0.1:3000), DESIGN (es | es-batched | es-direct | crud | crud-atomic; es is
// the service's configured WRITE_PATH), PEAK_RATE (500
// iterations/s), DURATION (30s held at the peak), RAMP (2s per ramp step), P99_MS (1000), ERROR_RATE
// (0.01), PREALLOCATED_VUS / MAX_VUS (sized from PEAK_RATE), SETTLE_SECONDS (10, how long teardown
// waits for the eventually consistent reservations listing to catch up).

import { check, fail, sleep } from 'k6';
import http from 'k6/http';
import { Counter, Gauge, Rate } from 'k6/metrics';

/** Where each design is served; mirrors DESIGNS in loadtest/options.ts. */
export const DESIGNS = {
  es: '/conferences',
  'es-batched': '/batched/conferences',
  'es-direct': '/direct/conferences',
  crud: '/crud/conferences',
  'crud-atomic': '/crud-atomic/conferences',
};

const env = (name, fallback) => {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
};

/** A positive number from the environment, or the fallback; a bad value stops the run at once. */
export const envNumber = (name, fallback) => {
  const raw = env(name, undefined);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number (got "${raw}")`);
  return n;
};

/** A k6 duration from the environment: "30s", "2m", or a bare number of seconds. */
export const envDuration = (name, fallback) => {
  const raw = String(env(name, fallback)).trim();
  if (/^\d+(\.\d+)?$/.test(raw)) return `${raw}s`;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(raw)) throw new Error(`${name} must be a duration such as 30s (got "${raw}")`);
  return raw;
};

export const design = () => {
  const value = env('DESIGN', 'es');
  if (!Object.prototype.hasOwnProperty.call(DESIGNS, value)) {
    throw new Error(`DESIGN must be one of ${Object.keys(DESIGNS).join(', ')} (got "${value}")`);
  }
  return value;
};

export const baseUrl = () => String(env('BASE_URL', 'http://127.0.0.1:3000')).replace(/\/+$/, '');

/** The route prefix of the selected design, e.g. /conferences. */
export const prefix = () => DESIGNS[design()];

/** The collection URL of the selected design, e.g. http://127.0.0.1:3000/conferences. */
export const conferencesUrl = () => `${baseUrl()}${prefix()}`;

// ---------------------------------------------------------------------------------------------------
// ids

const hex = (digits) => {
  let s = '';
  for (let i = 0; i < digits; i++) s += Math.floor(Math.random() * 16).toString(16);
  return s;
};

/** A random version-4-shaped UUID (Math.random based; unique enough for load-test ids). */
export const uuidish = () =>
  `${hex(8)}-${hex(4)}-4${hex(3)}-${'89ab'.charAt(Math.floor(Math.random() * 4))}${hex(3)}-${hex(12)}`;

/** A conference id unique to this run: lowercase, digits and dashes, at most 64 characters. */
export const uniqueConferenceId = (scenario) => `k6-${scenario}-${Date.now().toString(36)}-${hex(6)}`;

/** A reservation id: unique per request, so every 201 is a new reservation and never a repeat. */
export const newReservationId = () => `k6-${uuidish()}`;

export const pick = (items) => items[Math.floor(Math.random() * items.length)];

/** The seat types of the conferences spread.js and hotspot.js create. */
export const SEAT_TYPES = ['standard', 'vip'];

/** 1-2 seats of one random seat type, or 1-2 seats of each (spread.js, hotspot.js). */
export const randomSeats = () => {
  const types = Math.random() < 0.5 ? [pick(SEAT_TYPES)] : SEAT_TYPES;
  return types.map((seatType) => ({ seatType, quantity: 1 + Math.floor(Math.random() * 2) }));
};

// ---------------------------------------------------------------------------------------------------
// options

/**
 * The VUs of an open-model scenario whose highest rate is `rate` iterations/s, by Little's law
 * (VUs in flight = rate × answer time): pre-allocated for ~200 ms answers, at most enough for 2 s
 * answers; past that k6 drops iterations (metric dropped_iterations). PREALLOCATED_VUS and MAX_VUS
 * override them.
 */
const vusFor = (rate) => ({
  preAllocatedVUs: envNumber('PREALLOCATED_VUS', Math.max(10, Math.ceil(rate / 5))),
  maxVUs: envNumber('MAX_VUS', Math.max(50, rate * 2)),
});

/**
 * An open-model scenario: `ramping-arrival-rate` from `startRate` through `stages`, then held at
 * `peak` for DURATION, with VUs sized from the peak rate.
 */
export const arrivalRateScenario = ({ startRate, peak, rampStages }) => ({
  executor: 'ramping-arrival-rate',
  startRate,
  timeUnit: '1s',
  ...vusFor(peak),
  stages: [...rampStages, { duration: envDuration('DURATION', '30s'), target: peak }],
  gracefulStop: '10s',
});

/**
 * One step of an open-model schedule (spike.js): `constant-arrival-rate` at `rate` for `seconds`,
 * starting `startSeconds` into the run, with VUs sized from its rate and its metrics tagged
 * `part`. Steps chained by start time change the rate at once, not along a ramp.
 */
export const constantRateStep = ({ part, rate, seconds, startSeconds }) => ({
  executor: 'constant-arrival-rate',
  rate,
  timeUnit: '1s',
  duration: `${seconds}s`,
  startTime: `${startSeconds}s`,
  ...vusFor(rate),
  gracefulStop: '10s',
  tags: { part },
});

/** How long each ramp step lasts (RAMP, default 2 s; the harness's rampSeconds). */
export const rampDuration = () => envDuration('RAMP', '2s');

/** Peak arrival rate (iterations per second) of every scenario. */
export const peakRate = () => Math.round(envNumber('PEAK_RATE', 500));

/**
 * The harness's ramp, as arrivalRateScenario options: a quarter, then half of the peak rate for
 * RAMP each, then all of it.
 */
export const harnessRamp = (peak, ramp = rampDuration()) => {
  const quarter = Math.max(1, Math.round(peak / 4));
  return {
    startRate: quarter,
    peak,
    rampStages: [
      { duration: ramp, target: quarter },
      { duration: ramp, target: Math.max(1, Math.round(peak / 2)) },
      { duration: ramp, target: peak },
    ],
  };
};

/** Latency and error-rate thresholds of one or more request kinds, plus the integrity counter. */
export const thresholdsFor = (kinds) => {
  const p99 = envNumber('P99_MS', 1000);
  const thresholds = {
    // Answers other than the expected ones (busy 503s included): at most ERROR_RATE of requests.
    unexpected_status: [`rate<${envNumber('ERROR_RATE', 0.01)}`],
    // Any failed integrity check (oversell, inconsistent counts, listing != availability) fails the run.
    integrity_failures: ['count==0'],
  };
  for (const kind of kinds) thresholds[`http_req_duration{kind:${kind}}`] = [`p(99)<${p99}`];
  return thresholds;
};

/** Options every scenario shares. */
export const commonOptions = {
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
  // Setup creates up to CONFERENCES conferences; teardown reads each back (two or more requests per
  // conference) and may wait up to SETTLE_SECONDS in all for the listing to catch up.
  teardownTimeout: '180s',
  setupTimeout: '180s',
};

/** A script's options: the common ones, its scenarios by name, and the thresholds of its request kinds. */
export const scenariosOptions = (scenarios, kinds) => ({
  ...commonOptions,
  scenarios,
  thresholds: thresholdsFor(kinds),
});

/** A script's options with its one scenario. */
export const scriptOptions = (name, scenario, kinds) => scenariosOptions({ [name]: scenario }, kinds);

// ---------------------------------------------------------------------------------------------------
// metrics (created in the init context, as k6 requires)

export const metrics = {
  /** 201: a new reservation, the seats are ours. */
  accepted: new Counter('reservations_accepted'),
  /** 200 to a reservation: an idempotent repeat (should not happen: ids are unique). */
  repeated: new Counter('reservations_repeated'),
  /** 409 insufficient_seats: sold out. */
  soldOut: new Counter('reservations_sold_out'),
  /** 503 busy: overloaded; an error, but no seat was sold. */
  busy: new Counter('requests_busy'),
  /** Anything else (other 4xx, 5xx, timeouts, refused connections). */
  errors: new Counter('request_errors'),
  cancelled: new Counter('reservations_cancelled'),
  reads: new Counter('availability_reads'),
  /** Per request: 1 when the answer was not one of the expected ones (busy and errors). */
  unexpected: new Rate('unexpected_status'),
  /** Failed integrity checks at teardown; the threshold count==0 makes `k6 run` exit non-zero. */
  integrityFailures: new Counter('integrity_failures'),
  /** Seats reserved at the end (strong availability, all conferences and types), set by teardown. */
  seatsReservedAtEnd: new Gauge('seats_reserved_at_end'),
};

// ---------------------------------------------------------------------------------------------------
// requests

const JSON_HEADERS = { 'content-type': 'application/json' };

// Marks which answers are "expected" for http_req_failed; a sold-out 409 is a correct answer.
const RESERVE_EXPECTED = http.expectedStatuses(200, 201, 409);
const OK_EXPECTED = http.expectedStatuses(200);
const CREATED_EXPECTED = http.expectedStatuses(201);

const params = (kind, name, responseCallback, tags = {}) => ({
  headers: JSON_HEADERS,
  // `name` groups URLs that differ only in ids, so k6 does not create a time series per conference.
  tags: { ...tags, kind, name },
  responseCallback,
});

/** The parsed JSON body of a response, or undefined (no body, not JSON). */
export const bodyOf = (res) => {
  try {
    return res.json();
  } catch (e) {
    return undefined;
  }
};

/**
 * What an answer means, per request kind:
 * - reserve: 201 accepted, 200 repeated, 409 insufficient_seats sold_out, 503 busy, else error;
 * - cancel and read: 200 ok, 503 busy, else error.
 */
export const classify = (kind, res) => {
  const status = res.status;
  if (status === 503) return 'busy';
  if (kind === 'reserve') {
    if (status === 201) return 'accepted';
    if (status === 200) return 'repeated';
    if (status === 409) {
      const body = bodyOf(res);
      return body && body.error === 'insufficient_seats' ? 'sold_out' : 'error';
    }
    return 'error';
  }
  return status === 200 ? 'ok' : 'error';
};

const record = (kind, res) => {
  const outcome = classify(kind, res);
  if (outcome === 'accepted') metrics.accepted.add(1);
  else if (outcome === 'repeated') metrics.repeated.add(1);
  else if (outcome === 'sold_out') metrics.soldOut.add(1);
  else if (outcome === 'busy') metrics.busy.add(1);
  else if (outcome === 'error') metrics.errors.add(1);
  else if (kind === 'cancel') metrics.cancelled.add(1);
  else if (kind === 'read') metrics.reads.add(1);
  const unexpected = outcome === 'busy' || outcome === 'error';
  metrics.unexpected.add(unexpected, { kind });
  check(res, { [`${kind}: expected answer`]: () => !unexpected }, { kind });
  return outcome;
};

/**
 * POST a reservation; returns the response and its outcome (see classify). `tags` are added to
 * the request's (hotspot.js tags the hot conference's, for a threshold of their own).
 */
export const reserve = (conferenceId, reservationId, seats, tags = {}) => {
  const res = http.post(
    `${conferencesUrl()}/${conferenceId}/reservations`,
    JSON.stringify({ reservationId, seats }),
    params('reserve', `${prefix()}/:id/reservations`, RESERVE_EXPECTED, tags),
  );
  return { res, outcome: record('reserve', res) };
};

export const cancel = (conferenceId, reservationId) => {
  const res = http.del(
    `${conferencesUrl()}/${conferenceId}/reservations/${reservationId}`,
    null,
    params('cancel', `${prefix()}/:id/reservations/:reservationId`, OK_EXPECTED),
  );
  return { res, outcome: record('cancel', res) };
};

export const readAvailability = (conferenceId) => {
  const res = http.get(
    `${conferencesUrl()}/${conferenceId}/availability`,
    params('read', `${prefix()}/:id/availability`, OK_EXPECTED),
  );
  return { res, outcome: record('read', res) };
};

// ---------------------------------------------------------------------------------------------------
// setup

/**
 * Creates the conferences ({id, seatTypes}) through the API, in parallel batches; anything but a
 * 201 stops the run (fail() in setup aborts `k6 run` with a non-zero exit code).
 */
export const createConferences = (conferences) => {
  const url = conferencesUrl();
  const chunk = 20;
  for (let i = 0; i < conferences.length; i += chunk) {
    const batch = conferences.slice(i, i + chunk);
    const responses = http.batch(
      batch.map(({ id, seatTypes }) => ({
        method: 'POST',
        url,
        body: JSON.stringify({ id, name: `k6 load test ${id}`, seatTypes }),
        params: params('setup', prefix(), CREATED_EXPECTED),
      })),
    );
    batch.forEach(({ id }, j) => {
      const res = responses[j];
      const status = res ? res.status : 0;
      if (status !== 201) {
        const body = res && res.body ? String(res.body).slice(0, 300) : '';
        fail(`creating conference ${id} with POST ${url} answered ${status}, not 201 (is the service up?) ${body}`);
      }
    });
  }
  return conferences;
};

/**
 * The many conferences of spread.js and hotspot.js, created: CONFERENCES of them (default 100),
 * CAPACITY seats (default 100,000) of each of SEAT_TYPES, named after the run; `first` names
 * conferences created before them (hotspot.js's `hot`).
 */
export const createManyConferences = (scenario, first = []) => {
  const count = Math.round(envNumber('CONFERENCES', 100));
  const capacity = Math.round(envNumber('CAPACITY', 100000));
  const run = uniqueConferenceId(scenario);
  const names = [...first, ...Array.from({ length: count }, (_, i) => String(i))];
  return createConferences(
    names.map((name) => ({ id: `${run}-${name}`, seatTypes: SEAT_TYPES.map((type) => ({ type, capacity })) })),
  );
};

// ---------------------------------------------------------------------------------------------------
// teardown: the integrity check

const integrityParams = (name) => ({ headers: JSON_HEADERS, tags: { kind: 'integrity', name } });

/** The strong (authoritative) availability, or undefined when it could not be read. */
const strongAvailability = (conferenceId) => {
  const res = http.get(
    `${conferencesUrl()}/${conferenceId}/availability?consistency=strong`,
    integrityParams(`${prefix()}/:id/availability?consistency=strong`),
  );
  const body = res.status === 200 ? bodyOf(res) : undefined;
  return body && Array.isArray(body.seatTypes) ? body : undefined;
};

/**
 * Seats per type held by reservations of status "reserved", paging through the listing; undefined
 * when a page could not be read. For the event-sourced design this is an eventually consistent view.
 */
export const listedSeats = (conferenceId) => {
  const held = {};
  let after = '';
  for (let page = 0; page < 100000; page++) {
    const res = http.get(
      `${conferencesUrl()}/${conferenceId}/reservations?after=${encodeURIComponent(after)}&limit=1000`,
      integrityParams(`${prefix()}/:id/reservations`),
    );
    const body = res.status === 200 ? bodyOf(res) : undefined;
    if (!body || !Array.isArray(body.reservations)) return undefined;
    for (const reservation of body.reservations) {
      if (reservation.status !== 'reserved') continue;
      for (const { seatType, quantity } of reservation.seats || []) held[seatType] = (held[seatType] || 0) + quantity;
    }
    const last = body.reservations[body.reservations.length - 1];
    if (!body.next || !last) return held;
    after = last.reservationId;
  }
  return undefined;
};

const listingMatches = (held, availability) =>
  held !== undefined &&
  availability.seatTypes.every(({ type, reserved }) => (held[type] || 0) === reserved) &&
  Object.keys(held).every((type) => availability.seatTypes.some((s) => s.type === type));

/**
 * One integrity expectation: a check named `integrity: <name>` (so it shows in the summary) and,
 * when it fails, one `integrity_failures` and a line on stderr saying what was found.
 */
const expectIntegrity = (conferenceId, name, passed, detail) => {
  const ok = check(passed, { [`integrity: ${name}`]: (p) => p === true }, { phase: 'integrity' });
  if (!ok) {
    metrics.integrityFailures.add(1, { conference: conferenceId });
    console.error(`integrity: conference ${conferenceId}: ${name} failed: ${detail()}`);
  }
  return ok;
};

/**
 * The end-of-run audit of every conference ({id, seatTypes} as created):
 * - the strong availability answers, with the seat types and capacities that were created;
 * - per seat type 0 <= reserved <= capacity (no oversell) and remaining == capacity - reserved;
 * - with `compareListing`, the seats of "reserved" reservations in the listing equal the strong
 *   reserved counts; the listing may lag (event-sourced view), so it is re-read every 0.5 s for up
 *   to SETTLE_SECONDS (a budget shared by all conferences) before that counts as a failure.
 * Each failure is a failed check (visible in the summary) and one `integrity_failures`, whose
 * threshold count==0 makes `k6 run` exit non-zero. Returns the number of failures.
 */
export const checkIntegrity = (conferences, { compareListing = true } = {}) => {
  metrics.integrityFailures.add(0); // a sample even when all is well, so the threshold is evaluated
  const settleSeconds = envNumber('SETTLE_SECONDS', 10);
  const pause = 0.5;
  const maxAttempts = Math.ceil(settleSeconds / pause) + 1;
  const deadline = Date.now() + settleSeconds * 1000;
  let failures = 0;
  let seatsReserved = 0;
  for (const conference of conferences) {
    const id = conference.id;
    const expect = (name, passed, detail) => {
      if (!expectIntegrity(id, name, passed, detail)) failures++;
    };
    let availability = strongAvailability(id);
    if (availability === undefined) {
      expect('strong availability answers', false, () => 'no 200 with seat types');
      continue;
    }
    const byType = {};
    for (const s of availability.seatTypes) byType[s.type] = s;
    const created = conference.seatTypes || [];
    expect(
      'seat types and capacities as created',
      created.length === availability.seatTypes.length &&
        created.every(({ type, capacity }) => byType[type] !== undefined && byType[type].capacity === capacity),
      () => `created ${JSON.stringify(created)}, found ${JSON.stringify(availability.seatTypes)}`,
    );
    for (const s of availability.seatTypes) {
      seatsReserved += s.reserved;
      expect(
        '0 <= reserved <= capacity',
        s.reserved >= 0 && s.reserved <= s.capacity,
        () => `${s.type}: reserved ${s.reserved} of capacity ${s.capacity}`,
      );
      expect(
        'remaining == capacity - reserved',
        s.remaining === s.capacity - s.reserved,
        () => `${s.type}: remaining ${s.remaining}, capacity ${s.capacity}, reserved ${s.reserved}`,
      );
    }
    if (!compareListing) continue;
    let held = listedSeats(id);
    for (let attempt = 1; attempt < maxAttempts && Date.now() < deadline; attempt++) {
      if (listingMatches(held, availability)) break;
      sleep(pause);
      availability = strongAvailability(id) || availability;
      held = listedSeats(id);
    }
    const strong = availability.seatTypes.map(({ type, reserved }) => ({ type, reserved }));
    expect(
      'listing matches strong availability',
      listingMatches(held, availability),
      () => `the listing holds ${JSON.stringify(held)}, the strong availability ${JSON.stringify(strong)}`,
    );
  }
  metrics.seatsReservedAtEnd.add(seatsReserved);
  console.log(
    `integrity: ${conferences.length} conference(s), design ${design()} at ${baseUrl()}: ` +
      `${seatsReserved} seats reserved, ${failures} failure(s)`,
  );
  return failures;
};
