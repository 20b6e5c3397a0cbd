DROP INDEX "evaluations_case_rater_uq";--> statement-breakpoint
CREATE UNIQUE INDEX "evaluations_case_subject_uq" ON "evaluations" USING btree ("case_id","subject");