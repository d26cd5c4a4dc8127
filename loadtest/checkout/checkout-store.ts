import type { SeatQuantity, SeatTypeCapacity } from '../../src/seat-availability/index.js';
import {
  getJson,
  listReservations,
  settledReservations,
  settledView,
  type Availability,
  type Listed,
} from '../audit.js';
import { operatorHeaders } from '../operator-token.js';

/** One event of a conference's stream, as GET /conferences/:id/events gives it (the fields the fold reads). */
export type StreamEvent = {
  version: number;
  type: string;
  data: { seats?: SeatQuantity[]; seatTypes?: SeatTypeCapacity[] };
};

/** What the checkout audit reads of one conference once the load is over, through the API only. */
export type CheckoutStore = {
  conferenceId: string;
  /** The authoritative counts: the aggregate, or the CRUD counters. */
  strong: Availability;
  /** The read side's counts, once level with the authoritative ones (undefined if they never were). */
  view: Availability | undefined;
  /** Every reservation of the conference, holds included, whole. */
  reservations: Listed[];
  /** The conference's stream, oldest first: event-sourced designs only. */
  events?: StreamEvent[];
};

/** Every event of a conference's stream, a page at a time. */
const readStream = async (baseUrl: string, conferenceId: string): Promise<StreamEvent[]> => {
  const events: StreamEvent[] = [];
  for (let after = 0; ;) {
    const page = await getJson<{ events: (StreamEvent & { position: number })[]; next?: string }>(
      `${baseUrl}/conferences/${conferenceId}/events?after=${after}&limit=1000`,
      operatorHeaders,
    );
    events.push(...page.events.map(({ version, type, data }) => ({ version, type, data })));
    const last = page.events.at(-1);
    if (!page.next || !last) return events;
    after = last.position;
  }
};

/**
 * Reads what the checkout audit checks: the authoritative counts, the read side's once it has
 * caught up with them, every reservation (once the reservations view has applied every event),
 * and for an event-sourced design the whole stream.
 */
export const readCheckoutStore = async (
  baseUrl: string,
  prefix: string,
  conferenceId: string,
  eventSourced: boolean,
): Promise<CheckoutStore> => {
  const strong = await getJson<Availability>(`${baseUrl}${prefix}/${conferenceId}/availability?consistency=strong`);
  const view = await settledView(baseUrl, prefix, conferenceId, strong);
  await settledReservations(baseUrl);
  const reservations = await listReservations(baseUrl, prefix, conferenceId);
  return {
    conferenceId,
    strong,
    view,
    reservations,
    ...(eventSourced ? { events: await readStream(baseUrl, conferenceId) } : {}),
  };
};
