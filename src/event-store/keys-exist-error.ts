import type { RecordedEvent } from './recorded-event.js';

/**
 * An append that required some keys to be new to its stream found events of them, at the
 * expected version: nothing was appended. `events` are those keys' events (the stream is
 * unchanged, so the caller decides again knowing them, at the same version).
 */
export class KeysExistError extends Error {
  override readonly name = 'KeysExistError';

  constructor(
    readonly streamId: string,
    readonly events: RecordedEvent[],
  ) {
    super(`stream ${streamId} already has events of ${events.length === 1 ? 'a key' : 'keys'} required to be new`);
  }
}
