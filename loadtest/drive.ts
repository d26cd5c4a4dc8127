import autocannon from 'autocannon';
import { noteAnswer, type Ledger } from './ledger.js';
import type { Recorder } from './recorder.js';
import type { PlannedRequest, Workload } from './workloads.js';

export type DriveOptions = {
  baseUrl: string;
  connections: number;
  /** Seconds of load, or... */
  durationSeconds?: number;
  /** ...a number of requests. */
  amount?: number;
  workload: Workload;
  recorder: Recorder;
  ledger: Ledger;
  /** Shown beside the progress bar. */
  title: string;
  /** Ends the load early when it settles (the fault runs stop once their faults are done). */
  until?: Promise<unknown>;
  /** Told of every answer, after the ledger and the recorder, with the process HAProxy names (a cluster's). */
  onAnswer?: (planned: PlannedRequest, status: number, servedBy: string | undefined) => void;
  /**
   * For fault runs: a 5xx other than busy (which decides nothing) leaves the outcome unknown, as
   * the database may have committed the request just before its connection was lost. Such a
   * request is kept as unanswered, and the audit takes its outcome from the store. Elsewhere a
   * 5xx is an answer, and a reservation stored behind one fails the audit.
   */
  unknownOutcomeOn5xx?: boolean;
};

const errorCodeOf = (body: string): unknown => {
  try {
    return (JSON.parse(body) as { error?: unknown }).error;
  } catch {
    return undefined;
  }
};

type Context = { planned?: PlannedRequest; sentAt?: number };

/** HAProxy's X-Served-By, whatever the case autocannon gives the name in. */
const servedBy = (headers: Record<string, unknown> | undefined): string | undefined => {
  const entry = Object.entries(headers ?? {}).find(([name]) => name.toLowerCase() === 'x-served-by');
  return typeof entry?.[1] === 'string' ? entry[1] : undefined;
};

/**
 * Sends a workload with autocannon from this process (the server runs in another), recording
 * every answer and noting accepted reservations and cancels in the ledger.
 */
export const drive = (options: DriveOptions): Promise<autocannon.Result> => {
  const { recorder, ledger, workload } = options;
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.baseUrl,
        connections: options.connections,
        ...(options.amount ? { amount: options.amount } : { duration: options.durationSeconds ?? 10 }),
        timeout: 30,
        requests: [
          {
            setupRequest: (request, context: Context) => {
              const planned = workload();
              ledger.sent(planned);
              context.planned = planned;
              context.sentAt = performance.now();
              // A new headers object each time: autocannon writes Content-Length into the one it is
              // given, and a stale length on a request without a body stalls the connection.
              return {
                ...request,
                method: planned.method,
                path: planned.path,
                body: planned.body ?? '',
                headers: planned.body ? { 'content-type': 'application/json' } : {},
              };
            },
            onResponse: (status: number, body: string, context: Context, headers?: Record<string, unknown>) => {
              const { planned, sentAt = performance.now() } = context;
              if (!planned) return;
              const unknown = options.unknownOutcomeOn5xx && status >= 500 && errorCodeOf(body) !== 'busy';
              if (!unknown) noteAnswer(ledger, planned, status);
              recorder.record(planned.kind, status, performance.now() - sentAt, planned.conferenceId);
              options.onAnswer?.(planned, status, servedBy(headers));
            },
          },
        ],
      },
      (error: unknown, result) =>
        error
          ? reject(error instanceof Error ? error : new Error('autocannon failed', { cause: error }))
          : resolve(result),
    );
    instance.on('reqError', () => recorder.recordError());
    void options.until?.then(() => instance.stop());
    autocannon.track(instance, {
      renderProgressBar: process.stderr.isTTY,
      renderResultsTable: false,
      renderLatencyTable: false,
      progressBarString: `${options.title} [:bar] :percent`,
    });
  });
};
