// Shared code of the k6 scenarios (surge.js, spread.js, hotspot.js, mixed.js, spike.js, checkout.js): where the
// service is, which design is driven, ids, the requests, how answers are classified and the
// end-of-run integrity check.
// Runs inside k6 (goja), so only k6's own modules are imported: no npm packages, no Node APIs.
//
//   k6 run -e DESIGN=crud -e BASE_URL=http://127.0.0.1:3000 loadtest/k6/surge.js
//
// ADMIN_TOKEN is required: the service's operator token (its ADMIN_TOKEN, or the one `npm start` keeps
// in .data/admin-token), sent on the operator routes only: creating the conferences in setup and
// listing their reservations in teardown. Pass it with -e ADMIN_TOKEN=… or in the environment.
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
 * (VUs in flight = rate × iteration time): pre-allocated for ~200 ms answers, at most enough for
 * 2 s answers, plus `thinkSeconds` an iteration sleeps (checkout.js); past that k6 drops
 * iterations (metric dropped_iterations). PREALLOCATED_VUS and MAX_VUS override them.
 */
const vusFor = (rate, thinkSeconds = 0) => ({
  preAllocatedVUs: envNumber('PREALLOCATED_VUS', Math.max(10, Math.ceil(rate * (0.2 + thinkSeconds)))),
  maxVUs: envNumber('MAX_VUS', Math.max(50, Math.ceil(rate * (2 + thinkSeconds)))),
});

/**
 * An open-model scenario: `ramping-arrival-rate` from `startRate` through `stages`, then held at
 * `peak` for DURATION, with VUs sized from the peak rate and the longest think time of an iteration.
 */
export const arrivalRateScenario = ({ startRate, peak, rampStages, thinkSeconds = 0 }) => ({
  executor: 'ramping-arrival-rate',
  startRate,
  timeUnit: '1s',
  ...vusFor(peak, thinkSeconds),
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

/** Peak arrival rate (iterations per second) of a scenario: PEAK_RATE, by default 500 (or the script's own). */
export const peakRate = (fallback = 500) => Math.round(envNumber('PEAK_RATE', fallback));

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
  /** 201 to a hold: seats held until its due time (checkout.js). */
  holds: new Counter('holds_accepted'),
  /** 200 to a hold: an idempotent repeat (should not happen: ids are unique). */
  holdsRepeated: new Counter('holds_repeated'),
  /** 409 insufficient_seats to a hold: nothing left to hold. */
  holdsSoldOut: new Counter('holds_sold_out'),
  /** 200 to a confirm: the held seats are reserved. */
  confirms: new Counter('confirms_accepted'),
  /** 409 hold_expired to a confirm: it came at or after the hold's due time. */
  holdExpired: new Counter('hold_expired'),
  /** 200 to a release: the held seats are back on sale. */
  released: new Counter('holds_released'),
  /** Per request: 1 when the answer was not one of the expected ones (busy and errors). */
  unexpected: new Rate('unexpected_status'),
  /** Failed integrity checks at teardown; the threshold count==0 makes `k6 run` exit non-zero. */
  integrityFailures: new Counter('integrity_failures'),
  /** Seats reserved at the end (strong availability, all conferences and types), set by teardown. */
  seatsReservedAtEnd: new Gauge('seats_reserved_at_end'),
};

/** Which counter each outcome of each request kind adds to; busy and error count alike for all. */
const COUNTED = {
  reserve: { accepted: metrics.accepted, repeated: metrics.repeated, sold_out: metrics.soldOut },
  cancel: { ok: metrics.cancelled },
  read: { ok: metrics.reads },
  hold: { accepted: metrics.holds, repeated: metrics.holdsRepeated, sold_out: metrics.holdsSoldOut },
  confirm: { ok: metrics.confirms, hold_expired: metrics.holdExpired },
  release: { ok: metrics.released },
};

// ---------------------------------------------------------------------------------------------------
// requests

const JSON_HEADERS = { 'content-type': 'application/json' };

// Marks which answers are "expected" for http_req_failed; a sold-out 409 is a correct answer, and
// so is a late confirm's 409 hold_expired.
const RESERVE_EXPECTED = http.expectedStatuses(200, 201, 409);
const OK_EXPECTED = http.expectedStatuses(200);
const CONFIRM_EXPECTED = http.expectedStatuses(200, 409);
const CREATED_EXPECTED = http.expectedStatuses(201);

/**
 * The headers of an operator request (creating a conference, listing its reservations): the
 * operator token of ADMIN_TOKEN. Without one the run stops at once, saying so, instead of
 * counting a 401 per conference.
 */
export const operatorHeaders = () => {
  const token = env('ADMIN_TOKEN', undefined);
  if (token === undefined) {
    fail('ADMIN_TOKEN must be set to the operator token of the service (its ADMIN_TOKEN, or .data/admin-token)');
  }
  return { ...JSON_HEADERS, authorization: `Bearer ${token}` };
};

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

/** The `error` code of a Problem answer, or undefined. */
const problemCode = (res) => {
  const body = bodyOf(res);
  return body ? body.error : undefined;
};

/**
 * What an answer means, per request kind:
 * - reserve and hold: 201 accepted, 200 repeated, 409 insufficient_seats sold_out, 503 busy, else error;
 * - confirm: 200 ok, 409 hold_expired hold_expired (the visitor was too late), 503 busy, else error;
 * - cancel, read and release: 200 ok, 503 busy, else error.
 */
export const classify = (kind, res) => {
  const status = res.status;
  if (status === 503) return 'busy';
  if (kind === 'reserve' || kind === 'hold') {
    if (status === 201) return 'accepted';
    if (status === 200) return 'repeated';
    if (status === 409) return problemCode(res) === 'insufficient_seats' ? 'sold_out' : 'error';
    return 'error';
  }
  if (kind === 'confirm' && status === 409) return problemCode(res) === 'hold_expired' ? 'hold_expired' : 'error';
  return status === 200 ? 'ok' : 'error';
};

const record = (kind, res) => {
  const outcome = classify(kind, res);
  if (outcome === 'busy') metrics.busy.add(1);
  else if (outcome === 'error') metrics.errors.add(1);
  else if (COUNTED[kind] && COUNTED[kind][outcome]) COUNTED[kind][outcome].add(1);
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

/** POST a hold of `seats` for `holdSeconds`; returns the response and its outcome (see classify). */
export const hold = (conferenceId, reservationId, seats, holdSeconds) => {
  const res = http.post(
    `${conferencesUrl()}/${conferenceId}/holds`,
    JSON.stringify({ reservationId, seats, holdSeconds }),
    params('hold', `${prefix()}/:id/holds`, RESERVE_EXPECTED),
  );
  return { res, outcome: record('hold', res) };
};

export const confirmHold = (conferenceId, reservationId) => {
  const res = http.post(
    `${conferencesUrl()}/${conferenceId}/holds/${reservationId}/confirm`,
    null,
    params('confirm', `${prefix()}/:id/holds/:reservationId/confirm`, CONFIRM_EXPECTED),
  );
  return { res, outcome: record('confirm', res) };
};

export const releaseHold = (conferenceId, reservationId) => {
  const res = http.del(
    `${conferencesUrl()}/${conferenceId}/holds/${reservationId}`,
    null,
    params('release', `${prefix()}/:id/holds/:reservationId`, OK_EXPECTED),
  );
  return { res, outcome: record('release', res) };
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
        params: { ...params('setup', prefix(), CREATED_EXPECTED), headers: operatorHeaders() },
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

const integrityParams = (name, headers = JSON_HEADERS) => ({ headers, tags: { kind: 'integrity', name } });

/** The strong (authoritative) availability, or undefined when it could not be read. */
export const strongAvailability = (conferenceId) => {
  const res = http.get(
    `${conferencesUrl()}/${conferenceId}/availability?consistency=strong`,
    integrityParams(`${prefix()}/:id/availability?consistency=strong`),
  );
  const body = res.status === 200 ? bodyOf(res) : undefined;
  return body && Array.isArray(body.seatTypes) ? body : undefined;
};

/**
 * Calls `visit` with every reservation of the conference, paging through the listing; false when a
 * page could not be read. For the event-sourced designs this is an eventually consistent view.
 */
export const forEachReservation = (conferenceId, visit) => {
  let after = '';
  for (let page = 0; page < 100000; page++) {
    const res = http.get(
      `${conferencesUrl()}/${conferenceId}/reservations?after=${encodeURIComponent(after)}&limit=1000`,
      integrityParams(`${prefix()}/:id/reservations`, operatorHeaders()),
    );
    const body = res.status === 200 ? bodyOf(res) : undefined;
    if (!body || !Array.isArray(body.reservations)) return false;
    body.reservations.forEach(visit);
    const last = body.reservations[body.reservations.length - 1];
    if (!body.next || !last) return true;
    after = last.reservationId;
  }
  return false;
};

/** The statuses whose seats are sold: a one-step reservation, and a confirmed hold. */
const SOLD = ['reserved', 'confirmed'];

/**
 * Seats per type of the listed reservations whose seats are sold (SOLD), or undefined when a page
 * could not be read.
 */
export const listedSeats = (conferenceId) => {
  const sold = {};
  const read = forEachReservation(conferenceId, (reservation) => {
    if (!SOLD.includes(reservation.status)) return;
    for (const { seatType, quantity } of reservation.seats || []) sold[seatType] = (sold[seatType] || 0) + quantity;
  });
  return read ? sold : undefined;
};

const listingMatches = (sold, availability) =>
  sold !== undefined &&
  availability.seatTypes.every(({ type, reserved }) => (sold[type] || 0) === reserved) &&
  Object.keys(sold).every((type) => availability.seatTypes.some((s) => s.type === type));

/**
 * One integrity expectation: a check named `integrity: <name>` (so it shows in the summary) and,
 * when it fails, one `integrity_failures` and a line on stderr saying what was found.
 */
export const expectIntegrity = (conferenceId, name, passed, detail) => {
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
 * - per seat type reserved and held are at least 0 and reserved + held <= capacity (no oversell),
 *   and remaining == capacity - reserved - held (held is 0 where no one holds seats);
 * - with `compareListing`, the seats of the listing's sold reservations (reserved, or a confirmed
 *   hold) equal the strong reserved counts; the listing may lag (event-sourced view), so it is
 *   re-read every 0.5 s for up to SETTLE_SECONDS (a budget shared by all conferences) before that
 *   counts as a failure.
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
      const held = s.held || 0;
      expect(
        '0 <= reserved + held <= capacity',
        s.reserved >= 0 && held >= 0 && s.reserved + held <= s.capacity,
        () => `${s.type}: reserved ${s.reserved} and held ${held} of capacity ${s.capacity}`,
      );
      expect(
        'remaining == capacity - reserved - held',
        s.remaining === s.capacity - s.reserved - held,
        () => `${s.type}: remaining ${s.remaining}, capacity ${s.capacity}, reserved ${s.reserved}, held ${held}`,
      );
    }
    if (!compareListing) continue;
    let sold = listedSeats(id);
    for (let attempt = 1; attempt < maxAttempts && Date.now() < deadline; attempt++) {
      if (listingMatches(sold, availability)) break;
      sleep(pause);
      availability = strongAvailability(id) || availability;
      sold = listedSeats(id);
    }
    const strong = availability.seatTypes.map(({ type, reserved }) => ({ type, reserved }));
    expect(
      'listing matches strong availability',
      listingMatches(sold, availability),
      () => `the listing sold ${JSON.stringify(sold)}, the strong availability ${JSON.stringify(strong)}`,
    );
  }
  metrics.seatsReservedAtEnd.add(seatsReserved);
  console.log(
    `integrity: ${conferences.length} conference(s), design ${design()} at ${baseUrl()}: ` +
      `${seatsReserved} seats reserved, ${failures} failure(s)`,
  );
  return failures;
};
