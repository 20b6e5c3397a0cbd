CREATE TABLE "catalog_implementations" (
	"code" text PRIMARY KEY NOT NULL,
	"item_code" text NOT NULL,
	"division_code" text NOT NULL,
	"department_id" uuid,
	"variances" jsonb DEFAULT '{}'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "catalog_materials" (
	"item_code" text NOT NULL,
	"seq" integer NOT NULL,
	"name" text NOT NULL,
	"issuing_body" text NOT NULL,
	"original_count" integer NOT NULL,
	"copy_count" integer NOT NULL,
	"requirement" text NOT NULL,
	"form" text NOT NULL,
	"source" text NOT NULL,
	"notes" text DEFAULT '' NOT NULL,
	CONSTRAINT "catalog_materials_item_code_seq_pk" PRIMARY KEY("item_code","seq")
);
--> statement-breakpoint
CREATE TABLE "catalog_service_items" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"item_type" text NOT NULL,
	"industry" text NOT NULL,
	"department_kind" text NOT NULL,
	"exercise_levels" text[] NOT NULL,
	"service_objects" text[] NOT NULL,
	"popularity" integer DEFAULT 0 NOT NULL,
	"sample" boolean NOT NULL,
	"definition" jsonb NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "catalog_implementations" ADD CONSTRAINT "catalog_implementations_item_code_catalog_service_items_code_fk" FOREIGN KEY ("item_code") REFERENCES "public"."catalog_service_items"("code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "catalog_materials" ADD CONSTRAINT "catalog_materials_item_code_catalog_service_items_code_fk" FOREIGN KEY ("item_code") REFERENCES "public"."catalog_service_items"("code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "catalog_implementations_item_division_idx" ON "catalog_implementations" USING btree ("item_code","division_code");--> statement-breakpoint
CREATE INDEX "catalog_implementations_division_idx" ON "catalog_implementations" USING btree ("division_code");--> statement-breakpoint
CREATE INDEX "catalog_items_industry_idx" ON "catalog_service_items" USING btree ("industry");--> statement-breakpoint
CREATE INDEX "catalog_items_item_type_idx" ON "catalog_service_items" USING btree ("item_type");--> statement-breakpoint
CREATE INDEX "catalog_items_department_kind_idx" ON "catalog_service_items" USING btree ("department_kind");