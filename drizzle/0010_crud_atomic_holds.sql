-- crud-atomic learns holds (src/crud-baseline/crud-atomic-bookings.ts). As before, every command
-- is ONE call of one of these functions, so ONE round trip, and a counter row's lock is held only
-- for that statement. A function changes rows only when the command succeeds; otherwise it
-- changes nothing and returns the facts from which the caller answers with the aggregate's own
-- `decide`. Counter rows are always locked in seat-type order (and, by the sweep, in conference
-- then seat-type order), the order the naive design locks them in too, so no two statements wait
-- for each other in a circle.
--
-- Each command's function returns one row: whether it changed anything (`taken`, `changed`), the
-- reservation under the id as it stands after the call (existing_*: seats, status, due time), and,
-- when it changed nothing, the counters of the requested seat types and whether the conference exists.
--
-- Reserve and cancel are replaced: a reservation must count held seats as taken, a confirmed hold
-- is cancelled like a reservation, and the facts now carry the held counts and a hold's due time.
DROP FUNCTION crud_atomic_reserve(text, text, jsonb, timestamptz);
--> statement-breakpoint
DROP FUNCTION crud_atomic_cancel(text, text, timestamptz);
--> statement-breakpoint

-- What a command that changed nothing reports: the reservation under the id (its seats, status
-- and due time; nulls when there is none), the counters of the seat types in p_seats, and
-- whether the conference exists.
CREATE FUNCTION crud_atomic_facts(p_conference_id text, p_reservation_id text, p_seats jsonb)
RETURNS TABLE (existing_seats jsonb, existing_status text, existing_expires_at timestamptz, counters jsonb,
  conference_exists boolean)
LANGUAGE sql STABLE AS $$
  SELECT r.seats, r.status, r.expires_at,
    (SELECT coalesce(jsonb_agg(jsonb_build_object(
        'seatType', c.seat_type, 'capacity', c.capacity, 'reserved', c.reserved, 'held', c.held)), '[]')
       FROM crud_seat_counters c
       WHERE c.conference_id = p_conference_id
         AND c.seat_type IN (SELECT y."seatType" FROM jsonb_to_recordset(p_seats) AS y("seatType" text))),
    EXISTS (SELECT 1 FROM crud_conferences f WHERE f.conference_id = p_conference_id)
  FROM (SELECT 1) AS one
  LEFT JOIN crud_reservations r ON r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id
$$;
--> statement-breakpoint

-- Adds p_reserved and p_held times each quantity of p_seats to its counter, in seat-type order.
CREATE FUNCTION crud_atomic_move_seats(p_conference_id text, p_seats jsonb, p_reserved int, p_held int)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  wanted record;
BEGIN
  FOR wanted IN
    SELECT x."seatType" AS seat_type, x.quantity FROM jsonb_to_recordset(p_seats) AS x("seatType" text, quantity int)
    ORDER BY 1
  LOOP
    UPDATE crud_seat_counters c
      SET reserved = c.reserved + p_reserved * wanted.quantity, held = c.held + p_held * wanted.quantity
      WHERE c.conference_id = p_conference_id AND c.seat_type = wanted.seat_type;
  END LOOP;
END;
$$;
--> statement-breakpoint

-- Takes seats under a new id, all or nothing: a reservation (p_expires_at null) or a hold until
-- p_expires_at. `taken` is true when it did; otherwise nothing changes and the row holds the facts.
CREATE FUNCTION crud_atomic_take(p_conference_id text, p_reservation_id text, p_seats jsonb, p_at timestamptz,
  p_expires_at timestamptz)
RETURNS TABLE (taken boolean, existing_seats jsonb, existing_status text, existing_expires_at timestamptz,
  counters jsonb, conference_exists boolean)
LANGUAGE plpgsql AS $$
DECLARE
  wanted record;
  bumped int := 0;
  -- Which count the seats go to: reserved, or held by a checkout.
  to_reserved int := CASE WHEN p_expires_at IS NULL THEN 1 ELSE 0 END;
  to_held int := CASE WHEN p_expires_at IS NULL THEN 0 ELSE 1 END;
BEGIN
  -- The reservation id is the idempotency key: a known id is answered without touching a counter.
  IF EXISTS (SELECT 1 FROM crud_reservations r
             WHERE r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id) THEN
    RETURN QUERY SELECT false, f.* FROM crud_atomic_facts(p_conference_id, p_reservation_id, '[]') f;
    RETURN;
  END IF;

  -- Each counter is bumped only if the seats fit, held ones counted as taken (the check and the
  -- write are one statement), in seat-type order: two multi-type takes lock their rows in the same
  -- order and cannot deadlock.
  FOR wanted IN
    SELECT x."seatType" AS seat_type, x.quantity FROM jsonb_to_recordset(p_seats) AS x("seatType" text, quantity int)
    ORDER BY 1
  LOOP
    UPDATE crud_seat_counters c
      SET reserved = c.reserved + to_reserved * wanted.quantity, held = c.held + to_held * wanted.quantity
      WHERE c.conference_id = p_conference_id AND c.seat_type = wanted.seat_type
        AND c.capacity - c.reserved - c.held >= wanted.quantity;
    EXIT WHEN NOT FOUND;
    bumped := bumped + 1;
  END LOOP;

  -- The id is looked up again now that the counters are locked: a first request with the same id
  -- that held them has committed by now, and its row may be being confirmed, released or expired,
  -- which the INSERT would wait for while holding the counters that change needs (a deadlock).
  IF bumped = jsonb_array_length(p_seats)
     AND NOT EXISTS (SELECT 1 FROM crud_reservations r
                     WHERE r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id) THEN
    -- A concurrent first request with the same id and other seat types waits here for the winner,
    -- then inserts nothing.
    INSERT INTO crud_reservations (conference_id, reservation_id, seats, status, reserved_at, expires_at)
      VALUES (p_conference_id, p_reservation_id, p_seats,
        CASE WHEN p_expires_at IS NULL THEN 'reserved' ELSE 'held' END, p_at, p_expires_at)
      ON CONFLICT DO NOTHING;
    IF FOUND THEN
      RETURN QUERY SELECT true, p_seats, CASE WHEN p_expires_at IS NULL THEN 'reserved' ELSE 'held' END,
        p_expires_at, NULL::jsonb, true;
      RETURN;
    END IF;
  END IF;

  -- Not taken: give back the seats bumped so far (their rows are still locked by this statement,
  -- so nobody saw them), then report the facts.
  IF bumped > 0 THEN
    UPDATE crud_seat_counters c
      SET reserved = c.reserved - to_reserved * x.quantity, held = c.held - to_held * x.quantity
      FROM (SELECT y."seatType" AS seat_type, y.quantity
              FROM jsonb_to_recordset(p_seats) AS y("seatType" text, quantity int) ORDER BY 1 LIMIT bumped) x
      WHERE c.conference_id = p_conference_id AND c.seat_type = x.seat_type;
  END IF;
  RETURN QUERY SELECT false, f.* FROM crud_atomic_facts(p_conference_id, p_reservation_id, p_seats) f;
END;
$$;
--> statement-breakpoint

-- Cancels a reservation, one-step or a confirmed hold: its reserved seats go back. `changed` is
-- true when it did; only the statement that flips the status moves seats, so a concurrent cancel
-- of the same id waits for this row and then finds it cancelled.
CREATE FUNCTION crud_atomic_cancel(p_conference_id text, p_reservation_id text, p_at timestamptz)
RETURNS TABLE (changed boolean, existing_seats jsonb, existing_status text, existing_expires_at timestamptz,
  counters jsonb, conference_exists boolean)
LANGUAGE plpgsql AS $$
DECLARE
  moved jsonb;
BEGIN
  UPDATE crud_reservations r SET status = 'cancelled', cancelled_at = p_at
    WHERE r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id
      AND r.status IN ('reserved', 'confirmed')
    RETURNING r.seats INTO moved;
  IF FOUND THEN
    PERFORM crud_atomic_move_seats(p_conference_id, moved, -1, 0);
    RETURN QUERY SELECT true, moved, 'cancelled'::text, NULL::timestamptz, NULL::jsonb, true;
    RETURN;
  END IF;
  RETURN QUERY SELECT false, f.* FROM crud_atomic_facts(p_conference_id, p_reservation_id, '[]') f;
END;
$$;
--> statement-breakpoint

-- Confirms a pending hold before its due time: its seats move from held to reserved. A hold past
-- its due time is not confirmed even while no sweep has expired it yet (as the domain decides).
CREATE FUNCTION crud_atomic_confirm(p_conference_id text, p_reservation_id text, p_at timestamptz)
RETURNS TABLE (changed boolean, existing_seats jsonb, existing_status text, existing_expires_at timestamptz,
  counters jsonb, conference_exists boolean)
LANGUAGE plpgsql AS $$
DECLARE
  moved jsonb;
BEGIN
  UPDATE crud_reservations r SET status = 'confirmed', confirmed_at = p_at
    WHERE r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id
      AND r.status = 'held' AND r.expires_at > p_at
    RETURNING r.seats INTO moved;
  IF FOUND THEN
    PERFORM crud_atomic_move_seats(p_conference_id, moved, 1, -1);
    RETURN QUERY SELECT true, moved, 'confirmed'::text, NULL::timestamptz, NULL::jsonb, true;
    RETURN;
  END IF;
  RETURN QUERY SELECT false, f.* FROM crud_atomic_facts(p_conference_id, p_reservation_id, '[]') f;
END;
$$;
--> statement-breakpoint

-- Releases a pending hold, due or not: its held seats go back.
CREATE FUNCTION crud_atomic_release(p_conference_id text, p_reservation_id text, p_at timestamptz)
RETURNS TABLE (changed boolean, existing_seats jsonb, existing_status text, existing_expires_at timestamptz,
  counters jsonb, conference_exists boolean)
LANGUAGE plpgsql AS $$
DECLARE
  moved jsonb;
BEGIN
  UPDATE crud_reservations r SET status = 'released', released_at = p_at
    WHERE r.conference_id = p_conference_id AND r.reservation_id = p_reservation_id AND r.status = 'held'
    RETURNING r.seats INTO moved;
  IF FOUND THEN
    PERFORM crud_atomic_move_seats(p_conference_id, moved, 0, -1);
    RETURN QUERY SELECT true, moved, 'released'::text, NULL::timestamptz, NULL::jsonb, true;
    RETURN;
  END IF;
  RETURN QUERY SELECT false, f.* FROM crud_atomic_facts(p_conference_id, p_reservation_id, '[]') f;
END;
$$;
--> statement-breakpoint

-- The sweep: expires every pending hold due at p_now, of every conference, and gives their seats
-- back, set-based (one UPDATE of the holds, one of their counters). Holds another statement has
-- locked (another sweep, a confirm, a release) are skipped, not waited for: that one settles them.
-- A hold that another sweep expired after this one's snapshot is re-read under its lock, no longer
-- held, and left out: each hold expires once, however many sweeps run in however many processes.
CREATE FUNCTION crud_atomic_expire_due_holds(p_now timestamptz)
RETURNS TABLE (expired_conference_id text, expired_reservation_id text)
LANGUAGE plpgsql AS $$
DECLARE
  expired jsonb;
BEGIN
  WITH due AS (
    SELECT r.conference_id, r.reservation_id FROM crud_reservations r
    WHERE r.status = 'held' AND r.expires_at <= p_now
    FOR UPDATE SKIP LOCKED
  ), done AS (
    UPDATE crud_reservations r SET status = 'expired', expired_at = p_now
    FROM due
    WHERE r.conference_id = due.conference_id AND r.reservation_id = due.reservation_id AND r.status = 'held'
    RETURNING r.conference_id, r.reservation_id, r.seats
  )
  SELECT coalesce(jsonb_agg(jsonb_build_object(
      'conferenceId', done.conference_id, 'reservationId', done.reservation_id, 'seats', done.seats)), '[]')
    INTO expired FROM done;

  -- The counter rows are locked first, in conference then seat-type order, before one UPDATE
  -- gives back every expired seat of each.
  PERFORM 1 FROM crud_seat_counters c
    JOIN (SELECT DISTINCT h->>'conferenceId' AS conference_id, s->>'seatType' AS seat_type
            FROM jsonb_array_elements(expired) h, jsonb_array_elements(h->'seats') s) x
      ON c.conference_id = x.conference_id AND c.seat_type = x.seat_type
    ORDER BY c.conference_id, c.seat_type
    FOR UPDATE OF c;
  UPDATE crud_seat_counters c SET held = c.held - x.quantity
    FROM (SELECT h->>'conferenceId' AS conference_id, s->>'seatType' AS seat_type, sum((s->>'quantity')::int) AS quantity
            FROM jsonb_array_elements(expired) h, jsonb_array_elements(h->'seats') s
            GROUP BY 1, 2) x
    WHERE c.conference_id = x.conference_id AND c.seat_type = x.seat_type;

  RETURN QUERY SELECT h->>'conferenceId', h->>'reservationId' FROM jsonb_array_elements(expired) h;
END;
$$;
