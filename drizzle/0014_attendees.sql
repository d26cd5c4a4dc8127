CREATE TABLE "attendee_keys" (
	"attendee_id" text PRIMARY KEY NOT NULL,
	"key" "bytea",
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"forgotten_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "reservations_view" ADD COLUMN "attendee_id" text;