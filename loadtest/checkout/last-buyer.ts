import { getJson, type Availability } from '../audit.js';
import { noteAnswer, type Ledger } from '../ledger.js';
import type { PlannedRequest } from '../workloads.js';

/** The most seats one reservation may ask for (the API's limit). */
const MOST_PER_RESERVATION = 100;

/**
 * The last buyer: once the load is over and every hold has expired, buys every seat left of each
 * seat type whose demand exceeded capacity (a hold of it was refused for want of seats), as
 * reservations of at most 100 seats, noted in the ledger like any other answer. Seats given back
 * by expired and released holds must be sellable again: afterwards the audit expects them sold
 * out, neither short (seats lost) nor over (seats given back twice). Returns the seats bought.
 */
export const buyWhatIsLeft = async (
  baseUrl: string,
  prefix: string,
  conferenceId: string,
  ledger: Ledger,
): Promise<number> => {
  const refused = ledger.refused(conferenceId);
  if (refused.size === 0) return 0;
  const { seatTypes } = await getJson<Availability>(
    `${baseUrl}${prefix}/${conferenceId}/availability?consistency=strong`,
  );
  let bought = 0;
  for (const { type, remaining } of seatTypes.filter((s) => refused.has(s.type))) {
    for (let left = remaining; left > 0;) {
      const quantity = Math.min(MOST_PER_RESERVATION, left);
      const reservationId = `last-buyer-${type}-${bought}`;
      const seats = [{ seatType: type, quantity }];
      const planned: PlannedRequest = {
        kind: 'reserve',
        method: 'POST',
        path: `${prefix}/${conferenceId}/reservations`,
        body: JSON.stringify({ reservationId, seats }),
        conferenceId,
        reservationId,
        seats,
      };
      ledger.sent(planned);
      const response = await fetch(`${baseUrl}${planned.path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: planned.body ?? '',
      });
      await response.body?.cancel();
      noteAnswer(ledger, planned, response.status);
      if (response.status !== 201) break;
      bought += quantity;
      left -= quantity;
    }
  }
  return bought;
};
