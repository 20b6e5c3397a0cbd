CREATE TABLE "custody_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"case_id" uuid NOT NULL,
	"material_seq" integer NOT NULL,
	"seq" integer NOT NULL,
	"type" text NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" jsonb NOT NULL,
	"data" jsonb NOT NULL,
	"file_key" text
);
--> statement-breakpoint
CREATE UNIQUE INDEX "custody_events_material_seq_idx" ON "custody_events" USING btree ("case_id","material_seq","seq");--> statement-breakpoint
CREATE INDEX "custody_events_file_idx" ON "custody_events" USING btree ("case_id","file_key");