import { Problem } from '../http/problem.js';

/**
 * How HAProxy spreads requests over the API processes: `affinity`, every request of one
 * conference to the process that owns it (a consistent hash of the conference id in the path);
 * `round-robin`, each request to the next process, as a CRUD service would be run (the
 * comparison the harness draws).
 */
export const ROUTINGS = ['affinity', 'round-robin'] as const;
export type Routing = (typeof ROUTINGS)[number];

export type HaproxyConfigOptions = {
  /** Where HAProxy listens: what `npm start` would listen on. */
  host: string;
  port: number;
  /** The API processes, each on 127.0.0.1. */
  backends: readonly { name: string; port: number }[];
  routing: Routing;
  /** HAProxy's runtime API (`show stat`, `show servers state`), a Unix socket only its owner may use. */
  statsSocket: string;
  /** How often each process's /healthz is checked; two failures take it out, two passes bring it back. */
  checkIntervalMs: number;
  /**
   * Limits per client address (RATE_LIMITS) in force; otherwise written commented out. The
   * launcher leaves them out: the load tests send everything from one address, and measure the
   * service, not the limit. deploy/haproxy.cfg ships them in force.
   */
  rateLimits?: boolean;
};

/** The health check's default interval: a dead process is out within about two of them. */
export const CHECK_INTERVAL_MS = 500;

/**
 * The conference id of every design's paths (`/conferences/{id}/…`, `/batched/…`, `/direct/…`,
 * `/crud/…`, `/crud-atomic/…`) as HAProxy variables: `field` counts from the empty string before
 * the first slash. Paths without one (the page, /healthz, /events, a conference's creation) are
 * not hashed, and go round robin.
 */
const CONFERENCE_ID_RULES = [
  'http-request set-var(txn.conference) path,field(3,/) if { path_reg ^/conferences/[^/]+ }',
  'http-request set-var(txn.conference) path,field(4,/) if { path_reg ^/(batched|direct|crud|crud-atomic)/conferences/[^/]+ }',
];

/** The most connections one client address may hold open at once, and requests it may send in 10 s. */
export const RATE_LIMITS = { connections: 64, requestsPer10s: 600 };

/**
 * Limits against one client flooding the service, kept where every request passes first: per
 * source address, connections held at once (past them a new one is refused) and requests in
 * the last 10 s (past them 429 too_many_requests, as Problem Details, with Retry-After). The
 * service itself has no limiter: a proxy refuses for less, and counts across every API process.
 * A visitor's browser needs a few connections and far fewer requests; a surge comes from many
 * addresses, each within the limits. Behind a NAT or another proxy many visitors share one
 * address: raise the limits, or track a header the edge sets instead of `src`.
 */
const rateLimitLines = (): string[] => {
  const body = JSON.stringify(
    new Problem(
      429,
      'too_many_requests',
      'Too many requests from this address; retry after Retry-After seconds.',
    ).toDocument(),
  );
  return [
    'stick-table type ipv6 size 100k expire 30s store conn_cur,http_req_rate(10s)',
    'tcp-request connection track-sc0 src',
    `tcp-request connection reject if { sc_conn_cur(0) gt ${RATE_LIMITS.connections} }`,
    `http-request deny deny_status 429 content-type application/problem+json string '${body}' hdr Retry-After 10 if { sc_http_req_rate(0) gt ${RATE_LIMITS.requestsPer10s} }`,
  ];
};

/**
 * HAProxy's own error answers as Problem Details, as the service's are: a process that died with
 * the request (502), none up (503) or none answering in time (504). A write may have been
 * committed before its process died: a retry with the same reservation id says which.
 */
const proxyProblems = (): string[] => {
  const detail = {
    502: 'The API process died while answering; retry with the same reservationId to learn whether the command was committed.',
    503: 'No API process is up; retry after Retry-After seconds.',
    504: 'No API process answered in time; retry with the same reservationId to learn whether the command was committed.',
  } as const;
  return Object.entries(detail).map(([status, words]) => {
    const body = JSON.stringify(new Problem(Number(status), 'process_unavailable', words).toDocument());
    return `http-error status ${status} content-type application/problem+json string '${body}' hdr Retry-After 1`;
  });
};

/**
 * The HAProxy (2.6) configuration of a cluster of API processes on one database; the tuning
 * that matters for correctness is said beside each line. `deploy/haproxy.cfg` is its rendering
 * for three processes (a test keeps the two the same).
 */
export const haproxyConfig = ({
  host,
  port,
  backends,
  routing,
  statsSocket,
  checkIntervalMs,
  rateLimits = false,
}: HaproxyConfigOptions): string => {
  const lines = [
    '# seat-surge behind HAProxy 2.6: N API processes on one PostgreSQL, each conference owned by one of them.',
    '# Rendered by src/cluster/haproxy-config.ts; `npm run start:cluster -- --processes N` writes and runs its own copy.',
    'global',
    `  stats socket ${statsSocket} mode 600 level admin`,
    // One thread: HAProxy shares the machine's cores with the API processes and PostgreSQL, and a
    // second thread there cost more than it gave (48 against 31 µs of HAProxy CPU per request,
    // docs/scaling.md). On a machine with cores to spare, raise it.
    '  nbthread 1',
    '',
    'defaults',
    '  mode http',
    // Connections from clients at once; the process-wide limit follows the open-files limit.
    '  maxconn 4000',
    // Loopback: a connection is made at once or refused; a retry waits this long at most.
    '  timeout connect 1s',
    // A check answers after the requests queued before it: under a surge that is far more than
    // the 500 ms between checks, and a slow answer is no dead process (a refused one is, below).
    '  timeout check 5s',
    '  timeout client 60s',
    // The live seats (server-sent events) send a heartbeat well within this.
    '  timeout server 60s',
    '  timeout http-request 10s',
    '  timeout http-keep-alive 60s',
    // A refused connection (a process just killed) is tried again on the same server; never on
    // another (no `option redispatch`): marking it down moves its conferences, not one request.
    '  retries 1',
    ...proxyProblems().map((line) => `  ${line}`),
    '',
    'frontend seat-surge',
    `  bind ${host}:${port}`,
    '  # Limits per client address: connections at once, and requests in 10 s (then 429).',
    ...(rateLimits
      ? rateLimitLines().map((line) => `  ${line}`)
      : [
          '  # Off here: the load tests send everything from one address. deploy/haproxy.cfg has them on.',
          ...rateLimitLines().map((line) => `  # ${line}`),
        ]),
    '  default_backend api',
    '',
    'backend api',
    ...(routing === 'affinity'
      ? [
          ...CONFERENCE_ID_RULES.map((rule) => `  ${rule}`),
          // Consistent: when a process goes down or comes back, only its own conferences move.
          // No hash-balance-factor: it would move a hot conference off its owner under load.
          '  balance hash var(txn.conference)',
          '  hash-type consistent',
        ]
      : ['  balance roundrobin']),
    '  option httpchk GET /healthz',
    '  http-check expect status 200',
    // Out on the first refused connection seen in traffic (a process just killed), or two failed
    // checks; back after two passed checks. Only that process's conferences move either way.
    `  default-server check inter ${checkIntervalMs}ms fall 2 rise 2 observe layer4 error-limit 1 on-error mark-down`,
    // Which process answered: the harness and anyone debugging the routing can see the owner.
    '  http-response set-header X-Served-By %s',
    ...backends.map(({ name, port: backendPort }) => `  server ${name} 127.0.0.1:${backendPort}`),
  ];
  return `${lines.join('\n')}\n`;
};

/** The API processes of a cluster whose HAProxy listens on `port`: api1 on port + 1, and so on. */
export const clusterBackends = (port: number, processes: number) =>
  Array.from({ length: processes }, (_, i) => ({ name: `api${i + 1}`, port: port + i + 1 }));
