import { createEventStore } from '../event-store/event-store.js';
import { applyReservationChanges } from './apply-events.js';
import type { Projection } from './projection-contract.js';

/**
 * The reservations view: a row per reservation, its seats and status. The events come to node,
 * which folds a batch into one row per reservation (see viewChanges) before writing them.
 */
export const reservations: Projection = {
  name: 'reservations',
  locks: { leader: 72_630_011, batch: 72_630_012, rebuild: 72_630_013 },
  views: ['reservations'],
  async applyNext(tx, tables, after, limit, upTo, alongside) {
    const events = await createEventStore(tx).readSettled(after, limit, upTo);
    const last = events.at(-1);
    if (!last) return undefined;
    const batch = {
      last: { transactionId: last.transactionId, position: last.position },
      count: events.length,
      streamIds: [...new Set(events.map((event) => event.streamId))],
    };
    // Sent at once (see projection-contract.ts).
    await Promise.all([applyReservationChanges(tx, tables, events), alongside?.(batch)]);
    return batch;
  },
};
