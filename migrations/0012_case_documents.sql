CREATE TABLE "case_documents" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"case_id" uuid NOT NULL,
	"event_seq" integer NOT NULL,
	"kind" text NOT NULL,
	"issuer_key" text NOT NULL,
	"year" integer NOT NULL,
	"sequence" integer NOT NULL,
	"number" text NOT NULL,
	"content" jsonb NOT NULL,
	"sm3" text,
	"byte_size" integer,
	"storage_key" text,
	"issued_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"rendered_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "document_jobs" (
	"case_id" uuid PRIMARY KEY NOT NULL,
	"not_before" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text
);
--> statement-breakpoint
CREATE TABLE "document_sequences" (
	"issuer_key" text NOT NULL,
	"kind" text NOT NULL,
	"year" integer NOT NULL,
	"last" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "document_sequences_issuer_key_kind_year_pk" PRIMARY KEY("issuer_key","kind","year")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "case_documents_event_kind_idx" ON "case_documents" USING btree ("case_id","event_seq","kind");--> statement-breakpoint
CREATE UNIQUE INDEX "case_documents_number_idx" ON "case_documents" USING btree ("issuer_key","kind","year","sequence");--> statement-breakpoint
CREATE INDEX "case_documents_pending_idx" ON "case_documents" USING btree ("created_at") WHERE "case_documents"."storage_key" is null;