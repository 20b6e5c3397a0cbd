CREATE TABLE "feedback_comments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"report_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"author_account_id" text NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "feedback_reports" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"no" integer GENERATED ALWAYS AS IDENTITY (sequence name "feedback_reports_no_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"category" text NOT NULL,
	"summary" text NOT NULL,
	"details" text DEFAULT '' NOT NULL,
	"screen" text NOT NULL,
	"case_number" text,
	"case_id" uuid,
	"reporter_account_id" text NOT NULL,
	"hall_code" text,
	"department_id" text,
	"division_code" text NOT NULL,
	"status" text DEFAULT 'new' NOT NULL,
	"priority" text,
	"owner_kind" text,
	"owner_id" text,
	"triaged_by_account_id" text,
	"triaged_at" timestamp with time zone,
	"resolution" text,
	"closed_by_account_id" text,
	"closed_at" timestamp with time zone,
	"comment_count" integer DEFAULT 0 NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "feedback_comments_report_seq_idx" ON "feedback_comments" USING btree ("report_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "feedback_reports_no_idx" ON "feedback_reports" USING btree ("no");--> statement-breakpoint
CREATE INDEX "feedback_reports_reporter_idx" ON "feedback_reports" USING btree ("reporter_account_id","no");--> statement-breakpoint
CREATE INDEX "feedback_reports_division_idx" ON "feedback_reports" USING btree ("division_code","status","no");