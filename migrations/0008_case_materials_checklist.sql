ALTER TABLE "case_materials" DROP COLUMN "received_as";--> statement-breakpoint
ALTER TABLE "case_materials" DROP COLUMN "custody";--> statement-breakpoint
ALTER TABLE "case_materials" DROP COLUMN "file_key";--> statement-breakpoint
ALTER TABLE "case_materials" DROP COLUMN "file_sm3";--> statement-breakpoint
ALTER TABLE "case_materials" DROP COLUMN "file_bytes";