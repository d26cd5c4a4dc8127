-- Appends no longer wake the projectors from a trigger (0003), at every append's commit: the
-- service sends the wake-up itself, at most once every few ms per process, and a projector that
-- finds events polls until it finds none (src/event-store/projector-wake-ups.ts).
DROP TRIGGER IF EXISTS events_notify_appended ON events;--> statement-breakpoint
DROP FUNCTION IF EXISTS notify_events_appended();
