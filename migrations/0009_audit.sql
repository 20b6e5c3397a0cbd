CREATE TABLE "audit_chain" (
	"id" integer PRIMARY KEY NOT NULL,
	"head_seq" bigint NOT NULL,
	"head_hash" text NOT NULL,
	"checkpoint_seq" bigint NOT NULL,
	"checkpoint_hash" text NOT NULL,
	"checkpoint_at" timestamp (6) with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_chain_single_row" CHECK ("audit_chain"."id" = 1)
);
--> statement-breakpoint
CREATE TABLE "audit_entries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"at" timestamp (6) with time zone DEFAULT now() NOT NULL,
	"actor_kind" text NOT NULL,
	"actor_id" text NOT NULL,
	"on_behalf_of" text,
	"action" text NOT NULL,
	"target_type" text,
	"target_id" text,
	"purpose" text,
	"outcome" text NOT NULL,
	"request_id" text,
	"client_ip" text,
	"details" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"chain_seq" bigint,
	"hash" text,
	CONSTRAINT "audit_entries_outcome_check" CHECK ("audit_entries"."outcome" in ('ok', 'denied'))
);
--> statement-breakpoint
CREATE UNIQUE INDEX "audit_entries_chain_seq_idx" ON "audit_entries" USING btree ("chain_seq");--> statement-breakpoint
CREATE INDEX "audit_entries_unchained_idx" ON "audit_entries" USING btree ("at","id") WHERE "audit_entries"."chain_seq" is null;--> statement-breakpoint
CREATE INDEX "audit_entries_at_idx" ON "audit_entries" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "audit_entries_actor_idx" ON "audit_entries" USING btree ("actor_id","at","id");--> statement-breakpoint
CREATE INDEX "audit_entries_target_idx" ON "audit_entries" USING btree ("target_type","target_id","at","id");