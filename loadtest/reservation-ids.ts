import { MIN_CLIENT_RESERVATION_ID_LENGTH } from '../src/seat-availability/index.js';

/**
 * The n-th reservation id of a load: `idPrefix` and a counter, unique within the load. The counter
 * is padded so that every id has the length the API asks of a client's ids
 * (MIN_CLIENT_RESERVATION_ID_LENGTH): the harness is no holder to protect, so its ids need only
 * be unique, but they are checked as a client's are.
 */
export const loadReservationId = (idPrefix: string, n: number): string => {
  const counter = n.toString(36).padStart(8, '0');
  return `${idPrefix}-${counter}`.padEnd(MIN_CLIENT_RESERVATION_ID_LENGTH, '0');
};
