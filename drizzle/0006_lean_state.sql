-- drizzle-kit cannot name the old primary key; "snapshots_pkey" is the name PostgreSQL gave the
-- "stream_id text PRIMARY KEY" of 0000_event_store_and_snapshots.sql.
ALTER TABLE "snapshots" DROP CONSTRAINT "snapshots_pkey";--> statement-breakpoint
ALTER TABLE "snapshots" ADD CONSTRAINT "snapshots_stream_id_version_pk" PRIMARY KEY("stream_id","version");--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "reservation_id" text GENERATED ALWAYS AS (data ->> 'reservationId') STORED;--> statement-breakpoint
CREATE INDEX "events_reservation_idx" ON "events" USING btree ("stream_id","reservation_id");