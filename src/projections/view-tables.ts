/** The tables one set of views lives in: the live ones, or fresh ones during a rebuild. */
export type ViewTables = { conferences: string; seats: string; reservations: string };

export const LIVE_VIEWS: ViewTables = {
  conferences: 'conference_list',
  seats: 'seat_availability_view',
  reservations: 'reservations_view',
};

/** The stored (not generated) columns of each view, for copying a rebuilt view into the live one. */
export const VIEW_COLUMNS: Record<keyof ViewTables, string[]> = {
  conferences: ['conference_id', 'name', 'created_at', 'last_position'],
  seats: ['conference_id', 'seat_type', 'ordinal', 'capacity', 'reserved', 'held', 'last_position'],
  reservations: [
    'conference_id',
    'reservation_id',
    'seats',
    'status',
    'reserved_at',
    'cancelled_at',
    'expires_at',
    'confirmed_at',
    'released_at',
    'expired_at',
    'last_position',
  ],
};
