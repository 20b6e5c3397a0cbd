CREATE TABLE "evaluation_appeals" (
	"id" uuid PRIMARY KEY NOT NULL,
	"evaluation_id" uuid NOT NULL,
	"case_number" text NOT NULL,
	"ground" text NOT NULL,
	"reason" text NOT NULL,
	"appellant_account_id" text NOT NULL,
	"appealed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status" text DEFAULT 'pending' NOT NULL,
	"reviewer_account_id" text,
	"decision_reason" text,
	"decided_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "evaluations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"case_number" text NOT NULL,
	"item_code" text NOT NULL,
	"level" integer NOT NULL,
	"comment" text,
	"channel" text NOT NULL,
	"subject" text DEFAULT 'service' NOT NULL,
	"rater_kind" text NOT NULL,
	"rater_key" text NOT NULL,
	"hall_code" text,
	"department_id" text,
	"staff_account_id" text,
	"intake_county_code" text NOT NULL,
	"deciding_county_code" text NOT NULL,
	"rated_on" text NOT NULL,
	"excluded" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rectifications" (
	"id" uuid PRIMARY KEY NOT NULL,
	"evaluation_id" uuid NOT NULL,
	"case_number" text NOT NULL,
	"item_code" text NOT NULL,
	"department_id" text,
	"hall_code" text,
	"county_code" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"opened_on" text NOT NULL,
	"call_back_due" text NOT NULL,
	"rectify_due" text NOT NULL,
	"provisional" boolean DEFAULT false NOT NULL,
	"called_back_at" timestamp with time zone,
	"called_back_by" text,
	"call_back_summary" text,
	"rectified_at" timestamp with time zone,
	"rectified_by" text,
	"outcome" text,
	"follow_up_level" integer,
	"follow_up_comment" text,
	"closed_at" timestamp with time zone,
	"cancelled_at" timestamp with time zone,
	"overdue_flagged_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "evaluation_appeals_evaluation_uq" ON "evaluation_appeals" USING btree ("evaluation_id");--> statement-breakpoint
CREATE INDEX "evaluation_appeals_status_idx" ON "evaluation_appeals" USING btree ("status");--> statement-breakpoint
CREATE UNIQUE INDEX "evaluations_case_rater_uq" ON "evaluations" USING btree ("case_id","rater_key");--> statement-breakpoint
CREATE INDEX "evaluations_hall_idx" ON "evaluations" USING btree ("hall_code");--> statement-breakpoint
CREATE INDEX "evaluations_item_idx" ON "evaluations" USING btree ("item_code");--> statement-breakpoint
CREATE INDEX "evaluations_case_number_idx" ON "evaluations" USING btree ("case_number");--> statement-breakpoint
CREATE UNIQUE INDEX "rectifications_evaluation_uq" ON "rectifications" USING btree ("evaluation_id");--> statement-breakpoint
CREATE INDEX "rectifications_department_idx" ON "rectifications" USING btree ("department_id","status");--> statement-breakpoint
CREATE INDEX "rectifications_hall_idx" ON "rectifications" USING btree ("hall_code","status");--> statement-breakpoint
CREATE INDEX "rectifications_status_idx" ON "rectifications" USING btree ("status","rectify_due");