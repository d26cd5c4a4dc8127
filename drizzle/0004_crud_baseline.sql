CREATE TABLE "crud_conferences" (
	"conference_id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "crud_reservations" (
	"conference_id" text NOT NULL,
	"reservation_id" text NOT NULL,
	"seats" jsonb NOT NULL,
	"status" text NOT NULL,
	"reserved_at" timestamp with time zone NOT NULL,
	"cancelled_at" timestamp with time zone,
	CONSTRAINT "crud_reservations_conference_id_reservation_id_pk" PRIMARY KEY("conference_id","reservation_id")
);
--> statement-breakpoint
CREATE TABLE "crud_seat_counters" (
	"conference_id" text NOT NULL,
	"seat_type" text NOT NULL,
	"ordinal" integer NOT NULL,
	"capacity" integer NOT NULL,
	"reserved" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "crud_seat_counters_conference_id_seat_type_pk" PRIMARY KEY("conference_id","seat_type"),
	CONSTRAINT "crud_seat_counters_within_capacity" CHECK ("crud_seat_counters"."reserved" >= 0 and "crud_seat_counters"."reserved" <= "crud_seat_counters"."capacity")
);
--> statement-breakpoint
ALTER TABLE "crud_seat_counters" ADD CONSTRAINT "crud_seat_counters_conference_id_crud_conferences_conference_id_fk" FOREIGN KEY ("conference_id") REFERENCES "public"."crud_conferences"("conference_id") ON DELETE no action ON UPDATE no action;