CREATE TABLE "kpi_cases" (
	"case_id" text PRIMARY KEY NOT NULL,
	"open" boolean NOT NULL,
	"overdue" boolean NOT NULL,
	"day" date NOT NULL,
	"units" jsonb NOT NULL,
	"last_event_id" bigint NOT NULL,
	"applied" bigint[] DEFAULT '{}'::bigint[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kpi_daily" (
	"unit_kind" text NOT NULL,
	"unit_code" text NOT NULL,
	"day" date NOT NULL,
	"county_code" text NOT NULL,
	"received" integer DEFAULT 0 NOT NULL,
	"online" integer DEFAULT 0 NOT NULL,
	"nearby_base" integer DEFAULT 0 NOT NULL,
	"nearby" integer DEFAULT 0 NOT NULL,
	"senior" integer DEFAULT 0 NOT NULL,
	"senior_offline" integer DEFAULT 0 NOT NULL,
	"delivered" integer DEFAULT 0 NOT NULL,
	"one_visit" integer DEFAULT 0 NOT NULL,
	"trips_saved" integer DEFAULT 0 NOT NULL,
	"cross_accepts" integer DEFAULT 0 NOT NULL,
	"cross_minutes" bigint DEFAULT 0 NOT NULL,
	"cross_provisional" integer DEFAULT 0 NOT NULL,
	"remote_closed" integer DEFAULT 0 NOT NULL,
	"remote_decided" integer DEFAULT 0 NOT NULL,
	"decided_with_limit" integer DEFAULT 0 NOT NULL,
	"decided_late" integer DEFAULT 0 NOT NULL,
	"legal_days" integer DEFAULT 0 NOT NULL,
	"actual_days" integer DEFAULT 0 NOT NULL,
	"first_supplements" integer DEFAULT 0 NOT NULL,
	"second_supplements" integer DEFAULT 0 NOT NULL,
	"open_delta" integer DEFAULT 0 NOT NULL,
	"overdue_delta" integer DEFAULT 0 NOT NULL,
	"ratings" integer DEFAULT 0 NOT NULL,
	"good_reviews" integer DEFAULT 0 NOT NULL,
	"bad_reviews" integer DEFAULT 0 NOT NULL,
	"feedback_reports" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "kpi_daily_unit_kind_unit_code_day_pk" PRIMARY KEY("unit_kind","unit_code","day")
);
--> statement-breakpoint
CREATE TABLE "kpi_evaluations" (
	"evaluation_id" text PRIMARY KEY NOT NULL,
	"day" date NOT NULL,
	"units" jsonb NOT NULL,
	"level" smallint NOT NULL,
	"excluded" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kpi_feedback" (
	"feedback_id" text PRIMARY KEY NOT NULL
);
--> statement-breakpoint
CREATE TABLE "kpi_hall_outages" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"hall_code" text NOT NULL,
	"county_code" text NOT NULL,
	"status" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"ended_at" timestamp with time zone,
	"started_event_id" bigint NOT NULL
);
--> statement-breakpoint
CREATE INDEX "kpi_daily_county_idx" ON "kpi_daily" USING btree ("unit_kind","county_code","day");--> statement-breakpoint
CREATE UNIQUE INDEX "kpi_hall_outages_event_idx" ON "kpi_hall_outages" USING btree ("started_event_id");--> statement-breakpoint
CREATE INDEX "kpi_hall_outages_county_idx" ON "kpi_hall_outages" USING btree ("county_code","started_at");--> statement-breakpoint
CREATE INDEX "kpi_hall_outages_open_idx" ON "kpi_hall_outages" USING btree ("hall_code") WHERE "kpi_hall_outages"."ended_at" is null;