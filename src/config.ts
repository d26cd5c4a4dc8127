import { z } from 'zod';
import { BATCH_DEFAULTS } from './command-handlers/conference-writer.js';
import { GROUP_COMMIT_DEFAULTS } from './command-handlers/group-commit.js';

/**
 * All configuration, read from environment variables in this one place, validated once at
 * start-up. Every value has a default that works on a fresh machine.
 */
export type Config = z.output<typeof configSchema>;

/** The shortest operator token accepted, from ADMIN_TOKEN or its file: 32 characters of base64url are 192 bits. */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** The characters of a bearer token (RFC 6750's b64token), so that it can be sent in a header as it is. */
export const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Variables whose value is a secret: a start-up error names them but never quotes their value. */
const SECRETS = new Set(['ADMIN_TOKEN']);

/** How long a hold lasts unless asked otherwise, and the longest one may ask for (HOLD_* below; the API docs quote them). */
export const HOLD_DEFAULTS = { defaultSeconds: 900, maxSeconds: 3600 };

const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .int()
        .min(min, { message: `must be at least ${min}` })
        .max(max, { message: `must be at most ${max}` }),
    )
    .default(fallback);

const configSchema = z
  .object({
    /** PostgreSQL to use; when unset an embedded server is started (see EMBEDDED_POSTGRES_*). */
    DATABASE_URL: z
      .url({ protocol: /^postgres(ql)?$/, message: 'must be a postgres:// or postgresql:// URL' })
      .optional(),
    /** Connections in the pool; the store also never has more queries in flight than this. */
    DATABASE_POOL_SIZE: integer(10, 1, 500),
    /**
     * 0: `events` is one plain table, as the migrations create it. 2 or more: after the
     * migrations, a plain `events` is converted into a table hash-partitioned by stream id into
     * this many partitions (see partition-events.ts); a partitioned one is never converted back.
     */
    EVENTS_PARTITIONS: integer(0, 0, 1024),
    HOST: z.string().trim().min(1).default('127.0.0.1'),
    PORT: integer(3000, 0, 65_535),
    /** Take a snapshot every N events of a stream; 0 turns snapshots off. */
    SNAPSHOT_INTERVAL: integer(100, 0, 1_000_000),
    /**
     * Which snapshots a stream keeps: `all` (point-in-time reads replay fewer than
     * SNAPSHOT_INTERVAL events), or K, a multiple of the interval: the latest and the lowest of
     * each K versions (they replay fewer than 2K; the rows kept shrink about K / interval times).
     */
    SNAPSHOT_KEEP: z
      .string()
      .trim()
      .regex(/^(all|\d+)$/, { message: 'must be `all` or a whole number' })
      .transform((value) => (value === 'all' ? ('all' as const) : { every: Number(value) }))
      .refine((keep) => keep === 'all' || (keep.every >= 1 && keep.every <= 1_000_000_000), {
        message: 'must be at least 1 and at most 1000000000',
      })
      .default('all'),
    /** Retries of a command after a version conflict before the caller is told to come back. */
    COMMAND_MAX_RETRIES: integer(10, 0, 1_000),
    /** First backoff after a version conflict; it doubles on each retry, with full jitter. */
    COMMAND_RETRY_BASE_DELAY_MS: integer(2, 0, 60_000),
    /** Ceiling of the backoff. */
    COMMAND_RETRY_MAX_DELAY_MS: integer(100, 0, 60_000),
    /**
     * How event-sourced commands are written at /conferences: `batched` (one writer per conference
     * deciding queued commands together, one append per batch) or `direct` (load, decide, append,
     * retry on conflict). Both are always served at /batched/conferences and /direct/conferences.
     */
    WRITE_PATH: z.enum(['batched', 'direct']).default('batched'),
    /** Most commands one batch decides and appends together. */
    BATCH_MAX_COMMANDS: integer(BATCH_DEFAULTS.maxBatch, 1, 10_000),
    /** Commands that may wait per conference; beyond that callers get 503 busy at once. */
    BATCH_QUEUE_LIMIT: integer(BATCH_DEFAULTS.maxQueue, 1, 1_000_000),
    /**
     * While the oldest command waiting for a conference has waited this long (ms), new ones get
     * 503 busy at once: past what the writer can commit, the excess is refused quickly and the
     * commands taken keep their latency near this; 0: only BATCH_QUEUE_LIMIT bounds the wait.
     */
    BATCH_QUEUE_MAX_WAIT_MS: integer(BATCH_DEFAULTS.maxQueueWaitMs, 0, 600_000),
    /**
     * Appends of the batched write path running at once. Batches of other conferences decided
     * while all are running wait and go out together in one statement (group commit); below
     * DATABASE_POOL_SIZE, or the driver's queue would hold them instead, one statement each.
     * Fewer in flight means larger statements and less CPU per command (see GROUP_COMMIT_DEFAULTS).
     */
    GROUP_COMMIT_APPENDS_IN_FLIGHT: integer(GROUP_COMMIT_DEFAULTS.appendsInFlight, 1, 500),
    /** Most conferences one group commit carries. */
    GROUP_COMMIT_MAX_CONFERENCES: integer(GROUP_COMMIT_DEFAULTS.maxConferences, 1, 10_000),
    /** Most events one group commit carries (a larger batch still goes, alone). */
    GROUP_COMMIT_MAX_EVENTS: integer(GROUP_COMMIT_DEFAULTS.maxEvents, 1, 1_000_000),
    /**
     * A batch of this many events or more (a hot conference's) is appended at once, in a statement
     * of its own, beside the grouped appends in flight; 0: every batch is grouped.
     */
    GROUP_COMMIT_ALONE_FROM_EVENTS: integer(GROUP_COMMIT_DEFAULTS.aloneFromEvents, 0, 1_000_000),
    /** Cached conference states are dropped after this long idle... */
    CACHE_IDLE_MS: integer(BATCH_DEFAULTS.idleEvictMs, 1000, 86_400_000),
    /** ...or beyond this many conferences, least recently used first. */
    CACHE_MAX_CONFERENCES: integer(BATCH_DEFAULTS.maxCached, 1, 10_000_000),
    /**
     * Reservations each cached conference keeps in memory (the most recently decided); others
     * are looked up by id. The writers' memory is at most CACHE_MAX_CONFERENCES times this.
     */
    CACHE_RESERVATIONS_PER_CONFERENCE: integer(BATCH_DEFAULTS.reservationsCached, 0, 1_000_000),
    /**
     * Where `npm start` runs the projectors: `process`, a child process it starts and stops (off the
     * event loop that serves the connections); `in-api`, inside the API process; `off`, not at all
     * (run `npm run projector` yourself).
     */
    PROJECTOR: z.enum(['process', 'in-api', 'off']).default('process'),
    /** Most events the projector applies to the reservations view in one transaction. */
    PROJECTOR_BATCH_SIZE: integer(500, 1, 100_000),
    /** Most events applied to the remaining seats in one transaction (set-based in PostgreSQL: large is cheap). */
    PROJECTOR_SEATS_BATCH_SIZE: integer(5000, 1, 100_000),
    /** How often the projector looks for events without a notification, and tries to take over leadership. */
    PROJECTOR_POLL_INTERVAL_MS: integer(1000, 10, 600_000),
    /**
     * Appends wake the projectors at most once per this many ms from each API process (and always
     * after the last append); 0: after every append. See src/event-store/projector-wake-ups.ts.
     */
    PROJECTOR_WAKE_INTERVAL_MS: integer(5, 0, 1000),
    /** How long a hold keeps its seats when the request names no holdSeconds (15 minutes, as the CQRS Journey's checkout). */
    HOLD_DEFAULT_SECONDS: integer(HOLD_DEFAULTS.defaultSeconds, 1, 86_400),
    /** The longest hold a request may ask for; longer is answered 400. */
    HOLD_MAX_SECONDS: integer(HOLD_DEFAULTS.maxSeconds, 1, 86_400),
    /** How often the hold expirer looks for holds that are due (its leader also takes over within this). */
    HOLD_EXPIRY_POLL_INTERVAL_MS: integer(200, 10, 60_000),
    /** Request bodies larger than this are answered 413. */
    BODY_LIMIT_BYTES: integer(16_384, 256, 10_485_760),
    /**
     * How long Ctrl-C or SIGTERM may take: answers in flight get until 2 s before it (then their
     * connections are cut), the pool and the embedded database close in what is left.
     */
    STOP_TIMEOUT_MS: integer(10_000, 3_000, 600_000),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** `json` or `pretty`; unset: pretty on a terminal outside production, JSON otherwise (see logger.ts). */
    LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
    /** `production` (as `npm start` sets it) keeps the logs JSON even on a terminal. */
    NODE_ENV: z.string().trim().default('development'),
    /** Where the embedded PostgreSQL keeps its data (relative to the working directory). */
    EMBEDDED_POSTGRES_DIR: z.string().trim().min(1).default('.data/postgres'),
    /** Port of the embedded PostgreSQL; not 5432, so it never clashes with a system server. */
    EMBEDDED_POSTGRES_PORT: integer(54_329, 1, 65_535),
    /** The HAProxy (2.6 or later) that `npm run start:cluster` runs in front of its API processes. */
    HAPROXY_PATH: z.string().trim().min(1).default('haproxy'),
    /**
     * The operator's token: operator routes (creating a conference, listing its reservations or
     * events) want `Authorization: Bearer <it>`. Unset: the one in ADMIN_TOKEN_FILE, created there
     * once. Long and random, as a password no one types: a guess must not be worth trying.
     */
    ADMIN_TOKEN: z
      .string()
      .trim()
      .min(MIN_ADMIN_TOKEN_LENGTH, { message: `must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters` })
      .max(512, { message: 'must be at most 512 characters' })
      .regex(BEARER_TOKEN, {
        message: 'must be letters, digits and - . _ ~ + / (then = at the end), as a bearer token is written',
      })
      .optional(),
    /** Where the token made when ADMIN_TOKEN is unset is kept (readable by its owner only), relative to the working directory. */
    ADMIN_TOKEN_FILE: z.string().trim().min(1).default('.data/admin-token'),
  })
  // Each loop that leads by a lock (the hold expirer; with PROJECTOR=in-api the two projectors
  // too) keeps a pool connection while it leads, and needs another for its work.
  .refine((env) => env.DATABASE_POOL_SIZE >= (env.PROJECTOR === 'in-api' ? 4 : 2), {
    message:
      'must be at least 2 (4 with PROJECTOR=in-api): the hold expirer and in-API projectors each keep one connection',
    path: ['DATABASE_POOL_SIZE'],
  })
  // Then each span of K versions holds a snapshot to keep, and a point-in-time read replays fewer than 2K events.
  .refine(
    (env) =>
      env.SNAPSHOT_KEEP === 'all' ||
      env.SNAPSHOT_INTERVAL === 0 ||
      env.SNAPSHOT_KEEP.every % env.SNAPSHOT_INTERVAL === 0,
    { message: 'must be a multiple of SNAPSHOT_INTERVAL', path: ['SNAPSHOT_KEEP'] },
  )
  .refine((env) => env.EVENTS_PARTITIONS !== 1, {
    message: 'must be 0 (a plain table) or at least 2',
    path: ['EVENTS_PARTITIONS'],
  })
  .refine((env) => env.HOLD_DEFAULT_SECONDS <= env.HOLD_MAX_SECONDS, {
    message: 'must not be longer than HOLD_MAX_SECONDS',
    path: ['HOLD_DEFAULT_SECONDS'],
  })
  .transform((env) => ({
    databaseUrl: env.DATABASE_URL,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    eventsPartitions: env.EVENTS_PARTITIONS,
    host: env.HOST,
    port: env.PORT,
    snapshotInterval: env.SNAPSHOT_INTERVAL,
    snapshotKeep: env.SNAPSHOT_KEEP,
    retry: {
      maxRetries: env.COMMAND_MAX_RETRIES,
      baseDelayMs: env.COMMAND_RETRY_BASE_DELAY_MS,
      maxDelayMs: env.COMMAND_RETRY_MAX_DELAY_MS,
    },
    writePath: env.WRITE_PATH,
    batch: {
      maxBatch: env.BATCH_MAX_COMMANDS,
      maxQueue: env.BATCH_QUEUE_LIMIT,
      maxQueueWaitMs: env.BATCH_QUEUE_MAX_WAIT_MS,
      idleEvictMs: env.CACHE_IDLE_MS,
      maxCached: env.CACHE_MAX_CONFERENCES,
      reservationsCached: env.CACHE_RESERVATIONS_PER_CONFERENCE,
    },
    groupCommit: {
      appendsInFlight: env.GROUP_COMMIT_APPENDS_IN_FLIGHT,
      maxConferences: env.GROUP_COMMIT_MAX_CONFERENCES,
      maxEvents: env.GROUP_COMMIT_MAX_EVENTS,
      aloneFromEvents: env.GROUP_COMMIT_ALONE_FROM_EVENTS,
    },
    projector: {
      runs: env.PROJECTOR,
      batchSize: env.PROJECTOR_BATCH_SIZE,
      seatsBatchSize: env.PROJECTOR_SEATS_BATCH_SIZE,
      pollIntervalMs: env.PROJECTOR_POLL_INTERVAL_MS,
      wakeIntervalMs: env.PROJECTOR_WAKE_INTERVAL_MS,
    },
    holds: {
      defaultSeconds: env.HOLD_DEFAULT_SECONDS,
      maxSeconds: env.HOLD_MAX_SECONDS,
      expiryPollIntervalMs: env.HOLD_EXPIRY_POLL_INTERVAL_MS,
    },
    bodyLimitBytes: env.BODY_LIMIT_BYTES,
    stopTimeoutMs: env.STOP_TIMEOUT_MS,
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    production: env.NODE_ENV === 'production',
    embeddedPostgres: { dataDir: env.EMBEDDED_POSTGRES_DIR, port: env.EMBEDDED_POSTGRES_PORT },
    haproxyPath: env.HAPROXY_PATH,
    adminToken: { value: env.ADMIN_TOKEN, file: env.ADMIN_TOKEN_FILE },
  }));

/** A configuration value that cannot be used; the message names the variable and the problem. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Reads and validates the configuration; throws a `ConfigError` listing every bad value. */
export const loadConfig = (env: Record<string, string | undefined> = process.env): Config => {
  // An empty variable means "unset", as shells and .env files commonly write it.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = configSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    const name = String(issue.path[0]);
    const got = SECRETS.has(name) ? `${env[name]?.length ?? 0} characters` : JSON.stringify(env[name]);
    return `${name} ${issue.message} (got ${got})`;
  });
  throw new ConfigError(`Invalid configuration: ${problems.join('; ')}`);
};

/** The database URL without its password, for logs. */
export const redactUrl = (url: string): string => {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparsable URL)';
  }
};
