CREATE TABLE "alerts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"rule" text NOT NULL,
	"severity" text NOT NULL,
	"dedupe_key" text NOT NULL,
	"place" text NOT NULL,
	"period" text NOT NULL,
	"division_code" text NOT NULL,
	"hall_code" text,
	"department_id" text,
	"title" text NOT NULL,
	"details" jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"first_raised_at" timestamp with time zone NOT NULL,
	"last_raised_at" timestamp with time zone NOT NULL,
	"occurrences" integer DEFAULT 1 NOT NULL,
	"acknowledged_at" timestamp with time zone,
	"acknowledged_by" text,
	"acknowledge_note" text,
	"resolved_at" timestamp with time zone,
	"resolved_by" text,
	"resolution" text
);
--> statement-breakpoint
CREATE TABLE "warning_bad_reviews" (
	"evaluation_id" text PRIMARY KEY NOT NULL,
	"hall_code" text,
	"department_id" text,
	"division_code" text NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "warning_closed_halls" (
	"hall_code" text PRIMARY KEY NOT NULL,
	"division_code" text NOT NULL,
	"reason" text,
	"since" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "warning_sweeps" (
	"id" text PRIMARY KEY NOT NULL,
	"next_run_at" timestamp with time zone NOT NULL,
	"last_started_at" timestamp with time zone,
	"last_raised" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "alerts_active_key_idx" ON "alerts" USING btree ("dedupe_key") WHERE "alerts"."status" <> 'resolved';--> statement-breakpoint
CREATE INDEX "alerts_division_idx" ON "alerts" USING btree ("division_code","last_raised_at");--> statement-breakpoint
CREATE INDEX "alerts_key_idx" ON "alerts" USING btree ("dedupe_key","resolved_at");--> statement-breakpoint
CREATE INDEX "warning_bad_reviews_hall_idx" ON "warning_bad_reviews" USING btree ("hall_code","at");--> statement-breakpoint
CREATE INDEX "warning_bad_reviews_department_idx" ON "warning_bad_reviews" USING btree ("department_id","at");