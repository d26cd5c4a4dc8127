import { remainingOf } from './remaining.js';
import type { OpenConference } from './types.js';

/** Seats of one type as the API shows them: `held` are in a checkout, not on sale and not sold. */
export type SeatTypeAvailability = {
  type: string;
  capacity: number;
  reserved: number;
  held: number;
  remaining: number;
};

/** The remaining seats of every seat type, in the order the conference was created with. */
export const availability = (state: OpenConference): SeatTypeAvailability[] =>
  [...state.seatTypes].map(([type, count]) => ({
    type,
    capacity: count.capacity,
    reserved: count.reserved,
    held: count.held,
    remaining: remainingOf(count),
  }));
