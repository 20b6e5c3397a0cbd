CREATE TABLE "pii_reads" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor" jsonb NOT NULL,
	"target" text NOT NULL,
	"field" text NOT NULL,
	"purpose" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "pii_key_id" text;--> statement-breakpoint
ALTER TABLE "notification_messages" ADD COLUMN "address_sealed" text;--> statement-breakpoint
ALTER TABLE "notification_messages" ADD COLUMN "body_sealed" text;--> statement-breakpoint
ALTER TABLE "notification_messages" ADD COLUMN "pii_key_id" text;--> statement-breakpoint
CREATE INDEX "pii_reads_target_idx" ON "pii_reads" USING btree ("target","at");--> statement-breakpoint
CREATE INDEX "cases_pii_key_idx" ON "cases" USING btree ("pii_key_id");--> statement-breakpoint
CREATE INDEX "notification_messages_pii_key_idx" ON "notification_messages" USING btree ("pii_key_id");