CREATE TABLE "hall_windows" (
	"hall_code" text NOT NULL,
	"number" integer NOT NULL,
	"name" text NOT NULL,
	"item_codes" text[],
	"industries" text[],
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "hall_windows_hall_code_number_pk" PRIMARY KEY("hall_code","number")
);
--> statement-breakpoint
ALTER TABLE "halls" ADD COLUMN "status_reason" text;--> statement-breakpoint
ALTER TABLE "halls" ADD COLUMN "status_expected_end_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "halls" ADD COLUMN "status_changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "identity_accounts" ADD COLUMN "hall_division" text;--> statement-breakpoint
ALTER TABLE "identity_accounts" ADD COLUMN "department_division" text;--> statement-breakpoint
ALTER TABLE "hall_windows" ADD CONSTRAINT "hall_windows_hall_code_halls_code_fk" FOREIGN KEY ("hall_code") REFERENCES "public"."halls"("code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "identity_accounts_hall_division_idx" ON "identity_accounts" USING btree ("hall_division") WHERE "identity_accounts"."kind" = 'staff';--> statement-breakpoint
CREATE INDEX "identity_accounts_department_division_idx" ON "identity_accounts" USING btree ("department_division") WHERE "identity_accounts"."kind" = 'staff';--> statement-breakpoint
UPDATE "identity_accounts" AS a SET "hall_division" = h."division_code" FROM "halls" AS h WHERE a."kind" = 'staff' AND a."hall_code" = h."code" AND a."hall_division" IS NULL;--> statement-breakpoint
UPDATE "identity_accounts" AS a SET "department_division" = d."division_code" FROM "departments" AS d WHERE a."kind" = 'staff' AND a."department_id" = d."id"::text AND a."department_division" IS NULL;
