CREATE SEQUENCE "public"."case_number_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1;--> statement-breakpoint
CREATE TABLE "case_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"from_status" text,
	"to_status" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" jsonb NOT NULL,
	"reason" text,
	"data" jsonb NOT NULL,
	"attachments" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "case_materials" (
	"case_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"name" text NOT NULL,
	"required" boolean NOT NULL,
	"received_as" text,
	"custody" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"file_key" text,
	"file_sm3" text,
	"file_bytes" integer,
	CONSTRAINT "case_materials_case_id_seq_pk" PRIMARY KEY("case_id","seq")
);
--> statement-breakpoint
CREATE TABLE "case_parts" (
	"case_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"department_id" uuid NOT NULL,
	"division_code" text NOT NULL,
	"item_code" text NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"outcome" text,
	"decided_at" timestamp with time zone,
	"reason" text,
	CONSTRAINT "case_parts_case_id_seq_pk" PRIMARY KEY("case_id","seq")
);
--> statement-breakpoint
CREATE TABLE "case_timers" (
	"case_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"fired_at" timestamp with time zone,
	CONSTRAINT "case_timers_case_id_kind_pk" PRIMARY KEY("case_id","kind")
);
--> statement-breakpoint
CREATE TABLE "cases" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"number" text NOT NULL,
	"item_code" text NOT NULL,
	"item_name" text NOT NULL,
	"implementation_code" text NOT NULL,
	"applicant" jsonb NOT NULL,
	"applicant_key" text NOT NULL,
	"agent" jsonb,
	"channel" text NOT NULL,
	"processing_mode" text NOT NULL,
	"intake_hall_code" text,
	"intake_division_code" text NOT NULL,
	"competent_department_id" uuid,
	"deciding_division_code" text NOT NULL,
	"form_data" jsonb NOT NULL,
	"status" text NOT NULL,
	"outcome" text,
	"state" jsonb NOT NULL,
	"limits" jsonb NOT NULL,
	"decision_due" text,
	"supplement_due" text,
	"certificate_due" text,
	"due_provisional" boolean DEFAULT false NOT NULL,
	"warning" text DEFAULT 'none' NOT NULL,
	"delivery" jsonb,
	"visits" integer DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "cases_number_unique" UNIQUE("number")
);
--> statement-breakpoint
CREATE TABLE "delegations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"item_code" text NOT NULL,
	"department_id" uuid NOT NULL,
	"hall_code" text NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_until" timestamp with time zone NOT NULL,
	"reason" text NOT NULL,
	"granted_by" jsonb NOT NULL,
	"revoked_at" timestamp with time zone,
	"revoked_reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "system_settings" (
	"key" text PRIMARY KEY NOT NULL,
	"value" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "case_events_case_seq_idx" ON "case_events" USING btree ("case_id","seq");--> statement-breakpoint
CREATE INDEX "case_parts_department_idx" ON "case_parts" USING btree ("department_id","status");--> statement-breakpoint
CREATE INDEX "case_timers_due_idx" ON "case_timers" USING btree ("due_at") WHERE "case_timers"."fired_at" is null;--> statement-breakpoint
CREATE INDEX "cases_inbox_idx" ON "cases" USING btree ("competent_department_id","decision_due","id");--> statement-breakpoint
CREATE INDEX "cases_intake_idx" ON "cases" USING btree ("intake_hall_code","created_at");--> statement-breakpoint
CREATE INDEX "cases_applicant_idx" ON "cases" USING btree ("applicant_key","created_at");--> statement-breakpoint
CREATE INDEX "cases_open_warning_idx" ON "cases" USING btree ("warning") WHERE "cases"."status" not in ('not_accepted','decided','delivered','rated','withdrawn');--> statement-breakpoint
CREATE INDEX "delegations_hall_item_idx" ON "delegations" USING btree ("hall_code","item_code");