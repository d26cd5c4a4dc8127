import { remainingSeats } from './remaining-seats.js';
import { reservations } from './reservations.js';

export { remainingSeats, reservations };

/** Every projection: remaining seats (with the conference list) first, as readers wait on it most. */
export const PROJECTIONS = [remainingSeats, reservations] as const;
