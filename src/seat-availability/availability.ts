import type { OpenConference } from './types.js';

/** Seats of one type as the API shows them. */
export type SeatTypeAvailability = { type: string; capacity: number; reserved: number; remaining: number };

/** The remaining seats of every seat type, in the order the conference was created with. */
export const availability = (state: OpenConference): SeatTypeAvailability[] =>
  [...state.seatTypes].map(([type, { capacity, reserved }]) => ({
    type,
    capacity,
    reserved,
    remaining: capacity - reserved,
  }));
