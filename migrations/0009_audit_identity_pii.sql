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
CREATE TABLE "identity_accounts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"kind" text NOT NULL,
	"name" text NOT NULL,
	"id_number_hash" text,
	"id_number_enc" text,
	"phone_hash" text,
	"phone_enc" text,
	"credit_code" text,
	"username" text,
	"department_id" text,
	"hall_code" text,
	"is_admin" boolean DEFAULT false NOT NULL,
	"password_hash" text,
	"totp_secret_enc" text,
	"totp_confirmed_at" timestamp with time zone,
	"totp_last_step" bigint,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"disabled_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "identity_api_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"token_hash" text NOT NULL,
	"name" text NOT NULL,
	"account_id" uuid NOT NULL,
	"scopes" jsonb NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"last_used_at" timestamp with time zone,
	CONSTRAINT "identity_api_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "identity_lockouts" (
	"key" text PRIMARY KEY NOT NULL,
	"failures" integer NOT NULL,
	"last_failure_at" timestamp with time zone NOT NULL,
	"locked_until" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "identity_federated" (
	"issuer" text NOT NULL,
	"subject" text NOT NULL,
	"account_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_federated_issuer_subject_pk" PRIMARY KEY("issuer","subject")
);
--> statement-breakpoint
CREATE TABLE "identity_legal_person_operators" (
	"legal_person_id" uuid NOT NULL,
	"resident_id" uuid NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "identity_legal_person_operators_legal_person_id_resident_id_pk" PRIMARY KEY("legal_person_id","resident_id")
);
--> statement-breakpoint
CREATE TABLE "identity_oidc_flows" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"state" text NOT NULL,
	"nonce" text NOT NULL,
	"code_verifier" text NOT NULL,
	"return_to" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "identity_otp_codes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"phone_hash" text NOT NULL,
	"code_hash" text NOT NULL,
	"request_ip" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"consumed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "identity_sessions" (
	"id_hash" text PRIMARY KEY NOT NULL,
	"account_id" uuid NOT NULL,
	"csrf_hash" text NOT NULL,
	"method" text NOT NULL,
	"mfa" boolean DEFAULT false NOT NULL,
	"acting_for" uuid,
	"created_at" timestamp with time zone NOT NULL,
	"last_seen_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "pii_key_id" text;--> statement-breakpoint
ALTER TABLE "notification_messages" ADD COLUMN "address_sealed" text;--> statement-breakpoint
ALTER TABLE "notification_messages" ADD COLUMN "body_sealed" text;--> statement-breakpoint
ALTER TABLE "notification_messages" ADD COLUMN "pii_key_id" text;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_entries_chain_seq_idx" ON "audit_entries" USING btree ("chain_seq");--> statement-breakpoint
CREATE INDEX "audit_entries_unchained_idx" ON "audit_entries" USING btree ("at","id") WHERE "audit_entries"."chain_seq" is null;--> statement-breakpoint
CREATE INDEX "audit_entries_at_idx" ON "audit_entries" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "audit_entries_actor_idx" ON "audit_entries" USING btree ("actor_id","at","id");--> statement-breakpoint
CREATE INDEX "audit_entries_target_idx" ON "audit_entries" USING btree ("target_type","target_id","at","id");--> statement-breakpoint
CREATE UNIQUE INDEX "identity_accounts_id_number_uq" ON "identity_accounts" USING btree ("id_number_hash") WHERE "identity_accounts"."id_number_hash" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "identity_accounts_phone_uq" ON "identity_accounts" USING btree ("phone_hash") WHERE "identity_accounts"."phone_hash" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "identity_accounts_credit_code_uq" ON "identity_accounts" USING btree ("credit_code") WHERE "identity_accounts"."credit_code" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "identity_accounts_username_uq" ON "identity_accounts" USING btree ("username") WHERE "identity_accounts"."username" is not null;--> statement-breakpoint
CREATE INDEX "identity_legal_person_operators_resident_id_index" ON "identity_legal_person_operators" USING btree ("resident_id");--> statement-breakpoint
CREATE INDEX "identity_otp_codes_phone_hash_created_at_index" ON "identity_otp_codes" USING btree ("phone_hash","created_at");--> statement-breakpoint
CREATE INDEX "identity_otp_codes_request_ip_created_at_index" ON "identity_otp_codes" USING btree ("request_ip","created_at");--> statement-breakpoint
CREATE INDEX "identity_sessions_account_id_index" ON "identity_sessions" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "cases_pii_key_idx" ON "cases" USING btree ("pii_key_id");--> statement-breakpoint
CREATE INDEX "notification_messages_pii_key_idx" ON "notification_messages" USING btree ("pii_key_id");