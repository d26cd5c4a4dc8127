/** The server counters the report shows, read from its Prometheus /metrics. */
export type ServerCounters = {
  versionConflicts: number;
  retries: number;
  retriesExhausted: number;
  projectionLagEvents: number;
  projectionLagSeconds: number;
  requestsInFlight: number;
};

const NAMES: Record<keyof ServerCounters, string> = {
  versionConflicts: 'seat_surge_version_conflicts_total',
  retries: 'seat_surge_command_retries_total',
  retriesExhausted: 'seat_surge_command_retries_exhausted_total',
  projectionLagEvents: 'seat_surge_projection_lag_events',
  projectionLagSeconds: 'seat_surge_projection_lag_seconds',
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

export const scrapeCounters = async (baseUrl: string): Promise<ServerCounters> => {
  const response = await fetch(`${baseUrl}/metrics`);
  if (!response.ok) throw new Error(`GET /metrics answered ${response.status}`);
  const values = parseMetrics(await response.text());
  const read = (key: keyof ServerCounters) => values.get(NAMES[key]) ?? 0;
  return {
    versionConflicts: read('versionConflicts'),
    retries: read('retries'),
    retriesExhausted: read('retriesExhausted'),
    projectionLagEvents: read('projectionLagEvents'),
    projectionLagSeconds: read('projectionLagSeconds'),
    requestsInFlight: read('requestsInFlight'),
  };
};

/**
 * Waits until the server has finished every request (the load generator abandons those in
 * flight when a load stops, but the server still carries them out), so an audit reads a
 * settled state.
 */
export const waitUntilIdle = async (baseUrl: string, deadlineMs = 60_000): Promise<void> => {
  const deadline = Date.now() + deadlineMs;
  while ((await scrapeCounters(baseUrl)).requestsInFlight > 1) {
    if (Date.now() > deadline) throw new Error('the server still had requests in flight 60 s after the load stopped');
    await new Promise((next) => setTimeout(next, 50));
  }
};
