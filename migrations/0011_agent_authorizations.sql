CREATE TABLE "agent_authorizations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"agent_account_id" text NOT NULL,
	"agent_name" text,
	"resident_account_id" uuid NOT NULL,
	"item_codes" jsonb,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_until" timestamp with time zone NOT NULL,
	"evidence_kind" text NOT NULL,
	"evidence_file_key" text,
	"evidence_sm3" text,
	"evidence_reference" text,
	"status" text NOT NULL,
	"consented_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"revoked_reason" text,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE INDEX "agent_authorizations_resident_account_id_index" ON "agent_authorizations" USING btree ("resident_account_id");--> statement-breakpoint
CREATE INDEX "agent_authorizations_agent_account_id_index" ON "agent_authorizations" USING btree ("agent_account_id");