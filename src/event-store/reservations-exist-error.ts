import type { RecordedEvent } from './recorded-event.js';

/**
 * An append that assumed some reservation ids were new found events of them in the stream, at
 * the expected version: nothing was appended. `events` are those reservations' events (the
 * stream is unchanged, so the caller decides again knowing them, at the same version).
 */
export class ReservationsExistError extends Error {
  override readonly name = 'ReservationsExistError';

  constructor(
    readonly streamId: string,
    readonly events: RecordedEvent[],
  ) {
    super(
      `stream ${streamId} already has events of ${events.length === 1 ? 'a reservation' : 'reservations'} assumed new`,
    );
  }
}
