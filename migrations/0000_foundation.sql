CREATE TABLE "departments" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"credit_code" text NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"division_code" text NOT NULL,
	"level" text NOT NULL,
	"sample" boolean DEFAULT true NOT NULL,
	CONSTRAINT "departments_credit_code_unique" UNIQUE("credit_code")
);
--> statement-breakpoint
CREATE TABLE "halls" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"level" text NOT NULL,
	"division_code" text NOT NULL,
	"county_code" text,
	"latitude" double precision NOT NULL,
	"longitude" double precision NOT NULL,
	"location_approximate" boolean DEFAULT true NOT NULL,
	"address" text NOT NULL,
	"windows" integer NOT NULL,
	"opening_hours" jsonb NOT NULL,
	"capabilities" jsonb NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"sample" boolean DEFAULT true NOT NULL
);
--> statement-breakpoint
CREATE TABLE "divisions" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"level" text NOT NULL,
	"parent_code" text,
	"county_code" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "departments_division_kind_idx" ON "departments" USING btree ("division_code","kind");--> statement-breakpoint
CREATE INDEX "departments_kind_idx" ON "departments" USING btree ("kind");--> statement-breakpoint
CREATE INDEX "halls_division_idx" ON "halls" USING btree ("division_code");--> statement-breakpoint
CREATE INDEX "halls_county_idx" ON "halls" USING btree ("county_code");--> statement-breakpoint
CREATE INDEX "halls_level_idx" ON "halls" USING btree ("level");--> statement-breakpoint
CREATE INDEX "divisions_parent_idx" ON "divisions" USING btree ("parent_code","code");--> statement-breakpoint
CREATE INDEX "divisions_level_idx" ON "divisions" USING btree ("level","code");