-- Wake projectors as soon as events are committed (NOTIFY is delivered at commit, and repeated
-- notifications of one transaction are folded into one). Projectors also poll, so a missed
-- notification only delays them.
CREATE FUNCTION notify_events_appended() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('seat_surge_events', '');
  RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER events_notify_appended
  AFTER INSERT ON events
  FOR EACH STATEMENT EXECUTE FUNCTION notify_events_appended();
