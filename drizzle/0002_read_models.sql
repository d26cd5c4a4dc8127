CREATE TABLE "conference_list" (
	"conference_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"last_position" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projection_checkpoints" (
	"name" text PRIMARY KEY NOT NULL,
	"transaction_id" "xid8" NOT NULL,
	"position" bigint NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reservations_view" (
	"conference_id" text NOT NULL,
	"reservation_id" text NOT NULL,
	"seats" jsonb NOT NULL,
	"status" text NOT NULL,
	"reserved_at" timestamp with time zone NOT NULL,
	"cancelled_at" timestamp with time zone,
	"last_position" bigint NOT NULL,
	CONSTRAINT "reservations_view_conference_id_reservation_id_pk" PRIMARY KEY("conference_id","reservation_id")
);
--> statement-breakpoint
CREATE TABLE "seat_availability_view" (
	"conference_id" text NOT NULL,
	"seat_type" text NOT NULL,
	"ordinal" integer NOT NULL,
	"capacity" integer NOT NULL,
	"reserved" integer NOT NULL,
	"remaining" integer GENERATED ALWAYS AS (capacity - reserved) STORED NOT NULL,
	"last_position" bigint NOT NULL,
	CONSTRAINT "seat_availability_view_conference_id_seat_type_pk" PRIMARY KEY("conference_id","seat_type")
);
--> statement-breakpoint
CREATE INDEX "events_transaction_position_idx" ON "events" USING btree ("transaction_id","position");