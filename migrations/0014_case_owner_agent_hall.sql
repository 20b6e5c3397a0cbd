ALTER TABLE "cases" ADD COLUMN "applicant_account_id" text;--> statement-breakpoint
ALTER TABLE "agent_authorizations" ADD COLUMN "agent_hall_code" text;--> statement-breakpoint
CREATE INDEX "cases_applicant_account_idx" ON "cases" USING btree ("applicant_account_id","created_at");