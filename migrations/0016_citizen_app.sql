CREATE TABLE "catalog_state" (
	"id" integer PRIMARY KEY NOT NULL,
	"version" bigint NOT NULL
);
--> statement-breakpoint
ALTER TABLE "cases" ADD COLUMN "tracking_keys" text[];--> statement-breakpoint
ALTER TABLE "catalog_implementations" ADD COLUMN "changed_version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "catalog_service_items" ADD COLUMN "content_hash" text;--> statement-breakpoint
ALTER TABLE "catalog_service_items" ADD COLUMN "changed_version" bigint DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "cases_intake_division_idx" ON "cases" USING btree ("intake_division_code","created_at");--> statement-breakpoint
CREATE INDEX "catalog_items_changed_version_idx" ON "catalog_service_items" USING btree ("changed_version");