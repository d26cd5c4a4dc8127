/** The server counters the report shows, read from its Prometheus /metrics. */
export type ServerCounters = {
  versionConflicts: number;
  retries: number;
  retriesExhausted: number;
  requestsInFlight: number;
  /** Each projection's lag, by projection name. */
  projectionLag: ProjectionLags;
};

/** A projection's lag: committed events not applied yet, and the age of the oldest in ms. */
export type ProjectionLags = Record<string, { events: number; milliseconds: number }>;

const NAMES: Record<Exclude<keyof ServerCounters, 'projectionLag'>, string> = {
  versionConflicts: 'seat_surge_version_conflicts_total',
  retries: 'seat_surge_command_retries_total',
  retriesExhausted: 'seat_surge_command_retries_exhausted_total',
  requestsInFlight: 'seat_surge_http_requests_in_flight',
};

/** Parses the Prometheus text format: the sum of each metric over its label sets. */
export const parseMetrics = (text: string): Map<string, number> => {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[3] === undefined) continue;
    values.set(match[1], (values.get(match[1]) ?? 0) + Number(match[3]));
  }
  return values;
};

/** The values of one metric by the value of its `projection` label. */
export const byProjection = (text: string, metric: string): Map<string, number> => {
  const values = new Map<string, number>();
  const pattern = new RegExp(`^${metric}\\{[^}]*projection="([^"]+)"[^}]*\\}\\s+(\\S+)`, 'gm');
  for (const match of text.matchAll(pattern)) values.set(match[1]!, Number(match[2]));
  return values;
};

const projectionLags = (text: string): ProjectionLags => {
  const events = byProjection(text, 'seat_surge_projection_lag_events');
  const seconds = byProjection(text, 'seat_surge_projection_lag_seconds');
  return Object.fromEntries(
    [...events].map(([name, count]) => [
      name,
      { events: count, milliseconds: Math.round((seconds.get(name) ?? 0) * 1000) },
    ]),
  );
};

/** One process's counters. */
const scrapeOne = async (baseUrl: string): Promise<ServerCounters> => {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const text = await response.text();
  const values = parseMetrics(text);
  const read = (key: keyof typeof NAMES) => values.get(NAMES[key]) ?? 0;
  return {
    versionConflicts: read('versionConflicts'),
    retries: read('retries'),
    retriesExhausted: read('retriesExhausted'),
    requestsInFlight: read('requestsInFlight'),
    projectionLag: projectionLags(text),
  };
};

/**
 * The service's counters: of its one process, or summed over the API processes of a cluster
 * (each keeps its own /metrics; HAProxy would answer from any one of them). `requestsInFlight`
 * is the most of any one process; the lags, read from the checkpoints, are the same in each.
 */
export const scrapeCounters = async (baseUrls: string | readonly string[]): Promise<ServerCounters> => {
  const each = await Promise.all((typeof baseUrls === 'string' ? [baseUrls] : baseUrls).map(scrapeOne));
  const sum = (key: 'versionConflicts' | 'retries' | 'retriesExhausted') =>
    each.reduce((total, counters) => total + counters[key], 0);
  return {
    versionConflicts: sum('versionConflicts'),
    retries: sum('retries'),
    retriesExhausted: sum('retriesExhausted'),
    requestsInFlight: Math.max(...each.map((counters) => counters.requestsInFlight)),
    projectionLag: each[0]?.projectionLag ?? {},
  };
};

/**
 * Samples each projection's lag once a second while a phase runs, into the recorder, so the
 * report shows how the lag grows and not only where it ended. A failed scrape is a missing sample.
 */
export const sampleLag = (
  baseUrls: string | readonly string[],
  recorder: { recordLag: (lags: ProjectionLags) => void },
) => {
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    sampling = scrapeCounters(baseUrls).then(
      (counters) => recorder.recordLag(counters.projectionLag),
      () => {},
    );
  };
  const timer = setInterval(sample, 1000);
  sample();
  return {
    async stop(): Promise<void> {
      clearInterval(timer);
      await sampling;
    },
  };
};

/**
 * Waits until the server, every process of it, has finished every request (the load generator
 * abandons those in flight when a load stops, but the server still carries them out), so an
 * audit reads a settled state.
 */
export const waitUntilIdle = async (baseUrls: string | readonly string[], deadlineMs = 60_000): Promise<void> => {
  const deadline = Date.now() + deadlineMs;
  // Each process counts the scrape it is answering.
  while ((await scrapeCounters(baseUrls)).requestsInFlight > 1) {
    if (Date.now() > deadline) throw new Error('the server still had requests in flight 60 s after the load stopped');
    await new Promise((next) => setTimeout(next, 50));
  }
};
