CREATE TABLE "case_message_mentions" (
	"message_id" uuid NOT NULL,
	"thread_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"kind" text NOT NULL,
	"target_id" text NOT NULL,
	CONSTRAINT "case_message_mentions_message_id_kind_target_id_pk" PRIMARY KEY("message_id","kind","target_id")
);
--> statement-breakpoint
CREATE TABLE "case_messages" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"thread_id" uuid NOT NULL,
	"case_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"author_account_id" text NOT NULL,
	"author_name" text NOT NULL,
	"author_department_id" text,
	"author_hall_code" text,
	"body" text NOT NULL,
	"mentions" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "case_thread_departments" (
	"thread_id" uuid NOT NULL,
	"department_id" text NOT NULL,
	"case_id" uuid NOT NULL,
	"added_by_account_id" text NOT NULL,
	"reason" text NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "case_thread_departments_thread_id_department_id_pk" PRIMARY KEY("thread_id","department_id")
);
--> statement-breakpoint
CREATE TABLE "case_thread_followers" (
	"thread_id" uuid NOT NULL,
	"follower_kind" text NOT NULL,
	"follower_id" text NOT NULL,
	"case_id" uuid NOT NULL,
	"last_read_seq" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "case_thread_followers_thread_id_follower_kind_follower_id_pk" PRIMARY KEY("thread_id","follower_kind","follower_id")
);
--> statement-breakpoint
CREATE TABLE "case_threads" (
	"id" uuid PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"case_number" text NOT NULL,
	"kind" text NOT NULL,
	"subject" text DEFAULT '' NOT NULL,
	"created_by_account_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seq" integer DEFAULT 0 NOT NULL,
	"last_message_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "case_message_mentions_target_idx" ON "case_message_mentions" USING btree ("kind","target_id","thread_id","seq");--> statement-breakpoint
CREATE UNIQUE INDEX "case_messages_thread_seq_uq" ON "case_messages" USING btree ("thread_id","seq");--> statement-breakpoint
CREATE INDEX "case_thread_departments_department_idx" ON "case_thread_departments" USING btree ("department_id");--> statement-breakpoint
CREATE INDEX "case_thread_followers_follower_idx" ON "case_thread_followers" USING btree ("follower_kind","follower_id");--> statement-breakpoint
CREATE INDEX "case_threads_case_idx" ON "case_threads" USING btree ("case_id");