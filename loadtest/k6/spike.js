// Spike: one fresh conference under a stepped open-model schedule: BASE_RATE reservations/s for
// BASE_SECONDS, then SPIKE_RATE for SPIKE_SECONDS, then BASE_RATE again for RECOVERY_SECONDS
// (defaults: 500/s for 5 s, 3000/s for 5 s, 500/s for 10 s). The rate changes at once, not along
// a ramp: three `constant-arrival-rate` scenarios chained by startTime, named and tagged `part`
// base, spike and recovery, each with VUs sized from its own rate. Arrivals do not wait for
// answers, so a service that cannot keep up shows it as slow answers, busy 503s or k6's
// dropped_iterations; the recovery part shows whether it gets back to normal once the spike is
// over. The conference has 10,000,000 seats of each of standard and vip, so nothing sells out; each
// iteration reserves 1-2 seats of one seat type or of both.
//
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e DESIGN=es-batched -e BASE_RATE=500 -e SPIKE_RATE=3000 \
//     -e BASE_SECONDS=5 -e SPIKE_SECONDS=5 -e RECOVERY_SECONDS=10 -e SLO_MS=100 loadtest/k6/spike.js
//
// The harness's `npm run loadtest -- --model open --scenario spike` runs the same schedule (base,
// spike, recovery) with its own open-model generator. By default the harness sets the spike to 3×
// the strongest CRUD design's capacity at the latency objective and the base to half of that
// capacity; with k6 you pass the rates yourself.
//
// Metrics, each sample tagged with its part: reservations_accepted (201), reservations_sold_out
// (409 insufficient_seats; none expected here), requests_busy (503: shed, no seat sold),
// request_errors (anything else: other 4xx, 5xx, timeouts, refused connections).
// answered_within_slo is the share of answered reservations (any HTTP status) faster than SLO_MS
// (default 100 ms). Thresholds: p(99) of the spike's requests, http_req_duration{part:spike}, under
// P99_MS (default 1000), and those of the other scripts (unexpected answers, busy 503s included,
// under ERROR_RATE; no integrity failure). A spike meant to push the service into shedding load
// answers busy 503s on purpose: raise ERROR_RATE for such runs. The harness's objective, p(99) of
// the recovery part's answered requests under SLO_MS (answered_within_slo{part:recovery} at least
// 0.99), is shown but does not fail a k6 run. Teardown checks the strong availability against the
// reservations listing, as surge.js does.

import { Rate } from 'k6/metrics';
import {
  checkIntegrity,
  constantRateStep,
  createConferences,
  envNumber,
  newReservationId,
  randomSeats,
  reserve,
  scenariosOptions,
  SEAT_TYPES,
  uniqueConferenceId,
} from './lib.js';

/** An arrival rate from the environment: k6 takes whole iterations per time unit. */
const rateFrom = (name, fallback) => Math.max(1, Math.round(envNumber(name, fallback)));

const baseRate = rateFrom('BASE_RATE', 500);
const spikeRate = rateFrom('SPIKE_RATE', 3000);
const baseSeconds = envNumber('BASE_SECONDS', 5);
const spikeSeconds = envNumber('SPIKE_SECONDS', 5);
const recoverySeconds = envNumber('RECOVERY_SECONDS', 10);
const sloMs = envNumber('SLO_MS', 100);

const PARTS = ['base', 'spike', 'recovery'];

const shared = scenariosOptions(
  {
    base: constantRateStep({ part: 'base', rate: baseRate, seconds: baseSeconds, startSeconds: 0 }),
    spike: constantRateStep({ part: 'spike', rate: spikeRate, seconds: spikeSeconds, startSeconds: baseSeconds }),
    recovery: constantRateStep({
      part: 'recovery',
      rate: baseRate,
      seconds: recoverySeconds,
      startSeconds: baseSeconds + spikeSeconds,
    }),
  },
  ['reserve'],
);

// k6's summary prints a tagged sub-metric only when a threshold names it. The spike's latency has a
// real bound; the always-passing thresholds are there so that the other parts' latency and every
// part's share within SLO_MS show too, without failing a run.
const thresholds = {
  ...shared.thresholds,
  'http_req_duration{part:base}': ['max>=0'],
  'http_req_duration{part:spike}': shared.thresholds['http_req_duration{kind:reserve}'],
  'http_req_duration{part:recovery}': ['max>=0'],
};
for (const part of PARTS) thresholds[`answered_within_slo{part:${part}}`] = ['rate>=0'];

export const options = { ...shared, thresholds };

/** Per answered reservation (an HTTP status, not a timeout or refused connection): 1 when faster than SLO_MS. */
const answeredWithinSlo = new Rate('answered_within_slo');

/** The service's largest capacity: far more than a run books, so the spike never meets a sell-out. */
const CAPACITY = 10000000;

export function setup() {
  const conferences = createConferences([
    { id: uniqueConferenceId('spike'), seatTypes: SEAT_TYPES.map((type) => ({ type, capacity: CAPACITY })) },
  ]);
  return { conferences };
}

export default function (data) {
  const { res } = reserve(data.conferences[0].id, newReservationId(), randomSeats());
  if (res.status !== 0) answeredWithinSlo.add(res.timings.duration < sloMs);
}

export function teardown(data) {
  checkIntegrity(data.conferences, { compareListing: true });
}
