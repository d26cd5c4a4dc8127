/**
 * Every retry of a command met a version conflict: the stream is too contended right now.
 * Nothing was appended; the caller should come back after `retryAfterSeconds`.
 */
export class BusyError extends Error {
  override readonly name = 'BusyError';

  constructor(readonly retryAfterSeconds: number) {
    super('the conference is busy; retry shortly');
  }
}
