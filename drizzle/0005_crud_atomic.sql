-- crud-atomic, the strongest CRUD baseline (src/crud-baseline/crud-atomic-bookings.ts): every
-- reserve and cancel is ONE call of one of these functions, so ONE round trip, and the counter
-- rows' locks are held only for that statement. The functions change rows only when the command
-- succeeds; otherwise they change nothing and return the facts (the reservation under that id,
-- the counters) from which the caller answers with the aggregate's own `decide`, as the naive
-- baseline does.

-- Reserves when the id is new and every requested type has room: `reserved` is true. Otherwise
-- nothing changes, and the row says what the id already names and what the counters hold.
CREATE FUNCTION crud_atomic_reserve(p_conference_id text, p_reservation_id text, p_seats jsonb, p_at timestamptz)
RETURNS TABLE (reserved boolean, existing_seats jsonb, existing_status text, counters jsonb, conference_exists boolean)
LANGUAGE plpgsql AS $$
DECLARE
  wanted record;
  bumped int := 0;
BEGIN
  -- The reservation id is the idempotency key: a known id is answered without touching a counter.
  RETURN QUERY SELECT false, r.seats, r.status, NULL::jsonb, true FROM crud_reservations r
    WHERE r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id;
  IF FOUND THEN RETURN; END IF;

  -- Each counter is bumped only if the seats fit (the check and the write are one statement), in
  -- seat-type order: two multi-type bookings lock their rows in the same order and cannot deadlock.
  FOR wanted IN
    SELECT x."seatType" AS seat_type, x.quantity FROM jsonb_to_recordset(p_seats) AS x("seatType" text, quantity int)
    ORDER BY 1
  LOOP
    UPDATE crud_seat_counters c SET reserved = c.reserved + wanted.quantity
      WHERE c.conference_id = p_conference_id AND c.seat_type = wanted.seat_type
        AND c.reserved + wanted.quantity <= c.capacity;
    EXIT WHEN NOT FOUND;
    bumped := bumped + 1;
  END LOOP;

  IF bumped = jsonb_array_length(p_seats) THEN
    -- A concurrent first request with the same id waits here for the winner, then inserts nothing.
    INSERT INTO crud_reservations (conference_id, reservation_id, seats, status, reserved_at)
      VALUES (p_conference_id, p_reservation_id, p_seats, 'reserved', p_at)
      ON CONFLICT DO NOTHING;
    IF FOUND THEN
      RETURN QUERY SELECT true, p_seats, 'reserved'::text, NULL::jsonb, true;
      RETURN;
    END IF;
  END IF;

  -- Not reserved: give back the seats bumped so far (their rows are still locked by this
  -- statement, so nobody saw them), then report the facts.
  IF bumped > 0 THEN
    UPDATE crud_seat_counters c SET reserved = c.reserved - x.quantity
      FROM (SELECT y."seatType" AS seat_type, y.quantity
              FROM jsonb_to_recordset(p_seats) AS y("seatType" text, quantity int) ORDER BY 1 LIMIT bumped) x
      WHERE c.conference_id = p_conference_id AND c.seat_type = x.seat_type;
  END IF;
  RETURN QUERY
    SELECT false, r.seats, r.status,
      (SELECT coalesce(jsonb_agg(jsonb_build_object('seatType', c.seat_type, 'capacity', c.capacity, 'reserved', c.reserved)), '[]')
         FROM crud_seat_counters c
         WHERE c.conference_id = p_conference_id
           AND c.seat_type IN (SELECT y."seatType" FROM jsonb_to_recordset(p_seats) AS y("seatType" text))),
      EXISTS (SELECT 1 FROM crud_conferences f WHERE f.conference_id = p_conference_id)
    FROM (SELECT 1) AS one
    LEFT JOIN crud_reservations r ON r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id;
END;
$$;
--> statement-breakpoint

-- Cancels a reserved reservation: `cancelled` is true, and its seats go back in seat-type order.
-- Otherwise nothing changes, and the row says what the id names (a cancelled one, or nothing).
CREATE FUNCTION crud_atomic_cancel(p_conference_id text, p_reservation_id text, p_at timestamptz)
RETURNS TABLE (cancelled boolean, existing_seats jsonb, existing_status text, conference_exists boolean)
LANGUAGE plpgsql AS $$
DECLARE
  returned jsonb;
  wanted record;
BEGIN
  -- Only the statement that flips the status gives the seats back: a concurrent cancel of the
  -- same id waits for this row and then finds it cancelled.
  UPDATE crud_reservations r SET status = 'cancelled', cancelled_at = p_at
    WHERE r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id AND r.status = 'reserved'
    RETURNING r.seats INTO returned;
  IF FOUND THEN
    FOR wanted IN
      SELECT x."seatType" AS seat_type, x.quantity FROM jsonb_to_recordset(returned) AS x("seatType" text, quantity int)
      ORDER BY 1
    LOOP
      UPDATE crud_seat_counters c SET reserved = c.reserved - wanted.quantity
        WHERE c.conference_id = p_conference_id AND c.seat_type = wanted.seat_type;
    END LOOP;
    RETURN QUERY SELECT true, returned, 'cancelled'::text, true;
    RETURN;
  END IF;
  RETURN QUERY
    SELECT false, r.seats, r.status, EXISTS (SELECT 1 FROM crud_conferences f WHERE f.conference_id = p_conference_id)
    FROM (SELECT 1) AS one
    LEFT JOIN crud_reservations r ON r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id;
END;
$$;
